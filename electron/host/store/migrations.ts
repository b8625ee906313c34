import type Database from 'better-sqlite3';

/**
 * Session file schema, one migration per version. A file records its version
 * in `schema_version`; opening runs every migration above it inside one
 * transaction. A file whose version is above SCHEMA_VERSION was written by a
 * newer app and is opened read-only.
 */
export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'session metadata, current state per field, change log for undo/redo',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
        CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
        CREATE TABLE changes (
          seq INTEGER PRIMARY KEY,
          at TEXT NOT NULL,
          forward TEXT NOT NULL,
          inverse TEXT NOT NULL,
          undone INTEGER NOT NULL DEFAULT 0
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    description: 'a label per change (shown as "Undo Move pod-a") and an index on undone changes',
    up(db) {
      db.exec(`
        ALTER TABLE changes ADD COLUMN label TEXT NOT NULL DEFAULT '';
        CREATE INDEX changes_undone ON changes (undone, seq);
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The version recorded in a file; 0 for a database without the table (an empty file). */
export function readSchemaVersion(db: Database.Database): number | null {
  const table = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!table) return null;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row ? Number(row.version) : null;
}

/** Bring a writable database from `from` up to `to` (default: the newest known) in one transaction. */
export function migrate(db: Database.Database, from: number, to: number = SCHEMA_VERSION): void {
  const run = db.transaction(() => {
    if (from === 0) {
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT');
      db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    }
    for (const m of MIGRATIONS) {
      if (m.version > from && m.version <= to) {
        m.up(db);
        db.prepare('UPDATE schema_version SET version = ?').run(m.version);
      }
    }
  });
  run.immediate();
}
