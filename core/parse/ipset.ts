// `ipset list` (and the `ipset save` / `ipset list -o save` form).
// Sections: Name, Type, Revision, Header, Size in memory, References,
// Number of entries, Members (one per line), separated by blank lines.

import { Diagnostics, FORBIDDEN_KEYS, type ParseOptions, type ParseResult, dict, finish, quote, splitLines, uint } from './common';

export interface IpsetMember {
  line: number;
  /** The element as printed: `10.0.0.1`, `10.244.1.0/24`, `10.96.0.10,udp:53`, `set-name`. */
  element: string;
  timeout?: number;
  packets?: number;
  bytes?: number;
  comment?: string;
  nomatch?: boolean;
  skbmark?: string;
  skbprio?: string;
  skbqueue?: number;
}

export interface IpsetRecord {
  line: number;
  name: string;
  type?: string;
  revision?: number;
  /** Header options: `family inet hashsize 1024 …`; bare flags (comment, counters) are `true`. */
  header: Record<string, string | number | true>;
  sizeInMemory?: number;
  references?: number;
  numberOfEntries?: number;
  members: IpsetMember[];
}

const BARE_HEADER_FLAGS = new Set(['comment', 'counters', 'skbinfo', 'forceadd', 'bucketsize_auto']);
const NUMERIC_HEADER = new Set(['hashsize', 'maxelem', 'timeout', 'size', 'netmask', 'bucketsize', 'markmask_dec', 'probes', 'resize']);

/** Splits a line into words, honouring double-quoted strings with backslash escapes (comments). */
function words(s: string): { words: string[]; error?: string } {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n) break;
    if (s[i] === '"') {
      let w = '';
      i++;
      let closed = false;
      while (i < n) {
        const c = s[i];
        if (c === '\\' && i + 1 < n) {
          w += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          w += c;
          i++;
        }
      }
      if (!closed) return { words: out, error: 'unterminated quoted comment' };
      out.push(w);
    } else {
      const st = i;
      while (i < n && s[i] !== ' ' && s[i] !== '\t') i++;
      out.push(s.slice(st, i));
    }
  }
  return { words: out };
}

function parseMember(w: string[], no: number, diags: Diagnostics): IpsetMember {
  const m: IpsetMember = { line: no, element: w[0] };
  for (let i = 1; i < w.length; i++) {
    const k = w[i];
    const v = w[i + 1];
    switch (k) {
      case 'timeout':
      case 'packets':
      case 'bytes':
      case 'skbqueue': {
        const n = uint(v);
        if (n === null) diags.warning(no, `ipset: line ${no}: ${k} ${quote(v ?? '')} is not a number`);
        else m[k] = n;
        i++;
        break;
      }
      case 'comment':
        if (v === undefined) diags.warning(no, `ipset: line ${no}: comment without text`);
        else m.comment = v;
        i++;
        break;
      case 'skbmark':
      case 'skbprio':
        if (v !== undefined) m[k] = v;
        i++;
        break;
      case 'nomatch':
        m.nomatch = true;
        break;
      default:
        diags.warning(no, `ipset: line ${no}: unknown member option ${quote(k, 20)} ignored`);
    }
  }
  return m;
}

function parseHeaderWords(w: string[], no: number, diags: Diagnostics): Record<string, string | number | true> {
  const h = dict<string | number | true>();
  for (let i = 0; i < w.length; i++) {
    const k = w[i];
    if (FORBIDDEN_KEYS.has(k)) {
      diags.error(no, `ipset: line ${no}: forbidden header key ${quote(k)} ignored`);
      i++;
      continue;
    }
    if (BARE_HEADER_FLAGS.has(k) || w[i + 1] === undefined) {
      h[k] = true;
      continue;
    }
    const v = w[i + 1];
    h[k] = NUMERIC_HEADER.has(k) && uint(v) !== null ? (uint(v) as number) : v;
    i++;
  }
  return h;
}

/** Parses `ipset list` output (any number of sets) or `ipset save` output. */
export function parseIpsetList(text: unknown, opts: ParseOptions = {}): ParseResult<IpsetRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'ipset', opts);
  const records: IpsetRecord[] = [];
  if (!lines) return finish(records, diags);
  let cur: IpsetRecord | null = null;
  let inMembers = false;
  const byName = new Map<string, IpsetRecord>();
  const close = () => {
    if (cur && cur.numberOfEntries !== undefined && cur.numberOfEntries !== cur.members.length) {
      diags.error(
        cur.line,
        `ipset: set ${quote(cur.name)} (line ${cur.line}) says "Number of entries: ${cur.numberOfEntries}" but lists ${cur.members.length} members (truncated output?)`,
      );
    }
  };
  for (const { no, text: line } of lines) {
    if (line.trim() === '') {
      inMembers = false;
      continue;
    }
    // save format
    if (line.startsWith('create ') || line.startsWith('add ')) {
      const { words: w, error } = words(line);
      if (error) {
        diags.error(no, `ipset: line ${no}: ${error}; skipped`);
        continue;
      }
      if (w[0] === 'create') {
        if (w.length < 3) {
          diags.error(no, `ipset: line ${no}: "create" needs a name and a type; skipped`);
          continue;
        }
        const rec: IpsetRecord = { line: no, name: w[1], type: w[2], header: parseHeaderWords(w.slice(3), no, diags), members: [] };
        records.push(rec);
        byName.set(rec.name, rec);
      } else {
        const set = byName.get(w[1]);
        if (!set || w.length < 3) {
          diags.error(no, `ipset: line ${no}: "add" to unknown set ${quote(w[1] ?? '')}; skipped`);
          continue;
        }
        set.members.push(parseMember(w.slice(2), no, diags));
      }
      continue;
    }
    if (inMembers && cur && !line.startsWith('Name: ')) {
      const { words: w, error } = words(line.trim());
      if (error) diags.error(no, `ipset: line ${no}: ${error}; member kept without its comment`);
      if (w.length > 0) cur.members.push(parseMember(w, no, diags));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) {
      diags.error(no, `ipset: line ${no}: expected "Field: value", got ${quote(line)}; skipped`);
      continue;
    }
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (field === 'Name') {
      close();
      cur = { line: no, name: value, header: dict(), members: [] };
      records.push(cur);
      inMembers = false;
      continue;
    }
    if (!cur) {
      diags.error(no, `ipset: line ${no}: ${quote(field)} before any "Name:" line; skipped`);
      continue;
    }
    switch (field) {
      case 'Type':
        cur.type = value;
        break;
      case 'Revision':
        cur.revision = uint(value) ?? undefined;
        break;
      case 'Header': {
        const { words: w } = words(value);
        cur.header = parseHeaderWords(w, no, diags);
        break;
      }
      case 'Size in memory':
        cur.sizeInMemory = uint(value) ?? undefined;
        break;
      case 'References':
        cur.references = uint(value) ?? undefined;
        break;
      case 'Number of entries':
        cur.numberOfEntries = uint(value) ?? undefined;
        break;
      case 'Members':
        inMembers = true;
        break;
      default:
        diags.warning(no, `ipset: line ${no}: unknown field ${quote(field)} ignored`);
    }
  }
  close();
  for (const r of records) for (const k of ['type', 'revision', 'sizeInMemory', 'references', 'numberOfEntries'] as const) if (r[k] === undefined) delete r[k];
  return finish(records, diags);
}
