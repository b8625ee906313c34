// Packet headers for the walk: building them, the DNS message sizes tcpdump
// prints, Linux's TCP handshake options, and the list of fields one step
// changed.

import type { DnsAnswer, RR } from '../dns';
import type { DnsHeader, PacketHeaders, TcpHeader } from './types';

/** Length of a domain name in DNS wire format, uncompressed: one length byte per label, plus the root. */
export function wireNameLength(name: string): number {
  const n = name.replace(/\.$/, '');
  if (!n) return 1;
  let len = 1;
  for (const label of n.split('.')) len += 1 + label.length;
  return len;
}

function rdataLength(rr: RR): number {
  switch (rr.type) {
    case 'A':
      return 4;
    case 'AAAA':
      return 16;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return wireNameLength(rr.data);
    case 'SRV': {
      const parts = rr.data.split(' ');
      return 6 + wireNameLength(parts[3] ?? '.');
    }
    case 'SOA': {
      const [mname, rname] = rr.data.split(' ');
      return wireNameLength(mname) + wireNameLength(rname) + 20;
    }
    case 'TXT':
      return rr.data.length + 1;
  }
}

function rrLength(rr: RR): number {
  return wireNameLength(rr.name) + 10 + rdataLength(rr);
}

/**
 * DNS message sizes as glibc sends a query (12-byte header, one question, no
 * EDNS0 OPT record unless `options edns0`) and CoreDNS answers it. CoreDNS
 * (miekg/dns Msg.Truncate) sends replies that fit the client's 512-byte
 * buffer uncompressed, so names are counted in full.
 */
export function dnsQueryLength(qname: string): number {
  return 12 + wireNameLength(qname) + 4;
}

export function dnsResponseLength(qname: string, a: Pick<DnsAnswer, 'answer' | 'authority' | 'additional'>): number {
  let n = dnsQueryLength(qname);
  for (const rr of a.answer) n += rrLength(rr);
  for (const rr of a.authority) n += rrLength(rr);
  for (const rr of a.additional) n += rrLength(rr);
  return n;
}

export function dnsResponseHeader(q: DnsHeader, a: DnsAnswer): DnsHeader {
  return {
    id: q.id,
    qr: true,
    qname: q.qname,
    qtype: q.qtype,
    rcode: a.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR',
    answers: a.answer.map((r) => `${r.type} ${r.data}`),
    authority: a.authority.length,
    length: dnsResponseLength(q.qname, a),
  };
}

/**
 * Linux's initial receive window (tcp_select_initial_window): the 64 KiB
 * window rounded down to a multiple of the MSS the window is computed with —
 * the advertised MSS on a SYN (64240 for MSS 1460), and MSS minus the 12-byte
 * timestamp option on a SYN-ACK (65160 for 1460).
 */
export function initialWindow(mss: number, synAck: boolean): number {
  const m = synAck ? mss - 12 : mss;
  return Math.floor(65535 / m) * m;
}

/** Window scale 7 (tcp_rmem max 6 MiB): the first window after the handshake, as tcpdump prints it. */
export function scaledWindow(initial: number): number {
  return Math.ceil(initial / 128);
}

export function synOptions(mss: number, tsVal: number, tsEcr: number): string {
  return `mss ${mss},sackOK,TS val ${tsVal} ecr ${tsEcr},nop,wscale 7`;
}

export function tcpHeader(h: Omit<TcpHeader, 'payload'> & { payload?: number }): TcpHeader {
  return { ...h, payload: h.payload ?? 0 };
}

/** IP total length for a header set (IPv4 20 / IPv6 40 bytes of IP header). */
export function ipLength(version: 4 | 6, l4: { tcp?: TcpHeader; udpPayload?: number; icmpLength?: number }): number {
  const ip = version === 4 ? 20 : 40;
  if (l4.tcp) {
    const opt = l4.tcp.options ? (l4.tcp.flags.includes('S') ? 20 : 12) : 0;
    return ip + 20 + opt + l4.tcp.payload;
  }
  if (l4.udpPayload !== undefined) return ip + 8 + l4.udpPayload;
  return ip + (l4.icmpLength ?? 8);
}

/** The header fields that differ between two snapshots of one packet. */
const NONE: string[] = Object.freeze([]) as unknown as string[];

export function changedFields(prev: PacketHeaders | undefined, next: PacketHeaders): string[] {
  if (!prev || prev === next) return NONE;
  const out: string[] = [];
  const pe = prev.eth;
  const ne = next.eth;
  if (pe !== ne) {
    if (!pe || !ne) out.push('eth');
    else {
      if (pe.src !== ne.src) out.push('eth.src');
      if (pe.dst !== ne.dst) out.push('eth.dst');
    }
  }
  const pi = prev.ip;
  const ni = next.ip;
  if (pi !== ni) {
    if (pi.src !== ni.src) out.push('ip.src');
    if (pi.dst !== ni.dst) out.push('ip.dst');
    if (pi.ttl !== ni.ttl) out.push('ip.ttl');
    if (pi.length !== ni.length) out.push('ip.length');
    if (pi.df !== ni.df) out.push('ip.df');
  }
  const pl = prev.tcp ?? prev.udp;
  const nl = next.tcp ?? next.udp;
  const proto = next.tcp ? 'tcp' : 'udp';
  if (pl !== nl && pl && nl) {
    if (pl.sport !== nl.sport) out.push(`${proto}.sport`);
    if (pl.dport !== nl.dport) out.push(`${proto}.dport`);
  }
  if (prev.outer !== next.outer) out.push('outer');
  return out.length ? out : NONE;
}
