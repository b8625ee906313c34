import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabRun } from '../../../core/labs';
import { migrate } from '../store/migrations';
import { loadLibrary } from './library';
import { LAB_SCHEMA_VERSION, LabSchemaTooNewError, SqliteProgressStore, labSchemaVersion, migrateLabTables } from './progress-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-labs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lab progress in the session database', () => {
  it('creates its own tables next to the session store\'s, once', () => {
    const db = new Database(join(dir, 's.netlab'));
    migrate(db, 0); // the session store's schema
    const before = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    SqliteProgressStore.open(db);
    SqliteProgressStore.open(db);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual([...(before as { name: string }[]).map((t) => t.name), 'lab_progress', 'lab_runs', 'lab_schema_version'].sort());
    expect(labSchemaVersion(db)).toBe(LAB_SCHEMA_VERSION);
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    db.close();
  });

  it('stores, lists, updates and resets progress; survives reopening the file', async () => {
    const path = join(dir, 's.netlab');
    let db = new Database(path);
    let store = SqliteProgressStore.open(db);
    const p = { labId: 'vxlan-mtu', taskId: 'pod-mtu', attempts: 1, bestScore: 0.5, hintsUsed: 0, lastSubmission: '{"answers":{"pod-mtu":1500}}', updatedAt: '2025-03-01T10:00:00.000Z' };
    await store.put(p);
    await store.put({ ...p, taskId: 'max-ping', attempts: 2 });
    await store.put({ labId: 'cni-add', taskId: 'veth-name', attempts: 1, bestScore: 1, hintsUsed: 1, lastSubmission: null, updatedAt: '2025-03-01T10:01:00.000Z' });
    await store.put({ ...p, attempts: 3, bestScore: 1 });
    await store.putRun({ labId: 'vxlan-mtu', seed: 99, startedAt: '2025-03-01T09:00:00.000Z' });
    db.close();
    db = new Database(path);
    store = SqliteProgressStore.open(db);
    expect(await store.get('vxlan-mtu', 'pod-mtu')).toEqual({ ...p, attempts: 3, bestScore: 1 });
    expect((await store.list('vxlan-mtu')).map((x) => x.taskId)).toEqual(['max-ping', 'pod-mtu']);
    expect((await store.list()).map((x) => `${x.labId}/${x.taskId}`)).toEqual(['cni-add/veth-name', 'vxlan-mtu/max-ping', 'vxlan-mtu/pod-mtu']);
    expect(await store.getRun('vxlan-mtu')).toEqual({ labId: 'vxlan-mtu', seed: 99, startedAt: '2025-03-01T09:00:00.000Z' });
    await store.reset('vxlan-mtu');
    expect(await store.list('vxlan-mtu')).toEqual([]);
    expect(await store.getRun('vxlan-mtu')).toBeUndefined();
    expect(await store.list()).toHaveLength(1);
    // The table refuses out-of-range scores the store would never write.
    expect(() => db.prepare("INSERT INTO lab_progress VALUES ('a', 'b', -1, 0, 0, NULL, 'x')").run()).toThrow(/CHECK constraint failed/);
    db.close();
  });

  it('drives a LabRun: attempts and hints are persisted', async () => {
    const db = new Database(join(dir, 's.netlab'));
    const store = SqliteProgressStore.open(db);
    const lab = loadLibrary().find((e) => e.bundle.id === 'vxlan-mtu')!.lab!;
    const run = await LabRun.start(lab, { store });
    await run.hint('max-ping');
    const r = await run.check('max-ping', { answers: { 'max-ping': 1422 } });
    expect(r.earned).toBe(10);
    const again = await LabRun.start(lab, { store });
    const v = await again.view();
    expect(v.tasks.find((t) => t.id === 'max-ping')).toMatchObject({ attempts: 1, hints: { remaining: 0 } });
    expect(v.tasks.find((t) => t.id === 'max-ping')!.bestScore).toBeCloseTo(10 / 15, 4);
    db.close();
  });

  it('a read-only session reads progress but refuses to write; a newer schema is refused', async () => {
    const path = join(dir, 's.netlab');
    const db = new Database(path);
    await SqliteProgressStore.open(db).put({ labId: 'a', taskId: 'b', attempts: 1, bestScore: 1, hintsUsed: 0, lastSubmission: null, updatedAt: 'now' });
    db.close();
    const ro = new Database(path, { readonly: true });
    const store = SqliteProgressStore.open(ro);
    expect((await store.get('a', 'b'))!.attempts).toBe(1);
    await expect(store.put({ labId: 'a', taskId: 'b', attempts: 2, bestScore: 1, hintsUsed: 0, lastSubmission: null, updatedAt: 'now' })).rejects.toThrow(/open read-only/);
    ro.close();
    const fresh = new Database(join(dir, 'empty.netlab'), { readonly: false });
    fresh.close();
    const roEmpty = new Database(join(dir, 'empty.netlab'), { readonly: true });
    expect(await SqliteProgressStore.open(roEmpty).list()).toEqual([]);
    roEmpty.close();
    const newer = new Database(path);
    newer.prepare('UPDATE lab_schema_version SET version = 99').run();
    expect(() => migrateLabTables(newer)).toThrow(LabSchemaTooNewError);
    expect(() => SqliteProgressStore.open(newer)).toThrow(/schema version 99; this netlab knows up to 1/);
    newer.close();
  });
});
