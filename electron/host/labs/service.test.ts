import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressStore } from '../../../core/labs';
import { SqliteProgressStore } from './progress-store';
import { LabService } from './service';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-labsvc-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the host lab service (what the lab-runner UI calls)', () => {
  it('lists, starts, checks, hints, reports; progress follows the current session', async () => {
    let store: ProgressStore | null = null;
    const svc = new LabService({ progress: () => store, importDir: join(dir, 'labs') });
    const list = svc.list();
    expect(list.length).toBeGreaterThanOrEqual(16);
    expect(list.every((l) => l.source === 'built-in' && l.errors.length === 0)).toBe(true);
    // Without a session, progress is kept in memory.
    const v = await svc.start('cni-add');
    expect(v.tasks[0]).toMatchObject({ id: 'who-creates-netns', input: 'text', fields: [{ key: 'answer', format: 'choice' }] });
    await svc.check('cni-add', 'veth-name', { answers: { 'veth-name': 'cali5e1c4d6c68c' } });
    expect((await svc.view('cni-add')).tasks[2].bestScore).toBe(1);
    // Opening a session switches to its database.
    const db = new Database(join(dir, 's.netlab'));
    store = SqliteProgressStore.open(db);
    expect((await svc.view('cni-add')).tasks[2].bestScore).toBe(0);
    const r = await svc.check('cni-add', 'veth-name', { answers: { 'veth-name': 'cali-abc123' } });
    expect(r.feedback).toEqual(['your answer is not right']);
    expect(await svc.hint('cni-add', 'veth-name')).toMatchObject({ index: 0, cost: 5 });
    expect((await store.get('cni-add', 'veth-name'))).toMatchObject({ attempts: 1, hintsUsed: 1 });
    const rep = await svc.report('cni-add');
    expect(rep.percent).toBe(0);
    const st = await svc.startState('calico-bgp-routes');
    expect(st.state.changes).toHaveLength(1);
    expect(st.yaml).toMatch(/kind: Topology/);
    await expect(svc.start('nope')).rejects.toThrow(/no lab "nope"/);
    db.close();
  });

  it('exports a pack and imports it under another id, persisting it', async () => {
    const svc = new LabService({ progress: () => null, importDir: join(dir, 'labs') });
    const pack = svc.exportPack(['default-deny-dns'], { name: 'p' });
    expect(svc.importPack(pack, 'p.yaml').diagnostics.map((d) => d.code)).toEqual(['pack-lab-exists']);
    const renamed = pack.replace(/id: default-deny-dns/g, 'id: shop-lockdown');
    const r = svc.importPack(renamed, 'p.yaml');
    expect(r.imported).toEqual(['shop-lockdown']);
    expect(existsSync(join(dir, 'labs/shop-lockdown/lab.yaml'))).toBe(true);
    const again = new LabService({ progress: () => null, importDir: join(dir, 'labs') });
    expect(again.list().find((l) => l.id === 'shop-lockdown')).toMatchObject({ source: 'imported', errors: [], tasks: 3 });
    const v = await again.start('shop-lockdown');
    expect(v.title).toBe('Default deny and the forgotten DNS egress');
  });
});
