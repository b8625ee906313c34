// `ip route show` (text) and `ip -j route show` (JSON) -> one record shape,
// keyed like iproute2's own JSON output so text and JSON compare directly.
// Token order and names follow iproute2 ip/iproute.c print_route().

import {
  Diagnostics,
  type JsonValue,
  type ParseOptions,
  type ParseResult,
  finish,
  isObject,
  jsonRecords,
  quote,
  splitLines,
  tokens,
  uint,
} from './common';

export const ROUTE_TYPES = [
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'throw',
  'unreachable',
  'prohibit',
  'blackhole',
  'nat',
  'anycast',
  'unspec',
] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

/** Route flags as iproute2 prints them (text and the JSON `flags` array). */
export const ROUTE_FLAGS: ReadonlySet<string> = new Set([
  'dead',
  'onlink',
  'pervasive',
  'offload',
  'trap',
  'notify',
  'linkdown',
  'unresolved',
  'rt_offload',
  'rt_trap',
  'rt_offload_failed',
]);

export interface NextHop {
  gateway?: string;
  dev?: string;
  weight?: number;
  flags: string[];
}

export interface RouteRecord {
  /** 1-based line in the input (JSON: the line the object starts on). */
  line: number;
  /** `unicast` unless the output names another type. */
  type: RouteType;
  /** As printed: `default`, `10.244.1.0/24`, or a bare host address for /32 and /128. */
  dst: string;
  /** Address family when it can be told from the destination, gateway or prefsrc. */
  family?: 4 | 6;
  from?: string;
  tos?: string;
  gateway?: string;
  /** `via inet6 fe80::1` style gateways of another family. */
  via?: { family: string; host: string };
  dev?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  pref?: string;
  nhid?: number;
  expires?: number;
  error?: number;
  /** Route metrics (`mtu 1450`, `advmss 1410`, `initcwnd 10` …), `lock` noted as `mtu_lock: true`. */
  metrics?: Record<string, number | string | boolean>;
  /** Multipath next hops (`nexthop via … dev … weight …`). */
  nexthops?: NextHop[];
  /** `ip route get`: the uid the lookup was made for. */
  uid?: number;
  /** `ip route get` / cached routes: the indented `cache …` line. */
  cache?: boolean;
  /** Tokens this parser does not know, kept verbatim in order. */
  extra?: string[];
}

const METRIC_WORDS = new Set([
  'mtu',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'ssthresh',
  'realms',
  'rto_min',
  'initcwnd',
  'initrwnd',
  'features',
  'quickack',
  'congctl',
  'hoplimit',
  'fastopen_no_cookie',
]);

function familyOf(addr: string | undefined): 4 | 6 | undefined {
  if (!addr || addr === 'default') return undefined;
  const a = addr.split('/')[0];
  if (a.includes(':')) return 6;
  if (a.includes('.')) return 4;
  return undefined;
}

/** Validates an address (or prefix) token lightly: digits/hex, dots, colons, one slash. */
function looksLikePrefix(s: string): boolean {
  if (s.length === 0 || s.length > 50) return false;
  let slash = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46 || c === 58 || c === 47;
    if (!ok) return false;
    if (c === 47) slash++;
  }
  if (slash > 1) return false;
  return s.includes('.') || s.includes(':');
}

/** Parses the tokens of one route (text). Returns null and records a diagnostic when it is not a route. */
function parseRouteTokens(t: string[], lineNo: number, diags: Diagnostics): RouteRecord | null {
  let i = 0;
  let type: RouteType = 'unicast';
  if ((ROUTE_TYPES as readonly string[]).includes(t[0]) && t.length > 1) {
    type = t[0] as RouteType;
    i = 1;
  }
  const dst = t[i];
  if (dst === undefined) {
    diags.error(lineNo, `ip route: line ${lineNo}: missing destination`);
    return null;
  }
  if (dst !== 'default' && !looksLikePrefix(dst)) {
    diags.error(lineNo, `ip route: line ${lineNo}: ${quote(dst)} is not a destination (expected default or an address/prefix); line skipped`, 1);
    return null;
  }
  i++;
  const r: RouteRecord = { line: lineNo, type, dst, flags: [] };
  const extra: string[] = [];
  const need = (k: string): string | undefined => {
    const v = t[i + 1];
    if (v === undefined) {
      diags.error(lineNo, `ip route: line ${lineNo}: "${k}" without a value (truncated line?)`);
      i = t.length;
      return undefined;
    }
    i += 2;
    return v;
  };
  while (i < t.length) {
    const k = t[i];
    switch (k) {
      case 'from':
        r.from = need(k);
        break;
      case 'tos':
      case 'dsfield':
        r.tos = need(k);
        break;
      case 'via': {
        const v = t[i + 1];
        if (v === 'inet' || v === 'inet6') {
          const host = t[i + 2];
          if (host === undefined) {
            diags.error(lineNo, `ip route: line ${lineNo}: "via ${v}" without an address`);
            i += 2;
          } else {
            r.via = { family: v, host };
            i += 3;
          }
        } else {
          r.gateway = need(k);
        }
        break;
      }
      case 'dev':
        r.dev = need(k);
        break;
      case 'table':
        r.table = need(k);
        break;
      case 'proto':
        r.protocol = need(k);
        break;
      case 'scope':
        r.scope = need(k);
        break;
      case 'src':
        r.prefsrc = need(k);
        break;
      case 'metric': {
        const v = need(k);
        const n = uint(v);
        if (v !== undefined && n === null) diags.warning(lineNo, `ip route: line ${lineNo}: metric ${quote(v)} is not a number`);
        if (n !== null) r.metric = n;
        break;
      }
      case 'uid': {
        const n = uint(need(k));
        if (n !== null) r.uid = n;
        break;
      }
      case 'nhid': {
        const n = uint(need(k));
        if (n !== null) r.nhid = n;
        break;
      }
      case 'pref':
        r.pref = need(k);
        break;
      case 'expires': {
        const v = need(k);
        if (v !== undefined) {
          const n = uint(v.endsWith('sec') ? v.slice(0, -3) : v);
          if (n !== null) r.expires = n;
        }
        break;
      }
      case 'error': {
        const v = need(k);
        const n = v !== undefined ? Number(v) : NaN;
        if (Number.isInteger(n)) r.error = n;
        break;
      }
      case 'nexthop': {
        // multipath: nexthop [via X] [dev Y] [weight N] [flags...]
        const nh: NextHop = { flags: [] };
        i++;
        while (i < t.length && t[i] !== 'nexthop') {
          const w = t[i];
          if (w === 'via' && t[i + 1] !== undefined) {
            if ((t[i + 1] === 'inet' || t[i + 1] === 'inet6') && t[i + 2] !== undefined) {
              nh.gateway = t[i + 2];
              i += 3;
            } else {
              nh.gateway = t[i + 1];
              i += 2;
            }
          } else if (w === 'dev' && t[i + 1] !== undefined) {
            nh.dev = t[i + 1];
            i += 2;
          } else if (w === 'weight' && t[i + 1] !== undefined) {
            const n = uint(t[i + 1]);
            if (n !== null) nh.weight = n;
            i += 2;
          } else if (ROUTE_FLAGS.has(w)) {
            nh.flags.push(w);
            i++;
          } else {
            extra.push(w);
            i++;
          }
        }
        (r.nexthops ??= []).push(nh);
        break;
      }
      default:
        if (ROUTE_FLAGS.has(k)) {
          r.flags.push(k);
          i++;
        } else if (METRIC_WORDS.has(k)) {
          const metrics = (r.metrics ??= {});
          let v = t[i + 1];
          if (v === 'lock') {
            metrics[`${k}_lock`] = true;
            v = t[i + 2];
            i++;
          }
          if (v === undefined) {
            diags.error(lineNo, `ip route: line ${lineNo}: "${k}" without a value`);
            i++;
          } else {
            const n = uint(v.endsWith('ms') ? v.slice(0, -2) : v);
            metrics[k] = n ?? v;
            i += 2;
          }
        } else {
          extra.push(k);
          i++;
        }
    }
  }
  if (extra.length) {
    r.extra = extra;
    diags.warning(lineNo, `ip route: line ${lineNo}: unknown token(s) ${extra.slice(0, 5).map((x) => quote(x, 20)).join(', ')} kept in extra`);
  }
  r.family = familyOf(r.dst) ?? familyOf(r.gateway) ?? familyOf(r.prefsrc) ?? familyOf(r.via?.host);
  if (r.family === undefined) delete r.family;
  return r;
}

/**
 * Parses `ip route show` text (any table, `ip -4`/`ip -6`, `show table all`).
 * Multipath continuation lines (starting with whitespace and `nexthop`) are
 * folded into the route above them.
 */
export function parseIpRoute(text: unknown, opts: ParseOptions = {}): ParseResult<RouteRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'ip route', opts);
  const records: RouteRecord[] = [];
  if (!lines) return finish(records, diags);
  for (const { no, text: line } of lines) {
    const t = tokens(line);
    if (t.length === 0) continue;
    const continuation = line[0] === ' ' || line[0] === '\t';
    if (continuation && t[0] === 'nexthop') {
      const prev = records[records.length - 1];
      if (!prev) {
        diags.error(no, `ip route: line ${no}: "nexthop" line without a route above it; skipped`);
        continue;
      }
      const tmp = parseRouteTokens(['default', ...t], no, new Diagnostics(10));
      if (tmp?.nexthops) (prev.nexthops ??= []).push(...tmp.nexthops);
      continue;
    }
    if (continuation && t[0] === 'cache') {
      // `ip route get`: "    cache [expires 300sec] [mtu 1450] …"
      const prev = records[records.length - 1];
      if (!prev) {
        diags.error(no, `ip route: line ${no}: "cache" line without a route above it; skipped`);
        continue;
      }
      prev.cache = true;
      const tmp = parseRouteTokens(['default', ...t.slice(1)], no, diags);
      if (tmp?.metrics) prev.metrics = { ...prev.metrics, ...tmp.metrics };
      if (tmp?.expires !== undefined) prev.expires = tmp.expires;
      continue;
    }
    const r = parseRouteTokens(t, no, diags);
    if (r) records.push(r);
  }
  return finish(records, diags);
}

/** Parses `ip -j route show` (also `ip -j -p`, pretty-printed). */
export function parseIpRouteJson(text: unknown, opts: ParseOptions = {}): ParseResult<RouteRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const records: RouteRecord[] = [];
  for (const { f, line, where, key: dst } of jsonRecords(text, diags, 'ip -j route', 'dst', opts)) {
    const type = f.str('type') ?? 'unicast';
    if (!(ROUTE_TYPES as readonly string[]).includes(type)) {
      diags.warning(line, `${where}: unknown route type ${quote(type)}`);
    }
    const r: RouteRecord = { line, type: type as RouteType, dst, flags: f.strArray('flags') ?? [] };
    const set = <K extends keyof RouteRecord>(k: K, v: RouteRecord[K] | undefined) => {
      if (v !== undefined) r[k] = v;
    };
    set('from', f.str('from'));
    set('tos', f.str('tos') ?? f.str('dsfield'));
    set('gateway', f.str('gateway'));
    const via = f.raw('via');
    if (isObject(via) && typeof via.family === 'string' && typeof via.host === 'string') r.via = { family: via.family, host: via.host };
    set('dev', f.str('dev'));
    const table = f.raw('table');
    if (typeof table === 'string' || typeof table === 'number') r.table = String(table);
    set('protocol', f.str('protocol'));
    set('scope', f.str('scope'));
    set('prefsrc', f.str('prefsrc'));
    set('metric', f.num('metric'));
    set('pref', f.str('pref'));
    set('nhid', f.num('nhid'));
    set('expires', f.num('expires'));
    set('error', f.num('error'));
    const metrics = f.raw('metrics');
    if (Array.isArray(metrics)) {
      const m: Record<string, number | string | boolean> = {};
      for (const item of metrics) {
        if (!isObject(item)) continue;
        for (const [k, v] of Object.entries(item)) {
          if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
            diags.error(line, `${where}.metrics: forbidden key ${quote(k)} ignored`);
            continue;
          }
          if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') m[k] = v;
          else if (isObject(v) && typeof v.value === 'number') {
            m[k] = v.value;
            if (v.lock === true) m[`${k}_lock`] = true;
          }
        }
      }
      r.metrics = m;
    }
    const nhs = f.raw('nexthops');
    if (Array.isArray(nhs)) {
      r.nexthops = nhs.filter(isObject).map((nh: { [k: string]: JsonValue }) => {
        const out: NextHop = { flags: Array.isArray(nh.flags) ? nh.flags.filter((x): x is string => typeof x === 'string') : [] };
        if (typeof nh.gateway === 'string') out.gateway = nh.gateway;
        if (typeof nh.dev === 'string') out.dev = nh.dev;
        if (typeof nh.weight === 'number') out.weight = nh.weight;
        return out;
      });
    }
    r.family = familyOf(r.dst) ?? familyOf(r.gateway) ?? familyOf(r.prefsrc) ?? familyOf(r.via?.host);
    if (r.family === undefined) delete r.family;
    records.push(r);
  }
  return finish(records, diags);
}

/** The destination as a CIDR: `default` -> 0.0.0.0/0 or ::/0, bare hosts -> /32 or /128. */
export function routePrefix(r: Pick<RouteRecord, 'dst' | 'family'>): string {
  if (r.dst === 'default') return r.family === 6 ? '::/0' : '0.0.0.0/0';
  if (r.dst.includes('/')) return r.dst;
  return r.dst.includes(':') ? `${r.dst}/128` : `${r.dst}/32`;
}
