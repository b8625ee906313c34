// Predict comparators: the student's typed answer against the model's,
// tolerant of differences that do not matter (whitespace, trailing spaces,
// field order inside a conntrack tuple, timeouts and the client's ephemeral
// port, `proto`/`metric` in routes, quoting of iptables comments, 10 vs 11
// decimals of a probability, the trailing dot of an FQDN, case), and
// precise about the ones that do: each difference is a field of its own.

import { Cidr, canonicalIP, parseIP } from '../net';
import { parseResolvConf } from '../dns';
import type { FieldDiff, PredictFormat } from './types';

export interface Comparison {
  /** 0..1 */
  score: number;
  diffs: FieldDiff[];
  /** Notes on tolerated differences ("proto and metric are not compared"). */
  notes: string[];
}

export interface CompareOptions {
  ignore?: string[];
  tolerance?: number;
  options?: string[];
}

const ok = (notes: string[] = []): Comparison => ({ score: 1, diffs: [], notes });

function clean(s: string): string {
  return s.replace(/\r/g, '').replace(/[ \t]+$/gm, '').trim();
}

function lines(s: string): string[] {
  return clean(s)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function asText(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => String(x)).join('\n');
  if (v === undefined || v === null) return '';
  return String(v);
}

// ---------------------------------------------------------------------------
// Routes

export interface RouteFields {
  type: string;
  dst: string;
  via?: string;
  dev?: string;
  proto?: string;
  scope?: string;
  src?: string;
  metric?: string;
  onlink: boolean;
  /** The line looked like `ip route get` output (uid/cache words). */
  get: boolean;
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'anycast', 'nat']);

function normDst(d: string): string {
  if (d === 'default') return '0.0.0.0/0';
  if (d.includes('/')) {
    const c = Cidr.tryParse(d);
    return c ? `${canonicalIP(d.slice(0, d.indexOf('/')))}/${c.prefix}` : d;
  }
  const ip = parseIP(d);
  return ip ? `${canonicalIP(d)}/${ip.family === 4 ? 32 : 128}` : d;
}

export function parseRouteLine(line: string): RouteFields | null {
  const w = line.replace(/^\s*[$#]?\s*(ip\s+(-\S+\s+)*r(o(u(te)?)?)?\s+(show|get|add|replace|list)?\s*)/, '').trim().split(/\s+/).filter(Boolean);
  if (w.length === 0) return null;
  let i = 0;
  let type = 'unicast';
  if (ROUTE_TYPES.has(w[0])) type = w[i++];
  const dst = w[i++];
  if (!dst) return null;
  const r: RouteFields = { type, dst: normDst(dst), onlink: false, get: false };
  while (i < w.length) {
    const k = w[i++];
    switch (k) {
      case 'via':
        if (w[i] === 'inet' || w[i] === 'inet6') i++;
        r.via = w[i] && parseIP(w[i]) ? canonicalIP(w[i]) : w[i];
        i++;
        break;
      case 'dev':
        r.dev = w[i++];
        break;
      case 'proto':
        r.proto = w[i++];
        break;
      case 'scope':
        r.scope = w[i++];
        break;
      case 'src':
        r.src = w[i] && parseIP(w[i]) ? canonicalIP(w[i]) : w[i];
        i++;
        break;
      case 'metric':
        r.metric = w[i++];
        break;
      case 'onlink':
        r.onlink = true;
        break;
      case 'uid':
        r.get = true;
        i++;
        break;
      case 'cache':
        r.get = true;
        break;
      case 'table':
      case 'mtu':
      case 'pref':
      case 'expires':
        i++;
        break;
      default:
        break;
    }
  }
  return r;
}

function routeKey(r: RouteFields, ignore: Set<string>): string {
  const parts = [r.type === 'unicast' ? '' : r.type, r.dst];
  if (r.via && !ignore.has('via')) parts.push(`via ${r.via}`);
  if (r.dev && !ignore.has('dev')) parts.push(`dev ${r.dev}`);
  if (r.onlink && !ignore.has('onlink')) parts.push('onlink');
  if (!ignore.has('scope') && r.scope && r.scope !== 'global') parts.push(`scope ${r.scope}`);
  return parts.filter(Boolean).join(' ');
}

const ROUTE_DEFAULT_IGNORE = ['proto', 'metric', 'src', 'scope'];

/** One route: the student's line against the model's. A host address inside the expected prefix is accepted (ip route get form). */
export function compareRoute(got: string, expected: string, opts: CompareOptions = {}): Comparison {
  const ignore = new Set([...ROUTE_DEFAULT_IGNORE, ...(opts.ignore ?? [])]);
  const e = parseRouteLine(lines(expected)[0] ?? '');
  const gl = lines(got).filter((l) => !/^cache\b/.test(l));
  const g = parseRouteLine(gl[0] ?? '');
  if (!e) return { score: 0, diffs: [{ field: 'route', got: got.trim(), expected: expected.trim() }], notes: [] };
  if (!g) return { score: 0, diffs: [{ field: 'route', got: '(nothing)', expected: expected.trim() }], notes: [] };
  const diffs: FieldDiff[] = [];
  const notes: string[] = [`not compared: ${[...ignore].join(', ')} (they differ between kernels and installers)`];
  const fields: [string, string | undefined, string | undefined][] = [
    ['type', g.type, e.type],
    ['destination', g.dst, e.dst],
    ['gateway (via)', g.via, e.via],
    ['device (dev)', g.dev, e.dev],
    ['onlink flag', g.onlink ? 'onlink' : 'absent', e.onlink ? 'onlink' : 'absent'],
  ];
  if (!ignore.has('proto')) fields.push(['proto', g.proto ?? 'boot', e.proto ?? 'boot']);
  if (!ignore.has('scope')) fields.push(['scope', g.scope ?? 'global', e.scope ?? 'global']);
  if (!ignore.has('src')) fields.push(['src', g.src, e.src]);
  for (const [field, gv, ev] of fields) {
    if (field === 'destination' && gv !== ev) {
      const ec = Cidr.tryParse(ev ?? '');
      const gip = gv ? parseIP(gv.replace(/\/(32|128)$/, '')) : null;
      if (ec && gip && /\/(32|128)$/.test(gv ?? '') && ec.contains(gip)) {
        notes.push(`you gave the destination address (as ip route get prints it); the route that matches it is for ${ev}`);
        continue;
      }
    }
    const key = field.split(' ')[0];
    if (ignore.has(key)) continue;
    if ((gv ?? '') !== (ev ?? '')) diffs.push({ field, got: gv ?? '(none)', expected: ev ?? '(none)' });
  }
  const total = fields.length;
  return { score: diffs.length === 0 ? 1 : Math.max(0, (total - diffs.length) / total) * 0.5, diffs, notes };
}

/** A whole table: routes compared as a set. */
export function compareRoutes(got: string, expected: string, opts: CompareOptions = {}): Comparison {
  const ignore = new Set([...ROUTE_DEFAULT_IGNORE, ...(opts.ignore ?? [])]);
  const keys = (t: string) => new Set(lines(t).map(parseRouteLine).filter((r): r is RouteFields => !!r).map((r) => routeKey(r, ignore)));
  const g = keys(got);
  const e = keys(expected);
  const diffs: FieldDiff[] = [];
  for (const k of e) if (!g.has(k)) diffs.push({ field: 'missing route', got: '(absent)', expected: k });
  for (const k of g) if (!e.has(k)) diffs.push({ field: 'extra route', got: k, expected: '(absent)' });
  const union = new Set([...g, ...e]).size || 1;
  const inter = [...e].filter((k) => g.has(k)).length;
  return { score: diffs.length === 0 ? 1 : inter / union, diffs, notes: [`not compared: ${[...ignore].join(', ')}; order does not matter`] };
}

// ---------------------------------------------------------------------------
// conntrack

interface CtTuple {
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  type?: string;
  code?: string;
  id?: string;
}

export interface CtFields {
  proto?: string;
  state?: string;
  orig: CtTuple;
  reply: CtTuple;
  unreplied: boolean;
  assured: boolean;
}

const PROTO_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '132': 'sctp', '58': 'icmpv6' };
const CT_STATES = new Set(['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2', 'LISTEN']);

/** A lenient reading of one `conntrack -L` line: tuple keys in any order; a repeated key starts the reply tuple. */
export function parseConntrackLine(line: string): CtFields | null {
  const w = line.replace(/^\s*\[(NEW|UPDATE|DESTROY)\]\s*/, '').trim().split(/\s+/).filter(Boolean);
  if (!w.length) return null;
  const f: CtFields = { orig: {}, reply: {}, unreplied: false, assured: false };
  let cur: CtTuple = f.orig;
  let inReply = false;
  for (const tok of w) {
    const eq = tok.indexOf('=');
    if (eq > 0) {
      const k = tok.slice(0, eq);
      const v = tok.slice(eq + 1);
      if (!['src', 'dst', 'sport', 'dport', 'type', 'code', 'id'].includes(k)) continue;
      const key = k as keyof CtTuple;
      if (cur[key] !== undefined && !inReply) {
        cur = f.reply;
        inReply = true;
      }
      cur[key] = (key === 'src' || key === 'dst') && parseIP(v) ? canonicalIP(v) : v;
      continue;
    }
    const lower = tok.toLowerCase();
    if (tok === '[UNREPLIED]') f.unreplied = true;
    else if (tok === '[ASSURED]') f.assured = true;
    else if (CT_STATES.has(tok.toUpperCase()) && !/^\d+$/.test(tok)) f.state = tok.toUpperCase();
    else if (!f.proto && ['tcp', 'udp', 'icmp', 'sctp', 'icmpv6', 'dccp', 'udplite', 'gre'].includes(lower)) f.proto = lower;
    else if (!f.proto && PROTO_NAMES[tok] && Object.keys(f.orig).length === 0) f.proto = PROTO_NAMES[tok];
  }
  if (!f.orig.src && !f.orig.dst) return null;
  return f;
}

/**
 * One conntrack entry. Not compared: the timeout, mark/use/zone/id, the
 * [ASSURED]/[UNREPLIED] flags, and the client's ephemeral port (original
 * sport = reply dport) unless the check asks for it — but the two must agree.
 */
export function compareConntrack(got: string, expected: string, opts: CompareOptions = {}): Comparison {
  const ignore = new Set(opts.ignore ?? []);
  const strictPorts = (opts.ignore ?? []).includes('!sport');
  const e = parseConntrackLine(lines(expected)[0] ?? '');
  const g = parseConntrackLine(lines(got)[0] ?? '');
  if (!e) return { score: 0, diffs: [{ field: 'entry', got: got.trim(), expected: expected.trim() }], notes: [] };
  if (!g) return { score: 0, diffs: [{ field: 'entry', got: got.trim() || '(nothing)', expected: '(a conntrack -L line)' }], notes: [] };
  const diffs: FieldDiff[] = [];
  const notes = ['not compared: the timeout, mark, use, [ASSURED]/[UNREPLIED] and the order of key=value pairs'];
  const cmp = (field: string, gv: string | undefined, ev: string | undefined) => {
    if ((gv ?? '') !== (ev ?? '')) diffs.push({ field, got: gv ?? '(none)', expected: ev ?? '(none)' });
  };
  let n = 0;
  if (!ignore.has('proto')) {
    n++;
    cmp('protocol', g.proto, e.proto);
  }
  if (!ignore.has('state') && e.state) {
    n++;
    cmp('TCP state', g.state, e.state);
  }
  const ephemeral = !strictPorts && e.orig.sport !== undefined && e.orig.sport === e.reply.dport;
  for (const [side, gt, et] of [
    ['original tuple', g.orig, e.orig],
    ['reply tuple', g.reply, e.reply],
  ] as const) {
    for (const k of ['src', 'dst', 'sport', 'dport', 'type', 'code'] as const) {
      if (et[k] === undefined) continue;
      if (ignore.has(k) || ignore.has(`${side === 'original tuple' ? 'orig' : 'reply'}.${k}`)) continue;
      const isEphemeral = ephemeral && ((side === 'original tuple' && k === 'sport') || (side === 'reply tuple' && k === 'dport'));
      if (isEphemeral) continue;
      n++;
      cmp(`${side} ${k}`, gt[k], et[k]);
    }
  }
  if (ephemeral) {
    notes.push('the client\'s ephemeral port may be any value, but the original sport and the reply dport must be the same port');
    n++;
    if (g.orig.sport === undefined || g.orig.sport !== g.reply.dport) diffs.push({ field: 'ephemeral port (original sport = reply dport)', got: `${g.orig.sport ?? '(none)'} / ${g.reply.dport ?? '(none)'}`, expected: 'the same port twice' });
  }
  return { score: diffs.length === 0 ? 1 : Math.max(0, (n - diffs.length) / Math.max(1, n)) * 0.5, diffs, notes };
}

// ---------------------------------------------------------------------------
// DNS query sequences

interface Query {
  qtype?: string;
  name: string;
}

function parseQueries(t: string): Query[] {
  const out: Query[] = [];
  for (const l of lines(t)) {
    if (l.startsWith('=>')) continue;
    const w = l.split(/[\s,]+/).filter(Boolean);
    let qtype: string | undefined;
    let name: string | undefined;
    for (const x of w) {
      const u = x.replace(/\?$/, '').toUpperCase();
      if (!qtype && (u === 'A' || u === 'AAAA')) qtype = u;
      else if (!name && /[a-z0-9]/i.test(x) && !/^(NXDOMAIN|NOERROR|SERVFAIL)$/i.test(x)) name = x;
    }
    if (name) out.push({ qtype, name: name.toLowerCase().replace(/\.$/, '') });
  }
  return out;
}

/**
 * The names (and optionally types) glibc sends, in order. Trailing dots and
 * case do not matter. Without types, each A/AAAA pair of the model counts as one name.
 */
export function compareDnsQueries(got: string, expected: string): Comparison {
  const g = parseQueries(got);
  let e = parseQueries(expected);
  const withTypes = g.length > 0 && g.every((q) => q.qtype);
  const notes = ['trailing dots and case are not compared'];
  if (!withTypes) {
    const names: Query[] = [];
    for (const q of e) if (!names.length || names[names.length - 1].name !== q.name) names.push({ name: q.name });
    e = names;
    notes.push('you listed names only: each name stands for its A and AAAA queries');
  }
  const diffs: FieldDiff[] = [];
  const n = Math.max(g.length, e.length);
  let right = 0;
  for (let i = 0; i < n; i++) {
    const gq = g[i];
    const eq = e[i];
    const show = (q?: Query) => (q ? `${q.qtype ? `${q.qtype}? ` : ''}${q.name}.` : '(nothing)');
    if (gq && eq && gq.name === eq.name && (!withTypes || gq.qtype === eq.qtype)) right++;
    else diffs.push({ field: `query ${i + 1}`, got: show(gq), expected: show(eq) });
  }
  return { score: diffs.length === 0 ? 1 : right / Math.max(1, n), diffs, notes };
}

// ---------------------------------------------------------------------------
// Chain sequences and iptables rules

function parseChains(t: string): string[] {
  return asText(t)
    .split(/\s*(?:->|→|=>|>|,|\n|\s)\s*/)
    .map((x) => x.trim().replace(/^(raw|mangle|nat|filter|security)[:/.]/i, ''))
    .filter(Boolean)
    .map((x) => x.toUpperCase());
}

/** An ordered list of chains (`PREROUTING -> KUBE-SERVICES -> KUBE-SVC-…`); `nat:` prefixes and case are ignored. */
export function compareChains(got: string, expected: string): Comparison {
  const g = parseChains(got);
  const e = parseChains(expected);
  const diffs: FieldDiff[] = [];
  const n = Math.max(g.length, e.length);
  let right = 0;
  for (let i = 0; i < n; i++) {
    if (g[i] === e[i]) right++;
    else diffs.push({ field: `chain ${i + 1}`, got: g[i] ?? '(nothing)', expected: e[i] ?? '(nothing)' });
  }
  return { score: diffs.length === 0 ? 1 : right / Math.max(1, n), diffs, notes: ['table prefixes (nat:) and case are not compared'] };
}

/** Shell-like words: double and single quotes group, backslash escapes in double quotes. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      has = true;
      i++;
      while (i < s.length && s[i] !== c) {
        if (c === '"' && s[i] === '\\' && i + 1 < s.length) i++;
        cur += s[i++];
      }
      continue;
    }
    if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += c;
  }
  if (has || cur) out.push(cur);
  return out;
}

interface RuleFields {
  chain?: string;
  opts: Map<string, string>;
  modules: Set<string>;
}

function parseRule(line: string): RuleFields {
  const w = shellWords(line.trim().replace(/^iptables(-save|-restore)?\s+(-t\s+\S+\s+)?/, ''));
  const r: RuleFields = { opts: new Map(), modules: new Set() };
  for (let i = 0; i < w.length; i++) {
    const k = w[i];
    if (k === '-A' || k === '-I' || k === '--append') {
      r.chain = w[++i];
      continue;
    }
    if (k === '-m' || k === '--match') {
      r.modules.add(w[++i]);
      continue;
    }
    let neg = false;
    let key = k;
    if (k === '!') {
      neg = true;
      key = w[++i];
    }
    if (!key?.startsWith('-')) continue;
    const long: Record<string, string> = { '-s': '--source', '-d': '--destination', '-p': '--protocol', '-j': '--jump', '-i': '--in-interface', '-o': '--out-interface', '-g': '--goto' };
    key = long[key] ?? key;
    const next = w[i + 1];
    let val = next !== undefined && !next.startsWith('-') ? w[++i] : '';
    if (next === '!' && w[i + 2] !== undefined) {
      neg = !neg;
      i++;
      val = w[++i];
    }
    if (key === '--source' || key === '--destination') {
      const ip = val.replace(/\/(32|128)$/, '');
      if (parseIP(ip)) val = canonicalIP(ip);
    }
    if (key === '--probability') {
      const n = Number(val);
      if (!Number.isNaN(n)) val = n.toFixed(9);
    }
    if (key === '--protocol') val = val.toLowerCase();
    r.opts.set(`${neg ? '! ' : ''}${key}`, val);
  }
  return r;
}

/**
 * One iptables rule. Compared: the chain, every option and its value, the
 * set of match modules. Not compared: option order, quoting of comments,
 * `/32` on host addresses, 10 or 11 decimals of a probability.
 */
export function compareIptablesRule(got: string, expected: string): Comparison {
  const g = parseRule(lines(got)[0] ?? '');
  const e = parseRule(lines(expected)[0] ?? '');
  const diffs: FieldDiff[] = [];
  let n = 0;
  if (e.chain) {
    n++;
    if (g.chain !== e.chain) diffs.push({ field: 'chain (-A)', got: g.chain ?? '(none)', expected: e.chain });
  }
  const keys = new Set([...e.opts.keys(), ...g.opts.keys()]);
  for (const k of keys) {
    n++;
    const gv = g.opts.get(k);
    const ev = e.opts.get(k);
    if (gv !== ev) diffs.push({ field: k, got: gv === undefined ? '(absent)' : gv || '(set)', expected: ev === undefined ? '(absent)' : ev || '(set)' });
  }
  const mods = (s: Set<string>) => [...s].sort().join(',');
  n++;
  if (mods(g.modules) !== mods(e.modules)) diffs.push({ field: 'match modules (-m)', got: mods(g.modules) || '(none)', expected: mods(e.modules) || '(none)' });
  return { score: diffs.length === 0 ? 1 : Math.max(0, (n - diffs.length) / Math.max(1, n)) * 0.5, diffs, notes: ['not compared: option order, comment quoting, /32 on host addresses, probability decimals'] };
}

// ---------------------------------------------------------------------------
// resolv.conf

export function compareResolvConf(got: string, expected: string): Comparison {
  const g = parseResolvConf(asText(got));
  const e = parseResolvConf(asText(expected));
  const diffs: FieldDiff[] = [];
  const norm = (xs: string[]) => xs.map((x) => x.toLowerCase().replace(/\.$/, '')).join(' ');
  if (norm(g.nameservers) !== norm(e.nameservers)) diffs.push({ field: 'nameserver', got: g.nameservers.join(' ') || '(none)', expected: e.nameservers.join(' ') });
  if (norm(g.search) !== norm(e.search)) diffs.push({ field: 'search', got: g.search.join(' ') || '(none)', expected: e.search.join(' ') });
  if (g.ndots !== e.ndots) diffs.push({ field: 'options ndots', got: String(g.ndots), expected: String(e.ndots) });
  if ([...g.options].sort().join(' ') !== [...e.options].sort().join(' ')) diffs.push({ field: 'options', got: g.options.join(' ') || '(none)', expected: e.options.join(' ') || '(none)' });
  return { score: diffs.length === 0 ? 1 : (4 - diffs.length) / 4 / 2, diffs, notes: ['the order of lines and of options does not matter'] };
}

// ---------------------------------------------------------------------------
// Single values

function numberOf(s: string): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:[a-z%/ ]*)$/i.exec(s.replace(/,/g, ''));
  return m ? Number(m[1]) : null;
}

function normText(s: string): string {
  return s.trim().replace(/\s+/g, ' ').replace(/\.$/, '').toLowerCase();
}

function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => normText(String(x)));
  return asText(v)
    .split(/[\n,]+/)
    .map(normText)
    .filter(Boolean);
}

export function compareValue(format: PredictFormat, gotV: unknown, expV: unknown, opts: CompareOptions = {}): Comparison {
  const got = asText(gotV);
  const exp = asText(expV);
  const one = (field: string, good: boolean, g: string, e: string, notes: string[] = []): Comparison => (good ? ok(notes) : { score: 0, diffs: [{ field, got: g.trim() || '(nothing)', expected: e }], notes });
  switch (format) {
    case 'route':
      return compareRoute(got, exp, opts);
    case 'routes':
      return compareRoutes(got, exp, opts);
    case 'conntrack':
      return compareConntrack(got, exp, opts);
    case 'dns-queries':
      return compareDnsQueries(got, exp);
    case 'chains':
      return compareChains(got, exp);
    case 'iptables-rule':
      return compareIptablesRule(got, exp);
    case 'resolv-conf':
      return compareResolvConf(got, exp);
    case 'cidr': {
      const n = (s: string) => {
        const t = s.trim();
        const c = Cidr.tryParse(t);
        return c ? `${canonicalIP(t.slice(0, t.indexOf('/')))}/${c.prefix}` : t.toLowerCase();
      };
      return one('CIDR', n(got) === n(exp), got, exp);
    }
    case 'ip': {
      const n = (s: string) => (parseIP(s.trim()) ? canonicalIP(s.trim()) : s.trim().toLowerCase());
      return one('address', n(got) === n(exp), got, exp);
    }
    case 'number':
    case 'integer': {
      const g = numberOf(got);
      const e = numberOf(exp);
      if (e === null) return { score: 0, diffs: [{ field: 'value', got, expected: exp }], notes: ['the expected value is not a number (lab error)'] };
      if (g === null) return { score: 0, diffs: [{ field: 'value', got: got.trim() || '(nothing)', expected: String(e) }], notes: ['write a number'] };
      const tol = format === 'integer' ? 0 : (opts.tolerance ?? 1e-9);
      const good = format === 'integer' ? Number.isInteger(g) && g === e : Math.abs(g - e) <= tol + 1e-9 * Math.abs(e);
      return one('value', good, String(g), String(e), format === 'number' ? ['the number of decimals does not matter'] : []);
    }
    case 'text':
      return one('answer', normText(got) === normText(exp), got, exp, ['case, spacing and a final dot do not matter']);
    case 'choice': {
      const options = opts.options ?? [];
      const YES: Record<string, string> = { yes: 'true', no: 'false', y: 'true', n: 'false' };
      const yn = (x: string) => YES[normText(x)] ?? normText(x);
      if (['true', 'false'].includes(yn(exp)) && ['true', 'false'].includes(yn(got))) return one('choice', yn(got) === yn(exp), got, exp);
      const g = normText(got);
      let pick = options.findIndex((o) => normText(o) === g);
      if (pick < 0 && /^[a-z]$/.test(g)) pick = g.charCodeAt(0) - 97;
      if (pick < 0 && /^\d+$/.test(g)) pick = Number(g) - 1;
      const chosen = pick >= 0 && pick < options.length ? options[pick] : got;
      return one('choice', normText(chosen) === normText(exp), chosen, exp);
    }
    case 'list': {
      const g = listOf(gotV);
      const e = listOf(expV);
      const diffs: FieldDiff[] = [];
      const n = Math.max(g.length, e.length);
      let right = 0;
      const same = (x: string | undefined, y: string | undefined): boolean => {
        if (x === undefined || y === undefined) return false;
        if (x === y) return true;
        const a = numberOf(x);
        const b = numberOf(y);
        return a !== null && b !== null && /^-?[\d.]+$/.test(x) && /^-?[\d.]+$/.test(y) && Math.abs(a - b) <= (opts.tolerance ?? 1e-9) + 1e-9 * Math.abs(b);
      };
      for (let i = 0; i < n; i++) {
        if (same(g[i], e[i])) right++;
        else diffs.push({ field: `item ${i + 1}`, got: g[i] ?? '(nothing)', expected: e[i] ?? '(nothing)' });
      }
      return { score: diffs.length ? right / Math.max(1, n) : 1, diffs, notes: ['order matters; case, spacing and the number of decimals do not'] };
    }
    case 'set': {
      const g = new Set(listOf(gotV));
      const e = new Set(listOf(expV));
      const diffs: FieldDiff[] = [];
      for (const x of e) if (!g.has(x)) diffs.push({ field: 'missing', got: '(absent)', expected: x });
      for (const x of g) if (!e.has(x)) diffs.push({ field: 'not expected', got: x, expected: '(absent)' });
      const union = new Set([...g, ...e]).size || 1;
      return { score: diffs.length ? [...e].filter((x) => g.has(x)).length / union : 1, diffs, notes: ['order does not matter'] };
    }
  }
}
