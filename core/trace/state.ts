// State that outlives one walk: each node's conntrack table, NodeLocal
// DNSCache, xt_recent lists (ClientIP affinity), IPVS scheduler state, and
// the clock. Pass one TraceState to several walks to see conntrack entries
// accumulate, DNS answers come from the cache on a repeat, or the table fill up.

import { ConntrackTable, IpvsState, RecentTable } from '../dataplane';
import { DnsCache } from '../dns';

export class TraceState {
  /** Seconds on the state's clock (conntrack timeouts, DNS TTLs, affinity). */
  now = 0;
  readonly conntrack = new Map<string, ConntrackTable>();
  readonly dnsCaches = new Map<string, DnsCache>();
  readonly recent = new Map<string, RecentTable>();
  readonly ipvs = new Map<string, IpvsState>();
  /** nf_conntrack_max for tables created from now on (default: the topology's settings.conntrack.max). */
  conntrackMax?: number;

  ct(node: string, max: number): ConntrackTable {
    let t = this.conntrack.get(node);
    if (!t) {
      t = new ConntrackTable({ max: this.conntrackMax ?? max, now: this.now });
      this.conntrack.set(node, t);
    }
    if (t.now < this.now) t.tick(this.now - t.now);
    return t;
  }

  dnsCache(node: string): DnsCache {
    let c = this.dnsCaches.get(node);
    if (!c) this.dnsCaches.set(node, (c = new DnsCache()));
    return c;
  }

  recentFor(node: string): RecentTable {
    let r = this.recent.get(node);
    if (!r) this.recent.set(node, (r = new RecentTable()));
    return r;
  }

  ipvsFor(node: string): IpvsState {
    let s = this.ipvs.get(node);
    if (!s) this.ipvs.set(node, (s = new IpvsState()));
    return s;
  }

  /** Advances the clock (conntrack entries and cached DNS answers age). */
  advance(seconds: number): void {
    this.now += seconds;
    for (const t of this.conntrack.values()) t.tick(seconds);
  }

  /**
   * Fills a node's conntrack table with `count` ASSURED entries (established
   * connections the kernel cannot early-drop), as a busy node would have.
   */
  fillConntrack(node: string, count: number, max: number): ConntrackTable {
    const t = this.ct(node, max);
    for (let i = 0; i < count; i++) {
      const src = `192.0.2.${(i >> 16) & 255}`;
      const base = { family: 4 as const, proto: 'tcp', src, dst: `198.51.100.${(i >> 8) & 255}`, sport: 1024 + (i & 0xff) + ((i >> 8) & 0xff) * 256, dport: 443 };
      const r = t.track({ ...base, tcpFlags: ['SYN'] });
      if (r.verdict !== 'ok') break;
      t.track({ family: 4, proto: 'tcp', src: base.dst, dst: base.src, sport: base.dport, dport: base.sport, tcpFlags: ['SYN', 'ACK'] });
      t.track({ ...base, tcpFlags: ['ACK'] });
    }
    return t;
  }
}
