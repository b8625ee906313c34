// Memoised address parsing for the walk's hot path: a walk parses and
// canonicalises the same few dozen address strings hundreds of times (every
// rule match, every index lookup). The results are pure functions of the
// string and immutable, so they are shared; the caches are bounded.

import { canonicalIP as canonicalIPUncached, parseIP as parseIPUncached, type IP } from '../net';

const LIMIT = 50_000;
const canon = new Map<string, string>();
const parsed = new Map<string, IP | null>();

/** core/net canonicalIP, memoised. */
export function canonicalIP(s: string): string {
  let c = canon.get(s);
  if (c === undefined) {
    c = canonicalIPUncached(s);
    if (canon.size >= LIMIT) canon.clear();
    canon.set(s, c);
  }
  return c;
}

/** core/net parseIP, memoised (the returned object is shared: do not mutate it). */
export function parseIP(s: string): IP | null {
  let ip = parsed.get(s);
  if (ip === undefined) {
    ip = parseIPUncached(s);
    if (parsed.size >= LIMIT) parsed.clear();
    parsed.set(s, ip);
  }
  return ip;
}
