// The lab-runner API the UI (and the CLI) drive: start a lab in a session,
// check a task, reveal a hint, reset, and report. Progress (attempts, best
// score, hints used, last submission) goes through a ProgressStore, which the
// Electron host implements on the session's SQLite file.

import { buildReport, gradeTask, type GradeOptions, type GraderFn } from './grade';
import { DEFAULT_SEED, type LabInstance, type LoadedLab } from './lab';
import type { Tracer } from './trace-check';
import { LabError, type HintSpec, type LabLevel, type LabProgress, type LabReport, type LabRunRecord, type LabState, type LiveRunner, type ProgressStore, type Submission, type TaskKind, type TaskResult } from './types';
import { LabWorld } from './world';

/** Progress kept in memory (tests, the CLI, the browser without a session). */
export class MemoryProgressStore implements ProgressStore {
  private readonly rows = new Map<string, LabProgress>();
  private readonly runs = new Map<string, LabRunRecord>();

  async get(labId: string, taskId: string): Promise<LabProgress | undefined> {
    const r = this.rows.get(`${labId}\u0000${taskId}`);
    return r ? { ...r } : undefined;
  }
  async list(labId?: string): Promise<LabProgress[]> {
    return [...this.rows.values()].filter((r) => labId === undefined || r.labId === labId).map((r) => ({ ...r }));
  }
  async put(p: LabProgress): Promise<void> {
    this.rows.set(`${p.labId}\u0000${p.taskId}`, { ...p });
  }
  async getRun(labId: string): Promise<LabRunRecord | undefined> {
    const r = this.runs.get(labId);
    return r ? { ...r } : undefined;
  }
  async putRun(r: LabRunRecord): Promise<void> {
    this.runs.set(r.labId, { ...r });
  }
  async reset(labId: string): Promise<void> {
    for (const k of [...this.rows.keys()]) if (k.startsWith(`${labId}\u0000`)) this.rows.delete(k);
    this.runs.delete(labId);
  }
}

export interface LabRunOptions {
  store?: ProgressStore;
  live?: LiveRunner;
  /** TypeScript graders of this lab (labs/graders.ts: gradersFor(id)). */
  graders?: Record<string, GraderFn>;
  tracer?: Tracer | null;
  exam?: boolean;
  /** The seed for random faults; default: the seed recorded for this lab in the store, else one from the clock. */
  seed?: number;
  now?: () => Date;
}

export interface HintView {
  index: number;
  text: string;
  cost: number;
}

export interface TaskView {
  id: string;
  title: string;
  kind: TaskKind;
  /** Markdown. */
  prompt: string;
  points: number;
  answerFormat?: string;
  /** Hints already revealed (their texts) and what the next one costs. */
  hints: { revealed: HintView[]; remaining: number; nextCost?: number };
  attempts: number;
  /** 0..1, after hint deductions. */
  bestScore: number;
  /** The last submission's JSON, to put back in the editor. */
  lastSubmission: string | null;
  /** What the answer looks like in the UI: a topology edit, typed text, or nothing (live). */
  input: 'topology' | 'text' | 'fields' | 'none';
  /** For `fields` input: the answer keys and their formats. */
  fields?: { key: string; format: string; options?: string[] }[];
}

export interface LabView {
  labId: string;
  title: string;
  summary: string;
  level: LabLevel;
  estimatedMinutes: number;
  objectives: string[];
  seed: number;
  startedAt: string;
  /** The topology the student starts from (load it into the editor / designer). */
  startYaml: string;
  tasks: TaskView[];
  /** Sum of best scores. */
  earned: number;
  possible: number;
  percent: number;
}

function inputOf(t: LoadedLab['def']['tasks'][number]): Pick<TaskView, 'input' | 'fields'> {
  const predicts = t.checks.filter((c) => c.type === 'predict');
  if (t.kind === 'live') return { input: 'none' };
  if (predicts.length > 1 || predicts.some((c) => c.type === 'predict' && c.answerKey)) {
    return { input: 'fields', fields: predicts.map((c) => (c.type === 'predict' ? { key: c.answerKey ?? 'answer', format: c.format, options: c.options } : { key: '', format: '' })) };
  }
  if (predicts.length === 1) return { input: 'text', fields: predicts.map((c) => (c.type === 'predict' ? { key: 'answer', format: c.format, options: c.options } : { key: '', format: '' })) };
  return { input: 'topology' };
}

export class LabRun {
  private readonly store: ProgressStore;
  private readonly now: () => Date;
  private constructor(
    readonly lab: LoadedLab,
    private inst: LabInstance,
    private record: LabRunRecord,
    private readonly opts: LabRunOptions,
  ) {
    this.store = opts.store ?? new MemoryProgressStore();
    this.now = opts.now ?? (() => new Date());
  }

  /** Starts (or resumes, with its recorded seed) a lab. */
  static async start(lab: LoadedLab, opts: LabRunOptions = {}): Promise<LabRun> {
    const store = opts.store ?? new MemoryProgressStore();
    const now = opts.now ?? (() => new Date());
    let record = await store.getRun(lab.def.id);
    if (!record || (opts.seed !== undefined && record.seed !== opts.seed)) {
      const seed = opts.seed ?? (lab.def.start.randomFault ? (now().getTime() % 2147483647) + 1 : DEFAULT_SEED);
      record = { labId: lab.def.id, seed, startedAt: now().toISOString() };
      await store.putRun(record);
    }
    return new LabRun(lab, lab.instance(record.seed), record, { ...opts, store });
  }

  get seed(): number {
    return this.record.seed;
  }

  get instance(): LabInstance {
    return this.inst;
  }

  /** The starting state (topology plus kernel changes), for the designer and the renderers. */
  startState(): LabState {
    return this.inst.start;
  }

  /** A world over the starting state (dataplane with the kernel faults applied) for renders. */
  startWorld(): LabWorld {
    return this.inst.world('start');
  }

  private task(taskId: string) {
    const t = this.lab.def.tasks.find((x) => x.id === taskId);
    if (!t) throw new LabError(`lab ${this.lab.def.id} has no task "${taskId}"`, `tasks: ${this.lab.def.tasks.map((x) => x.id).join(', ')}`);
    return t;
  }

  private async progress(taskId: string): Promise<LabProgress> {
    return (await this.store.get(this.lab.def.id, taskId)) ?? { labId: this.lab.def.id, taskId, attempts: 0, bestScore: 0, hintsUsed: 0, lastSubmission: null, updatedAt: this.record.startedAt };
  }

  async view(): Promise<LabView> {
    const d = this.lab.def;
    const tasks: TaskView[] = [];
    let earned = 0;
    let possible = 0;
    for (const t of d.tasks) {
      const p = await this.progress(t.id);
      const revealed = t.hints.slice(0, p.hintsUsed).map((h: HintSpec, i) => ({ index: i, text: h.text, cost: h.cost }));
      tasks.push({
        id: t.id,
        title: t.title,
        kind: t.kind,
        prompt: t.prompt,
        points: t.points,
        answerFormat: t.answerFormat,
        hints: { revealed, remaining: t.hints.length - p.hintsUsed, nextCost: t.hints[p.hintsUsed]?.cost },
        attempts: p.attempts,
        bestScore: p.bestScore,
        lastSubmission: p.lastSubmission,
        ...inputOf(t),
      });
      earned += p.bestScore * t.points;
      possible += t.points;
    }
    return {
      labId: d.id,
      title: d.title,
      summary: d.summary,
      level: d.level,
      estimatedMinutes: d.estimatedMinutes,
      objectives: d.objectives,
      seed: this.record.seed,
      startedAt: this.record.startedAt,
      startYaml: this.inst.startYaml,
      tasks,
      earned: Math.round(earned * 100) / 100,
      possible,
      percent: possible ? Math.round((earned / possible) * 1000) / 10 : 0,
    };
  }

  private gradeOptions(hintsUsed: Record<string, number>): GradeOptions {
    return { live: this.opts.live, graders: this.opts.graders, tracer: this.opts.tracer, exam: this.opts.exam, hintsUsed };
  }

  /** Grades one task, records the attempt, returns the result with feedback. */
  async check(taskId: string, submission: Submission): Promise<TaskResult> {
    this.task(taskId);
    const p = await this.progress(taskId);
    const r = await gradeTask(this.inst, taskId, submission, this.gradeOptions({ [taskId]: p.hintsUsed }));
    if (!r.skipped) {
      p.attempts += 1;
      p.bestScore = Math.max(p.bestScore, r.score);
    }
    p.lastSubmission = JSON.stringify(submission);
    p.updatedAt = this.now().toISOString();
    await this.store.put(p);
    return r;
  }

  /** Reveals the next hint of a task (its cost is deducted from the task from now on). */
  async hint(taskId: string): Promise<HintView & { remaining: number }> {
    const t = this.task(taskId);
    const p = await this.progress(taskId);
    if (p.hintsUsed >= t.hints.length) throw new LabError(`task ${taskId} has no more hints`, 'all hints are shown');
    const h = t.hints[p.hintsUsed];
    p.hintsUsed += 1;
    p.updatedAt = this.now().toISOString();
    await this.store.put(p);
    return { index: p.hintsUsed - 1, text: h.text, cost: h.cost, remaining: t.hints.length - p.hintsUsed };
  }

  /** Forgets progress; `newSeed` draws another random fault. */
  async reset(opts: { newSeed?: number } = {}): Promise<void> {
    await this.store.reset(this.lab.def.id);
    const seed = opts.newSeed ?? this.record.seed;
    this.record = { labId: this.lab.def.id, seed, startedAt: this.now().toISOString() };
    await this.store.putRun(this.record);
    this.inst = this.lab.instance(seed);
  }

  /** Re-grades every task's last submission (with the hints used) into a report. */
  async report(): Promise<LabReport> {
    const results: TaskResult[] = [];
    for (const t of this.lab.def.tasks) {
      const p = await this.progress(t.id);
      const sub: Submission = p.lastSubmission ? (JSON.parse(p.lastSubmission) as Submission) : {};
      results.push(await gradeTask(this.inst, t.id, sub, this.gradeOptions({ [t.id]: p.hintsUsed })));
    }
    return buildReport(this.inst, results);
  }
}

// Function forms, for callers that prefer them (the UI's lab-runner store).
export const startLab = (lab: LoadedLab, opts?: LabRunOptions): Promise<LabRun> => LabRun.start(lab, opts);
export const checkTask = (run: LabRun, taskId: string, submission: Submission): Promise<TaskResult> => run.check(taskId, submission);
export const useHint = (run: LabRun, taskId: string): Promise<HintView & { remaining: number }> => run.hint(taskId);
export const resetLab = (run: LabRun, opts?: { newSeed?: number }): Promise<void> => run.reset(opts);
export const report = (run: LabRun): Promise<LabReport> => run.report();
