// felix's iptables mark bits and per-endpoint marks (Calico 3.2x), as
// felix/dataplane/driver.go, felix/markbits and felix/rules/epmark.go
// allocate them (read in projectcalico/calico at v3.28.2 via the search tool):
//
// - the bits come from IptablesMarkMask (default 0xffff0000), lowest first:
//   accept 0x10000, pass 0x20000, scratch0 0x40000, scratch1 0x80000, then —
//   only when WireGuard is enabled (IPv4 or IPv6) — the WireGuard bit
//   0x100000; every bit left over is the endpoint mark (kube-proxy IPVS
//   support): 0xfff00000 without WireGuard, 0xffe00000 with it;
// - the non-Calico-endpoint mark is the endpoint field's lowest bit
//   (0x100000, or 0x200000 with WireGuard), i.e. position 1;
// - an interface's endpoint mark is position FNV-1-32(name) mod 2^bits
//   (Go's hash/fnv New32, not FNV-1a), skipping 0 and positions already
//   taken, spread over the endpoint bits (MarkBitsManager.MapNumberToMark).
//   Checked against a real IPVS-mode node: cali27d5a8fe8ae → 0xd8e00000.

import { fnv1_32 } from '../hash';

/** felix's default IptablesMarkMask. */
export const FELIX_MARK_MASK = 0xffff0000;

export interface FelixMarks {
  accept: number;
  pass: number;
  scratch0: number;
  scratch1: number;
  /** 0 when WireGuard is off (felix allocates no bit for it). */
  wireguard: number;
  /** The endpoint-mark field (every bit not allocated above). */
  endpoint: number;
  /** The mark felix gives packets from interfaces that are no Calico endpoint (position 1 of the endpoint field). */
  nonCaliEndpoint: number;
}

/** The n-th set bit of `mask` (0-based), or 0 when it has fewer bits. */
function nthBit(mask: number, n: number): number {
  let found = 0;
  for (let shift = 0; shift < 32; shift++) {
    const bit = (1 << shift) >>> 0;
    if ((mask & bit) >>> 0) {
      if (found === n) return bit;
      found++;
    }
  }
  return 0;
}

function bitCount(mask: number): number {
  let n = 0;
  for (let m = mask >>> 0; m; m = (m & (m - 1)) >>> 0) n++;
  return n;
}

/** driver.go's allocation order: accept, pass, scratch0, scratch1, [WireGuard], then the rest as the endpoint field. */
export function felixMarks(wireguard: boolean, markMask = FELIX_MARK_MASK): FelixMarks {
  let next = 0;
  const take = (): number => nthBit(markMask, next++);
  const accept = take();
  const pass = take();
  const scratch0 = take();
  const scratch1 = take();
  const wg = wireguard ? take() : 0;
  let endpoint = 0;
  for (let b = take(); b; b = take()) endpoint = (endpoint | b) >>> 0;
  return { accept, pass, scratch0, scratch1, wireguard: wg, endpoint, nonCaliEndpoint: nthBit(endpoint, 0) };
}

/** MarkBitsManager.MapNumberToMark: the bits of `n` spread over the set bits of `mask`, lowest first. */
export function mapNumberToMark(mask: number, n: number): number {
  let mark = 0;
  let found = 0;
  for (let shift = 0; shift < 32 && n > 0; shift++) {
    const bit = (1 << shift) >>> 0;
    if ((mask & bit) >>> 0) {
      const v = 2 ** found;
      if (n & v) {
        mark = (mark | bit) >>> 0;
        n -= v;
      }
      found++;
    }
  }
  return n > 0 ? 0 : mark;
}

/**
 * epmark.go's DefaultEPMarkManager for a node's interfaces: position 1 is
 * reserved for the non-Calico endpoint, each interface takes
 * fnv1_32(name) mod 2^bits or the next free position after it (never 0).
 * felix allocates in the order endpoints reach it; the model allocates in
 * sorted interface order, so only a hash collision between two interfaces
 * of one node (1 in 2^bits per pair) can differ from a live node.
 */
export function endpointMarks(ifaces: readonly string[], marks: FelixMarks): Map<string, number> {
  const positions = 2 ** bitCount(marks.endpoint);
  const taken = new Set<number>([1]);
  const out = new Map<string, number>();
  for (const name of [...ifaces].sort()) {
    if (out.has(name) || positions < 2) continue;
    const total = fnv1_32(name);
    for (let i = 0; i < positions; i++) {
      const pos = (total + i) % positions;
      if (pos === 0 || taken.has(pos)) continue;
      taken.add(pos);
      out.set(name, mapNumberToMark(marks.endpoint, pos));
      break;
    }
  }
  return out;
}
