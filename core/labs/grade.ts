// The grading engine: a submission against a lab instance, check by check,
// with partial credit (weighted checks), hint deductions (never below 0 per
// task) and feedback that says what is wrong without giving the answer away.

import { loadTopology, type Diagnostic } from '../model';
import { parseTruthTable } from '../policy';
import { compareRoute, compareValue, type Comparison } from './compare';
import { describeCell, diffMatrices, diffObservables, observeMatrix, type MatrixCell } from './observe';
import type { LabInstance } from './lab';
import { parseCommands, normalizeTarget } from './netchange';
import { runProbe, type ProbeValue } from './probes';
import { checkProperty } from './property';
import { matchPath, type Tracer } from './trace-check';
import { modelTracer } from './tracer';
import {
  LabError,
  type CheckResult,
  type CheckSpec,
  type FieldDiff,
  type LabReport,
  type LabState,
  type LiveRunner,
  type PredictCheck,
  type Submission,
  type TaskAnswer,
  type TaskResult,
  type TaskSpec,
} from './types';
import { LabWorld, parsePort, type PortProto } from './world';

/** What a TypeScript grader (labs/<id>/grader.ts) gets. Keep graders pure. */
export interface GraderContext {
  lab: LabInstance;
  task: TaskSpec;
  /** The student's state for this task. */
  world: LabWorld;
  reference: LabWorld;
  start: LabWorld;
  /** The student's typed answer for the task, if any. */
  answer: TaskAnswer | undefined;
  args: Record<string, unknown>;
  exam: boolean;
}

export interface GraderOutcome {
  /** 0..1 */
  score: number;
  message: string;
  diffs?: FieldDiff[];
}

export type GraderFn = (ctx: GraderContext) => GraderOutcome | Promise<GraderOutcome>;

export interface GradeOptions {
  live?: LiveRunner;
  /** TypeScript graders of this lab by name. */
  graders?: Record<string, GraderFn>;
  /** Overrides the lab's exam flag: hide expected values in feedback. */
  exam?: boolean;
  /** Hints revealed per task. */
  hintsUsed?: Record<string, number>;
  /** The packet walk for path checks (default: core/trace); null skips path checks. */
  tracer?: Tracer | null;
}

interface StudentState {
  state: LabState | null;
  /** Why the student's state could not be built (bad YAML, bad command). */
  error?: string;
  diagnostics: Diagnostic[];
  world?: LabWorld;
}

const FORMAT_NOUN: Record<string, string> = {
  route: 'route',
  routes: 'routing table',
  conntrack: 'conntrack entry',
  'dns-queries': 'query sequence',
  chains: 'chain path',
  'iptables-rule': 'rule',
  'resolv-conf': 'resolv.conf',
};

function round(n: number, d = 4): number {
  const f = 10 ** d;
  return Math.round(n * f) / f;
}

function formatDiag(d: Diagnostic): string {
  return `${d.file ?? ''}${d.line ? `:${d.line}:${d.column ?? 1}` : ''}: ${d.message}${d.path ? ` (${d.path})` : ''}`;
}

function isObj(v: unknown): v is Record<string, TaskAnswer> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Builds the student's state for a task: their topology (or the start) plus the start's kernel faults plus their commands. */
export function studentState(inst: LabInstance, submission: Submission, taskId?: string): StudentState {
  const own = taskId ? submission.answers?.[taskId] : undefined;
  const ownTopology = isObj(own) && typeof own.topology === 'string' ? [{ file: `answers.${taskId}.topology`, text: own.topology }] : undefined;
  const ownCommands = isObj(own) && isObj(own.commands) ? (own.commands as Record<string, unknown>) : undefined;
  const sources = ownTopology ?? submission.topology;
  let topology = inst.start.topology;
  let diagnostics: Diagnostic[] = [];
  if (sources && sources.length) {
    const r = loadTopology(sources);
    diagnostics = r.diagnostics;
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (!r.topology || errors.length) {
      return { state: null, diagnostics, error: `your topology has ${errors.length} error${errors.length === 1 ? '' : 's'}: ${errors.slice(0, 3).map(formatDiag).join('; ')}${errors.length > 3 ? '; …' : ''}` };
    }
    topology = r.topology;
  }
  const cmdMap: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(ownCommands ?? submission.commands ?? {})) cmdMap[normalizeTarget(k)] = (Array.isArray(v) ? v : [v]).map(String);
  let changes;
  try {
    changes = parseCommands(cmdMap);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    return { state: null, diagnostics, error: `${e.message}${e.hint ? ` (${e.hint})` : ''}` };
  }
  const state: LabState = { topology, changes: [...inst.start.changes, ...changes] };
  return { state, diagnostics, world: new LabWorld(state) };
}

function answerFor(task: TaskSpec, c: PredictCheck, submission: Submission): TaskAnswer | undefined {
  const a = submission.answers?.[task.id];
  if (c.answerKey) return isObj(a) ? a[c.answerKey] : undefined;
  if (isObj(a)) {
    const vals = Object.values(a);
    return vals.length === 1 ? vals[0] : undefined;
  }
  return a;
}

function probeText(v: ProbeValue): string | string[] {
  return Array.isArray(v) ? v.map(String) : String(v);
}

function hideExpected(diffs: FieldDiff[] | undefined, exam: boolean): FieldDiff[] | undefined {
  if (!diffs) return undefined;
  return exam ? diffs.map(({ field, got }) => ({ field, got })) : diffs;
}

function predictMessage(c: PredictCheck, cmp: Comparison): string {
  if (cmp.diffs.length === 0) return 'correct';
  const noun = FORMAT_NOUN[c.format] ?? 'answer';
  const first = cmp.diffs[0].field;
  const more = cmp.diffs.length > 1 ? ` (and ${cmp.diffs.length - 1} more difference${cmp.diffs.length > 2 ? 's' : ''})` : '';
  if (['number', 'integer', 'text', 'ip', 'cidr', 'choice'].includes(c.format)) return `your ${noun} is not right`;
  return `your ${noun}'s ${first} is wrong${more}`;
}

async function runCheck(inst: LabInstance, task: TaskSpec, c: CheckSpec, index: number, submission: Submission, student: StudentState, opts: GradeOptions, exam: boolean): Promise<CheckResult> {
  const id = c.id ?? `${c.type}-${index + 1}`;
  const base = { id, type: c.type, title: c.title, weight: c.weight ?? 1 };
  const fail = (message: string, extra: Partial<CheckResult> = {}): CheckResult => ({ ...base, score: 0, passed: false, message: c.feedback ?? message, ...extra });
  const needsState = c.type !== 'predict' && c.type !== 'live' && !(c.type === 'path' && c.on === 'reference');
  if (needsState && !student.world) return fail(student.error ?? 'no state to grade', { error: student.error });
  const ref = inst.world('reference');
  try {
    switch (c.type) {
      case 'property': {
        const r = checkProperty(c.expr, { world: student.world!, reference: ref });
        if (r.value === true) return { ...base, score: 1, passed: true, message: 'holds' };
        // An author's feedback replaces the generated message and its diffs (they could name the answer).
        return fail(r.whyFalse ?? `${c.title ?? 'the condition'} does not hold`, { diffs: c.feedback ? undefined : hideExpected(r.diffs, exam) });
      }
      case 'matrix': {
        const ports: PortProto[] = c.ports.map((p) => parsePort(String(p)));
        let want: Map<string, MatrixCell>;
        if (c.expected) {
          want = new Map();
          for (const [portKey, tableText] of Object.entries(c.expected)) {
            const p = parsePort(portKey);
            const tt = parseTruthTable(tableText);
            tt.froms.forEach((f, i) => tt.tos.forEach((t, j) => f !== t && want.set(`${f}|${t}|${p.port}/${p.protocol}`, { from: f, to: t, port: `${p.port}/${p.protocol}`, allowed: tt.values[i][j] })));
          }
        } else want = observeMatrix(ref, ports, c.pods ?? '*', c.externals ?? []);
        const got = observeMatrix(student.world!, ports, c.pods ?? '*', c.externals ?? []);
        const d = diffMatrices(got, want);
        if (d.wrong.length === 0) return { ...base, score: 1, passed: true, message: `all ${d.total} connections as required` };
        const startD = diffMatrices(observeMatrix(inst.world('start'), ports, c.pods ?? '*', c.externals ?? []), want).wrong.length;
        const denom = startD > 0 ? startD : d.total;
        const score = Math.max(0, 1 - d.wrong.length / denom);
        return fail(`${d.wrong.length} of ${d.total} connections differ from what is required, e.g. ${d.wrong.slice(0, 2).map(describeCell).join('; ')}`, { score: round(score) });
      }
      case 'unchanged': {
        // Only what the student changed counts: differences the starting state
        // already had belong to the task itself (its fault or its goal).
        const o = { ports: c.ports?.map(String), allow: c.allow };
        const before = new Map(diffObservables(inst.world('start'), ref, c.observe, o).map((d) => [d.observable, new Set(d.changes)]));
        const diffs = diffObservables(student.world!, ref, c.observe, o).map((d) => ({ ...d, changes: d.changes.filter((x) => !before.get(d.observable)?.has(x)) }));
        const broken = diffs.filter((d) => d.changes.length);
        if (!broken.length) return { ...base, score: 1, passed: true, message: `nothing else changed (${c.observe.join(', ')})` };
        const score = 1 - broken.length / diffs.length;
        return fail(`something else changed: ${broken.map((b) => `${b.observable}: ${b.changes.slice(0, 2).join('; ')}${b.changes.length > 2 ? ` (+${b.changes.length - 2} more)` : ''}`).join(' | ')}`, { score: round(score) });
      }
      case 'fault-symptoms': {
        const syms = inst.faults.flatMap((f) => f.symptoms);
        if (!syms.length) return fail('the lab injected no fault (lab error)', { error: 'no faults' });
        const bad: string[] = [];
        for (const s of syms) {
          const r = checkProperty(s, { world: student.world!, reference: ref });
          if (r.value !== true) bad.push(r.whyFalse ?? s);
        }
        if (!bad.length) return { ...base, score: 1, passed: true, message: 'the symptoms are gone' };
        return fail(`the problem is still there: ${bad[0]}${bad.length > 1 ? ` (${bad.length - 1} more symptom${bad.length > 2 ? 's' : ''})` : ''}`, { score: round(1 - bad.length / syms.length) });
      }
      case 'predict': {
        let expected: string | string[] | number | (string | number)[];
        if (c.probe) expected = probeText(runProbe(inst.world(c.on === 'start' ? 'start' : 'reference'), c.probe.name, c.probe.args ?? {}));
        else if (c.expected !== undefined) expected = c.expected as string | number | (string | number)[];
        else {
          const v = inst.lab.def.answer.values?.[task.id];
          if (v === undefined || isObj(v)) throw new LabError(`task ${task.id}: no expected value`);
          expected = v as string | number | (string | number)[];
        }
        const got = answerFor(task, c, submission);
        if (got === undefined || got === '') return fail(`no answer given${c.answerKey ? ` for ${c.answerKey}` : ''}`);
        const cmp = compareValue(c.format, got, expected, { ignore: c.ignore, tolerance: c.tolerance, options: c.options });
        const passed = cmp.diffs.length === 0;
        return { ...base, score: round(cmp.score), passed, message: passed ? 'correct' : (c.feedback ?? predictMessage(c, cmp)), diffs: passed ? undefined : hideExpected(cmp.diffs, exam) };
      }
      case 'path': {
        const tracer = opts.tracer === undefined ? modelTracer : opts.tracer;
        if (!tracer) return { ...base, score: 0, passed: false, skipped: true, message: 'not graded: no packet walk available' };
        const pp = parsePort(String(c.port));
        const state = c.on === 'reference' ? inst.reference : student.state!;
        const tr = tracer(state, { from: c.from, to: c.to, port: pp.port, protocol: pp.protocol });
        const m = matchPath(c.direction ? tr.events.filter((e) => e.direction === c.direction) : tr.events, c.expect, c.forbid);
        if (!m.missing && !m.forbidden) return { ...base, score: 1, passed: true, message: 'the packet takes the required path' };
        if (m.forbidden) return fail(`the packet passes ${m.forbidden.event}, which it must not`, { score: round((m.matched / c.expect.length) * 0.5) });
        const step = m.matched + 1;
        return fail(`the packet does not take the required path: hop ${step} of ${c.expect.length} is not reached${tr.dropped ? ` (the walk ends: ${tr.dropped})` : ''}`, { score: round(m.matched / c.expect.length) });
      }
      case 'live': {
        if (!opts.live) return { ...base, score: 0, passed: false, skipped: true, message: 'not graded: no test-bed or remote node is connected' };
        const r = await opts.live.run(c.target, c.command, { timeoutMs: c.timeoutMs });
        const problems: string[] = [];
        const e = c.expect;
        if (r.timedOut) problems.push(`\`${c.command.join(' ')}\` did not finish in time`);
        if (e.exitCode !== undefined && r.exitCode !== e.exitCode) problems.push(`\`${c.command.join(' ')}\` on ${c.target} exited with ${r.exitCode}${r.stderr.trim() ? ` (${r.stderr.trim().split('\n')[0].slice(0, 200)})` : ''}`);
        for (const s of e.stdoutContains ?? []) if (!r.stdout.includes(s)) problems.push(`the output of \`${c.command.join(' ')}\` does not show what is required`);
        if (e.stdoutMatches && !new RegExp(e.stdoutMatches, 'm').test(r.stdout)) problems.push(`the output of \`${c.command.join(' ')}\` does not match what is required`);
        const routes = [...(e.routes ?? [])];
        if (e.routesFromProbe) {
          const v = runProbe(ref, e.routesFromProbe.name, e.routesFromProbe.args ?? {});
          routes.push(...(Array.isArray(v) ? v.map(String) : String(v).split('\n')).filter((x) => x.trim()));
        }
        const got = r.stdout.split('\n').filter((l) => l.trim());
        for (const want of routes) if (!got.some((l) => compareRoute(l, want).diffs.length === 0)) problems.push(`${c.target} has no route ${exam ? 'matching the model' : want.trim()}`);
        if (!problems.length) return { ...base, score: 1, passed: true, message: `${c.target} (${opts.live.describe()}): as required` };
        return fail(problems.join('; '), { score: 0 });
      }
      case 'grader': {
        const g = opts.graders?.[c.name];
        if (!g) return fail(`grader ${c.name} is not available`, { error: `no grader ${c.name}` });
        const out = await g({ lab: inst, task, world: student.world!, reference: ref, start: inst.world('start'), answer: submission.answers?.[task.id], args: c.args ?? {}, exam });
        const score = Math.max(0, Math.min(1, out.score));
        return { ...base, score: round(score), passed: score >= 1, message: score >= 1 ? out.message : (c.feedback ?? out.message), diffs: score >= 1 ? undefined : hideExpected(out.diffs, exam) };
      }
    }
  } catch (e) {
    if (e instanceof LabError || (e instanceof Error && (e.name === 'CniModelError' || e.name === 'PolicyInputError' || e.name === 'RenderError'))) {
      const hint = (e as { hint?: string }).hint;
      return fail(`${e.message}${hint ? ` (${hint})` : ''}`, { error: e.message });
    }
    throw e;
  }
}

/** Grades one task. */
export async function gradeTask(inst: LabInstance, taskId: string, submission: Submission, opts: GradeOptions = {}, cache?: Map<string, StudentState>): Promise<TaskResult> {
  const task = inst.lab.def.tasks.find((t) => t.id === taskId);
  if (!task) throw new LabError(`lab ${inst.lab.def.id} has no task "${taskId}"`, `tasks: ${inst.lab.def.tasks.map((t) => t.id).join(', ')}`);
  const exam = opts.exam ?? inst.lab.def.exam;
  const own = submission.answers?.[taskId];
  const key = isObj(own) && (own.topology || own.commands) ? `task:${taskId}` : 'shared';
  let student = cache?.get(key);
  if (!student) {
    student = studentState(inst, submission, taskId);
    cache?.set(key, student);
  }
  const checks: CheckResult[] = [];
  for (let i = 0; i < task.checks.length; i++) checks.push(await runCheck(inst, task, task.checks[i], i, submission, student, opts, exam));
  const graded = checks.filter((c) => !c.skipped);
  const wsum = graded.reduce((a, c) => a + c.weight, 0);
  const frac = wsum > 0 ? graded.reduce((a, c) => a + c.weight * c.score, 0) / wsum : 0;
  const hintsUsed = Math.min(opts.hintsUsed?.[taskId] ?? 0, task.hints.length);
  const hintCost = task.hints.slice(0, hintsUsed).reduce((a, h) => a + h.cost, 0);
  const raw = round(task.points * frac);
  const earned = round(Math.max(0, raw - hintCost));
  const feedback: string[] = [];
  if (student.world) for (const e of student.world.dataplaneErrors()) feedback.push(`a command failed: ${e}`);
  for (const c of checks) if (!c.passed && !c.skipped) feedback.push(c.title ? `${c.title}: ${c.message}` : c.message);
  return {
    labId: inst.lab.def.id,
    taskId,
    kind: task.kind,
    points: task.points,
    raw,
    earned,
    score: round(earned / task.points),
    hintsUsed,
    hintCost,
    checks,
    passed: graded.length > 0 && graded.every((c) => c.passed),
    skipped: graded.length === 0,
    feedback,
  };
}

/** Grades every task and sums the score. */
export async function gradeLab(inst: LabInstance, submission: Submission, opts: GradeOptions = {}): Promise<LabReport> {
  const cache = new Map<string, StudentState>();
  const tasks: TaskResult[] = [];
  for (const t of inst.lab.def.tasks) tasks.push(await gradeTask(inst, t.id, submission, opts, cache));
  return buildReport(inst, tasks);
}

export function buildReport(inst: LabInstance, tasks: TaskResult[]): LabReport {
  const counted = tasks.filter((t) => !t.skipped);
  const earned = round(counted.reduce((a, t) => a + t.earned, 0), 2);
  const possible = counted.reduce((a, t) => a + t.points, 0);
  const def = inst.lab.def;
  const debrief = [
    ...inst.faults.map((f) => `Injected fault: ${f.description}`),
    ...def.seedNotes.map((n) => `Seed note: ${n}`),
    ...def.tasks.filter((t) => t.seedNote).map((t) => `Seed note (${t.id}): ${t.seedNote}`),
  ];
  return { labId: def.id, title: def.title, seed: inst.seed, tasks, earned, possible, percent: possible > 0 ? Math.round((earned / possible) * 1000) / 10 : 0, debrief };
}
