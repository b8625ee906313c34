// A TTL cache like CoreDNS's `cache` plugin as NodeLocal DNSCache configures it
// (`cache { success 9984 30  denial 9984 5 }`): positive answers are kept for
// min(record TTL, 30 s), negative ones (NXDOMAIN/NODATA) for min(SOA minimum,
// 5 s); each part holds up to 9984 entries. Served answers carry the remaining
// TTL. (CoreDNS evicts a random entry when full; the model evicts the oldest.)

import type { DnsAnswer, RR } from './coredns';

export interface CacheOptions {
  successCapacity?: number;
  successTTL?: number;
  denialCapacity?: number;
  denialTTL?: number;
}

interface Entry {
  answer: DnsAnswer;
  stored: number;
  ttl: number;
}

export interface CacheResult {
  answer: DnsAnswer;
  hit: boolean;
  /** Seconds the entry has left. */
  remaining: number;
}

export class DnsCache {
  hits = 0;
  misses = 0;
  private readonly success = new Map<string, Entry>();
  private readonly denial = new Map<string, Entry>();
  private readonly o: Required<CacheOptions>;

  constructor(opts: CacheOptions = {}) {
    this.o = { successCapacity: opts.successCapacity ?? 9984, successTTL: opts.successTTL ?? 30, denialCapacity: opts.denialCapacity ?? 9984, denialTTL: opts.denialTTL ?? 5 };
  }

  get size(): { success: number; denial: number } {
    return { success: this.success.size, denial: this.denial.size };
  }

  /** Answers from the cache, or asks `upstream` (kube-dns) and caches the reply. `now` in seconds. */
  lookup(now: number, qname: string, qtype: string, upstream: () => DnsAnswer): CacheResult {
    const key = `${qname.toLowerCase().replace(/\.?$/, '.')}|${qtype}`;
    for (const m of [this.success, this.denial]) {
      const e = m.get(key);
      if (!e) continue;
      const age = Math.floor(now - e.stored);
      if (age < e.ttl) {
        this.hits++;
        const remaining = e.ttl - age;
        const dec = (rrs: RR[]): RR[] => rrs.map((r) => ({ ...r, ttl: Math.min(r.ttl, remaining) }));
        return { answer: { ...e.answer, answer: dec(e.answer.answer), authority: dec(e.answer.authority), additional: dec(e.answer.additional) }, hit: true, remaining };
      }
      m.delete(key);
    }
    this.misses++;
    const answer = upstream();
    if (answer.rcode === 'FORWARD') return { answer, hit: false, remaining: 0 };
    const positive = answer.rcode === 'NOERROR' && answer.answer.length > 0;
    const rrTTL = positive ? Math.min(...answer.answer.map((r) => r.ttl)) : Math.min(...answer.authority.map((r) => r.ttl), Infinity);
    const cap = positive ? this.o.successTTL : this.o.denialTTL;
    const ttl = Math.min(Number.isFinite(rrTTL) ? rrTTL : cap, cap);
    const m = positive ? this.success : this.denial;
    const capacity = positive ? this.o.successCapacity : this.o.denialCapacity;
    if (m.size >= capacity) m.delete(m.keys().next().value as string);
    m.set(key, { answer, stored: now, ttl });
    const clip = (rrs: RR[]): RR[] => rrs.map((r) => ({ ...r, ttl: Math.min(r.ttl, ttl) }));
    return { answer: { ...answer, answer: clip(answer.answer), authority: clip(answer.authority), additional: clip(answer.additional) }, hit: false, remaining: ttl };
  }
}
