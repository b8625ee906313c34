// Reading topology files for verbs: every file is read and loaded together
// into one topology, with the global --set overrides applied.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadTopology, type Diagnostic, type LoadResult, type SourceText } from '../core/model';
import type { CliIO } from './types';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `paths` ("-" = standard input) and loads them as one topology. Unreadable files become diagnostics. */
export async function loadFromFiles(paths: string[], set: string[] = [], io?: Pick<CliIO, 'cwd' | 'readStdin'>): Promise<LoadResult & { files: SourceText[] }> {
  const files: SourceText[] = [];
  const readErrors: Diagnostic[] = [];
  for (const p of paths) {
    if (p === '-') {
      files.push({ file: '<stdin>', text: await (io?.readStdin ?? readStdin)() });
      continue;
    }
    try {
      files.push({ file: p, text: await readFile(resolve(io?.cwd ?? process.cwd(), p), 'utf8') });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      readErrors.push({
        severity: 'error',
        code: 'file-unreadable',
        message: code === 'ENOENT' ? `${p}: no such file` : code === 'EISDIR' ? `${p} is a directory` : `${p}: ${(e as Error).message}`,
        file: p,
        hint: 'Pass YAML files: a Topology file and/or Kubernetes manifests.',
      });
    }
  }
  if (files.length === 0) return { topology: null, diagnostics: readErrors, files };
  const r = loadTopology(files, { set });
  return { topology: r.topology, diagnostics: [...readErrors, ...r.diagnostics], files };
}

/** `file:line:col: error [code] message (path)` — the place is `--set` or the file alone when there is no position. */
export function formatDiagnostic(d: Diagnostic): string {
  let where: string;
  if (d.file && d.line) where = `${d.file}:${d.line}:${d.column ?? 1}`;
  else if (d.file) where = d.file;
  else if (d.code.startsWith('set-')) where = '--set';
  else where = '<topology>';
  const path = d.path ? ` (${d.path})` : '';
  return `${where}: ${d.severity} [${d.code}] ${d.message}${path}`;
}

export interface DiagnosticCounts {
  errors: number;
  warnings: number;
}

export function countDiagnostics(diags: Diagnostic[]): DiagnosticCounts {
  let errors = 0;
  let warnings = 0;
  for (const d of diags) {
    if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summaryLine(c: DiagnosticCounts): string {
  return `${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}`;
}

/** Prints every diagnostic (with its hint) and, unless `summary: false`, the counts. */
export function printDiagnostics(diags: Diagnostic[], write: (text: string) => void, opts: { summary?: boolean } = {}): DiagnosticCounts {
  for (const d of diags) {
    write(`${formatDiagnostic(d)}\n`);
    if (d.hint) write(`  hint: ${d.hint}\n`);
  }
  const c = countDiagnostics(diags);
  if (opts.summary !== false) write(`${summaryLine(c)}\n`);
  return c;
}
