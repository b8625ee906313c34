import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LabApiError, describeZodError, sessionStateSchema } from '../../../core/api';
import type { SessionInfo, SessionPatch, SessionSnapshot, SessionState, SessionStatus } from '../../../core/api';
import { SCHEMA_VERSION, migrate, readSchemaVersion } from './migrations';

/** Changes kept for undo; older ones are dropped (their effect stays in the state). */
export const MAX_UNDO_CHANGES = 500;

export const SESSION_KEYS = ['topology', 'sample', 'positions', 'traces', 'comparisons', 'notes'] as const satisfies readonly (keyof SessionState)[];

export function emptySessionState(): SessionState {
  return { topology: { file: 'topology.yaml', text: '' }, sample: null, positions: {}, traces: [], comparisons: [], notes: '' };
}

const SQLITE_HEADER = 'SQLite format 3\0';

interface ChangeRow {
  seq: number;
  forward: string;
  inverse: string;
  label: string;
}

/**
 * One session file: a SQLite database in WAL mode holding the current state
 * (one row per field), metadata and a change log that makes every save
 * undoable. Every save is one transaction, committed before the call returns,
 * so a crash loses at most the change being written.
 *
 * A file that is damaged, is not a session, or was written by a newer app is
 * opened through a read-only connection: it cannot be written, by construction.
 */
export class SessionDb {
  private constructor(
    readonly path: string,
    private db: Database.Database | null,
    private readonly release: () => void,
    private cached: SessionState,
    private meta: { name: string; createdAt: string; updatedAt: string; revision: number },
    readonly readOnly: boolean,
    readonly readOnlyReason?: string,
  ) {}

  /** The writable database handle (for modules that keep their own tables in the session file, e.g. lab progress); null when read-only or closed. */
  database(): Database.Database | null {
    return this.readOnly ? null : this.db;
  }

  /** Create a new session file atomically (written aside, then renamed into place). */
  static create(path: string, init: { name: string; state: SessionState; appVersion: string }): SessionDb {
    if (existsSync(path)) {
      throw new LabApiError('io', `A file already exists at ${path}.`, 'Choose another name; the lab never overwrites an existing file when creating a session.');
    }
    const state = sessionStateSchema.parse(init.state);
    const tmp = `${path}.${randomBytes(4).toString('hex')}.creating`;
    const now = new Date().toISOString();
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db, 0);
      db.transaction(() => {
        const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        setMeta.run('name', init.name);
        setMeta.run('created_at', now);
        setMeta.run('updated_at', now);
        setMeta.run('revision', '0');
        setMeta.run('app_version', init.appVersion);
        const setState = db.prepare('INSERT INTO state (key, value) VALUES (?, ?)');
        for (const key of SESSION_KEYS) setState.run(key, JSON.stringify(state[key]));
      }).immediate();
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      renameSync(tmp, path);
    } catch (err) {
      if (db.open) db.close();
      for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
      throw err;
    }
    for (const f of [`${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    return SessionDb.open(path);
  }

  /** Open a session file. Damaged, foreign or too-new files come back read-only with the reason. */
  static open(path: string): SessionDb {
    if (!existsSync(path)) {
      throw new LabApiError('not-found', `No session file at ${path}.`, 'It may have been moved or deleted; pick it again with File › Open Session…, or start a new session.');
    }
    const st = statSync(path);
    if (!st.isFile()) throw new LabApiError('invalid-file', `${path} is not a file.`, 'Pick a .netlab session file.');
    const fallbackMeta = { name: basename(path, extname(path)), createdAt: st.birthtime.toISOString(), updatedAt: st.mtime.toISOString(), revision: 0 };
    const damaged = (why: string, ro: ReadOnlyHandle | null): SessionDb => {
      let state = emptySessionState();
      let meta = fallbackMeta;
      if (ro) {
        // Best effort: show what can still be read.
        try {
          state = readState(ro.db).state;
          meta = readMeta(ro.db, fallbackMeta);
        } catch {
          /* nothing readable */
        }
        ro.release();
      }
      return new SessionDb(
        path,
        null,
        () => {},
        state,
        meta,
        true,
        `This session file cannot be used: ${why}. It was opened read-only and will not be changed. Start a new session, or import an exported copy (File › Import Session…).`,
      );
    };

    const header = readHeader(path);
    if (header !== SQLITE_HEADER) return damaged(st.size === 0 ? 'the file is empty' : 'it is not a SQLite database', null);

    let ro: ReadOnlyHandle;
    try {
      ro = openReadOnly(path);
    } catch (err) {
      return damaged(errorText(err), null);
    }
    let version: number | null;
    try {
      const check = ro.db.pragma('quick_check', { simple: true });
      if (check !== 'ok') return damaged(`the integrity check failed (${String(check)})`, ro);
      version = readSchemaVersion(ro.db);
    } catch (err) {
      return damaged(errorText(err), ro);
    }
    if (version === null) return damaged('it is a SQLite database but not a Kubernetes Network Lab session (no schema_version table)', ro);
    if (version > SCHEMA_VERSION) {
      let state: SessionState;
      let meta = fallbackMeta;
      try {
        state = readState(ro.db).state;
        meta = readMeta(ro.db, fallbackMeta);
      } catch {
        state = emptySessionState();
      }
      return new SessionDb(
        path,
        ro.db,
        ro.release,
        state,
        meta,
        true,
        `This session was saved by a newer version of the lab (file schema ${version}; this version knows up to ${SCHEMA_VERSION}). It was opened read-only and will not be changed. Update the lab to edit it, or export it to keep a copy of your changes elsewhere.`,
      );
    }
    ro.release();

    const db = new Database(path, { fileMustExist: true });
    try {
      db.pragma('journal_mode = WAL');
      // FULL: each commit is fsynced, so a power cut also keeps every acknowledged save.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 2000');
      if (version < SCHEMA_VERSION) migrate(db, version);
      const { state, problem } = readState(db);
      if (problem) {
        db.close();
        return damaged(problem, openReadOnly(path));
      }
      return new SessionDb(path, db, () => db.close(), state, readMeta(db, fallbackMeta), false);
    } catch (err) {
      if (db.open) db.close();
      if (err instanceof LabApiError) throw err;
      return damaged(errorText(err), null);
    }
  }

  info(): SessionInfo {
    return { path: this.path, name: this.meta.name, createdAt: this.meta.createdAt, updatedAt: this.meta.updatedAt };
  }

  state(): SessionState {
    return structuredClone(this.cached);
  }

  status(): SessionStatus {
    const status: SessionStatus = { info: this.info(), revision: this.meta.revision, canUndo: false, canRedo: false, readOnly: this.readOnly };
    if (this.readOnlyReason) status.readOnlyReason = this.readOnlyReason;
    if (this.db && !this.readOnly) {
      const undo = this.db.prepare('SELECT label FROM changes WHERE undone = 0 ORDER BY seq DESC LIMIT 1').get() as { label: string } | undefined;
      const redo = this.db.prepare('SELECT label FROM changes WHERE undone = 1 ORDER BY seq ASC LIMIT 1').get() as { label: string } | undefined;
      status.canUndo = !!undo;
      status.canRedo = !!redo;
      if (undo?.label) status.undoLabel = undo.label;
      if (redo?.label) status.redoLabel = redo.label;
    }
    return status;
  }

  snapshot(): SessionSnapshot {
    return { ...this.status(), state: this.state() };
  }

  /**
   * Apply a patch as one undoable change. A patch that changes nothing records nothing.
   *
   * Canvas positions are where the designer draws things, not part of the
   * topology: a patch that only moves things (a drag, a layout, the refit
   * after an edit) is saved — it survives a reload — but recorded outside the
   * undo history, so it never becomes a step of its own that Ctrl+Z would
   * undo instead of the last real edit, and it keeps what can be redone.
   * Positions that come in the same patch as a topology change (a sample or a
   * lab loaded with a fresh layout) travel with that change, so undoing it
   * also brings back the layout the previous topology had.
   */
  apply(patch: SessionPatch, label = ''): SessionStatus {
    const db = this.writable();
    const forward: Record<string, unknown> = {};
    const inverse: Record<string, unknown> = {};
    for (const key of SESSION_KEYS) {
      if (!(key in patch) || patch[key] === undefined) continue;
      if (JSON.stringify(patch[key]) === JSON.stringify(this.cached[key])) continue;
      forward[key] = patch[key];
      inverse[key] = this.cached[key];
    }
    if (Object.keys(forward).length === 0) return this.status();
    const now = new Date().toISOString();
    const revision = this.meta.revision + 1;
    // Anything but positions makes an undoable change.
    const undoable = Object.keys(forward).some((k) => k !== 'positions');
    // Positions go into the change only beside a topology change.
    const recorded = { forward: { ...forward }, inverse: { ...inverse } };
    if (!('topology' in forward)) {
      delete recorded.forward.positions;
      delete recorded.inverse.positions;
    }
    db.transaction(() => {
      if (undoable) {
        db.prepare('DELETE FROM changes WHERE undone = 1').run();
        db.prepare('INSERT INTO changes (at, forward, inverse, label) VALUES (?, ?, ?, ?)').run(now, JSON.stringify(recorded.forward), JSON.stringify(recorded.inverse), label);
      }
      this.writeFields(db, forward, now, revision);
      if (undoable) {
        const max = (db.prepare('SELECT MAX(seq) AS m FROM changes').get() as { m: number }).m;
        db.prepare('DELETE FROM changes WHERE seq <= ?').run(max - MAX_UNDO_CHANGES);
      }
    }).immediate();
    this.commitCache(forward, now, revision);
    return this.status();
  }

  undo(): SessionSnapshot {
    return this.step('undo');
  }

  redo(): SessionSnapshot {
    return this.step('redo');
  }

  close(): void {
    if (this.db?.open) this.release();
    this.db = null;
  }

  private step(direction: 'undo' | 'redo'): SessionSnapshot {
    const db = this.writable();
    const row = (
      direction === 'undo'
        ? db.prepare('SELECT seq, forward, inverse, label FROM changes WHERE undone = 0 ORDER BY seq DESC LIMIT 1').get()
        : db.prepare('SELECT seq, forward, inverse, label FROM changes WHERE undone = 1 ORDER BY seq ASC LIMIT 1').get()
    ) as ChangeRow | undefined;
    if (!row) return this.snapshot();
    const fields = JSON.parse(direction === 'undo' ? row.inverse : row.forward) as Record<string, unknown>;
    const now = new Date().toISOString();
    const revision = this.meta.revision + 1;
    db.transaction(() => {
      db.prepare('UPDATE changes SET undone = ? WHERE seq = ?').run(direction === 'undo' ? 1 : 0, row.seq);
      this.writeFields(db, fields, now, revision);
    }).immediate();
    this.commitCache(fields, now, revision);
    return this.snapshot();
  }

  private writeFields(db: Database.Database, fields: Record<string, unknown>, now: string, revision: number): void {
    const setState = db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    for (const [key, value] of Object.entries(fields)) setState.run(key, JSON.stringify(value));
    const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    setMeta.run('updated_at', now);
    setMeta.run('revision', String(revision));
  }

  private commitCache(fields: Record<string, unknown>, now: string, revision: number): void {
    this.cached = { ...this.cached, ...structuredClone(fields) } as SessionState;
    this.meta = { ...this.meta, updatedAt: now, revision };
  }

  private writable(): Database.Database {
    if (this.readOnly || !this.db) {
      throw new LabApiError(
        'read-only',
        `The session ${basename(this.path)} is read-only. ${this.readOnlyReason ?? ''}`.trim(),
        'Export it (File › Export Session) and import the copy, or start a new session.',
      );
    }
    return this.db;
  }
}

interface ReadOnlyHandle {
  db: Database.Database;
  /** Close, and remove the -wal/-shm files SQLite created for a WAL-mode file if they were not there before. */
  release: () => void;
}

/** A read-only connection that leaves the directory as it found it. */
function openReadOnly(path: string): ReadOnlyHandle {
  const had = { wal: existsSync(`${path}-wal`), shm: existsSync(`${path}-shm`) };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  return {
    db,
    release: () => {
      if (db.open) db.close();
      if (!had.wal && existsSync(`${path}-wal`) && statSync(`${path}-wal`).size === 0) rmSync(`${path}-wal`, { force: true });
      if (!had.shm && !existsSync(`${path}-wal`)) rmSync(`${path}-shm`, { force: true });
    },
  };
}

function readHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function readMeta(db: Database.Database, fallback: { name: string; createdAt: string; updatedAt: string; revision: number }) {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const m = new Map(rows.map((r) => [r.key, r.value]));
  const revision = Number(m.get('revision'));
  return {
    name: m.get('name') || fallback.name,
    createdAt: m.get('created_at') || fallback.createdAt,
    updatedAt: m.get('updated_at') || fallback.updatedAt,
    revision: Number.isFinite(revision) ? revision : 0,
  };
}

/** Read and validate the state rows. A missing field takes its empty value; an invalid one is a problem. */
function readState(db: Database.Database): { state: SessionState; problem?: string } {
  const rows = db.prepare('SELECT key, value FROM state').all() as { key: string; value: string }[];
  const raw: Record<string, unknown> = { ...emptySessionState() };
  for (const row of rows) {
    if (!(SESSION_KEYS as readonly string[]).includes(row.key)) continue;
    try {
      raw[row.key] = JSON.parse(row.value);
    } catch {
      return { state: emptySessionState(), problem: `the stored field "${row.key}" is not valid JSON` };
    }
  }
  const parsed = sessionStateSchema.safeParse(raw);
  if (!parsed.success) return { state: emptySessionState(), problem: `the stored state is invalid (${describeZodError(parsed.error, 'state')})` };
  return { state: parsed.data };
}

function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.message} (${e.code})` : String(e?.message ?? err);
}
