// Lab progress in the session database (better-sqlite3): attempts, best
// score, hints used and the last submission per task, and the seed each lab
// was started with. The module owns its tables and their migrations, kept
// apart from the session store's schema: it takes the session's Database
// handle and never touches the store's own tables.
//
// Wiring (in the session store, after it opened/migrated a writable file):
//   const progress = SqliteProgressStore.open(db);   // creates/migrates lab_* tables
//   const run = await LabRun.start(lab, { store: progress, … });

import type Database from 'better-sqlite3';
import { LabError, type LabProgress, type LabRunRecord, type ProgressStore } from '../../../core/labs';

/** Schema of the lab tables, versioned on its own (table lab_schema_version). */
export interface LabMigration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const LAB_MIGRATIONS: readonly LabMigration[] = [
  {
    version: 1,
    description: 'lab progress per task and the run record (seed) per lab',
    up(db) {
      db.exec(`
        CREATE TABLE lab_progress (
          lab_id TEXT NOT NULL,
          task_id TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
          best_score REAL NOT NULL DEFAULT 0 CHECK (best_score >= 0 AND best_score <= 1),
          hints_used INTEGER NOT NULL DEFAULT 0 CHECK (hints_used >= 0),
          last_submission TEXT,
          updated_at TEXT NOT NULL,
          PRIMARY KEY (lab_id, task_id)
        ) STRICT;
        CREATE TABLE lab_runs (
          lab_id TEXT PRIMARY KEY,
          seed INTEGER NOT NULL,
          started_at TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

export const LAB_SCHEMA_VERSION = LAB_MIGRATIONS[LAB_MIGRATIONS.length - 1].version;

export class LabSchemaTooNewError extends Error {
  constructor(readonly found: number) {
    super(`the session's lab tables have schema version ${found}; this netlab knows up to ${LAB_SCHEMA_VERSION}`);
    this.name = 'LabSchemaTooNewError';
  }
}

/** The lab tables' version in `db` (0 when they do not exist yet). */
export function labSchemaVersion(db: Database.Database): number {
  const t = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'lab_schema_version'`).get();
  if (!t) return 0;
  const row = db.prepare('SELECT version FROM lab_schema_version').get() as { version: number } | undefined;
  return row ? Number(row.version) : 0;
}

/** Creates or upgrades the lab tables in one transaction. */
export function migrateLabTables(db: Database.Database): void {
  const from = labSchemaVersion(db);
  if (from > LAB_SCHEMA_VERSION) throw new LabSchemaTooNewError(from);
  if (from === LAB_SCHEMA_VERSION) return;
  db.transaction(() => {
    if (from === 0) {
      db.exec('CREATE TABLE IF NOT EXISTS lab_schema_version (version INTEGER NOT NULL) STRICT');
      db.prepare('DELETE FROM lab_schema_version').run();
      db.prepare('INSERT INTO lab_schema_version (version) VALUES (0)').run();
    }
    for (const m of LAB_MIGRATIONS) {
      if (m.version > from) {
        m.up(db);
        db.prepare('UPDATE lab_schema_version SET version = ?').run(m.version);
      }
    }
  }).immediate();
}

interface ProgressRow {
  lab_id: string;
  task_id: string;
  attempts: number;
  best_score: number;
  hints_used: number;
  last_submission: string | null;
  updated_at: string;
}

function fromRow(r: ProgressRow): LabProgress {
  return { labId: r.lab_id, taskId: r.task_id, attempts: r.attempts, bestScore: r.best_score, hintsUsed: r.hints_used, lastSubmission: r.last_submission, updatedAt: r.updated_at };
}

/** ProgressStore on a session's SQLite file. Every write is its own transaction, committed before the promise resolves. */
export class SqliteProgressStore implements ProgressStore {
  private constructor(private readonly db: Database.Database) {}

  /** Migrates the lab tables (unless the database is read-only) and returns the store. */
  static open(db: Database.Database): SqliteProgressStore {
    if (!db.readonly) migrateLabTables(db);
    else if (labSchemaVersion(db) > LAB_SCHEMA_VERSION) throw new LabSchemaTooNewError(labSchemaVersion(db));
    return new SqliteProgressStore(db);
  }

  private writable(): void {
    if (this.db.readonly) throw new LabError('this session is open read-only: lab progress cannot be saved', 'open a writable copy of the session (File › Save as) to keep your progress');
  }

  private hasTables(): boolean {
    return labSchemaVersion(this.db) > 0;
  }

  async get(labId: string, taskId: string): Promise<LabProgress | undefined> {
    if (!this.hasTables()) return undefined;
    const r = this.db.prepare('SELECT * FROM lab_progress WHERE lab_id = ? AND task_id = ?').get(labId, taskId) as ProgressRow | undefined;
    return r ? fromRow(r) : undefined;
  }

  async list(labId?: string): Promise<LabProgress[]> {
    if (!this.hasTables()) return [];
    const rows = (labId === undefined ? this.db.prepare('SELECT * FROM lab_progress ORDER BY lab_id, task_id').all() : this.db.prepare('SELECT * FROM lab_progress WHERE lab_id = ? ORDER BY task_id').all(labId)) as ProgressRow[];
    return rows.map(fromRow);
  }

  async put(p: LabProgress): Promise<void> {
    this.writable();
    this.db
      .prepare(
        `INSERT INTO lab_progress (lab_id, task_id, attempts, best_score, hints_used, last_submission, updated_at)
         VALUES (@labId, @taskId, @attempts, @bestScore, @hintsUsed, @lastSubmission, @updatedAt)
         ON CONFLICT (lab_id, task_id) DO UPDATE SET attempts = excluded.attempts, best_score = excluded.best_score,
           hints_used = excluded.hints_used, last_submission = excluded.last_submission, updated_at = excluded.updated_at`,
      )
      .run({ ...p, bestScore: Math.max(0, Math.min(1, p.bestScore)) });
  }

  async getRun(labId: string): Promise<LabRunRecord | undefined> {
    if (!this.hasTables()) return undefined;
    const r = this.db.prepare('SELECT lab_id, seed, started_at FROM lab_runs WHERE lab_id = ?').get(labId) as { lab_id: string; seed: number; started_at: string } | undefined;
    return r ? { labId: r.lab_id, seed: r.seed, startedAt: r.started_at } : undefined;
  }

  async putRun(r: LabRunRecord): Promise<void> {
    this.writable();
    this.db.prepare('INSERT INTO lab_runs (lab_id, seed, started_at) VALUES (?, ?, ?) ON CONFLICT (lab_id) DO UPDATE SET seed = excluded.seed, started_at = excluded.started_at').run(r.labId, r.seed, r.startedAt);
  }

  async reset(labId: string): Promise<void> {
    this.writable();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM lab_progress WHERE lab_id = ?').run(labId);
      this.db.prepare('DELETE FROM lab_runs WHERE lab_id = ?').run(labId);
    })();
  }
}
