// YAML sources with positions: documents parsed with a LineCounter, and the
// mapping from a field path inside a document back to its line and column.

import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';
import type { Diagnostic, Severity, SourceRef } from './types';

export interface SourceText {
  file: string;
  text: string;
}

export type PathSeg = string | number;

/** One YAML document of one source file. */
export interface DocEntry {
  file: string;
  lc: LineCounter;
  doc: Document.Parsed;
  /** 0-based index of the document in its file. */
  index: number;
}

/** Where an object sits: its document and its path inside it (e.g. ['items', 3]). */
export interface ObjRef {
  entry: DocEntry;
  base: PathSeg[];
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `items[2].spec.ports[0].targetPort`; keys that are not plain identifiers are quoted: `labels["app.kubernetes.io/name"]`. */
export function formatPath(segs: readonly PathSeg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (SIMPLE_KEY.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Parses every source into documents. YAML syntax errors become diagnostics. */
export function parseSources(sources: SourceText[], diags: Diagnostic[]): DocEntry[] {
  const out: DocEntry[] = [];
  for (const src of sources) {
    const lc = new LineCounter();
    const docs = parseAllDocuments(src.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    if (!Array.isArray(docs)) continue;
    docs.forEach((doc, index) => {
      out.push({ file: src.file, lc, doc, index });
      for (const e of doc.errors) {
        const p = lc.linePos(e.pos[0]);
        diags.push({
          severity: 'error',
          code: 'yaml-syntax',
          message: `YAML syntax error: ${e.message} (${e.code})`,
          file: src.file,
          line: p.line,
          column: p.col,
          hint: 'Fix the YAML at this place; the whole document is skipped until it parses.',
        });
      }
      for (const w of doc.warnings) {
        const p = lc.linePos(w.pos[0]);
        diags.push({
          severity: 'warning',
          code: 'yaml-warning',
          message: `YAML: ${w.message} (${w.code})`,
          file: src.file,
          line: p.line,
          column: p.col,
        });
      }
    });
  }
  return out;
}

function childOf(node: unknown, seg: PathSeg): { node: unknown; keyNode?: unknown } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(k) === String(seg)) return { node: pair.value, keyNode: pair.key };
    }
    return undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    return item === undefined ? undefined : { node: item };
  }
  return undefined;
}

function rangeStart(n: unknown): number | undefined {
  if (n && typeof n === 'object' && 'range' in n) {
    const r = (n as YamlNode).range;
    if (r) return r[0];
  }
  if (isPair(n)) return rangeStart(n.key);
  return undefined;
}

/**
 * Line and column (1-based) of the deepest node on `path` that exists. For a
 * missing field this is the map that should hold it; for a key with an empty
 * value it is the key.
 */
export function locate(entry: DocEntry, path: readonly PathSeg[]): { line: number; column: number } {
  let node: unknown = entry.doc.contents;
  let best = rangeStart(node) ?? 0;
  for (const seg of path) {
    const c = childOf(node, seg);
    if (!c) break;
    const start = rangeStart(c.node) ?? rangeStart(c.keyNode);
    if (start !== undefined) best = start;
    node = c.node;
  }
  const p = entry.lc.linePos(best);
  return { line: p.line, column: p.col };
}

export function originOf(ref: ObjRef): SourceRef {
  const p = locate(ref.entry, ref.base);
  const o: SourceRef = { file: ref.entry.file, line: p.line, column: p.column };
  if (ref.base.length) o.path = formatPath(ref.base);
  return o;
}

/** Collects diagnostics; positions are resolved from object references on demand. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];

  add(severity: Severity, code: string, message: string, at?: ObjRef | SourceRef, rel: readonly PathSeg[] = [], hint?: string): Diagnostic {
    const d: Diagnostic = { severity, code, message };
    if (at && 'entry' in at) {
      const full = [...at.base, ...rel];
      const p = locate(at.entry, full);
      d.file = at.entry.file;
      d.line = p.line;
      d.column = p.column;
      if (full.length) d.path = formatPath(full);
    } else if (at) {
      d.file = at.file;
      d.line = at.line;
      d.column = at.column;
      const path = [at.path, formatPath(rel)].filter(Boolean).join('.');
      if (path) d.path = path.replace(/\.\[/g, '[');
    } else if (rel.length) {
      d.path = formatPath(rel);
    }
    if (hint) d.hint = hint;
    this.list.push(d);
    return d;
  }

  error(code: string, message: string, at?: ObjRef | SourceRef, rel: readonly PathSeg[] = [], hint?: string): Diagnostic {
    return this.add('error', code, message, at, rel, hint);
  }

  warn(code: string, message: string, at?: ObjRef | SourceRef, rel: readonly PathSeg[] = [], hint?: string): Diagnostic {
    return this.add('warning', code, message, at, rel, hint);
  }

  get errorCount(): number {
    let n = 0;
    for (const d of this.list) if (d.severity === 'error') n++;
    return n;
  }
}

/** `file:line:col` of a place, for messages that name a second place. */
export function placeText(at: ObjRef | SourceRef | undefined, rel: readonly PathSeg[] = []): string {
  if (!at) return 'an earlier definition';
  if ('entry' in at) {
    const p = locate(at.entry, [...at.base, ...rel]);
    return `${at.entry.file}:${p.line}:${p.column}`;
  }
  return `${at.file}:${at.line}:${at.column}`;
}
