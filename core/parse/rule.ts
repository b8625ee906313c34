// `ip rule show` / `ip -6 rule show` (text) and `ip -j rule show` (JSON) ->
// one record shape. Token order and JSON keys follow iproute2 ip/iprule.c
// print_rule(), checked against iproute2 6.1 on this machine in a scratch
// network namespace:
//
//   PRIO:\t[not] from all|PREFIX [to PREFIX] [tos T] [fwmark M[/MASK]]
//          [iif DEV [detached]] [oif DEV [detached]] [uidrange A-B]
//          [ipproto P] [sport P|A-B] [dport P|A-B] [tun_id N]
//          [lookup TABLE|[l3mdev-table] [suppress_prefixlength N] [suppress_ifgroup G]]
//          [realms [FROM/]TO] [goto N [unresolved] | nop | blackhole | unreachable | prohibit]
//          [proto P]
//
// A host prefix prints without its length; `fwmark` prints without a mask
// when the mask is 0xffffffff (mark 0 prints as `0`); `proto` is printed
// only when it is neither unspec nor kernel (or with -d). The JSON keys are
// priority, not (null), src ("all" or an address), srclen, dst, dstlen, tos,
// fwmark, fwmask, iif, iif_detached, oif, oif_detached, l3mdev, uid_start,
// uid_end, ipproto, sport / sport_start+sport_end, dport / dport_start+
// dport_end, tun_id, table, suppress_prefixlen, suppress_ifgroup, flow_from,
// flow_to, goto, unresolved, nop, action, protocol.
//
// Records keep every selector, including the ones the model's RoutingRule
// cannot express (core/compare/rules.ts reports those): nothing is dropped.

import { Cidr, parseIP } from '../net';
import { Diagnostics, type JsonValue, type ParseOptions, type ParseResult, finish, jsonArrayOfObjects, JsonFields, quote, splitLines, uint } from './common';

/** What a rule does when it matches (FR_ACT_* / RTN_* as `ip rule` names them). */
export type RuleAction = 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit' | 'nat';

export interface PortRange {
  start: number;
  end: number;
}

export interface RuleRecord {
  /** 1-based line in the input (JSON: the line the object starts on). */
  line: number;
  /** The rule's family: from its prefixes, else the family the caller says was listed (`ip -6 rule`), else 4. */
  family: 4 | 6;
  priority: number;
  /** FIB_RULE_INVERT. */
  not: boolean;
  /** Canonical CIDR; absent: `from all`. */
  from?: string;
  /** Canonical CIDR; absent: any destination. */
  to?: string;
  /** `tos` / `dsfield` as printed (`0x10`). */
  tos?: string;
  fwmark?: number;
  /** Absent when printed without a mask (0xffffffff). */
  fwmask?: number;
  iif?: string;
  /** `[detached]`: no device of that name exists on the node now. */
  iifDetached?: boolean;
  oif?: string;
  oifDetached?: boolean;
  /** FRA_L3MDEV: look up the VRF device's table (`lookup [l3mdev-table]`). */
  l3mdev?: boolean;
  uidrange?: PortRange;
  /** IP protocol, as printed (`tcp`, `udp`, or a number). */
  ipproto?: string;
  sport?: PortRange;
  dport?: PortRange;
  tunId?: number;
  action: RuleAction;
  /** `lookup` table as printed: `local`, `main`, `default`, a number, or a name from the node's rt_tables. */
  table?: string;
  /** `goto` target priority. */
  goto?: number;
  /** `goto` to a priority that has no rule (`[unresolved]`). */
  unresolved?: boolean;
  suppressPrefixlength?: number;
  suppressIfgroup?: string;
  /** `realms [FROM/]TO` as printed. */
  realms?: string;
  /** `proto X` when printed (text: not for unspec or kernel unless -d). */
  protocol?: string;
  /** Tokens (text) or `key=value` pairs (JSON) this parser does not know, in order. */
  extra?: string[];
}

export interface RuleParseOptions extends ParseOptions {
  /** The family that was listed (`ip -6 rule` → 6). Rules with prefixes tell their own family. Default 4. */
  family?: 4 | 6;
}

const ACTION_WORDS: ReadonlySet<string> = new Set(['nop', 'blackhole', 'unreachable', 'prohibit']);

interface Tok {
  t: string;
  col: number;
}

function tokensWithColumns(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const st = i;
    while (i < n && s.charCodeAt(i) !== 32 && s.charCodeAt(i) !== 9) i++;
    out.push({ t: s.slice(st, i), col: st + 1 });
  }
  return out;
}

/** `0x200`, `0` or a decimal number as a 32-bit unsigned value, or null. */
export function parseMark(s: string): number | null {
  let v: number;
  if (/^0x[0-9a-fA-F]{1,8}$/.test(s)) v = parseInt(s.slice(2), 16);
  else {
    const d = uint(s);
    if (d === null) return null;
    v = d;
  }
  return v >= 0 && v <= 0xffffffff ? v >>> 0 : null;
}

/** `fwmark` value `M` or `M/MASK`. */
function parseFwmark(s: string): { mark: number; mask?: number } | null {
  const slash = s.indexOf('/');
  const mark = parseMark(slash < 0 ? s : s.slice(0, slash));
  if (mark === null) return null;
  if (slash < 0) return { mark };
  const mask = parseMark(s.slice(slash + 1));
  if (mask === null) return null;
  return mask === 0xffffffff ? { mark } : { mark, mask };
}

/** A prefix as `ip rule` prints it (`10.0.0.0/8`, a bare host) → canonical CIDR, or null. */
function rulePrefix(s: string): Cidr | null {
  if (s.includes('/')) return Cidr.tryParse(s);
  const ip = parseIP(s);
  return ip ? Cidr.host(ip) : null;
}

/** `A-B` or `N` → a range, or null. */
function parseRange(s: string): PortRange | null {
  const dash = s.indexOf('-');
  const a = uint(dash < 0 ? s : s.slice(0, dash));
  const b = dash < 0 ? a : uint(s.slice(dash + 1));
  if (a === null || b === null || a > b || b > 0xffffffff) return null;
  return { start: a, end: b };
}

function setFamily(rec: { family?: 4 | 6 }, c: Cidr, seen: { family?: 4 | 6 }): string | null {
  if (seen.family !== undefined && seen.family !== c.family) return `mixes IPv${seen.family} and IPv${c.family} prefixes`;
  seen.family = c.family;
  rec.family = c.family;
  return null;
}

/** Parses one rule line's tokens. Returns null (with an error naming the column) when the line is not a rule. */
function parseRuleLine(line: string, no: number, diags: Diagnostics, family: 4 | 6): RuleRecord | null {
  const toks = tokensWithColumns(line);
  const where = `ip rule: line ${no}`;
  const head = toks[0];
  if (!head.t.endsWith(':')) {
    diags.error(no, `${where}, column ${head.col}: expected "PRIORITY:" at the start of the line, got ${quote(head.t, 20)}; line skipped`, head.col);
    return null;
  }
  const priority = uint(head.t.slice(0, -1));
  if (priority === null || priority > 0xffffffff) {
    diags.error(no, `${where}, column ${head.col}: ${quote(head.t, 20)} is not a rule priority (0-4294967295 followed by a colon); line skipped`, head.col);
    return null;
  }
  const rec: RuleRecord = { line: no, family, priority, not: false, action: 'lookup' };
  const seen: { family?: 4 | 6 } = {};
  let sawAction = false;
  const extra: string[] = [];
  let i = 1;
  const fail = (tok: Tok, msg: string): null => {
    diags.error(no, `${where}, column ${tok.col}: ${msg}; line skipped`, tok.col);
    return null;
  };
  while (i < toks.length) {
    const tok = toks[i];
    const k = tok.t;
    const valTok = toks[i + 1];
    const need = (): Tok | null => {
      if (!valTok) return null;
      i += 2;
      return valTok;
    };
    switch (k) {
      case 'not':
        rec.not = true;
        i++;
        break;
      case 'from':
      case 'to': {
        const v = need();
        if (!v) return fail(tok, `"${k}" without a prefix (truncated line?)`);
        if (v.t === 'all') {
          if (k === 'to') return fail(v, '"to all" is not printed by ip rule');
          break;
        }
        const c = rulePrefix(v.t);
        if (!c) return fail(v, `${quote(v.t, 50)} is not ${k === 'from' ? 'a source' : 'a destination'} (expected all, an address or ADDRESS/PREFIX)`);
        const mix = setFamily(rec, c, seen);
        if (mix) return fail(v, `the rule ${mix}`);
        if (c.prefix > 0) rec[k] = c.text;
        break;
      }
      case 'tos':
      case 'dsfield': {
        const v = need();
        if (!v) return fail(tok, `"${k}" without a value`);
        rec.tos = v.t;
        break;
      }
      case 'fwmark': {
        const v = need();
        if (!v) return fail(tok, '"fwmark" without a value');
        const m = parseFwmark(v.t);
        if (!m) return fail(v, `${quote(v.t, 30)} is not a mark (expected 0xMARK or 0xMARK/0xMASK, 32-bit)`);
        rec.fwmark = m.mark;
        if (m.mask !== undefined) rec.fwmask = m.mask;
        break;
      }
      case 'iif':
      case 'oif': {
        const v = need();
        if (!v) return fail(tok, `"${k}" without a device name`);
        rec[k] = v.t;
        if (toks[i]?.t === '[detached]') {
          rec[k === 'iif' ? 'iifDetached' : 'oifDetached'] = true;
          i++;
        }
        break;
      }
      case 'uidrange': {
        const v = need();
        const r = v ? parseRange(v.t) : null;
        if (!v || !r) return fail(v ?? tok, `uidrange ${v ? quote(v.t, 30) : 'without a value'}: expected START-END`);
        rec.uidrange = r;
        break;
      }
      case 'ipproto': {
        const v = need();
        if (!v) return fail(tok, '"ipproto" without a protocol');
        rec.ipproto = v.t;
        break;
      }
      case 'sport':
      case 'dport': {
        const v = need();
        const r = v ? parseRange(v.t) : null;
        if (!v || !r || r.end > 65535) return fail(v ?? tok, `${k} ${v ? quote(v.t, 30) : 'without a value'}: expected a port or START-END (0-65535)`);
        rec[k] = r;
        break;
      }
      case 'tun_id': {
        const v = need();
        const n = v ? uint(v.t) : null;
        if (!v || n === null) return fail(v ?? tok, '"tun_id" needs a number');
        rec.tunId = n;
        break;
      }
      case 'lookup':
      case 'table': {
        const v = need();
        if (!v) return fail(tok, `"${k}" without a table`);
        sawAction = true;
        rec.action = 'lookup';
        if (v.t === '[l3mdev-table]') rec.l3mdev = true;
        else rec.table = v.t;
        break;
      }
      case 'suppress_prefixlength': {
        const v = need();
        const n = v ? uint(v.t) : null;
        if (!v || n === null) return fail(v ?? tok, '"suppress_prefixlength" needs a number');
        rec.suppressPrefixlength = n;
        break;
      }
      case 'suppress_ifgroup': {
        const v = need();
        if (!v) return fail(tok, '"suppress_ifgroup" without a group');
        rec.suppressIfgroup = v.t;
        break;
      }
      case 'realms': {
        const v = need();
        if (!v) return fail(tok, '"realms" without a value');
        rec.realms = v.t;
        break;
      }
      case 'goto': {
        const v = need();
        const n = v ? uint(v.t) : null;
        if (!v || n === null) return fail(v ?? tok, '"goto" needs a rule priority');
        sawAction = true;
        rec.action = 'goto';
        rec.goto = n;
        if (toks[i]?.t === '[unresolved]') {
          rec.unresolved = true;
          i++;
        }
        break;
      }
      case 'map-to':
      case 'masquerade':
        // RTN_NAT rules (removed from the kernel in 2.6.x; iproute2 still prints them)
        sawAction = true;
        rec.action = 'nat';
        extra.push(k);
        i += k === 'map-to' && valTok ? 2 : 1;
        if (k === 'map-to' && valTok) extra.push(valTok.t);
        break;
      case 'proto':
      case 'protocol': {
        const v = need();
        if (!v) return fail(tok, `"${k}" without a value`);
        rec.protocol = v.t;
        break;
      }
      default:
        if (ACTION_WORDS.has(k)) {
          sawAction = true;
          rec.action = k as RuleAction;
          i++;
        } else {
          extra.push(k);
          i++;
        }
    }
  }
  if (!sawAction) {
    diags.warning(no, `${where}: rule ${priority} names no action (lookup, goto, nop, blackhole, unreachable, prohibit); read as "lookup" without a table`);
  }
  if (extra.length) {
    rec.extra = extra;
    diags.warning(no, `${where}: unknown token(s) ${extra.slice(0, 5).map((x) => quote(x, 20)).join(', ')} kept in extra`);
  }
  return rec;
}

/**
 * Parses `ip rule show` / `ip -6 rule show` text. Pass `family: 6` for
 * `ip -6 rule` output: `from all` rules do not say their family.
 */
export function parseIpRule(text: unknown, opts: RuleParseOptions = {}): ParseResult<RuleRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'ip rule', opts);
  const records: RuleRecord[] = [];
  if (!lines) return finish(records, diags);
  for (const { no, text: line } of lines) {
    if (line.trim() === '') continue;
    const r = parseRuleLine(line, no, diags, opts.family ?? 4);
    if (r) records.push(r);
  }
  return finish(records, diags);
}

const JSON_KNOWN: ReadonlySet<string> = new Set([
  'priority', 'not', 'src', 'srclen', 'dst', 'dstlen', 'tos', 'fwmark', 'fwmask', 'iif', 'iif_detached', 'oif', 'oif_detached',
  'l3mdev', 'uid_start', 'uid_end', 'ipproto', 'sport', 'sport_start', 'sport_end', 'dport', 'dport_start', 'dport_end', 'tun_id',
  'table', 'suppress_prefixlen', 'suppress_ifgroup', 'flow_from', 'flow_to', 'goto', 'unresolved', 'nop', 'action', 'protocol',
]);

function jsonScalar(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Parses `ip -j rule show` / `ip -6 -j rule show` (also pretty-printed with -p). */
export function parseIpRuleJson(text: unknown, opts: RuleParseOptions = {}): ParseResult<RuleRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const records: RuleRecord[] = [];
  for (const { obj, line, index } of jsonArrayOfObjects(text, diags, 'ip -j rule', opts)) {
    const where = `ip -j rule[${index}]`;
    const f = new JsonFields(obj, diags, where, line);
    if (f.checkKeys()) continue;
    const priority = f.num('priority');
    if (priority === undefined || !Number.isInteger(priority) || priority < 0 || priority > 0xffffffff) {
      diags.error(line, `${where}: missing or invalid "priority"; skipped`);
      continue;
    }
    const rec: RuleRecord = { line, family: opts.family ?? 4, priority, not: f.has('not'), action: 'lookup' };
    const seen: { family?: 4 | 6 } = {};
    let bad = false;
    for (const k of ['src', 'dst'] as const) {
      const addr = f.str(k);
      if (addr === undefined || (k === 'src' && addr === 'all')) continue;
      const len = f.num(`${k}len`);
      const c = rulePrefix(len === undefined ? addr : `${addr}/${len}`);
      if (!c) {
        diags.error(line, `${where}.${k}: ${quote(addr, 50)}${len === undefined ? '' : `/${len}`} is not an address or prefix; skipped`);
        bad = true;
        break;
      }
      const mix = setFamily(rec, c, seen);
      if (mix) {
        diags.error(line, `${where}: the rule ${mix}; skipped`);
        bad = true;
        break;
      }
      if (c.prefix > 0) rec[k === 'src' ? 'from' : 'to'] = c.text;
    }
    if (bad) continue;
    const tos = f.str('tos');
    if (tos !== undefined) rec.tos = tos;
    const mark = f.str('fwmark');
    if (mark !== undefined) {
      const mask = f.str('fwmask');
      const m = parseFwmark(mask === undefined ? mark : `${mark}/${mask}`);
      if (!m) {
        diags.error(line, `${where}.fwmark: ${quote(mark, 30)}${mask ? `/${quote(mask, 30)}` : ''} is not a mark; skipped`);
        continue;
      }
      rec.fwmark = m.mark;
      if (m.mask !== undefined) rec.fwmask = m.mask;
    }
    for (const k of ['iif', 'oif'] as const) {
      const dev = f.str(k);
      if (dev === undefined) continue;
      rec[k] = dev;
      if (f.has(`${k}_detached`)) rec[k === 'iif' ? 'iifDetached' : 'oifDetached'] = true;
    }
    if (f.has('l3mdev')) rec.l3mdev = true;
    const us = f.num('uid_start');
    const ue = f.num('uid_end');
    if (us !== undefined && ue !== undefined) rec.uidrange = { start: us, end: ue };
    const proto = jsonScalar(f.raw('ipproto'));
    if (proto !== undefined) rec.ipproto = proto;
    for (const k of ['sport', 'dport'] as const) {
      const single = f.num(k);
      const st = f.num(`${k}_start`);
      const en = f.num(`${k}_end`);
      if (single !== undefined) rec[k] = { start: single, end: single };
      else if (st !== undefined && en !== undefined) rec[k] = { start: st, end: en };
    }
    const tun = f.num('tun_id');
    if (tun !== undefined) rec.tunId = tun;
    const table = jsonScalar(f.raw('table'));
    if (table !== undefined) rec.table = table;
    const spl = f.num('suppress_prefixlen');
    if (spl !== undefined) rec.suppressPrefixlength = spl;
    const sig = jsonScalar(f.raw('suppress_ifgroup'));
    if (sig !== undefined) rec.suppressIfgroup = sig;
    const ff = jsonScalar(f.raw('flow_from'));
    const ft = jsonScalar(f.raw('flow_to'));
    if (ft !== undefined) rec.realms = ff !== undefined ? `${ff}/${ft}` : ft;
    const go = f.num('goto');
    if (go !== undefined) {
      rec.action = 'goto';
      rec.goto = go;
      if (f.has('unresolved')) rec.unresolved = true;
    } else if (f.has('nop')) rec.action = 'nop';
    else {
      const act = f.str('action');
      if (act !== undefined) {
        if (ACTION_WORDS.has(act)) rec.action = act as RuleAction;
        else {
          diags.warning(line, `${where}.action: unknown action ${quote(act, 30)} kept in extra`);
          (rec.extra ??= []).push(`action=${act}`);
        }
      } else if (table === undefined && !rec.l3mdev) {
        diags.warning(line, `${where}: rule ${priority} names no action (table, goto, nop, action); read as "lookup" without a table`);
      }
    }
    const protocol = jsonScalar(f.raw('protocol'));
    if (protocol !== undefined) rec.protocol = protocol;
    const unknown = Object.keys(obj).filter((k) => !JSON_KNOWN.has(k));
    if (unknown.length) {
      for (const k of unknown) (rec.extra ??= []).push(`${k}=${JSON.stringify(obj[k]).slice(0, 60)}`);
      diags.warning(line, `${where}: unknown key(s) ${unknown.slice(0, 5).map((x) => quote(x, 20)).join(', ')} kept in extra`);
    }
    records.push(rec);
  }
  return finish(records, diags);
}
