// Whole-table diffs of large outputs — a 100,000-entry `conntrack -L`, a
// 20,000-rule iptables-save — the measured hot path of compare (see
// bench/compare.ts). Each side is scanned once into compact per-entry keys
// (no record objects); only entries that do not pair up are handed to the
// full parsers, so every difference is read with core/parse's semantics.
// conntrack entries are paired by two independent 32-bit FNV-1a hashes of
// their key fields (64 bits: for two 100,000-entry tables the chance that any
// two different keys collide is about 1 in 10^9).

import { parseConntrack, type ConntrackEntry } from '../parse/conntrack';
import { entryText } from './conntrack';
import { checkResult, type CheckResult, type DiffItem } from './types';

// ---------------------------------------------------------------------------
// conntrack

const TCP_ORDER = [2, 3, 4, 5, 6, 7, 8, 9, 10];
const F_UNREPLIED = 64;
const F_ASSURED = 128;

// State words as conntrack-tools prints them: TCP (codes 1–10, in lifecycle
// order from SYN_SENT: TCP_ORDER), then LISTEN (older tools' SYN_SENT2), SCTP
// and DCCP. Codes are compared only for equality, so a word shared by two
// protocols (ESTABLISHED, NONE) has one code, as the record path compares names.
const STATES = [
  '', 'NONE', 'SYN_SENT', 'SYN_SENT2', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE',
  'LISTEN',
  'CLOSED', 'COOKIE_WAIT', 'COOKIE_ECHOED', 'SHUTDOWN_SENT', 'SHUTDOWN_RECD', 'SHUTDOWN_ACK_SENT', 'HEARTBEAT_SENT', 'HEARTBEAT_ACKED',
  'REQUEST', 'RESPOND', 'PARTOPEN', 'OPEN', 'CLOSEREQ', 'CLOSING', 'TIMEWAIT', 'IGNORE', 'INVALID',
];
/** Codes up to 63 fit beside the two flags in a byte; state words not listed above get the free ones, per diff. */
const MAX_STATE = 63;
let otherStates = new Map<string, number>();

/** State word [a, b) of t → code (NONE 1 … CLOSE 10, then the others), 0 when there is no free code left. Known words are compared in place, no slice. */
function stateCode(t: string, a: number, b: number): number {
  for (let k = 1; k < STATES.length; k++) {
    const w = STATES[k];
    if (w.length === b - a && t.startsWith(w, a)) return k;
  }
  const w = t.slice(a, b);
  let k = otherStates.get(w);
  if (k === undefined) {
    k = STATES.length + otherStates.size;
    if (k > MAX_STATE) return 0;
    otherStates.set(w, k);
  }
  return k;
}

interface Scan {
  /** Two independent 32-bit FNV-1a hashes of the pairing key (protocol, original source/destination/port, reply source/port/destination). */
  h1: Int32Array;
  h2: Int32Array;
  /** State code | flags. */
  meta: Uint8Array;
  /** Line start and end offsets in the text (to show and, when needed, fully parse the entry); for an entry of `other` k, start is -1 - k. */
  starts: Int32Array;
  ends: Int32Array;
  count: number;
  /** Entries of lines the fast scanner does not read (another output format: -o extended, /proc/net/nf_conntrack, events), fully parsed; paired like the others, in table order. */
  other: ConntrackEntry[];
  /** Entries left out: their state word had no code left (more distinct state words than fit in a byte). */
  unkeyed: number;
}

const FNV_PRIME = 16777619;

/**
 * Scans one default-format `conntrack -L` line [s, e) into `out` (hashes,
 * meta). Returns false when the line is in another format (events,
 * -o extended…). A hand-written walk over char codes without allocations:
 * it runs 100,000 times per table.
 */
// the running hashes of the line being scanned (module state: no closure per line)
let H1 = 0;
let H2 = 0;

function mix(t: string, a: number, b: number): void {
  let h1 = H1;
  let h2 = H2;
  for (let i = a; i < b; i++) {
    const c = t.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, 0x01000195);
  }
  // field separator
  H1 = Math.imul(h1 ^ 0x20, FNV_PRIME);
  H2 = Math.imul(h2 ^ 0x7c, 0x01000195);
}

function scanLine(t: string, s: number, e: number, out: Int32Array): boolean {
  H1 = 0x811c9dc5 | 0;
  H2 = 0x050c5d1f | 0;
  let p = s;
  // l4 name
  while (p < e && t.charCodeAt(p) === 32) p++;
  let a = p;
  while (p < e && t.charCodeAt(p) !== 32) p++;
  const c0 = t.charCodeAt(a);
  if (p === a || c0 < 97 || c0 > 122 || (c0 === 105 && t.charCodeAt(a + 1) === 112 && t.charCodeAt(a + 2) === 118)) return false; // [NEW], ipv4 …
  mix(t, a, p);
  let meta = 0;
  let tuple = 0;
  let word = 0;
  while (p < e) {
    while (p < e && t.charCodeAt(p) === 32) p++;
    a = p;
    while (p < e && t.charCodeAt(p) !== 32) p++;
    if (a === p) break;
    word++;
    const c = t.charCodeAt(a);
    if (word <= 2 && c >= 48 && c <= 57) continue; // protocol number, timeout
    if (c === 91 /* [ */) {
      const d = t.charCodeAt(a + 1);
      if (d === 85 /* U */) meta |= F_UNREPLIED;
      else if (d === 65 /* A */) meta |= F_ASSURED;
      continue;
    }
    if (c >= 65 && c <= 90) {
      // STATE (uppercase word before the tuples)
      if (tuple > 0) return false;
      const st = stateCode(t, a, p);
      if (!st) return false;
      meta |= st;
      continue;
    }
    if (c === 115 /* s */ && t.charCodeAt(a + 3) === 61 && t.charCodeAt(a + 1) === 114) {
      tuple++;
      if (tuple <= 2) mix(t, a, p); // src= of each tuple
    } else if (c === 100 /* d */ && t.charCodeAt(a + 3) === 61) {
      if (tuple <= 2) mix(t, a, p); // dst=
    } else if (c === 100 /* d */ && t.charCodeAt(a + 5) === 61) {
      if (tuple === 1) mix(t, a, p); // original dport= (the reply's is the ephemeral port)
    } else if (c === 115 /* s */ && t.charCodeAt(a + 5) === 61) {
      if (tuple === 2) mix(t, a, p); // reply sport= (the original's is ephemeral)
    } else if ((c === 116 /* t */ || c === 99) /* c */ && t.charCodeAt(a + 4) === 61) {
      if (tuple === 1) mix(t, a, p); // ICMP type= / code=
    }
    // timeouts, packets/bytes, use, id, mark, zone, ICMP ids and source ports are not part of the key
  }
  if (tuple !== 2) return false;
  out[0] = H1;
  out[1] = H2;
  out[2] = meta;
  return true;
}

/** The key hashes and meta of a fully parsed entry, the same as scanLine's for its default-format line. False when its state has no code. */
function hashRecord(e: ConntrackEntry, out: Int32Array): boolean {
  H1 = 0x811c9dc5 | 0;
  H2 = 0x050c5d1f | 0;
  const o = e.original;
  const r = e.reply;
  const add = (w: string) => mix(w, 0, w.length);
  add(e.l4.name);
  add(`src=${o.src}`);
  add(`dst=${o.dst}`);
  if (o.dport !== undefined) add(`dport=${o.dport}`);
  if (o.type !== undefined) add(`type=${o.type}`);
  if (o.code !== undefined) add(`code=${o.code}`);
  add(`src=${r.src}`);
  add(`dst=${r.dst}`);
  if (r.sport !== undefined) add(`sport=${r.sport}`);
  let meta = 0;
  if (e.state) {
    meta = stateCode(e.state, 0, e.state.length);
    if (!meta) return false;
  }
  if (e.unreplied) meta |= F_UNREPLIED;
  if (e.assured) meta |= F_ASSURED;
  out[0] = H1;
  out[1] = H2;
  out[2] = meta;
  return true;
}

function scanConntrack(text: string): Scan {
  let cap = 1024;
  let h1 = new Int32Array(cap);
  let h2 = new Int32Array(cap);
  let starts = new Int32Array(cap);
  let ends = new Int32Array(cap);
  let meta = new Uint8Array(cap);
  const other: ConntrackEntry[] = [];
  let unkeyed = 0;
  const tmp = new Int32Array(3);
  let count = 0;
  const n = text.length;
  let s = 0;
  while (s < n) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = n;
    let le = e;
    if (le > s && text.charCodeAt(le - 1) === 13) le--;
    if (le > s && !(text.charCodeAt(s) === 99 && text.startsWith('conntrack v', s))) {
      let start = s;
      let ok = scanLine(text, s, le, tmp);
      if (!ok) {
        // another format: the full parser reads it, the entry is keyed the same way
        const rec = parseConntrack(text.slice(s, le)).records[0];
        if (rec && hashRecord(rec, tmp)) {
          start = -1 - other.length;
          other.push(rec);
          ok = true;
        } else if (rec) unkeyed++;
      }
      if (ok) {
        if (count === cap) {
          cap *= 2;
          const g32 = (x: Int32Array) => {
            const y = new Int32Array(cap);
            y.set(x);
            return y;
          };
          h1 = g32(h1);
          h2 = g32(h2);
          starts = g32(starts);
          ends = g32(ends);
          const m2 = new Uint8Array(cap);
          m2.set(meta);
          meta = m2;
        }
        h1[count] = tmp[0];
        h2[count] = tmp[1];
        meta[count] = tmp[2];
        starts[count] = start;
        ends[count] = le;
        count++;
      }
    }
    s = e + 1;
  }
  return { h1, h2, meta, starts, ends, count, other, unkeyed };
}

function lineOf(text: string, sc: Scan, i: number): ConntrackEntry | undefined {
  const s = sc.starts[i];
  return s < 0 ? sc.other[-1 - s] : parseConntrack(text.slice(s, sc.ends[i])).records[0];
}

/** A 32-bit key for an entry's key hash and meta together (the first pass pairs same state and flags). */
function withMeta(h1: number, meta: number): number {
  return (h1 ^ Math.imul(meta + 1, 0x9e3779b1)) | 0;
}

/**
 * Entries chained by a 32-bit key, in table order: an open-addressing table
 * of keys to the first entry of each chain (no Map: 100,000 entries per
 * table), `next` links the rest. Paired entries stay paired, so `first`
 * drops them from the front of a chain for good: many connections of one
 * key (one client to one Service, TIME_WAIT pile-ups) stay linear.
 */
class Chains {
  readonly next: Int32Array;
  private readonly keys: Int32Array;
  /** First entry of the slot's chain; EMPTY for a free slot, DONE once every entry of the chain is paired. */
  private readonly heads: Int32Array;
  private readonly shift: number;

  constructor(n: number, keyOf: (i: number) => number) {
    let bits = 4;
    while (1 << bits < n * 2) bits++;
    this.shift = 32 - bits;
    this.keys = new Int32Array(1 << bits);
    this.heads = new Int32Array(1 << bits).fill(EMPTY);
    this.next = new Int32Array(n).fill(-1);
    for (let i = n - 1; i >= 0; i--) {
      const s = this.probe(keyOf(i));
      if (this.heads[s] !== EMPTY) this.next[i] = this.heads[s];
      this.heads[s] = i;
    }
  }

  /** The slot of key k: its own, or the free one where it would go. */
  private probe(k: number): number {
    const mask = this.heads.length - 1;
    let s = Math.imul(k, 0x9e3779b1) >>> this.shift;
    while (this.heads[s] !== EMPTY && this.keys[s] !== k) s = (s + 1) & mask;
    this.keys[s] = k;
    return s;
  }

  /** The slot of key k, -1 when no entry has it. */
  slot(k: number): number {
    const mask = this.heads.length - 1;
    let s = Math.imul(k, 0x9e3779b1) >>> this.shift;
    while (this.heads[s] !== EMPTY) {
      if (this.keys[s] === k) return s;
      s = (s + 1) & mask;
    }
    return -1;
  }

  /** The first entry of slot s's chain not yet `used` (those before it are skipped from now on), -1 when none. */
  first(s: number, used: Uint8Array): number {
    let i = this.heads[s];
    if (i >= 0 && used[i]) {
      while (i >= 0 && used[i]) i = this.next[i];
      this.heads[s] = i < 0 ? DONE : i;
    }
    return i < 0 ? -1 : i;
  }
}
const EMPTY = -1;
const DONE = -2;

/**
 * `conntrack -L` of the model against the node's, whole table: entries are
 * paired by protocol, original source/destination/port and reply
 * source/port/destination (source ports are ephemeral, timeouts/use/ids
 * ignored), same state first. Lists at most `maxItems` differences; the
 * counts and the status take all of them into account.
 */
export function diffConntrackText(modelText: string, realText: string, opts: { maxItems?: number } = {}): CheckResult {
  const max = opts.maxItems ?? 200;
  otherStates = new Map();
  const m = scanConntrack(modelText);
  const r = scanConntrack(realText);
  const used = new Uint8Array(m.count);
  // model entries chained by key (first pass: key and state/flags; second: key alone);
  // both hashes and the meta are checked on every hit (64 bits of key in all)
  const exact = new Chains(m.count, (i) => withMeta(m.h1[i], m.meta[i]));
  const byKey = new Chains(m.count, (i) => m.h1[i]);
  /**
   * The first unpaired model entry (table order) with real entry j's key and,
   * when `sameMeta`, its state and flags: paired, or -1.
   */
  const take = (j: number, sameMeta: boolean): number => {
    const c = sameMeta ? exact : byKey;
    const s = c.slot(sameMeta ? withMeta(r.h1[j], r.meta[j]) : r.h1[j]);
    if (s < 0) return -1;
    const k1 = r.h1[j];
    const k2 = r.h2[j];
    const mt = r.meta[j];
    for (let i = c.first(s, used); i >= 0; i = c.next[i]) {
      if (!used[i] && m.h1[i] === k1 && m.h2[i] === k2 && (!sameMeta || m.meta[i] === mt)) {
        used[i] = 1;
        return i;
      }
    }
    return -1;
  };
  // first the entries that pair with one of the same state and flags (conntrack -L
  // lists same-key connections in hash order: pairing must not depend on it)
  const pendingReal: number[] = [];
  for (let j = 0; j < r.count; j++) if (take(j, true) < 0) pendingReal.push(j);
  const items: DiffItem[] = [];
  let missing = 0;
  let extra = 0;
  let changed = 0;
  let unexplained = 0;
  const push = (it: DiffItem) => {
    if (!it.explained) unexplained++;
    if (items.length < max) items.push(it);
  };
  // then the rest of each key: the same connection in another state
  for (const j of pendingReal) {
    const hit = take(j, false);
    const re = lineOf(realText, r, j);
    if (hit < 0) {
      extra++;
      push({ kind: 'extra', where: re ? `${re.l4.name} → ${re.original.dst}` : undefined, real: re ? entryText(re) : realText.slice(r.starts[j], r.ends[j]), explanation: 'an entry on the node the model does not have', explained: false });
      continue;
    }
    changed++;
    const me = lineOf(modelText, m, hit);
    const ms = m.meta[hit] & 63;
    const rs = r.meta[j] & 63;
    const sameReply = (m.meta[hit] & F_UNREPLIED) === (r.meta[j] & F_UNREPLIED);
    const timing = sameReply && TCP_ORDER.includes(ms) && TCP_ORDER.includes(rs) && rs !== 2;
    push({
      kind: 'changed',
      where: re ? `${re.l4.name} → ${re.original.dst}` : undefined,
      model: me ? entryText(me) : undefined,
      real: re ? entryText(re) : undefined,
      explanation: timing ? `state ${re?.state} on the node, ${me?.state} in the model: the same connection listed at another moment of its lifecycle` : 'the entry differs in state or in whether a reply was seen',
      explained: timing,
    });
  }
  for (let i = 0; i < m.count; i++) {
    if (used[i]) continue;
    missing++;
    const me = lineOf(modelText, m, i);
    push({ kind: 'missing', where: me ? `${me.l4.name} → ${me.original.dst}` : undefined, model: me ? entryText(me) : modelText.slice(m.starts[i], m.ends[i]), explanation: 'the model has this connection, the node does not track it', explained: false });
  }
  const other = m.other.length + r.other.length;
  const notes = [`${missing} missing, ${extra} extra, ${changed} changed${items.length < missing + extra + changed ? ` (first ${items.length} listed)` : ''}; source ports, timeouts, use and ids ignored`];
  if (m.unkeyed + r.unkeyed) notes.push(`${m.unkeyed + r.unkeyed} entr${m.unkeyed + r.unkeyed === 1 ? 'y was' : 'ies were'} not compared: more than ${MAX_STATE - STATES.length + 1} unknown state words (compare with diffConntrackTables)`);
  if (other) notes.push(`${other} line(s) in another conntrack format (-o extended, /proc/net/nf_conntrack, events) were read with the full parser; the default -L output is read faster`);
  const res = checkResult('conntrack', items, Math.max(m.count, r.count), `${m.count} model entries vs ${r.count} node entries`, notes);
  if (unexplained > 0) res.status = 'different';
  return res;
}
