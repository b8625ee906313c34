// The shape of a model-vs-real comparison: per node, per check, the
// differences found, each explained in words and marked explained (a known,
// legitimate difference) or not (the node does not do what the model says).

export type CheckName = 'routes' | 'rules' | 'iptables' | 'conntrack' | 'tcpdump' | 'dns' | 'policy' | 'cni';

export const CHECK_NAMES: readonly CheckName[] = ['routes', 'rules', 'iptables', 'conntrack', 'tcpdump', 'dns', 'policy', 'cni'];

export type ItemKind = 'missing' | 'extra' | 'changed';

export interface DiffItem {
  /** missing: the model has it, the node does not; extra: the node has it, the model does not; changed: both, different. */
  kind: ItemKind;
  /** What the model says, in the tool's own spelling where there is one. */
  model?: string;
  /** What the node printed (normalised). */
  real?: string;
  /** Where: a table/chain, a route prefix, a pod pair, a JSON field path. */
  where?: string;
  explanation: string;
  /** True for a known, legitimate difference (timing, naming, a documented test-bed choice). */
  explained: boolean;
}

export type CheckStatus = 'match' | 'explained' | 'different';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  items: DiffItem[];
  /** How many things were compared (routes, rules, entries, packets, pairs, fields). */
  compared: number;
  /** One line about what was compared and how. */
  summary: string;
  /** Context that is not a difference (e.g. rules outside the compared chains, counts). */
  notes?: string[];
}

export interface SkippedCheck {
  check: CheckName;
  reason: string;
}

export interface NodeReport {
  node: string;
  /** `testbed`, `ssh://root@127.0.0.1:2201`, `docker://kind-worker`. */
  via?: string;
  checks: CheckResult[];
  skipped?: SkippedCheck[];
  /** Known differences of the target (e.g. the test-bed's documented choices). */
  notes?: string[];
}

export function statusOf(items: readonly DiffItem[]): CheckStatus {
  if (items.length === 0) return 'match';
  return items.every((i) => i.explained) ? 'explained' : 'different';
}

export function checkResult(check: CheckName, items: DiffItem[], compared: number, summary: string, notes?: string[]): CheckResult {
  const r: CheckResult = { check, status: statusOf(items), items, compared, summary };
  if (notes && notes.length) r.notes = notes;
  return r;
}

/**
 * A caller's own explanations (e.g. the test-bed's documented choices): each
 * unexplained item the callback explains gets the text appended and counts as
 * explained.
 */
export function applyExplanations(items: DiffItem[], explain: ((item: DiffItem) => string | undefined) | undefined): void {
  if (!explain) return;
  for (const it of items) {
    if (it.explained) continue;
    const e = explain(it);
    if (e) {
      it.explanation = `${it.explanation}. ${e}`;
      it.explained = true;
    }
  }
}

/** True when any check of any report has an unexplained difference. */
export function hasUnexplained(reports: readonly NodeReport[]): boolean {
  return reports.some((r) => r.checks.some((c) => c.status === 'different'));
}

/** A check that could not read the node's data: one unexplained item saying why. */
export function failedCheck(check: CheckName, what: string, why: string): CheckResult {
  return checkResult(check, [{ kind: 'missing', explanation: `${what}: ${why}`, explained: false }], 0, `could not compare: ${what}`);
}
