// String matching as Istio does it:
// - AuthorizationPolicy values (principals, paths, hosts, methods, header
//   values in `when`): exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`
//   (pilot/pkg/security/authz/matcher: StringMatcherWithPrefix).
// - AuthorizationPolicy path templates `{*}` (one segment) and `{**}` (the rest).
// - VirtualService StringMatch: exact / prefix / regex, where regex is RE2 and
//   must match the WHOLE value (Envoy safe_regex is a full match).

import type { StringMatch } from './types';

/** An AuthorizationPolicy value against an attribute; `undefined` means the attribute is absent. */
export function istioValueMatch(pattern: string, value: string | undefined, caseInsensitive = false): boolean {
  if (value === undefined) return false;
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  if (p === '*') return true;
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  return v === p;
}

/** How an AuthorizationPolicy value is read, for explanations. */
export function describeValuePattern(pattern: string): string {
  if (pattern === '*') return `"*" (presence: any value)`;
  if (pattern.startsWith('*')) return `"${pattern}" (suffix match on "${pattern.slice(1)}")`;
  if (pattern.endsWith('*')) return `"${pattern}" (prefix match on "${pattern.slice(0, -1)}")`;
  return `"${pattern}" (exact)`;
}

const templateCache = new Map<string, RegExp>();

/** AuthorizationPolicy path: string match, or a `{*}` / `{**}` template (Istio 1.18+). */
export function istioPathMatch(pattern: string, path: string): boolean {
  if (!pattern.includes('{*}') && !pattern.includes('{**}')) return istioValueMatch(pattern, path);
  let re = templateCache.get(pattern);
  if (!re) {
    const src = pattern
      .split('/')
      .map((seg) => (seg === '{*}' ? '[^/]+' : seg === '{**}' ? '.+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    re = new RegExp(`^${src}$`);
    templateCache.set(pattern, re);
  }
  return re.test(path);
}

// ---------------------------------------------------------------- RE2

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/**
 * Reasons RE2 (Go regexp) refuses a pattern that JavaScript would accept, in
 * Go's wording; undefined when RE2 accepts it (as far as the model checks).
 */
export function re2Check(re: string): string | undefined {
  const look = /\(\?(=|!|<=|<!)/.exec(re);
  if (look) return `error parsing regexp: invalid or unsupported Perl syntax: \`(?${look[1]}\``;
  const backref = /(^|[^\\])(\\\\)*\\([1-9])/.exec(re);
  if (backref) return `error parsing regexp: invalid escape sequence: \`\\${backref[3]}\``;
  const rep = /\{(\d+)(,(\d*))?\}/g;
  let m: RegExpExecArray | null;
  while ((m = rep.exec(re))) {
    if (Number(m[1]) > 1000 || (m[3] && Number(m[3]) > 1000)) return `error parsing regexp: invalid repeat count: \`${m[0]}\``;
  }
  const c = compileRe2(re);
  if (c.error && !c.unsupported) return c.error;
  return undefined;
}

export interface CompiledRe2 {
  regex?: RegExp;
  error?: string;
  /** RE2 accepts it but the model cannot translate it to a JavaScript RegExp. */
  unsupported?: boolean;
}

const re2Cache = new Map<string, CompiledRe2>();

/** Translates an RE2 pattern into an anchored (full-match) JavaScript RegExp. */
export function compileRe2(re: string): CompiledRe2 {
  const hit = re2Cache.get(re);
  if (hit) return hit;
  let src = re;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    if (lead[1].includes('i')) flags += 'i';
    if (lead[1].includes('s')) flags += 's';
    if (lead[1].includes('m')) flags += 'm';
    src = src.slice(lead[0].length);
  }
  src = src
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$')
    .replace(/\[:(\^?)([a-z]+):\]/g, (all, neg: string, name: string) => (POSIX[name] && !neg ? POSIX[name] : all));
  let out: CompiledRe2;
  if (/\(\?[imsU-]+[:)]/.test(src)) {
    out = { error: 'inline flag groups other than a leading (?i) are not translated by the model', unsupported: true };
  } else {
    try {
      out = { regex: new RegExp(`^(?:${src})$`, flags + (/\\[pP]/.test(src) ? 'u' : '')) };
    } catch (e) {
      out = { error: `error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}` };
    }
  }
  if (re2Cache.size > 5000) re2Cache.clear();
  re2Cache.set(re, out);
  return out;
}

/** A VirtualService StringMatch against a value (undefined = header / parameter absent). */
export function stringMatchMatches(sm: StringMatch, value: string | undefined, ignoreCase = false): boolean {
  if ('present' in sm) return value !== undefined;
  if (value === undefined) return false;
  if ('exact' in sm) return ignoreCase ? value.toLowerCase() === sm.exact.toLowerCase() : value === sm.exact;
  if ('prefix' in sm) return ignoreCase ? value.toLowerCase().startsWith(sm.prefix.toLowerCase()) : value.startsWith(sm.prefix);
  const c = compileRe2(sm.regex);
  if (!c.regex) return false;
  if (ignoreCase && !c.regex.flags.includes('i')) return new RegExp(c.regex.source, c.regex.flags + 'i').test(value);
  return c.regex.test(value);
}

export function describeStringMatch(sm: StringMatch): string {
  if ('present' in sm) return 'present';
  if ('exact' in sm) return `exact "${sm.exact}"`;
  if ('prefix' in sm) return `prefix "${sm.prefix}"`;
  return `regex "${sm.regex}" (RE2, full match)`;
}
