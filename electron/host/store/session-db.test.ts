import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabApiError } from '../../../core/api';
import type { SessionState } from '../../../core/api';
import { exportSession, parseSessionFile } from './file-format';
import { MIGRATIONS, SCHEMA_VERSION, migrate, readSchemaVersion } from './migrations';
import { MAX_UNDO_CHANGES, SessionDb, emptySessionState } from './session-db';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function state(notes = ''): SessionState {
  return { ...emptySessionState(), topology: { file: 'seed.yaml', text: 'apiVersion: netlab.dev/v1alpha1\nkind: Topology\n' }, sample: 'seed', notes };
}

const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function expectUntouched(path: string, open: () => SessionDb): SessionDb {
  const before = { hash: digest(path), mtime: statSync(path).mtimeMs };
  const s = open();
  expect(s.readOnly).toBe(true);
  expect(() => s.apply({ notes: 'overwrite?' }, 'x')).toThrow(LabApiError);
  expect(() => s.undo()).toThrow(/read-only/);
  s.close();
  expect(digest(path)).toBe(before.hash);
  expect(statSync(path).mtimeMs).toBe(before.mtime);
  expect(existsSync(`${path}-wal`)).toBe(false);
  expect(existsSync(`${path}-shm`)).toBe(false);
  return s;
}

describe('SessionDb', () => {
  it('creates a session file in WAL mode at the current schema version', () => {
    const path = join(dir, 'a.netlab');
    const s = SessionDb.create(path, { name: 'Lab A', state: state('hello'), appVersion: '0.1.0' });
    expect(s.readOnly).toBe(false);
    expect(s.state().notes).toBe('hello');
    expect(s.info().name).toBe('Lab A');
    expect(s.status()).toMatchObject({ revision: 0, canUndo: false, canRedo: false });
    s.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
    // No temporary files left behind.
    expect(readdirSync(dir).filter((f) => f.includes('creating'))).toEqual([]);
  });

  it('refuses to create over an existing file', () => {
    const path = join(dir, 'exists.netlab');
    writeFileSync(path, 'keep me');
    expect(() => SessionDb.create(path, { name: 'x', state: state(), appVersion: '0' })).toThrow(/already exists/);
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('persists every change, and undo/redo walk the change log across reopen', () => {
    const path = join(dir, 'u.netlab');
    let s = SessionDb.create(path, { name: 'U', state: state(), appVersion: '0' });
    s.apply({ notes: 'one' }, 'Edit notes');
    s.apply({ notes: 'two' }, 'Edit notes');
    s.apply({ traces: [{ id: 't', kind: 'trace-request', title: 'a: b', createdAt: '2026-01-01T00:00:00.000Z', data: null }] }, 'Trace a: b');
    expect(s.status()).toMatchObject({ revision: 3, canUndo: true, canRedo: false, undoLabel: 'Trace a: b' });
    s.close();

    s = SessionDb.open(path);
    expect(s.state().notes).toBe('two');
    expect(s.undo().state.traces).toEqual([]);
    const afterUndo = s.undo();
    expect(afterUndo.state.notes).toBe('one');
    expect(afterUndo).toMatchObject({ canRedo: true, redoLabel: 'Edit notes', undoLabel: 'Edit notes' });
    s.close();

    s = SessionDb.open(path);
    expect(s.state()).toMatchObject({ notes: 'one', traces: [] });
    expect(s.redo().state.notes).toBe('two');
    // A new change drops what could still be redone.
    s.apply({ notes: 'branch' }, 'Edit notes');
    expect(s.status().canRedo).toBe(false);
    expect(s.redo().state.notes).toBe('branch');
    expect(s.undo().state.notes).toBe('two');
    expect(s.undo().state.notes).toBe('one');
    expect(s.undo().state.notes).toBe('');
    const bottom = s.undo();
    expect(bottom.canUndo).toBe(false);
    expect(bottom.state.notes).toBe('');
    s.close();
  });

  it('saves canvas positions outside the undo history: the first undo after an edit and a refit undoes the edit', () => {
    const path = join(dir, 'p.netlab');
    const withPod = 'apiVersion: netlab.dev/v1alpha1\nkind: Topology\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: pod-c}\n';
    const without = 'apiVersion: netlab.dev/v1alpha1\nkind: Topology\n';
    let s = SessionDb.create(path, { name: 'P', state: { ...state(), topology: { file: 'seed.yaml', text: withPod } }, appVersion: '0' });
    s.apply({ positions: { 'pod/default/pod-c': { x: 1, y: 2 } } }, 'Move pod-c');
    // A move alone is saved (revision, state, file) but is not a step of undo.
    expect(s.status()).toMatchObject({ revision: 1, canUndo: false, canRedo: false });
    expect(s.status().undoLabel).toBeUndefined();
    // The edit, then the canvas saving its positions after the refit.
    s.apply({ topology: { file: 'seed.yaml', text: without } }, 'Delete pod default/pod-c');
    s.apply({ positions: { 'pod/default/pod-c': { x: 1, y: 2 }, 'node/node-1': { x: 5, y: 5 } } }, 'Layout: force-directed');
    expect(s.status()).toMatchObject({ revision: 3, canUndo: true, undoLabel: 'Delete pod default/pod-c' });
    s.close();

    // Positions survive a reload.
    s = SessionDb.open(path);
    expect(s.state().positions).toEqual({ 'pod/default/pod-c': { x: 1, y: 2 }, 'node/node-1': { x: 5, y: 5 } });
    // One undo brings the pod back; the positions stay as the canvas last saved them.
    const undone = s.undo();
    expect(undone.state.topology.text).toBe(withPod);
    expect(undone.state.positions).toEqual({ 'pod/default/pod-c': { x: 1, y: 2 }, 'node/node-1': { x: 5, y: 5 } });
    expect(undone.canUndo).toBe(false);
    // A move after an undo keeps what can be redone.
    s.apply({ positions: { 'pod/default/pod-c': { x: 9, y: 9 } } }, 'Move pod-c');
    expect(s.status()).toMatchObject({ canRedo: true, redoLabel: 'Delete pod default/pod-c' });
    expect(s.redo().state.topology.text).toBe(without);
    s.close();
  });

  it('keeps positions that come with a topology change in that change (undo restores the previous layout)', () => {
    const s = SessionDb.create(join(dir, 'l.netlab'), { name: 'L', state: state(), appVersion: '0' });
    s.apply({ positions: { 'pod/default/pod-a': { x: 10, y: 20 } } }, 'Move pod-a');
    s.apply({ topology: { file: 'other.yaml', text: 'apiVersion: netlab.dev/v1alpha1\nkind: Topology\nmetadata: {name: other}\n' }, sample: 'other', positions: {} }, 'Load sample other');
    // With notes but no topology, positions still stay out of the change.
    s.apply({ notes: 'n', positions: { 'pod/default/x': { x: 1, y: 1 } } }, 'Edit notes');
    const notesUndone = s.undo();
    expect(notesUndone.state.notes).toBe('');
    expect(notesUndone.state.positions).toEqual({ 'pod/default/x': { x: 1, y: 1 } });
    const back = s.undo();
    expect(back.state).toMatchObject({ sample: 'seed', positions: { 'pod/default/pod-a': { x: 10, y: 20 } } });
    expect(back.canUndo).toBe(false);
    expect(s.redo().state).toMatchObject({ sample: 'other', positions: {} });
    s.close();
  });

  it('records nothing for a patch that changes nothing', () => {
    const s = SessionDb.create(join(dir, 'n.netlab'), { name: 'N', state: state('same'), appVersion: '0' });
    const st = s.apply({ notes: 'same', sample: 'seed' }, 'noop');
    expect(st).toMatchObject({ revision: 0, canUndo: false });
    s.close();
  });

  it(`keeps the last ${MAX_UNDO_CHANGES} changes for undo`, () => {
    const path = join(dir, 'p.netlab');
    const s = SessionDb.create(path, { name: 'P', state: state(), appVersion: '0' });
    for (let i = 1; i <= MAX_UNDO_CHANGES + 20; i++) s.apply({ notes: `n${i}` }, 'Edit notes');
    s.close();
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS c FROM changes').get() as { c: number }).c).toBe(MAX_UNDO_CHANGES);
    db.close();
    const again = SessionDb.open(path);
    let last = again.snapshot();
    for (let i = 0; i < MAX_UNDO_CHANGES; i++) last = again.undo();
    expect(last.canUndo).toBe(false);
    expect(last.state.notes).toBe('n20');
    again.close();
  });

  it('migrates a version-1 file to the current schema and keeps its contents', () => {
    const path = join(dir, 'v1.netlab');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrate(db, 0, 1);
    db.prepare("INSERT INTO meta (key, value) VALUES ('name', 'Old'), ('revision', '1')").run();
    db.prepare('INSERT INTO state (key, value) VALUES (?, ?)').run('notes', JSON.stringify('from v1'));
    db.prepare('INSERT INTO changes (at, forward, inverse) VALUES (?, ?, ?)').run('2024-01-01T00:00:00Z', JSON.stringify({ notes: 'from v1' }), JSON.stringify({ notes: '' }));
    db.close();

    const s = SessionDb.open(path);
    expect(s.readOnly).toBe(false);
    expect(s.state().notes).toBe('from v1');
    expect(s.info().name).toBe('Old');
    expect(s.status().canUndo).toBe(true);
    expect(s.status().undoLabel).toBeUndefined();
    expect(s.undo().state.notes).toBe('');
    s.close();
    const check = new Database(path, { readonly: true });
    expect(readSchemaVersion(check)).toBe(SCHEMA_VERSION);
    expect(check.prepare("SELECT name FROM pragma_table_info('changes') WHERE name = 'label'").get()).toBeTruthy();
    check.close();
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('opens a file from a newer app read-only, shows its contents, and never writes it', () => {
    const path = join(dir, 'future.netlab');
    SessionDb.create(path, { name: 'Future', state: state('from the future'), appVersion: '9' }).close();
    const db = new Database(path);
    db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 5);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();

    const s = expectUntouched(path, () => SessionDb.open(path));
    expect(s.readOnlyReason).toMatch(new RegExp(`newer version.*schema ${SCHEMA_VERSION + 5}.*up to ${SCHEMA_VERSION}`));
    const again = SessionDb.open(path);
    expect(again.state().notes).toBe('from the future');
    expect(again.info().name).toBe('Future');
    again.close();
  });

  it('opens a damaged file read-only and never writes it (smashed schema page, truncated file)', () => {
    const smashed = join(dir, 'smashed.netlab');
    SessionDb.create(smashed, { name: 'D', state: state('x'.repeat(20000)), appVersion: '0' }).close();
    // Overwrite the b-tree of page 1 (sqlite_master), just past the 100-byte file header.
    const buf = readFileSync(smashed);
    for (let i = 100; i < 1500; i++) buf[i] = 0xa5;
    writeFileSync(smashed, buf);
    const s = expectUntouched(smashed, () => SessionDb.open(smashed));
    expect(s.readOnlyReason).toMatch(/cannot be used/);
    expect(s.readOnlyReason).toMatch(/read-only and will not be changed/);

    const truncated = join(dir, 'truncated.netlab');
    SessionDb.create(truncated, { name: 'T', state: state('y'.repeat(50000)), appVersion: '0' }).close();
    const whole = readFileSync(truncated);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    expect(expectUntouched(truncated, () => SessionDb.open(truncated)).readOnlyReason).toMatch(/cannot be used/);
  });

  it('opens garbage, an empty file and a foreign SQLite database read-only', () => {
    const garbage = join(dir, 'garbage.netlab');
    writeFileSync(garbage, 'this is not a database\n'.repeat(50));
    expect(expectUntouched(garbage, () => SessionDb.open(garbage)).readOnlyReason).toMatch(/not a SQLite database/);

    const empty = join(dir, 'empty.netlab');
    writeFileSync(empty, '');
    expect(expectUntouched(empty, () => SessionDb.open(empty)).readOnlyReason).toMatch(/empty/);

    const foreign = join(dir, 'foreign.netlab');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(expectUntouched(foreign, () => SessionDb.open(foreign)).readOnlyReason).toMatch(/not a Kubernetes Network Lab session/);
  });

  it('opens a session whose stored state fails validation read-only, naming the field', () => {
    const path = join(dir, 'badstate.netlab');
    SessionDb.create(path, { name: 'B', state: state(), appVersion: '0' }).close();
    const db = new Database(path);
    db.prepare("UPDATE state SET value = ? WHERE key = 'positions'").run(JSON.stringify({ 'pod/x': { x: 'left', y: 1 } }));
    db.close();
    const s = expectUntouched(path, () => SessionDb.open(path));
    expect(s.readOnlyReason).toMatch(/state\.positions/);
  });

  it('reports a missing file as not-found', () => {
    expect(() => SessionDb.open(join(dir, 'nope.netlab'))).toThrow(expect.objectContaining({ code: 'not-found' }));
  });
});

describe('export and import', () => {
  const info = { path: '/x/y.netlab', name: 'My Lab', createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' };
  const full: SessionState = {
    topology: { file: 'seed.yaml', text: 'apiVersion: netlab.dev/v1alpha1\nkind: Topology\nmetadata:\n  name: seed\n' },
    sample: 'seed',
    positions: { 'pod/default/pod-a': { x: 1.5, y: -2 } },
    traces: [{ id: 't1', kind: 'trace', title: 'pod-a → backend', createdAt: '2025-01-01T00:00:00Z', data: { hops: [1, 2, 3], verdict: 'ACCEPT' } }],
    comparisons: [],
    notes: 'line 1\nline 2',
  };

  for (const format of ['yaml', 'json'] as const) {
    it(`round-trips a session through ${format}`, () => {
      const out = exportSession(info, full, format, 'kubernetes-network-lab 0.1.0');
      expect(out.filename).toBe(`my-lab.netlab.${format}`);
      const back = parseSessionFile(out.text);
      expect(back.state).toEqual(full);
      expect(back.name).toBe('My Lab');
    });
  }

  it('keeps the topology readable as a block scalar in YAML exports', () => {
    const out = exportSession(info, full, 'yaml', 'x');
    expect(out.text).toContain('text: |');
    expect(out.text).toContain('    kind: Topology');
  });

  it('rejects bad files with the place and what to do', () => {
    expect(() => parseSessionFile('kind: NetlabSession\nversion: 1\nstate: [unclosed', 'in.yaml')).toThrow(/in\.yaml:3:\d+/);
    expect(() => parseSessionFile('apiVersion: v1\nkind: Pod\n', 'pod.yaml')).toThrow(/kind is "Pod", expected NetlabSession/);
    expect(() => parseSessionFile('kind: NetlabSession\nversion: 99\nstate: {}\n')).toThrow(/newer version/);
    const bad = exportSession(info, full, 'json', 'x').text.replace('"x": 1.5', '"x": "far"');
    expect(() => parseSessionFile(bad, 'bad.json')).toThrow(/bad\.json: state\.positions\.pod\/default\/pod-a\.x/);
    expect(() => parseSessionFile('- a\n- b\n')).toThrow(/expected a mapping/);
  });
});
