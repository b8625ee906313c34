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

import { Diagnostics, type ParseOptions, type ParseResult, quote, splitLines } from './common';

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
  l4: { name: string; num: number };
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

const TUPLE_NUM_KEYS = new Set(['sport', 'dport', 'type', 'code', 'id', 'packets', 'bytes']);

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
  const lines = splitLines(text, diags, 'conntrack', opts);
  const records: ConntrackEntry[] = [];
  let summary: ConntrackSummary | undefined;
  if (!lines) return { records, diagnostics: diags.finish() };
  for (let li = 0; li < lines.length; li++) {
    const { no, text: line } = lines[li];
    if (line.length === 0) continue;
    if (line.charCodeAt(0) === 99 /* c */ && line.startsWith('conntrack v')) {
      const s = parseSummary(line, no);
      if (s) {
        summary = s;
        continue;
      }
    }
    const e = parseEntry(line, no, diags);
    if (e) records.push(e);
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

function parseEntry(line: string, no: number, diags: Diagnostics): ConntrackEntry | null {
  const w = line.split(' ');
  let i = 0;
  const n = w.length;
  const next = (): string | undefined => {
    while (i < n && w[i] === '') i++;
    return i < n ? w[i++] : undefined;
  };
  let tok = next();
  if (tok === undefined) return null;
  let event: string | undefined;
  if (tok.charCodeAt(0) === 91 /* [ */ && tok.endsWith(']') && tok !== '[UNREPLIED]') {
    event = tok.slice(1, -1);
    tok = next();
  }
  let name = tok;
  let pnum = num(next() ?? '');
  if (name === undefined || Number.isNaN(pnum)) {
    diags.error(no, `conntrack: line ${no}: expected "<protocol> <number>" at the start, got ${quote(line)}; skipped`, 1);
    return null;
  }
  let l3: { name: string; num: number } | undefined;
  if (name === 'ipv4' || name === 'ipv6') {
    l3 = { name, num: pnum };
    name = next();
    pnum = num(next() ?? '');
    if (name === undefined || Number.isNaN(pnum)) {
      diags.error(no, `conntrack: line ${no}: expected the layer-4 protocol after ${l3.name}; skipped`);
      return null;
    }
  }
  const e: ConntrackEntry = {
    line: no,
    l4: { name, num: pnum },
    original: { src: '', dst: '' },
    reply: { src: '', dst: '' },
    unreplied: false,
    assured: false,
    offload: false,
  };
  if (event !== undefined) e.event = event;
  if (l3) e.l3 = l3;
  // optional timeout and state, before the first key=value
  tok = next();
  if (tok !== undefined && tok.indexOf('=') < 0 && tok.charCodeAt(0) !== 91) {
    const t = num(tok);
    if (!Number.isNaN(t)) {
      e.timeout = t;
      tok = next();
    }
  }
  if (tok !== undefined && tok.indexOf('=') < 0 && tok.charCodeAt(0) !== 91) {
    e.state = tok;
    tok = next();
  }
  const isIcmp = name === 'icmp' || name === 'icmpv6';
  // tuples: 0 = before any src, 1 = original, 2 = reply, 3 = after reply (meta)
  let phase = 0;
  let cur: ConntrackTuple = e.original;
  let extra: string[] | undefined;
  for (; tok !== undefined; tok = next()) {
    if (tok.charCodeAt(0) === 91 /* [ */) {
      let t = tok;
      // bracketed values can contain spaces: [start=Mon Nov 24 05:35:40 2026]
      while (!t.endsWith(']') && i < n) t += ' ' + w[i++];
      if (t === '[UNREPLIED]') e.unreplied = true;
      else if (t === '[ASSURED]') e.assured = true;
      else if (t === '[OFFLOAD]' || t === '[HW_OFFLOAD]') e.offload = true;
      else if (t.startsWith('[start=')) e.start = t.slice(7, -1);
      else if (t.startsWith('[stop=')) e.stop = t.slice(6, -1);
      else (extra ??= []).push(t);
      continue;
    }
    const eq = tok.indexOf('=');
    if (eq <= 0) {
      (extra ??= []).push(tok);
      continue;
    }
    const k = tok.slice(0, eq);
    const v = tok.slice(eq + 1);
    if (k === 'src') {
      if (phase === 0) phase = 1;
      else if (phase === 1) {
        phase = 2;
        cur = e.reply;
      } else {
        diags.error(no, `conntrack: line ${no}: a third src= (two entries run together?); skipped`);
        return null;
      }
      cur.src = v;
      continue;
    }
    if (phase === 0) {
      diags.error(no, `conntrack: line ${no}: ${quote(tok, 30)} before the first src=; skipped`);
      return null;
    }
    if (phase < 3) {
      if (k === 'dst') {
        cur.dst = v;
        continue;
      }
      if (TUPLE_NUM_KEYS.has(k) && !(k === 'id' && (cur.id !== undefined || !isIcmp))) {
        const x = num(v);
        if (Number.isNaN(x)) {
          diags.error(no, `conntrack: line ${no}: ${k}=${quote(v, 20)} is not a number; skipped`);
          return null;
        }
        (cur as unknown as Record<string, number>)[k] = x;
        continue;
      }
      if (k === 'srckey' || k === 'dstkey') {
        cur[k] = v;
        continue;
      }
      if (k === 'zone-orig' || k === 'zone-reply') {
        const x = num(v);
        if (!Number.isNaN(x)) (k === 'zone-orig' ? e.original : e.reply).zone = x;
        continue;
      }
      if (phase === 1) {
        diags.error(no, `conntrack: line ${no}: ${quote(tok, 30)} inside the original tuple; skipped`);
        return null;
      }
      phase = 3;
    }
    switch (k) {
      case 'mark':
      case 'secmark':
      case 'zone':
      case 'use':
      case 'id': {
        const x = num(v);
        if (Number.isNaN(x)) diags.warning(no, `conntrack: line ${no}: ${k}=${quote(v, 20)} is not a number; ignored`);
        else e[k] = x;
        break;
      }
      case 'delta-time': {
        const x = num(v);
        if (!Number.isNaN(x)) e.deltaTime = x;
        break;
      }
      case 'secctx':
        e.secctx = v;
        break;
      case 'helper':
        e.helper = v;
        break;
      case 'labels':
        e.labels = v;
        break;
      case 'zone-orig':
      case 'zone-reply': {
        const x = num(v);
        if (!Number.isNaN(x)) (k === 'zone-orig' ? e.original : e.reply).zone = x;
        break;
      }
      default:
        (extra ??= []).push(tok);
    }
  }
  if (phase < 2) {
    diags.error(no, `conntrack: line ${no}: the entry has no reply tuple (truncated line?); skipped`);
    return null;
  }
  if (!e.original.dst || !e.reply.dst) {
    diags.error(no, `conntrack: line ${no}: a tuple has no dst= (truncated line?); skipped`);
    return null;
  }
  if (extra) {
    e.extra = extra;
    diags.warning(no, `conntrack: line ${no}: unknown field(s) ${extra.slice(0, 4).map((x) => quote(x, 20)).join(', ')} kept in extra`);
  }
  return e;
}
