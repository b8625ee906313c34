// As-you-type validation of YAML in the designer's editors. An element's
// snippet is put in place in the whole topology (replacing the element, or
// appended as a new document), the core loader judges the result, and its
// diagnostics are mapped back to lines of the snippet. Problems the edit
// causes elsewhere (a duplicate name, a Service whose selector now matches
// nothing) are kept too, without a line in the snippet.

import type { Diagnostic } from '../../../core/model/types';
import { appendDocument, describeRef, EditError, parseSnippet, refOfSnippet, replaceElement, type ElementRef } from './topology-edit';
import { parseTopology } from './topology';

export interface Marker {
  severity: 'error' | 'warning';
  /** 1-based line in the editor's text, or null when the problem is elsewhere. */
  line: number | null;
  column: number | null;
  message: string;
  code: string;
  hint?: string;
  /** For problems elsewhere: where (file:line · path). */
  where?: string;
}

export interface Validation {
  markers: Marker[];
  /** The whole topology with the edit applied, or null when the snippet does not parse / cannot be placed. */
  composed: string | null;
  /** The element the snippet defines (may differ from the edited one after a rename). */
  defines: ElementRef | null;
  errorCount: number;
}

function key(d: Diagnostic): string {
  return `${d.severity}|${d.code}|${d.message}`;
}

function finish(markers: Marker[], composed: string | null, defines: ElementRef | null): Validation {
  markers.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return { markers, composed, defines, errorCount: markers.filter((m) => m.severity === 'error').length };
}

/**
 * Validate an element's YAML. `target` is the element being edited, or null
 * for a new element (appended). `baseline` are the diagnostics of the topology
 * before the edit: problems that were already there and lie outside the
 * snippet are not blamed on it.
 */
export function validateSnippet(file: string, topology: string, target: ElementRef | null, snippet: string, baseline: Diagnostic[] = []): Validation {
  const parsed = parseSnippet(snippet);
  if (parsed.errors.length) {
    return finish(
      parsed.errors.map((e) => ({ severity: 'error', line: e.line, column: e.column, message: `YAML syntax: ${e.message}`, code: 'yaml-syntax' })),
      null,
      null,
    );
  }
  const defines = refOfSnippet(parsed.value);
  const markers: Marker[] = [];
  if (target && target.kind !== 'node') {
    if (!defines) {
      markers.push({ severity: 'error', line: 1, column: 1, message: `This editor holds ${describeRef(target)}: the YAML must be one Kubernetes object with kind and metadata.name.`, code: 'not-an-element' });
    } else if (defines.kind !== target.kind) {
      markers.push({ severity: 'error', line: 1, column: 1, message: `The kind changed from ${target.kind} to ${defines.kind}; create a new element instead of changing this one's kind.`, code: 'kind-changed' });
    }
  }
  if (markers.some((m) => m.severity === 'error')) return finish(markers, null, defines);

  let composed: string;
  let startLine: number;
  let lineCount: number;
  try {
    if (target) {
      const r = replaceElement(topology, target, snippet);
      composed = r.text;
      startLine = r.startLine;
      lineCount = r.lineCount;
    } else {
      composed = appendDocument(topology, snippet);
      const body = snippet.replace(/^---\s*\n/, '').replace(/\s+$/, '');
      lineCount = body.split('\n').length;
      startLine = composed.replace(/\s+$/, '').split('\n').length - lineCount + 1;
    }
  } catch (err) {
    const e = err as EditError;
    return finish([{ severity: 'error', line: null, column: null, message: e.message, code: 'edit-failed', hint: e.hint }], null, defines);
  }

  const result = parseTopology({ file, text: composed });
  const before = new Map<string, number>();
  for (const d of baseline) before.set(key(d), (before.get(key(d)) ?? 0) + 1);
  for (const d of result.diagnostics) {
    const inside = d.file === file && d.line !== undefined && d.line >= startLine && d.line < startLine + lineCount;
    if (inside) {
      markers.push({ severity: d.severity, line: d.line! - startLine + 1, column: d.column ?? null, message: d.message, code: d.code, hint: d.hint });
      continue;
    }
    // Outside the snippet: only what the edit introduced.
    const k = key(d);
    const n = before.get(k) ?? 0;
    if (n > 0) {
      before.set(k, n - 1);
      continue;
    }
    markers.push({ severity: d.severity, line: null, column: null, message: d.message, code: d.code, hint: d.hint, where: [d.file, d.line, d.column].filter((x) => x !== undefined).join(':') + (d.path ? ` · ${d.path}` : '') });
  }
  if (!result.topology) markers.push({ severity: 'error', line: null, column: null, message: 'With this change the topology cannot be built (see the errors above).', code: 'no-topology' });
  return finish(markers, result.topology ? composed : null, defines);
}

/** Validate the whole topology text (the full-file editor): every diagnostic with a line of this file. */
export function validateWhole(file: string, text: string): Validation {
  const result = parseTopology({ file, text });
  const markers: Marker[] = result.diagnostics.map((d) => ({
    severity: d.severity,
    line: d.file === file && d.line !== undefined ? d.line : null,
    column: d.column ?? null,
    message: d.message,
    code: d.code,
    hint: d.hint,
    where: d.path,
  }));
  return finish(markers, result.topology ? text : null, null);
}
