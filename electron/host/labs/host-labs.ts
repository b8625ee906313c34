// The LabApi's lab methods on the host: the LabService wired to the current
// session's SQLite file (progress), the test-bed (live checks) and the data
// directory (imported and authored labs). Lab errors become LabApiErrors that
// say what to do next.

import { join } from 'node:path';
import { LabApiError } from '../../../core/api';
import type { LabApi, LabListEntry } from '../../../core/api';
import { LabError, suggestChecks, authorAndValidate, type ProgressStore } from '../../../core/labs';
import type { SessionManager } from '../store';
import type { SessionDb } from '../store/session-db';
import { SqliteProgressStore } from './progress-store';
import { TestbedRunner, testbedAvailable } from './live-runner';
import { LabService } from './service';
import { sampleResolver, SAMPLES_DIR } from './library';

type LabMethods = Pick<
  LabApi,
  'labList' | 'labStart' | 'labView' | 'labStartState' | 'labCheck' | 'labHint' | 'labReset' | 'labReport' | 'labExportPack' | 'labImportPack' | 'labSuggestChecks' | 'labAuthor'
>;

export interface HostLabsOptions {
  dataDir: string;
  sessions: SessionManager;
  labsDir?: string;
  samplesDir?: string;
  /** Default: the local test-bed when it is up. */
  live?: () => ReturnType<NonNullable<ConstructorParameters<typeof LabService>[0]['live']>>;
}

async function guard<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LabError) throw new LabApiError('lab', err.message, err.hint ?? 'Check the lab id and task id, or reset the lab.');
    if (err instanceof Error && err.name === 'LabSchemaTooNewError') throw new LabApiError('lab', err.message, 'Open the session with the newer version of the lab that wrote it.');
    throw err;
  }
}

export function createHostLabs(opts: HostLabsOptions): LabMethods {
  let cached: { db: SessionDb; store: ProgressStore } | null = null;
  const progress = (): ProgressStore | null => {
    const db = opts.sessions.currentDb();
    if (!db) return null;
    if (cached?.db === db) return cached.store;
    const handle = db.database();
    if (!handle) return null;
    cached = { db, store: SqliteProgressStore.open(handle) };
    return cached.store;
  };
  const service = new LabService({
    labsDir: opts.labsDir,
    samplesDir: opts.samplesDir,
    importDir: join(opts.dataDir, 'labs'),
    progress,
    live: opts.live ?? (() => (testbedAvailable() ? new TestbedRunner() : undefined)),
  });
  const samples = sampleResolver(opts.samplesDir ?? SAMPLES_DIR);

  return {
    labList: () =>
      guard(async () => {
        const out: LabListEntry[] = [];
        for (const l of service.list()) {
          const p = l.errors.length ? { percent: 0, attempts: 0, started: false } : await service.progress(l.id);
          out.push({ ...l, ...p });
        }
        return out;
      }),
    labStart: (id, o) => guard(() => service.start(id, o ?? {})),
    labView: (id) => guard(() => service.view(id)),
    labStartState: (id) =>
      guard(async () => {
        const s = await service.startState(id);
        return { yaml: s.yaml, changes: s.state.changes };
      }),
    labCheck: (id, task, submission) => guard(() => service.check(id, task, submission)),
    labHint: (id, task) => guard(() => service.hint(id, task)),
    labReset: (id, o) => guard(() => service.reset(id, o ?? {})),
    labReport: (id) => guard(() => service.report(id)),
    labExportPack: (ids, meta, format) =>
      guard(() => {
        const fmt = format ?? 'yaml';
        const text = service.exportPack(ids, meta, fmt);
        const base = (meta.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'labs').slice(0, 80);
        return { filename: `${base}.labpack.${fmt}`, mediaType: fmt === 'json' ? 'application/json' : 'application/yaml', text };
      }),
    labImportPack: (text, file) => guard(() => service.importPack(text, file)),
    labSuggestChecks: (start, answer) => guard(() => suggestChecks(start, answer)),
    labAuthor: (input) =>
      guard(() => {
        const r = authorAndValidate(input, samples);
        if (!r.lab || r.diagnostics.some((d) => d.severity === 'error')) return { imported: [], diagnostics: r.diagnostics };
        return service.addAuthored(r.bundle);
      }),
  };
}
