// `conntrack -L` / `conntrack -E` output (libnetfilter_conntrack
// snprintf_default.c) and the conntrack-tools summary line it prints on stderr.
//
// [<event>] [<l3name> <l3num>] <l4name> <l4num> [<timeout>] [<STATE>]
//   src= dst= <l4 tuple> [packets= bytes=] [[UNREPLIED]]
//   src= dst= <l4 tuple> [packets= bytes=] [[ASSURED]|[OFFLOAD]]
//   [mark=] [secmark=] [secctx=] [zone=] [delta-time=] [helper=] [use=] [id=] [labels=]
//
// This is a hot path (100,000-entry tables): one pass over each line's
// space-separated words, no regular expressions.

import { DEFAULT_MAX_INPUT, DEFAULT_MAX_LINE, Diagnostics, type ParseOptions, type ParseResult, quote } from './common';

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP / ICMPv6 */
  type?: number;
  code?: number;
  id?: number;
  /** GRE */
  srckey?: string;
  dstkey?: string;
  /** With accounting (nf_conntrack_acct=1). */
  packets?: number;
  bytes?: number;
  /** zone-orig= / zone-reply= */
  zone?: number;
}

export interface ConntrackEntry {
  line: number;
  /** `conntrack -E`: NEW, UPDATE, DESTROY. */
  event?: string;
  /** `-o extended`: `ipv4 2` / `ipv6 10`. */
  l3?: { name: string; num: number };
  /** Shared and frozen for the usual protocols: do not mutate. */
  l4: Readonly<{ name: string; num: number }>;
  /** Seconds left; absent in events that carry none. */
  timeout?: number;
  /** TCP (and SCTP/DCCP) state: ESTABLISHED, TIME_WAIT … */
  state?: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  unreplied: boolean;
  assured: boolean;
  offload: boolean;
  mark?: number;
  secmark?: number;
  secctx?: string;
  zone?: number;
  deltaTime?: number;
  helper?: string;
  use?: number;
  id?: number;
  labels?: string;
  /** `-o timestamp`: `[start=…]`, `[stop=…]` as printed. */
  start?: string;
  stop?: string;
  /** Words this parser does not know, kept verbatim. */
  extra?: string[];
}

export interface ConntrackSummary {
  line: number;
  program: string;
  version: string;
  count: number;
  /** "flow entries have been shown" / "flow entries have been deleted" … */
  verb: string;
}

export interface ConntrackResult extends ParseResult<ConntrackEntry> {
  summary?: ConntrackSummary;
}

function num(s: string): number {
  // fast unsigned decimal; NaN when not one
  const n = s.length;
  if (n === 0 || n > 15) return NaN;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}


/** "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown." */
function parseSummary(line: string, no: number): ConntrackSummary | null {
  const marker = ' (conntrack-tools): ';
  const m = line.indexOf(marker);
  if (m < 0) return null;
  const head = line.slice(0, m).trim().split(' ');
  const tail = line.slice(m + marker.length).trim();
  const sp = tail.indexOf(' ');
  const count = num(tail.slice(0, sp));
  if (head.length !== 2 || !head[1].startsWith('v') || Number.isNaN(count)) return null;
  const verb = tail.slice(sp + 1).replace(/\.$/, '');
  return { line: no, program: head[0], version: head[1].slice(1), count, verb };
}

export function parseConntrack(text: unknown, opts: ParseOptions = {}): ConntrackResult {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const records: ConntrackEntry[] = [];
  let summary: ConntrackSummary | undefined;
  if (typeof text !== 'string') {
    diags.error(0, `conntrack: expected text, got ${text === null ? 'null' : typeof text}`);
    return { records, diagnostics: diags.finish() };
  }
  const maxInput = opts.maxInputLength ?? DEFAULT_MAX_INPUT;
  if (text.length > maxInput) {
    diags.error(0, `conntrack: input is ${text.length} characters long, over the limit of ${maxInput}; nothing was parsed`);
    return { records, diagnostics: diags.finish() };
  }
  const maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
  // Own line loop (no intermediate line objects): this is the 100k-entry hot path.
  // Binary data is detected by the tokenizer, which reads every character anyway.
  const n = text.length;
  let start = 0;
  let no = 0;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    no++;
    if (end - start > maxLine) {
      diags.error(no, `conntrack: line ${no} is ${end - start} characters long (limit ${maxLine}); skipped`);
    } else if (end > start) {
      const le = text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      if (text.charCodeAt(start) === 99 /* c */ && text.startsWith('conntrack v', start)) {
        const s = parseSummary(text.slice(start, le), no);
        if (s) summary = s;
        else {
          const e = parseEntry(text, start, le, no, diags);
          if (e) records.push(e);
        }
      } else {
        const e = parseEntry(text, start, le, no, diags);
        if (e) records.push(e);
      }
    }
    if (end === n) break;
    start = end + 1;
  }
  if (summary && /shown|listed/.test(summary.verb) && summary.count !== records.length) {
    diags.error(
      summary.line,
      `conntrack: the summary says ${summary.count} flow entries but ${records.length} were parsed (output truncated or lines rejected)`,
    );
  }
  const out: ConntrackResult = { records, diagnostics: diags.finish() };
  if (summary) out.summary = summary;
  return out;
}

/** Unsigned decimal between [s, e) of `line`; NaN when not one. */
function numAt(line: string, s: number, e: number): number {
  if (e <= s || e - s > 15) return NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

// Key classes (plain numeric constants: cheaper than an enum object under tsx).
const K_SRC = 0;
const K_DST = 1;
const K_SPORT = 2;
const K_DPORT = 3;
const K_TYPE = 4;
const K_CODE = 5;
const K_ID = 6;
const K_PACKETS = 7;
const K_BYTES = 8;
const K_SRCKEY = 9;
const K_DSTKEY = 10;
const K_ZONE_ORIG = 11;
const K_ZONE_REPLY = 12;
const K_MARK = 13;
const K_SECMARK = 14;
const K_SECCTX = 15;
const K_ZONE = 16;
const K_DELTA_TIME = 17;
const K_HELPER = 18;
const K_USE = 19;
const K_LABELS = 20;
const K_OTHER = 21;

/** True when [s, s + k.length) of `line` equals `k` (k is a short ASCII constant). */
function is(line: string, s: number, k: string): boolean {
  for (let j = 1; j < k.length; j++) if (line.charCodeAt(s + j) !== k.charCodeAt(j)) return false;
  return true;
}

/** Classifies `key=` at [s, eq) without allocating; the first character selects, the length and the rest confirm. */
function keyAt(line: string, s: number, eq: number): number {
  const len = eq - s;
  switch (line.charCodeAt(s)) {
    case 115: // s
      if (len === 3) return is(line, s, 'src') ? K_SRC : K_OTHER;
      if (len === 5) return is(line, s, 'sport') ? K_SPORT : K_OTHER;
      if (len === 6) return is(line, s, 'srckey') ? K_SRCKEY : is(line, s, 'secctx') ? K_SECCTX : K_OTHER;
      if (len === 7) return is(line, s, 'secmark') ? K_SECMARK : K_OTHER;
      return K_OTHER;
    case 100: // d
      if (len === 3) return is(line, s, 'dst') ? K_DST : K_OTHER;
      if (len === 5) return is(line, s, 'dport') ? K_DPORT : K_OTHER;
      if (len === 6) return is(line, s, 'dstkey') ? K_DSTKEY : K_OTHER;
      if (len === 10) return is(line, s, 'delta-time') ? K_DELTA_TIME : K_OTHER;
      return K_OTHER;
    case 112: // p
      return len === 7 && is(line, s, 'packets') ? K_PACKETS : K_OTHER;
    case 98: // b
      return len === 5 && is(line, s, 'bytes') ? K_BYTES : K_OTHER;
    case 116: // t
      return len === 4 && is(line, s, 'type') ? K_TYPE : K_OTHER;
    case 99: // c
      return len === 4 && is(line, s, 'code') ? K_CODE : K_OTHER;
    case 105: // i
      return len === 2 && is(line, s, 'id') ? K_ID : K_OTHER;
    case 109: // m
      return len === 4 && is(line, s, 'mark') ? K_MARK : K_OTHER;
    case 117: // u
      return len === 3 && is(line, s, 'use') ? K_USE : K_OTHER;
    case 104: // h
      return len === 6 && is(line, s, 'helper') ? K_HELPER : K_OTHER;
    case 108: // l
      return len === 6 && is(line, s, 'labels') ? K_LABELS : K_OTHER;
    case 122: // z
      if (len === 4) return is(line, s, 'zone') ? K_ZONE : K_OTHER;
      if (len === 9) return is(line, s, 'zone-orig') ? K_ZONE_ORIG : K_OTHER;
      if (len === 10) return is(line, s, 'zone-reply') ? K_ZONE_REPLY : K_OTHER;
      return K_OTHER;
  }
  return K_OTHER;
}

// Token boundaries of the current line: [start, end, index of '=' or -1] per token.
// Reused across lines (grown when a line has more tokens) so that tokenizing
// allocates nothing.
let bounds = new Int32Array(192);

/** Parses the line at [ls, le) of `line` (the whole input: no per-line string is made). */
function parseEntry(line: string, ls: number, le: number, no: number, diags: Diagnostics): ConntrackEntry | null {
  // pass 1: token boundaries and a check for binary data, in one tight loop
  const L = le;
  let nt = 0;
  let b = bounds;
  let p = ls;
  while (p < L) {
    let c = line.charCodeAt(p);
    while (c === 32 && ++p < L) c = line.charCodeAt(p);
    if (p >= L) break;
    const st = p;
    let eq = -1;
    while (c !== 32) {
      if (c === 61 && eq < 0) eq = p;
      else if (c < 32 || c === 127 || c === 0xfffd) {
        diags.error(no, `conntrack: line ${no} contains binary data (character code ${c} at column ${p - ls + 1}); skipped`, p - ls + 1);
        return null;
      }
      if (++p >= L) break;
      c = line.charCodeAt(p);
    }
    if (nt * 3 + 3 > b.length) {
      const g = new Int32Array(b.length * 2);
      g.set(b);
      bounds = b = g;
    }
    b[nt * 3] = st;
    b[nt * 3 + 1] = p;
    b[nt * 3 + 2] = eq;
    nt++;
  }
  if (nt === 0) return null;
  return scanEntry(line, ls, le, b, nt, no, diags);
}

/** The value at [s, e), reusing one of the given strings when equal (reply tuples mostly repeat the original's addresses). */
function valueAt(line: string, s: number, e: number, a: string, b2: string): string {
  const len = e - s;
  if (a.length === len && line.startsWith(a, s)) return a;
  if (b2.length === len && line.startsWith(b2, s)) return b2;
  return line.slice(s, e);
}

const TCP_STATES = ['ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSE', 'NONE', 'SYN_SENT2', 'LISTEN'];
function stateAt(line: string, s: number, e: number): string {
  const len = e - s;
  for (const st of TCP_STATES) if (st.length === len && line.startsWith(st, s)) return st;
  return line.slice(s, e);
}

const L4_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 33: 'dccp', 47: 'gre', 58: 'icmpv6', 132: 'sctp', 136: 'udplite' };
/** Shared, frozen protocol objects for the usual protocols (saves 100k allocations on a big table). */
const L4_SHARED: Record<number, Readonly<{ name: string; num: number }>> = Object.fromEntries(
  Object.entries(L4_NAMES).map(([num, name]) => [num, Object.freeze({ name, num: Number(num) })]),
);

function scanEntry(line: string, ls: number, le: number, b: Int32Array, nt: number, no: number, diags: Diagnostics): ConntrackEntry | null {
  let i = 0;
  let ts = b[0];
  let te = b[1];
  let event: string | undefined;
  if (line.charCodeAt(ts) === 91 /* [ */ && line.charCodeAt(te - 1) === 93 && !line.startsWith('[UNREPLIED]', ts)) {
    event = line.slice(ts + 1, te - 1);
    i++;
  }
  if (i + 1 >= nt) return bad(no, line.slice(ls, le), diags);
  let nameStart = b[i * 3];
  let nameEnd = b[i * 3 + 1];
  let pnum = numAt(line, b[i * 3 + 3], b[i * 3 + 4]);
  let name = l4Name(line, nameStart, nameEnd, pnum);
  if (Number.isNaN(pnum)) return bad(no, line.slice(ls, le), diags);
  i += 2;
  let l3: { name: string; num: number } | undefined;
  if (name === 'ipv4' || name === 'ipv6') {
    l3 = { name, num: pnum };
    if (i + 1 >= nt) return bad(no, line.slice(ls, le), diags);
    nameStart = b[i * 3];
    nameEnd = b[i * 3 + 1];
    pnum = numAt(line, b[i * 3 + 3], b[i * 3 + 4]);
    name = l4Name(line, nameStart, nameEnd, pnum);
    if (Number.isNaN(pnum)) {
      diags.error(no, `conntrack: line ${no}: expected the layer-4 protocol after ${l3.name}; skipped`);
      return null;
    }
    i += 2;
  }
  const original: ConntrackTuple = { src: '', dst: '' };
  const reply: ConntrackTuple = { src: '', dst: '' };
  const shared = L4_SHARED[pnum];
  const l4 = shared !== undefined && shared.name === name ? shared : { name, num: pnum };
  const e: ConntrackEntry = { line: no, l4, original, reply, unreplied: false, assured: false, offload: false };
  if (event !== undefined) e.event = event;
  if (l3) e.l3 = l3;
  const isIcmp = name === 'icmp' || name === 'icmpv6';
  // optional timeout and state, before the first key=value
  for (let k = 0; k < 2 && i < nt; k++) {
    ts = b[i * 3];
    te = b[i * 3 + 1];
    if (line.charCodeAt(ts) === 91) break;
    if (b[i * 3 + 2] >= 0) break;
    const t = k === 0 ? numAt(line, ts, te) : NaN;
    if (!Number.isNaN(t)) e.timeout = t;
    else if (e.state === undefined) e.state = stateAt(line, ts, te);
    else break;
    i++;
  }
  // 0 = before any src, 1 = original tuple, 2 = reply tuple, 3 = after the reply tuple
  let phase = 0;
  let cur = original;
  let extra: string[] | undefined;
  for (; i < nt; i++) {
    ts = b[i * 3];
    te = b[i * 3 + 1];
    if (line.charCodeAt(ts) === 91 /* [ */) {
      // bracketed values can contain spaces: [start=Mon Nov 24 05:35:40 2026]
      while (line.charCodeAt(te - 1) !== 93 && i + 1 < nt) te = b[++i * 3 + 1];
      const t = line.slice(ts, te);
      if (t === '[UNREPLIED]') e.unreplied = true;
      else if (t === '[ASSURED]') e.assured = true;
      else if (t === '[OFFLOAD]' || t === '[HW_OFFLOAD]') e.offload = true;
      else if (t.startsWith('[start=')) e.start = t.slice(7, -1);
      else if (t.startsWith('[stop=')) e.stop = t.slice(6, -1);
      else (extra ??= []).push(t);
      continue;
    }
    const eq = b[i * 3 + 2];
    if (eq <= ts) {
      (extra ??= []).push(line.slice(ts, te));
      continue;
    }
    const k = keyAt(line, ts, eq);
    const vs = eq + 1;
    if (k === K_SRC) {
      if (phase === 0) phase = 1;
      else if (phase === 1) {
        phase = 2;
        cur = reply;
      } else {
        diags.error(no, `conntrack: line ${no}: a third src= (two entries run together?); skipped`);
        return null;
      }
      cur.src = phase === 2 ? valueAt(line, vs, te, original.dst, original.src) : line.slice(vs, te);
      continue;
    }
    if (phase === 0) {
      diags.error(no, `conntrack: line ${no}: ${quote(line.slice(ts, te), 30)} before the first src=; skipped`);
      return null;
    }
    if (phase < 3) {
      let tupleField = true;
      switch (k) {
        case K_DST:
          cur.dst = phase === 2 ? valueAt(line, vs, te, original.src, original.dst) : line.slice(vs, te);
          break;
        case K_SRCKEY:
          cur.srckey = line.slice(vs, te);
          break;
        case K_DSTKEY:
          cur.dstkey = line.slice(vs, te);
          break;
        case K_SPORT:
        case K_DPORT:
        case K_TYPE:
        case K_CODE:
        case K_ID:
        case K_PACKETS:
        case K_BYTES: {
          if (k === K_ID && (cur.id !== undefined || !isIcmp)) {
            tupleField = false;
            break;
          }
          const x = numAt(line, vs, te);
          if (Number.isNaN(x)) {
            diags.error(no, `conntrack: line ${no}: ${quote(line.slice(ts, te), 30)} is not a number; skipped`);
            return null;
          }
          if (k === K_SPORT) cur.sport = x;
          else if (k === K_DPORT) cur.dport = x;
          else if (k === K_TYPE) cur.type = x;
          else if (k === K_CODE) cur.code = x;
          else if (k === K_ID) cur.id = x;
          else if (k === K_PACKETS) cur.packets = x;
          else cur.bytes = x;
          break;
        }
        case K_ZONE_ORIG:
        case K_ZONE_REPLY: {
          const x = numAt(line, vs, te);
          if (!Number.isNaN(x)) (k === K_ZONE_ORIG ? original : reply).zone = x;
          break;
        }
        default:
          tupleField = false;
      }
      if (tupleField) continue;
      if (phase === 1) {
        diags.error(no, `conntrack: line ${no}: ${quote(line.slice(ts, te), 30)} inside the original tuple; skipped`);
        return null;
      }
      phase = 3;
    }
    switch (k) {
      case K_MARK:
      case K_SECMARK:
      case K_ZONE:
      case K_USE:
      case K_ID:
      case K_DELTA_TIME: {
        const x = numAt(line, vs, te);
        if (Number.isNaN(x)) {
          diags.warning(no, `conntrack: line ${no}: ${quote(line.slice(ts, te), 30)} is not a number; ignored`);
          break;
        }
        if (k === K_MARK) e.mark = x;
        else if (k === K_SECMARK) e.secmark = x;
        else if (k === K_ZONE) e.zone = x;
        else if (k === K_USE) e.use = x;
        else if (k === K_ID) e.id = x;
        else e.deltaTime = x;
        break;
      }
      case K_SECCTX:
        e.secctx = line.slice(vs, te);
        break;
      case K_HELPER:
        e.helper = line.slice(vs, te);
        break;
      case K_LABELS:
        e.labels = line.slice(vs, te);
        break;
      case K_ZONE_ORIG:
      case K_ZONE_REPLY: {
        const x = numAt(line, vs, te);
        if (!Number.isNaN(x)) (k === K_ZONE_ORIG ? original : reply).zone = x;
        break;
      }
      default:
        (extra ??= []).push(line.slice(ts, te));
    }
  }
  if (phase < 2) {
    diags.error(no, `conntrack: line ${no}: the entry has no reply tuple (truncated line?); skipped`);
    return null;
  }
  if (!original.dst || !reply.dst) {
    diags.error(no, `conntrack: line ${no}: a tuple has no dst= (truncated line?); skipped`);
    return null;
  }
  if (extra) {
    e.extra = extra;
    diags.warning(no, `conntrack: line ${no}: unknown field(s) ${extra.slice(0, 4).map((x) => quote(x, 20)).join(', ')} kept in extra`);
  }
  return e;
}

function l4Name(line: string, s: number, e: number, num: number): string {
  const known = L4_NAMES[num];
  if (known !== undefined && known.length === e - s && line.startsWith(known, s)) return known;
  return line.slice(s, e);
}

function bad(no: number, line: string, diags: Diagnostics): null {
  diags.error(no, `conntrack: line ${no}: expected "<protocol> <number>" at the start, got ${quote(line)}; skipped`, 1);
  return null;
}
