// The conntrack table: entries with original and reply tuples, the TCP state
// machine and timeouts of nf_conntrack, NAT bindings (the reply tuple carries
// the translated addresses, so replies are un-NATed from it), a maximum size
// with the kernel's early-drop-then-drop behaviour, and `conntrack -L` output.

import { canonicalIP } from '../net';
import type { CtState, Packet } from './evaluate';

export type TcpState = 'NONE' | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE' | 'SYN_SENT2';

export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP echo: type/code/id instead of ports. */
  icmp?: { type: number; code: number; id: number };
}

export interface ConntrackEntry {
  id: number;
  family: 4 | 6;
  proto: string;
  state?: TcpState;
  orig: Tuple;
  reply: Tuple;
  /** Absolute expiry on the table's clock (seconds). */
  expires: number;
  assured: boolean;
  seenReply: boolean;
  mark: number;
  use: number;
  zone?: number;
  dnat: boolean;
  snat: boolean;
  created: number;
  /** UDP: after this time a flow that has seen a reply counts as a stream (nf_conntrack_proto_udp stream_ts). */
  streamAfter?: number;
  finFrom?: 'original' | 'reply';
}

/** Default sysctl timeouts (seconds), net.netfilter.nf_conntrack_*_timeout_*. */
export const CONNTRACK_TIMEOUTS = {
  tcp: {
    NONE: 600,
    SYN_SENT: 120,
    SYN_RECV: 60,
    ESTABLISHED: 432000,
    FIN_WAIT: 120,
    CLOSE_WAIT: 60,
    LAST_ACK: 30,
    TIME_WAIT: 120,
    CLOSE: 10,
    SYN_SENT2: 120,
  } as Record<TcpState, number>,
  udp: 30,
  udpStream: 120,
  icmp: 30,
  generic: 600,
};

/** What the kernel logs (net_ratelimit) when it has to drop a packet for a full table. */
export const CONNTRACK_FULL_MESSAGE = 'nf_conntrack: nf_conntrack: table full, dropping packet';

const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, sctp: 132, 'ipv6-icmp': 58, icmpv6: 58 };

export interface TrackInput {
  family: 4 | 6;
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  tcpFlags?: string[];
  icmp?: { type: number; code: number; id: number };
}

export type TrackResult =
  | {
      verdict: 'ok';
      entry: ConntrackEntry;
      direction: 'original' | 'reply';
      /** The ctstate netfilter sees for this packet. */
      ctstate: CtState;
      /** The packet created the entry (its NAT is still to be decided by the nat chains). */
      created: boolean;
      /** Another entry was evicted to make room (early_drop). */
      earlyDropped?: ConntrackEntry;
    }
  | { verdict: 'drop'; message: string };

export interface ConntrackStats {
  found: number;
  inserted: number;
  drop: number;
  earlyDrop: number;
}

function tupleKey(proto: string, t: Tuple): string {
  if (t.icmp) return `${proto}|${t.src}|${t.dst}|${t.icmp.id}`;
  return `${proto}|${t.src}|${t.dst}|${t.sport ?? ''}|${t.dport ?? ''}`;
}

function invert(t: Tuple): Tuple {
  const r: Tuple = { src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
  if (t.icmp) r.icmp = { type: t.icmp.type === 8 ? 0 : t.icmp.type === 128 ? 129 : t.icmp.type, code: t.icmp.code, id: t.icmp.id };
  return r;
}

export class ConntrackTable {
  /** nf_conntrack_max. */
  max: number;
  /** The table's clock in seconds; advance it with tick(). */
  now = 0;
  readonly stats: ConntrackStats = { found: 0, inserted: 0, drop: 0, earlyDrop: 0 };
  /** Kernel log lines (dmesg) the table produced. */
  readonly kernelLog: string[] = [];
  private readonly entries = new Map<number, ConntrackEntry>();
  private readonly index = new Map<string, { entry: ConntrackEntry; dir: 'original' | 'reply' }>();
  private nextId = 1;

  constructor(opts: { max?: number; now?: number } = {}) {
    this.max = opts.max ?? 262144;
    this.now = opts.now ?? 0;
  }

  get size(): number {
    return this.entries.size;
  }

  list(): ConntrackEntry[] {
    return [...this.entries.values()];
  }

  /** Advances the clock and removes expired entries. */
  tick(seconds: number): ConntrackEntry[] {
    this.now += seconds;
    const gone: ConntrackEntry[] = [];
    for (const e of this.entries.values()) {
      if (e.expires <= this.now) {
        this.delete(e);
        gone.push(e);
      }
    }
    return gone;
  }

  delete(e: ConntrackEntry): void {
    this.entries.delete(e.id);
    this.index.delete(tupleKey(e.proto, e.orig));
    this.index.delete(tupleKey(e.proto, e.reply));
  }

  lookup(p: TrackInput): { entry: ConntrackEntry; direction: 'original' | 'reply' } | undefined {
    const hit = this.index.get(tupleKey(norm(p.proto), tupleOf(p)));
    if (!hit || hit.entry.expires <= this.now) return undefined;
    return { entry: hit.entry, direction: hit.dir };
  }

  /**
   * Runs a packet through conntrack (the raw/PREROUTING or OUTPUT step): finds
   * its entry and advances the protocol state, or creates a new entry — or,
   * when the table is full and nothing can be early-dropped, drops the packet.
   */
  track(p: TrackInput): TrackResult {
    const proto = norm(p.proto);
    const found = this.lookup(p);
    if (found) {
      this.stats.found++;
      const { entry, direction } = found;
      this.advance(entry, direction, p);
      const ctstate: CtState = direction === 'reply' || entry.seenReply ? 'ESTABLISHED' : 'NEW';
      return { verdict: 'ok', entry, direction, ctstate, created: false };
    }
    if (proto === 'tcp' && p.tcpFlags && p.tcpFlags.includes('RST')) {
      return { verdict: 'ok', entry: this.make(p, proto), direction: 'original', ctstate: 'INVALID', created: false };
    }
    let earlyDropped: ConntrackEntry | undefined;
    if (this.entries.size >= this.max) {
      // early_drop: evict an entry that is not ASSURED (the kernel looks in a few
      // hash buckets near the new tuple; the model evicts the oldest such entry).
      for (const e of this.entries.values()) {
        if (!e.assured) {
          earlyDropped = e;
          break;
        }
      }
      if (!earlyDropped) {
        this.stats.drop++;
        this.kernelLog.push(CONNTRACK_FULL_MESSAGE);
        return { verdict: 'drop', message: CONNTRACK_FULL_MESSAGE };
      }
      this.delete(earlyDropped);
      this.stats.earlyDrop++;
    }
    const entry = this.make(p, proto);
    this.entries.set(entry.id, entry);
    this.index.set(tupleKey(proto, entry.orig), { entry, dir: 'original' });
    this.index.set(tupleKey(proto, entry.reply), { entry, dir: 'reply' });
    this.stats.inserted++;
    return { verdict: 'ok', entry, direction: 'original', ctstate: 'NEW', created: true, earlyDropped };
  }

  private make(p: TrackInput, proto: string): ConntrackEntry {
    const orig = tupleOf(p);
    const e: ConntrackEntry = {
      id: this.nextId++,
      family: p.family,
      proto,
      orig,
      reply: invert(orig),
      expires: this.now,
      assured: false,
      seenReply: false,
      mark: 0,
      use: 1,
      dnat: false,
      snat: false,
      created: this.now,
    };
    if (proto === 'tcp') {
      const syn = !p.tcpFlags || (p.tcpFlags.includes('SYN') && !p.tcpFlags.includes('ACK'));
      // nf_conntrack_tcp_loose=1 picks up mid-stream connections as ESTABLISHED.
      e.state = syn ? 'SYN_SENT' : 'ESTABLISHED';
      e.expires = this.now + CONNTRACK_TIMEOUTS.tcp[e.state];
    } else if (proto === 'udp') {
      e.expires = this.now + CONNTRACK_TIMEOUTS.udp;
      e.streamAfter = this.now + 2;
    } else if (proto === 'icmp' || proto === 'ipv6-icmp') {
      e.expires = this.now + CONNTRACK_TIMEOUTS.icmp;
    } else {
      e.expires = this.now + CONNTRACK_TIMEOUTS.generic;
    }
    return e;
  }

  private advance(e: ConntrackEntry, dir: 'original' | 'reply', p: TrackInput): void {
    if (dir === 'reply') e.seenReply = true;
    if (e.proto === 'tcp') {
      const f = new Set(p.tcpFlags ?? ['ACK']);
      let s = e.state ?? 'NONE';
      if (f.has('RST')) s = 'CLOSE';
      else if (s === 'SYN_SENT' && dir === 'reply' && f.has('SYN') && f.has('ACK')) s = 'SYN_RECV';
      else if (s === 'SYN_SENT' && dir === 'reply' && f.has('SYN')) s = 'SYN_SENT2';
      else if ((s === 'SYN_RECV' || s === 'SYN_SENT2') && dir === 'original' && f.has('ACK') && !f.has('SYN')) s = 'ESTABLISHED';
      else if (s === 'ESTABLISHED' && f.has('FIN')) {
        s = 'FIN_WAIT';
        e.finFrom = dir;
      } else if (s === 'FIN_WAIT' && dir !== e.finFrom && f.has('FIN')) s = 'LAST_ACK';
      else if (s === 'FIN_WAIT' && dir !== e.finFrom && f.has('ACK')) s = 'CLOSE_WAIT';
      else if (s === 'CLOSE_WAIT' && f.has('FIN')) s = 'LAST_ACK';
      else if (s === 'LAST_ACK' && f.has('ACK')) s = 'TIME_WAIT';
      // ASSURED once the handshake completes (SYN_RECV/ESTABLISHED -> ESTABLISHED).
      if (s === 'ESTABLISHED' && (e.state === 'SYN_RECV' || e.state === 'ESTABLISHED' || e.state === 'SYN_SENT2')) e.assured = true;
      e.state = s;
      e.expires = this.now + CONNTRACK_TIMEOUTS.tcp[s];
    } else if (e.proto === 'udp') {
      if (e.seenReply) {
        let extra = CONNTRACK_TIMEOUTS.udp;
        if (this.now > (e.streamAfter ?? 0)) {
          extra = CONNTRACK_TIMEOUTS.udpStream;
          e.assured = true;
        }
        e.expires = this.now + extra;
      } else {
        e.expires = this.now + CONNTRACK_TIMEOUTS.udp;
      }
    } else if (e.proto === 'icmp' || e.proto === 'ipv6-icmp') {
      e.expires = this.now + CONNTRACK_TIMEOUTS.icmp;
    } else {
      e.expires = this.now + CONNTRACK_TIMEOUTS.generic;
    }
  }

  /**
   * Records the NAT the nat chains chose for a new connection (nf_nat_setup_info):
   * the reply tuple becomes the inverse of the translated packet.
   */
  setNat(e: ConntrackEntry, translated: { src: string; dst: string; sport?: number; dport?: number }): void {
    this.index.delete(tupleKey(e.proto, e.reply));
    const t: Tuple = { ...e.orig, src: canonicalIP(translated.src), dst: canonicalIP(translated.dst), sport: translated.sport, dport: translated.dport };
    e.dnat = e.dnat || t.dst !== e.orig.dst || t.dport !== e.orig.dport;
    e.snat = e.snat || t.src !== e.orig.src || t.sport !== e.orig.sport;
    e.reply = invert(t);
    this.index.set(tupleKey(e.proto, e.reply), { entry: e, dir: 'reply' });
  }

  /**
   * The header rewrite conntrack applies to a later packet of a NATed
   * connection: original direction → towards the translated destination;
   * reply direction → back to the addresses the client used.
   */
  translate<P extends { src: string; dst: string; sport?: number; dport?: number }>(e: ConntrackEntry, direction: 'original' | 'reply', p: P): P {
    const target = direction === 'original' ? invert(e.reply) : invert(e.orig);
    return { ...p, src: target.src, dst: target.dst, sport: target.sport ?? p.sport, dport: target.dport ?? p.dport };
  }

  /** The netfilter view of a tracked packet (for the evaluator). */
  packetState(r: Extract<TrackResult, { verdict: 'ok' }>): Pick<Packet, 'ctstate' | 'ctDnat' | 'ctSnat' | 'ctStatus' | 'ctConfirmed'> {
    const st: string[] = ['CONFIRMED'];
    if (r.entry.seenReply) st.push('SEEN_REPLY');
    if (r.entry.assured) st.push('ASSURED');
    return { ctstate: r.ctstate, ctDnat: r.entry.dnat, ctSnat: r.entry.snat, ctStatus: r.created ? [] : st, ctConfirmed: !r.created };
  }
}

function norm(proto: string): string {
  const p = proto.toLowerCase();
  return p === 'icmpv6' ? 'ipv6-icmp' : p;
}

function tupleOf(p: TrackInput): Tuple {
  const t: Tuple = { src: canonicalIP(p.src), dst: canonicalIP(p.dst) };
  if (p.icmp) t.icmp = { ...p.icmp };
  else {
    t.sport = p.sport;
    t.dport = p.dport;
  }
  return t;
}

function tupleText(proto: string, t: Tuple): string {
  let s = `src=${t.src} dst=${t.dst}`;
  if (t.icmp) s += ` type=${t.icmp.type} code=${t.icmp.code} id=${t.icmp.id}`;
  else if (['tcp', 'udp', 'sctp', 'udplite', 'dccp'].includes(proto)) s += ` sport=${t.sport ?? 0} dport=${t.dport ?? 0}`;
  return s;
}

const L4_NAME: Record<string, string> = { 'ipv6-icmp': 'icmpv6' };

/**
 * One `conntrack -L` line (libnetfilter_conntrack __snprintf_conntrack_default):
 * `tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… … [ASSURED] mark=0 use=1`.
 */
export function renderConntrackEntry(e: ConntrackEntry, now: number, opts: { extended?: boolean } = {}): string {
  const parts: string[] = [];
  if (opts.extended) parts.push(`${(e.family === 4 ? 'ipv4' : 'ipv6').padEnd(8)} ${e.family === 4 ? 2 : 10}`);
  const name = L4_NAME[e.proto] ?? e.proto;
  parts.push(`${name.padEnd(8)} ${PROTO_NUM[e.proto] ?? 0}`);
  parts.push(String(Math.max(0, Math.floor(e.expires - now))));
  if (e.state) parts.push(e.state);
  parts.push(tupleText(e.proto, e.orig));
  if (!e.seenReply) parts.push('[UNREPLIED]');
  parts.push(tupleText(e.proto, e.reply));
  if (e.assured) parts.push('[ASSURED]');
  parts.push(`mark=${e.mark}`);
  if (e.zone) parts.push(`zone=${e.zone}`);
  parts.push(`use=${e.use}`);
  return parts.join(' ');
}

/**
 * `conntrack -L` stdout. Real output follows the kernel hash table's order; the
 * model lists entries in creation order.
 */
export function renderConntrackList(t: ConntrackTable, opts: { extended?: boolean } = {}): string {
  const lines = t.list().map((e) => renderConntrackEntry(e, t.now, opts));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The summary conntrack prints on stderr after a listing. */
export function conntrackSummary(count: number, version = '1.4.7'): string {
  return `conntrack v${version} (conntrack-tools): ${count} flow entries have been shown.\n`;
}
