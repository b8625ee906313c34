// IPVS model: virtual servers and real servers, the schedulers kube-proxy can
// ask for (rr, wrr, lc, dh, sh) as the kernel implements them, persistence
// templates, and `ipvsadm -Ln` output.
//
// Kernel references (net/netfilter/ipvs): ip_vs_rr.c walks the destination list
// from the last one used; ip_vs_wrr.c uses the gcd/max-weight stepping;
// ip_vs_lc.c picks the least overhead = activeconns*256 + inactconns (first
// wins on ties); ip_vs_dh.c hashes the destination address with
// (ntohl(addr) * 2654435761) & 255 into a 256-bucket table filled by walking
// the destination list; ip_vs_sh.c hashes the source with
// hash_32(ntohl(addr) + port, 8) (port only with the sh-port flag) into a
// 256-bucket table where each destination fills `weight` consecutive buckets.
// IPv6 addresses fold their four 32-bit words with XOR first.
//
// Destination list order: the kernel keeps destinations in the order they were
// added; kube-proxy adds them in Go map order (random per sync). The model keeps
// the order given to it (kube-proxy code here adds them sorted), so on a real
// node rr's starting point and dh/sh's bucket layout can differ.

import { parseIP } from '../net';

export type IpvsProto = 'TCP' | 'UDP' | 'SCTP';
export type IpvsScheduler = 'rr' | 'wrr' | 'lc' | 'dh' | 'sh';
export type ForwardMethod = 'Masq' | 'Local' | 'Tunnel' | 'Route';

export interface RealServer {
  address: string;
  port: number;
  forward: ForwardMethod;
  weight: number;
  activeConns: number;
  inactConns: number;
}

export interface VirtualServer {
  proto: IpvsProto;
  address: string;
  port: number;
  scheduler: IpvsScheduler;
  /** ipvsadm -p: persistence timeout in seconds (kube-proxy: sessionAffinity ClientIP). */
  persistent?: number;
  /** Persistence netmask (default /32 or /128). */
  netmask?: string;
  /** sh scheduler flags. */
  shPort?: boolean;
  shFallback?: boolean;
  dests: RealServer[];
}

/** The packet fields schedulers look at: source address/port and (dh) destination. */
export interface IpvsClient {
  ip: string;
  port?: number;
  /** Destination address of the packet (dh); defaults to the virtual address. */
  dst?: string;
}

export interface ScheduleResult {
  dest?: RealServer;
  /** How the choice was made, in kernel terms. */
  reason: string;
  /** dh/sh bucket used. */
  bucket?: number;
}

const TAB_SIZE = 256;

/** The 32-bit value the dh/sh hashes start from (IPv6 folds its words with XOR). */
export function foldAddress(ip: string): number {
  const a = parseIP(ip);
  if (!a) throw new Error(`"${ip}" is not an IP address`);
  if (a.family === 4) return a.value >>> 0;
  let v = 0;
  for (let i = 0; i < 4; i++) v ^= Number((a.value >> BigInt(96 - 32 * i)) & 0xffffffffn);
  return v >>> 0;
}

/** ip_vs_dh_hashkey: (ntohl(addr) * 2654435761UL) & IP_VS_DH_TAB_MASK. */
export function dhBucket(ip: string): number {
  return Math.imul(foldAddress(ip), 2654435761 | 0) & (TAB_SIZE - 1);
}

/** hash_32(val, bits) with GOLDEN_RATIO_32 (Linux ≥ 4.7). */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, 0x61c88647) >>> (32 - bits);
}

/** ip_vs_sh_hashkey(addr, port, offset=0). */
export function shBucket(ip: string, port = 0): number {
  return hash32((foldAddress(ip) + port) >>> 0, 8) & (TAB_SIZE - 1);
}

function available(d: RealServer): boolean {
  return d.weight > 0;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Per-virtual-server scheduler state (rr/wrr position, dh/sh tables, persistence templates). */
export class IpvsState {
  private rrLast = new Map<VirtualServer, number>();
  private wrr = new Map<VirtualServer, { cl: number; cw: number }>();
  private templates = new Map<string, { dest: RealServer; expires: number }>();

  /** The 256-bucket table of dh (each bucket the next destination in list order). */
  static dhTable(vs: VirtualServer): (RealServer | undefined)[] {
    const t: (RealServer | undefined)[] = [];
    for (let i = 0; i < TAB_SIZE; i++) t.push(vs.dests.length ? vs.dests[i % vs.dests.length] : undefined);
    return t;
  }

  /** The 256-bucket table of sh (each destination fills `weight` consecutive buckets, cycling). */
  static shTable(vs: VirtualServer): (RealServer | undefined)[] {
    const t: (RealServer | undefined)[] = [];
    let di = 0;
    let count = 0;
    for (let i = 0; i < TAB_SIZE; i++) {
      if (!vs.dests.length) {
        t.push(undefined);
        continue;
      }
      const d = vs.dests[di];
      t.push(d);
      if (++count >= Math.max(1, d.weight)) {
        di = (di + 1) % vs.dests.length;
        count = 0;
      }
    }
    return t;
  }

  /**
   * Picks a real server for a new connection from `client` (source IP/port),
   * honouring persistence templates. `now` is in seconds.
   */
  schedule(vs: VirtualServer, client: IpvsClient, now = 0): ScheduleResult {
    if (vs.persistent) {
      const key = `${vs.proto}|${vs.address}|${vs.port}|${client.ip}`;
      const tpl = this.templates.get(key);
      if (tpl && tpl.expires > now && vs.dests.includes(tpl.dest) && available(tpl.dest)) {
        tpl.expires = now + vs.persistent;
        return { dest: tpl.dest, reason: `persistence template for ${client.ip} (timeout ${vs.persistent}s)` };
      }
      const r = this.pick(vs, client);
      if (r.dest) this.templates.set(key, { dest: r.dest, expires: now + vs.persistent });
      return r;
    }
    return this.pick(vs, client);
  }

  private pick(vs: VirtualServer, client: IpvsClient): ScheduleResult {
    const ds = vs.dests;
    if (!ds.some(available)) return { reason: `${vs.scheduler}: no destination available` };
    switch (vs.scheduler) {
      case 'rr': {
        const last = this.rrLast.get(vs) ?? -1;
        for (let k = 1; k <= ds.length; k++) {
          const i = (last + k) % ds.length;
          if (available(ds[i])) {
            this.rrLast.set(vs, i);
            return { dest: ds[i], reason: `rr: next destination after ${last < 0 ? 'the list head' : `${ds[last].address}:${ds[last].port}`}` };
          }
        }
        return { reason: 'rr: no destination available' };
      }
      case 'wrr': {
        const weights = ds.map((d) => Math.max(0, d.weight));
        const mw = Math.max(...weights);
        const di = weights.filter((w) => w > 0).reduce((a, b) => gcd(a, b));
        const st = this.wrr.get(vs) ?? { cl: -1, cw: 0 };
        for (let guard = 0; guard < ds.length * (mw / di + 1) + 1; guard++) {
          st.cl = (st.cl + 1) % ds.length;
          if (st.cl === 0) {
            st.cw -= di;
            if (st.cw <= 0) st.cw = mw;
          }
          if (weights[st.cl] >= st.cw) {
            this.wrr.set(vs, st);
            return { dest: ds[st.cl], reason: `wrr: current weight ${st.cw} (max ${mw}, step ${di})` };
          }
        }
        return { reason: 'wrr: no destination available' };
      }
      case 'lc': {
        let best: RealServer | undefined;
        let bestOverhead = Infinity;
        for (const d of ds) {
          if (!available(d)) continue;
          const o = d.activeConns * 256 + d.inactConns;
          if (o < bestOverhead) {
            best = d;
            bestOverhead = o;
          }
        }
        return { dest: best, reason: `lc: least overhead activeconns*256+inactconns = ${bestOverhead}` };
      }
      case 'dh': {
        // dh hashes the packet's destination: for a Service VIP that is always the VIP,
        // so every client lands on the same real server.
        const dst = client.dst ?? vs.address;
        const b = dhBucket(dst);
        const d = IpvsState.dhTable(vs)[b];
        return d && available(d) ? { dest: d, bucket: b, reason: `dh: bucket ${b} of hash(dst ${dst})` } : { bucket: b, reason: `dh: bucket ${b} has no usable destination` };
      }
      case 'sh': {
        const port = vs.shPort ? (client.port ?? 0) : 0;
        const b = shBucket(client.ip, port);
        const table = IpvsState.shTable(vs);
        const d = table[b];
        if (d && available(d)) return { dest: d, bucket: b, reason: `sh: bucket ${b} of hash(src ${client.ip}${vs.shPort ? `:${port}` : ''})` };
        if (vs.shFallback) {
          for (let off = 1; off < TAB_SIZE; off++) {
            const fb = (b + off) % TAB_SIZE;
            const f = table[fb];
            if (f && available(f)) return { dest: f, bucket: fb, reason: `sh: fallback from bucket ${b} to ${fb}` };
          }
        }
        return { bucket: b, reason: `sh: bucket ${b} has no usable destination` };
      }
    }
  }
}

export interface IpvsOutcome {
  dest: RealServer;
  probability: number;
  reason: string;
}

/**
 * Every real server a new connection could reach, with its probability when
 * the scheduler state is unknown: rr/wrr/lc spread by weight over usable
 * destinations (lc: those with the least overhead); dh and sh are
 * deterministic for a given packet.
 */
export function ipvsOutcomes(vs: VirtualServer, client: IpvsClient): IpvsOutcome[] {
  const usable = vs.dests.filter(available);
  if (!usable.length) return [];
  switch (vs.scheduler) {
    case 'dh':
    case 'sh': {
      const r = new IpvsState().schedule({ ...vs, persistent: undefined }, client);
      return r.dest ? [{ dest: r.dest, probability: 1, reason: r.reason }] : [];
    }
    case 'lc': {
      const min = Math.min(...usable.map((d) => d.activeConns * 256 + d.inactConns));
      const best = usable.filter((d) => d.activeConns * 256 + d.inactConns === min);
      return [{ dest: best[0], probability: 1, reason: `lc: least overhead ${min} (first in list wins ties)` }];
    }
    case 'rr':
      return usable.map((d) => ({ dest: d, probability: 1 / usable.length, reason: 'rr: each destination in turn' }));
    case 'wrr': {
      const total = usable.reduce((a, d) => a + d.weight, 0);
      return usable.map((d) => ({ dest: d, probability: d.weight / total, reason: `wrr: weight ${d.weight} of ${total}` }));
    }
  }
}

const PROTO_NUM: Record<IpvsProto, number> = { TCP: 6, UDP: 17, SCTP: 132 };

/** ipvs_cmp_services / ipvs_cmp_dests use C int subtraction of ntohl() values, which can wrap. */
function cmpAddr(a: string, b: string): number {
  const pa = parseIP(a)!;
  const pb = parseIP(b)!;
  if (pa.family !== pb.family) return (pa.family === 4 ? 2 : 10) - (pb.family === 4 ? 2 : 10);
  if (pa.family === 4) return ((pa.value as number) - (pb.value as number)) | 0;
  for (let i = 0; i < 4; i++) {
    const wa = Number(((pa.value as bigint) >> BigInt(96 - 32 * i)) & 0xffffffffn);
    const wb = Number(((pb.value as bigint) >> BigInt(96 - 32 * i)) & 0xffffffffn);
    const r = (wa - wb) | 0;
    if (r) return r;
  }
  return 0;
}

function addrPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface IpvsadmOptions {
  /** Connection table size in the header (ip_vs_conn_tab_size; 4096 by default). */
  size?: number;
  version?: string;
}

/**
 * `ipvsadm -Ln`: header, column titles, services sorted by protocol, address,
 * port (ipvs_cmp_services), destinations sorted likewise. Destination lines
 * are printf `"  -> %-28s %-7s %-6d %-10u %-10u\n"`, so they end in padding
 * blanks exactly as the real tool prints them.
 */
export function renderIpvsadm(services: readonly VirtualServer[], opts: IpvsadmOptions = {}): string {
  const out: string[] = [];
  out.push(`IP Virtual Server version ${opts.version ?? '1.2.1'} (size=${opts.size ?? 4096})`);
  out.push('Prot LocalAddress:Port Scheduler Flags');
  out.push('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  const sorted = [...services].sort((a, b) => {
    const fa = parseIP(a.address)!.family;
    const fb = parseIP(b.address)!.family;
    if (fa !== fb) return fa - fb;
    return PROTO_NUM[a.proto] - PROTO_NUM[b.proto] || cmpAddr(a.address, b.address) || a.port - b.port;
  });
  for (const vs of sorted) {
    let line = `${vs.proto}  ${addrPort(vs.address, vs.port)} ${vs.scheduler}`;
    if (vs.scheduler === 'sh' && (vs.shPort || vs.shFallback)) {
      line += ` (${[vs.shFallback ? 'sh-fallback' : '', vs.shPort ? 'sh-port' : ''].filter(Boolean).join(',')})`;
    }
    if (vs.persistent) {
      line += ` persistent ${vs.persistent}`;
      const full = vs.address.includes(':') ? '128' : '255.255.255.255';
      if (vs.netmask && vs.netmask !== full) line += ` mask ${vs.netmask}`;
    }
    out.push(line);
    const dests = [...vs.dests].sort((a, b) => cmpAddr(a.address, b.address) || a.port - b.port);
    for (const d of dests) {
      out.push(`  -> ${addrPort(d.address, d.port).padEnd(28)} ${d.forward.padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactConns).padEnd(10)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
