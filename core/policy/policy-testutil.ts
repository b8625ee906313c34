// Test helper: checks a hand-written truth table against every evaluator
// (naive, compiled single verdicts, compiled matrix, iptables walk, Cilium
// map). Lives outside *.test.ts so several test files share it.

import type { Protocol } from '../model/types';
import { buildCalicoDataplane } from './calico';
import { buildCiliumDataplane } from './cilium';
import { compilePolicies } from './compiled';
import { diffTruthTables, parseTruthTable, truthTable, type TruthTable } from './matrix';
import { naiveAllowed } from './naive';
import { buildContext, type PolicyTopology } from './semantics';
import type { EvalOptions } from './types';

export interface MatrixCheck {
  /** Mismatches per evaluator (empty when all agree with the expected table). */
  naive: string[];
  compiled: string[];
  matrix: string[];
  iptables: string[];
  cilium: string[];
}

export function checkMatrix(topo: PolicyTopology, port: number, protocol: Protocol, expectedText: string, opts: EvalOptions = {}): MatrixCheck {
  const expected = parseTruthTable(expectedText);
  const ctx = buildContext(topo, opts);
  const compiled = compilePolicies(topo, opts);
  const fromFn = (fn: (from: string, to: string) => boolean): TruthTable => ({
    froms: expected.froms,
    tos: expected.tos,
    values: expected.froms.map((f) => expected.tos.map((t) => fn(f, t))),
  });
  const naive = fromFn((from, to) => naiveAllowed(ctx, { from, to, port, protocol }));
  const single = fromFn((from, to) => compiled.verdict({ from, to, port, protocol }));
  const mat = truthTable(compiled, port, protocol);
  const out: MatrixCheck = {
    naive: diffTruthTables(expected, naive),
    compiled: diffTruthTables(expected, single),
    matrix: diffTruthTables(expected, mat),
    iptables: [],
    cilium: [],
  };
  const mode = opts.ipBlockClusterIPs ?? 'match';
  if (mode === 'match') {
    const calico = buildCalicoDataplane(topo);
    out.iptables = diffTruthTables(expected, fromFn((from, to) => calico.verdict({ from, to, port, protocol }).allowed));
  }
  // The Cilium map follows 'ignore' semantics; check it whenever that gives the expected table.
  const ignoreCtx = buildContext(topo, { ipBlockClusterIPs: 'ignore' });
  const ignoreTable = fromFn((from, to) => naiveAllowed(ignoreCtx, { from, to, port, protocol }));
  if (mode === 'ignore' || diffTruthTables(expected, ignoreTable).length === 0) {
    const cilium = buildCiliumDataplane(topo);
    out.cilium = diffTruthTables(expected, fromFn((from, to) => cilium.verdict({ from, to, port, protocol }).allowed));
  }
  return out;
}

export const AGREE: MatrixCheck = { naive: [], compiled: [], matrix: [], iptables: [], cilium: [] };
