// The host's lab service: what the lab-runner UI calls through the LabApi.
// Built-in labs come from labs/, imported packs are kept under the data
// directory, progress goes to the current session's SQLite file (through a
// ProgressStore), live checks to the test-bed when it is up.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  exportPack,
  importPack,
  LabError,
  LabRun,
  loadLab,
  MemoryProgressStore,
  type HintView,
  type LabBundle,
  type LabReport,
  type LabState,
  type LabView,
  type LiveRunner,
  type LoadedLab,
  type PackMeta,
  type ProgressStore,
  type SampleResolver,
  type Submission,
  type TaskResult,
} from '../../../core/labs';
import type { LabListEntry } from '../../../core/api';
import type { Diagnostic } from '../../../core/model';
import { gradersFor, graderNames } from '../../../labs/graders';
import { LABS_DIR, SAMPLES_DIR, readLabsDir, sampleResolver } from './library';

/** A lab as the library lists it; the LabApi adds the session's progress (LabListEntry). */
export type LabSummary = Omit<LabListEntry, 'percent' | 'attempts' | 'started'>;

export interface LabServiceOptions {
  labsDir?: string;
  samplesDir?: string;
  /** Where imported packs are written (one folder per lab); none: imports stay in memory. */
  importDir?: string;
  /** The current session's progress store; null when no session is open (progress is then kept in memory). */
  progress: () => ProgressStore | null;
  /** A runner for live checks (the test-bed when it is up). */
  live?: () => LiveRunner | undefined;
}

interface Entry {
  bundle: LabBundle;
  lab: LoadedLab | null;
  diagnostics: Diagnostic[];
  source: LabSummary['source'];
}

export class LabService {
  private readonly samples: SampleResolver;
  private entries: Map<string, Entry> | null = null;
  private readonly runs = new WeakMap<ProgressStore, Map<string, LabRun>>();
  private memoryStore: ProgressStore | null = null;

  constructor(private readonly opts: LabServiceOptions) {
    const app = sampleResolver(opts.samplesDir ?? SAMPLES_DIR);
    // Samples that came with imported packs are kept beside them.
    const imported = opts.importDir ? sampleResolver(join(opts.importDir, '.samples')) : () => undefined;
    this.samples = (id) => app(id) ?? imported(id);
  }

  private load(): Map<string, Entry> {
    if (this.entries) return this.entries;
    const m = new Map<string, Entry>();
    const add = (bundle: LabBundle, source: Entry['source']) => {
      const r = loadLab(bundle, this.samples, { graders: graderNames(bundle.id) });
      m.set(bundle.id, { bundle, lab: r.lab, diagnostics: r.diagnostics, source });
    };
    for (const b of readLabsDir(this.opts.labsDir ?? LABS_DIR)) add(b, 'built-in');
    if (this.opts.importDir && existsSync(this.opts.importDir)) for (const b of readLabsDir(this.opts.importDir)) if (!m.has(b.id)) add(b, 'imported');
    this.entries = m;
    return m;
  }

  private lab(labId: string): LoadedLab {
    const e = this.load().get(labId);
    if (!e) throw new LabError(`no lab "${labId}"`, `labs: ${[...this.load().keys()].join(', ')}`);
    if (!e.lab) throw new LabError(`lab ${labId} has errors and cannot be started`, e.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line ?? 0}: ${d.message}`).join('; '));
    return e.lab;
  }

  private async store(): Promise<ProgressStore> {
    const s = this.opts.progress();
    if (s) return s;
    this.memoryStore ??= new MemoryProgressStore();
    return this.memoryStore;
  }

  private async run(labId: string, seed?: number): Promise<LabRun> {
    const store = await this.store();
    let m = this.runs.get(store);
    if (!m) this.runs.set(store, (m = new Map()));
    const hit = m.get(labId);
    if (hit && (seed === undefined || hit.seed === seed)) return hit;
    const run = await LabRun.start(this.lab(labId), { store, seed, graders: gradersFor(labId), live: this.opts.live?.() });
    m.set(labId, run);
    return run;
  }

  list(): LabSummary[] {
    return [...this.load().values()].map((e) => {
      const d = e.lab?.def;
      return {
        id: e.bundle.id,
        title: d?.title ?? e.bundle.id,
        summary: d?.summary ?? '',
        level: d?.level ?? '',
        estimatedMinutes: d?.estimatedMinutes ?? 0,
        tags: d?.tags ?? [],
        tasks: d?.tasks.length ?? 0,
        points: d?.tasks.reduce((a, t) => a + t.points, 0) ?? 0,
        kinds: d ? [...new Set(d.tasks.map((t) => t.kind))] : [],
        source: e.source,
        errors: e.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.file}:${x.line ?? 0}:${x.column ?? 0}: ${x.message}`),
      };
    });
  }

  /** The current session's progress on a lab: percent of its points (best scores, after hints), attempts, whether it was started. */
  async progress(labId: string): Promise<{ percent: number; attempts: number; started: boolean }> {
    const store = await this.store();
    const def = this.lab(labId).def;
    const rows = await store.list(labId);
    const run = await store.getRun(labId);
    const possible = def.tasks.reduce((a, t) => a + t.points, 0);
    let earned = 0;
    let attempts = 0;
    for (const t of def.tasks) {
      const p = rows.find((r) => r.taskId === t.id);
      if (!p) continue;
      earned += p.bestScore * t.points;
      attempts += p.attempts;
    }
    return { percent: possible ? Math.round((1000 * earned) / possible) / 10 : 0, attempts, started: !!run || rows.length > 0 };
  }

  /** Adds a lab authored in instructor mode (replacing an earlier authored version of the same id; built-in labs are refused). */
  addAuthored(bundle: LabBundle): { imported: string[]; diagnostics: Diagnostic[] } {
    const existing = this.load().get(bundle.id);
    if (existing?.source === 'built-in') {
      return { imported: [], diagnostics: [{ severity: 'error', code: 'lab-exists', message: `a built-in lab is called ${bundle.id}`, file: 'lab.yaml', hint: 'choose another id' }] };
    }
    if (existing) {
      this.load().delete(bundle.id);
      const store = this.opts.progress() ?? this.memoryStore;
      if (store) this.runs.get(store)?.delete(bundle.id);
    }
    return this.importPack(exportPack([bundle], this.samples, { name: bundle.id, createdAt: new Date().toISOString() }), `${bundle.id}.labpack.yaml`);
  }

  /** Starts (or resumes) a lab in the current session; returns what the runner shows. */
  async start(labId: string, opts: { seed?: number } = {}): Promise<LabView> {
    return (await this.run(labId, opts.seed)).view();
  }

  async view(labId: string): Promise<LabView> {
    return (await this.run(labId)).view();
  }

  /** The starting state for the designer: the topology YAML and the kernel changes (for renders). */
  async startState(labId: string): Promise<{ yaml: string; state: LabState }> {
    const r = await this.run(labId);
    return { yaml: r.instance.startYaml, state: r.startState() };
  }

  async check(labId: string, taskId: string, submission: Submission): Promise<TaskResult> {
    return (await this.run(labId)).check(taskId, submission);
  }

  async hint(labId: string, taskId: string): Promise<HintView & { remaining: number }> {
    return (await this.run(labId)).hint(taskId);
  }

  async reset(labId: string, opts: { newSeed?: number } = {}): Promise<LabView> {
    const r = await this.run(labId);
    await r.reset(opts);
    return r.view();
  }

  async report(labId: string): Promise<LabReport> {
    return (await this.run(labId)).report();
  }

  /** One pack file for the given labs (instructor mode). */
  exportPack(labIds: string[], meta: PackMeta, format: 'yaml' | 'json' = 'yaml'): string {
    const bundles = labIds.map((id) => {
      this.lab(id);
      return this.load().get(id)!.bundle;
    });
    return exportPack(bundles, this.samples, { ...meta, createdAt: meta.createdAt ?? new Date().toISOString() }, format);
  }

  /** Validates a pack and adds its labs (written under importDir when set). Labs whose id exists are refused. */
  importPack(text: string, file: string): { imported: string[]; diagnostics: Diagnostic[] } {
    const p = importPack(text, file, this.samples, graderNames);
    const errors = p.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) return { imported: [], diagnostics: p.diagnostics };
    const clash = p.bundles.filter((b) => this.load().has(b.id)).map((b) => b.id);
    if (clash.length) return { imported: [], diagnostics: [...p.diagnostics, { severity: 'error', code: 'pack-lab-exists', message: `lab${clash.length > 1 ? 's' : ''} ${clash.join(', ')} already exist${clash.length > 1 ? '' : 's'}`, file, hint: 'rename the lab in the pack, or remove the imported one first' }] };
    for (const b of p.bundles) {
      if (this.opts.importDir) {
        for (const [name, content] of Object.entries(b.files)) {
          if (name.split('/').some((s) => s === '..' || s === '') || name.startsWith('/')) throw new LabError(`pack file name "${name}" is not allowed`);
          const f = resolve(this.opts.importDir, b.id, name);
          mkdirSync(resolve(f, '..'), { recursive: true });
          writeFileSync(f, content);
        }
        for (const [id, t] of Object.entries(p.samples)) {
          const sf = join(this.opts.importDir, '.samples', `${id}.yaml`);
          if (!existsSync(sf)) {
            mkdirSync(resolve(sf, '..'), { recursive: true });
            writeFileSync(sf, t);
          }
        }
      }
      const lab = p.labs.find((l) => l.def.id === b.id) ?? null;
      this.load().set(b.id, { bundle: b, lab, diagnostics: lab?.diagnostics ?? [], source: 'imported' });
    }
    return { imported: p.bundles.map((b) => b.id), diagnostics: p.diagnostics };
  }
}
