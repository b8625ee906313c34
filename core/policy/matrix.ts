// Reachability truth tables printed the way the upstream netpol e2e tests
// print theirs (kubernetes test/e2e/network/netpol/truthtable.go,
// TruthTable.PrettyPrint): a header row "-" + the destination names, one
// row per source, cells joined by tabs, "." allowed and "X" denied.

import type { Protocol } from '../model/types';
import { bitGet, type CompiledPolicies } from './compiled';
import { podKey } from './semantics';

export interface TruthTable {
  froms: string[];
  tos: string[];
  /** values[i][j]: froms[i] -> tos[j] allowed. */
  values: boolean[][];
}

export function truthTable(c: CompiledPolicies, port: number, protocol: Protocol = 'TCP'): TruthTable {
  const rows = c.matrix(port, protocol);
  // Present pods in namespace/name order (which is the compiled index order).
  const names = c.pods.map(podKey);
  const values = rows.map((row) => names.map((_, j) => bitGet(row, j)));
  return { froms: names, tos: names, values };
}

export function prettyPrint(tt: TruthTable, indent = ''): string {
  const lines = [indent + ['-', ...tt.tos].join('\t')];
  tt.froms.forEach((from, i) => {
    lines.push(indent + [from, ...tt.values[i].map((v) => (v ? '.' : 'X'))].join('\t'));
  });
  return lines.join('\n');
}

/**
 * Parses a whitespace-aligned table in the PrettyPrint layout (header "-" and
 * pod names, then one row per source). Used by tests to write expected matrices by hand.
 */
export function parseTruthTable(text: string): TruthTable {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const header = lines[0].split(/\s+/);
  if (header[0] !== '-') throw new Error('truth table header must start with "-"');
  const tos = header.slice(1);
  const froms: string[] = [];
  const values: boolean[][] = [];
  for (const l of lines.slice(1)) {
    const cells = l.split(/\s+/);
    froms.push(cells[0]);
    const row = cells.slice(1).map((c) => {
      if (c === '.') return true;
      if (c === 'X' || c === 'x') return false;
      throw new Error(`bad cell "${c}" in row ${cells[0]}`);
    });
    if (row.length !== tos.length) throw new Error(`row ${cells[0]} has ${row.length} cells, header has ${tos.length}`);
    values.push(row);
  }
  return { froms, tos, values };
}

/** Cells that differ between two tables, as "from -> to: expected ., got X". */
export function diffTruthTables(expected: TruthTable, actual: TruthTable): string[] {
  const out: string[] = [];
  expected.froms.forEach((from, i) => {
    const ai = actual.froms.indexOf(from);
    expected.tos.forEach((to, j) => {
      const aj = actual.tos.indexOf(to);
      if (ai < 0 || aj < 0) {
        out.push(`${from} -> ${to}: missing from the computed table`);
        return;
      }
      const e = expected.values[i][j];
      const a = actual.values[ai][aj];
      if (e !== a) out.push(`${from} -> ${to}: expected ${e ? '.' : 'X'}, got ${a ? '.' : 'X'}`);
    });
  });
  return out;
}
