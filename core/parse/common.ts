// Shared plumbing for the real-output parsers: diagnostics, input limits,
// safe line splitting and JSON handling that cannot be tricked into
// prototype pollution.
//
// Every parser in this module follows the same contract: it never throws on
// any input, it never uses a regular expression that can backtrack
// catastrophically (the few regexes used are anchored and linear), and it
// returns the records it could read plus one diagnostic per line it had to
// reject or skip, naming that line (1-based) and, where known, the column.

export interface ParseDiagnostic {
  /** 1-based line of the input the problem is on (0 = the input as a whole). */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface ParseResult<T> {
  records: T[];
  diagnostics: ParseDiagnostic[];
}

export interface ParseOptions {
  /** Inputs longer than this (in UTF-16 code units) are rejected outright. Default 256 MiB. */
  maxInputLength?: number;
  /** Lines longer than this are skipped with a diagnostic. Default 64 KiB. */
  maxLineLength?: number;
  /** At most this many diagnostics are kept; one more says how many were dropped. Default 1000. */
  maxDiagnostics?: number;
}

export const DEFAULT_MAX_INPUT = 256 * 1024 * 1024;
export const DEFAULT_MAX_LINE = 64 * 1024;
export const DEFAULT_MAX_DIAGNOSTICS = 1000;

/** Collects diagnostics up to a cap so hostile input cannot exhaust memory through them. */
export class Diagnostics {
  readonly list: ParseDiagnostic[] = [];
  private dropped = 0;
  constructor(private readonly max: number = DEFAULT_MAX_DIAGNOSTICS) {}

  error(line: number, message: string, column?: number): void {
    this.push({ line, column, severity: 'error', message });
  }
  warning(line: number, message: string, column?: number): void {
    this.push({ line, column, severity: 'warning', message });
  }
  private push(d: ParseDiagnostic): void {
    if (d.column === undefined) delete d.column;
    if (this.list.length < this.max) this.list.push(d);
    else this.dropped++;
  }
  get errorCount(): number {
    return this.list.filter((d) => d.severity === 'error').length + this.dropped;
  }
  finish(): ParseDiagnostic[] {
    if (this.dropped > 0) {
      this.list.push({ line: 0, severity: 'error', message: `${this.dropped} further problems were not listed (limit ${this.max})` });
      this.dropped = 0;
    }
    return this.list;
  }
}

/** Shortens a piece of input for quoting in a message. */
export function quote(s: string, max = 60): string {
  let clean = '';
  const lim = Math.min(s.length, max + 1);
  for (let i = 0; i < lim; i++) {
    const c = s.charCodeAt(i);
    clean += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? '?' : s[i];
  }
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

/**
 * Returns the index of the first control character that should never appear
 * in text output of these tools (NUL and C0 controls other than tab and CR),
 * or -1.
 */
export function firstBinaryChar(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || c === 0x7f || c === 0xfffd) return i;
  }
  return -1;
}

// eslint-disable-next-line no-control-regex -- a character class of control characters, linear
const BINARY_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

export interface Line {
  /** 1-based line number. */
  no: number;
  text: string;
}

/**
 * Splits input into lines, dropping a trailing CR, and skipping (with a
 * diagnostic) lines that are too long or contain binary data. Returns null
 * when the input as a whole is rejected.
 */
export function splitLines(input: unknown, diags: Diagnostics, what: string, opts: ParseOptions = {}): Line[] | null {
  if (typeof input !== 'string') {
    diags.error(0, `${what}: expected text, got ${input === null ? 'null' : typeof input}`);
    return null;
  }
  const maxInput = opts.maxInputLength ?? DEFAULT_MAX_INPUT;
  if (input.length > maxInput) {
    diags.error(0, `${what}: input is ${input.length} characters long, over the limit of ${maxInput}; nothing was parsed`);
    return null;
  }
  const maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
  // one native scan tells whether any line needs the per-character binary check
  const anyBinary = BINARY_RE.test(input);
  const out: Line[] = [];
  let start = 0;
  let no = 0;
  const n = input.length;
  while (start <= n) {
    let end = input.indexOf('\n', start);
    if (end < 0) end = n;
    no++;
    if (end - start > maxLine) {
      diags.error(no, `${what}: line ${no} is ${end - start} characters long (limit ${maxLine}); skipped`);
    } else {
      let text = input.slice(start, end);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      const bad = anyBinary ? firstBinaryChar(text) : -1;
      if (bad >= 0) {
        diags.error(no, `${what}: line ${no} contains binary data (character code ${text.charCodeAt(bad)} at column ${bad + 1}); skipped`, bad + 1);
      } else {
        out.push({ no, text });
      }
    }
    if (end === n) break;
    start = end + 1;
  }
  return out;
}

/** Splits on runs of spaces/tabs without a regex. */
export function tokens(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    let c = s.charCodeAt(i);
    while (i < n && (c === 32 || c === 9)) c = s.charCodeAt(++i);
    if (i >= n) break;
    const st = i;
    while (i < n && c !== 32 && c !== 9) c = s.charCodeAt(++i);
    out.push(s.slice(st, i));
  }
  return out;
}

/** Non-negative decimal integer (no sign, no exponent) or null. Accepts up to 2^53. */
export function uint(s: string | undefined): number | null {
  if (s === undefined || s.length === 0 || s.length > 16) return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : null;
}

/** Keys that must never be written into a record from input. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A dictionary without a prototype, safe to fill with keys taken from input. */
export function dict<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Converts a character offset into 1-based line/column. */
export function offsetToLineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  const stop = Math.min(offset, text.length);
  for (let i = 0; i < stop; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

/**
 * Parses JSON text and reports syntax errors with a line and column.
 * Returns undefined (with a diagnostic) on failure. JSON.parse itself creates
 * `__proto__` as an own data property, so it cannot pollute prototypes; the
 * record builders still refuse such keys explicitly.
 */
export function parseJson(input: unknown, diags: Diagnostics, what: string, opts: ParseOptions = {}): JsonValue | undefined {
  if (typeof input !== 'string') {
    diags.error(0, `${what}: expected JSON text, got ${input === null ? 'null' : typeof input}`);
    return undefined;
  }
  const maxInput = opts.maxInputLength ?? DEFAULT_MAX_INPUT;
  if (input.length > maxInput) {
    diags.error(0, `${what}: input is ${input.length} characters long, over the limit of ${maxInput}; nothing was parsed`);
    return undefined;
  }
  const trimmed = input.trim();
  if (trimmed === '') {
    diags.error(1, `${what}: the input is empty (expected a JSON array)`);
    return undefined;
  }
  try {
    return JSON.parse(input) as JsonValue;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const found = jsonErrorAt(input);
    const offset = found ? found.offset : input.length;
    const { line, column } = offsetToLineCol(input, offset);
    const why = found ? found.why : e instanceof RangeError ? 'nested too deeply' : msg.split('\n')[0].slice(0, 80);
    diags.error(line, `${what}: invalid JSON at line ${line}, column ${column}: ${why}`, column);
    return undefined;
  }
}

/**
 * Finds where JSON text first goes wrong (only called after JSON.parse failed,
 * whose messages do not always carry a position). Iterative, linear time.
 */
export function jsonErrorAt(t: string): { offset: number; why: string } | null {
  const n = t.length;
  let i = 0;
  // stack of containers: 'a' array, 'o' object
  const stack: string[] = [];
  const ws = () => {
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string | null => {
    // at opening quote
    i++;
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === 34) {
        i++;
        return null;
      }
      if (c === 92) {
        const e = t[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) return 'bad \\u escape';
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return 'bad escape in string';
      } else if (c < 32) return 'control character in string';
      else i++;
    }
    return 'unterminated string (truncated input?)';
  };
  const value = (): string | null => {
    ws();
    if (i >= n) return 'unexpected end of input (truncated or unbalanced?)';
    const c = t[i];
    if (c === '"') return str();
    if (c === '{' || c === '[') return null; // handled by caller
    if (t.startsWith('true', i)) { i += 4; return null; }
    if (t.startsWith('false', i)) { i += 5; return null; }
    if (t.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(t.slice(i, i + 400));
    if (m && m[0].length > 0) { i += m[0].length; return null; }
    return `unexpected character ${quote(c, 4)}`;
  };
  ws();
  // state machine over containers
  let expectValue = true;
  for (;;) {
    ws();
    if (expectValue) {
      if (i >= n) return { offset: i, why: 'unexpected end of input (truncated or unbalanced?)' };
      const c = t[i];
      if (c === '[') {
        stack.push('a');
        i++;
        ws();
        if (t[i] === ']') { stack.pop(); i++; expectValue = false; }
        continue;
      }
      if (c === '{') {
        stack.push('o');
        i++;
        ws();
        if (t[i] === '}') { stack.pop(); i++; expectValue = false; continue; }
        if (t[i] !== '"') return { offset: i, why: i >= n ? 'unexpected end of input (truncated or unbalanced?)' : 'expected a quoted key' };
        const e = str();
        if (e) return { offset: i, why: e };
        ws();
        if (t[i] !== ':') return { offset: i, why: "expected ':' after key" };
        i++;
        continue;
      }
      const e = value();
      if (e) return { offset: i, why: e };
      expectValue = false;
      continue;
    }
    if (stack.length === 0) {
      if (i < n) return { offset: i, why: 'unexpected text after the JSON value' };
      return null;
    }
    if (i >= n) return { offset: i, why: 'unexpected end of input (truncated or unbalanced?)' };
    const top = stack[stack.length - 1];
    const c = t[i];
    if (c === ',') {
      i++;
      ws();
      if (top === 'o') {
        if (t[i] !== '"') return { offset: i, why: 'expected a quoted key after ,' };
        const e = str();
        if (e) return { offset: i, why: e };
        ws();
        if (t[i] !== ':') return { offset: i, why: "expected ':' after key" };
        i++;
      } else if (t[i] === ']') return { offset: i, why: 'trailing comma before ]' };
      expectValue = true;
      continue;
    }
    if ((c === ']' && top === 'a') || (c === '}' && top === 'o')) {
      stack.pop();
      i++;
      continue;
    }
    return { offset: i, why: `expected ',' or '${top === 'a' ? ']' : '}'}', got ${quote(c, 4)}` };
  }
}

export function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helper for reading typed fields off a JSON object, recording type errors. */
export class JsonFields {
  constructor(
    private readonly obj: { [k: string]: JsonValue },
    private readonly diags: Diagnostics,
    private readonly where: string,
    private readonly line: number,
  ) {}

  /** Reports keys that must never be trusted (prototype pollution attempts). Returns true when one was found. */
  checkKeys(): boolean {
    let bad = false;
    for (const k of Object.keys(this.obj)) {
      if (FORBIDDEN_KEYS.has(k)) {
        this.diags.error(this.line, `${this.where}: forbidden key ${quote(k)}; object skipped`);
        bad = true;
      }
    }
    return bad;
  }
  has(k: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, k);
  }
  raw(k: string): JsonValue | undefined {
    return this.has(k) ? this.obj[k] : undefined;
  }
  str(k: string): string | undefined {
    const v = this.raw(k);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.diags.warning(this.line, `${this.where}.${k}: expected a string, got ${typeof v}; ignored`);
      return undefined;
    }
    return v;
  }
  num(k: string): number | undefined {
    const v = this.raw(k);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.diags.warning(this.line, `${this.where}.${k}: expected a number, got ${typeof v}; ignored`);
      return undefined;
    }
    return v;
  }
  bool(k: string): boolean | undefined {
    const v = this.raw(k);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.diags.warning(this.line, `${this.where}.${k}: expected true/false, got ${typeof v}; ignored`);
      return undefined;
    }
    return v;
  }
  strArray(k: string): string[] | undefined {
    const v = this.raw(k);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.diags.warning(this.line, `${this.where}.${k}: expected a list of strings; ignored`);
      return undefined;
    }
    return v as string[];
  }
}

/**
 * Finds the line of the top-level array element `index` in JSON text, for
 * messages about the n-th object. Cheap approximation: `ip -j` prints one
 * line, so it is line 1 there; pretty-printed input (`-p`) gets a real line.
 */
export function jsonElementLines(text: string, count: number): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inStr = false;
  for (let i = 0; i < text.length && lines.length < count; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 91 || c === 123) {
      if (depth === 1) lines.push(line);
      depth++;
    } else if (c === 93 || c === 125) depth--;
  }
  while (lines.length < count) lines.push(line);
  return lines;
}

/** Parses top-level JSON that must be an array of objects; yields [object, line, index]. */
export function jsonArrayOfObjects(
  input: unknown,
  diags: Diagnostics,
  what: string,
  opts: ParseOptions = {},
): { obj: { [k: string]: JsonValue }; line: number; index: number }[] {
  const v = parseJson(input, diags, what, opts);
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    diags.error(1, `${what}: expected a JSON array at the top level, got ${v === null ? 'null' : typeof v}`);
    return [];
  }
  const lines = jsonElementLines(input as string, v.length);
  const out: { obj: { [k: string]: JsonValue }; line: number; index: number }[] = [];
  v.forEach((el, index) => {
    const line = lines[index] ?? 1;
    if (!isObject(el)) {
      diags.error(line, `${what}[${index}]: expected an object, got ${el === null ? 'null' : Array.isArray(el) ? 'array' : typeof el}; skipped`);
      return;
    }
    out.push({ obj: el, line, index });
  });
  return out;
}

/**
 * The objects of a top-level JSON array (`ip -j …`, `bridge -j …`) as
 * JsonFields, with `required` (a string field every record needs) read off:
 * objects with forbidden keys or without `required` are reported and skipped.
 */
export function jsonRecords(input: unknown, diags: Diagnostics, what: string, required: string, opts: ParseOptions = {}): { f: JsonFields; line: number; where: string; key: string }[] {
  const out: { f: JsonFields; line: number; where: string; key: string }[] = [];
  for (const { obj, line, index } of jsonArrayOfObjects(input, diags, what, opts)) {
    const where = `${what}[${index}]`;
    const f = new JsonFields(obj, diags, where, line);
    if (f.checkKeys()) continue;
    const key = f.str(required);
    if (key === undefined) {
      diags.error(line, `${where}: missing "${required}"; skipped`);
      continue;
    }
    out.push({ f, line, where, key });
  }
  return out;
}

export function finish<T>(records: T[], diags: Diagnostics): ParseResult<T> {
  return { records, diagnostics: diags.finish() };
}
