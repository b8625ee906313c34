import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionState } from '../../../core/api';
import { SessionManager } from './manager';
import { emptySessionState } from './session-db';

let dir: string;
let outside: string;
const initialState = async (sample?: string): Promise<SessionState> => ({
  ...emptySessionState(),
  topology: { file: `${sample ?? 'seed'}.yaml`, text: `# ${sample ?? 'seed'}\n` },
  sample: sample ?? 'seed',
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-mgr-'));
  outside = mkdtempSync(join(tmpdir(), 'netlab-outside-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('SessionManager', () => {
  it('creates sessions in the data folder, remembers them and restores the last one', async () => {
    const m = new SessionManager({ dataDir: dir, initialState, appVersion: '0.1.0' });
    const a = await m.create({ name: 'First lab' });
    expect(a.info.path.startsWith(join(dir, 'sessions'))).toBe(true);
    expect(a.info.path).toMatch(/first-lab-\d{8}-\d{6}-[0-9a-f]{6}\.netlab$/);
    expect(a.state.sample).toBe('seed');
    m.save({ notes: 'a' }, 'Edit notes');
    const b = await m.create({ sample: 'three-tier' });
    expect(b.info.name).toBe('Lab on three-tier');
    expect(m.list().map((r) => r.name)).toEqual(['Lab on three-tier', 'First lab']);
    m.close();

    // A new manager (a restarted host) restores the most recent session that still exists.
    rmSync(b.info.path);
    const again = new SessionManager({ dataDir: dir, initialState, appVersion: '0.1.0' });
    const restored = again.currentOrRestore();
    expect(restored?.info.path).toBe(a.info.path);
    expect(restored?.state.notes).toBe('a');
    expect(again.list().find((r) => r.path === b.info.path)?.exists).toBe(false);
    again.close();
  });

  it('returns null when there is nothing to restore, and refuses saves without a session', () => {
    const m = new SessionManager({ dataDir: dir, initialState, appVersion: '0' });
    expect(m.currentOrRestore()).toBeNull();
    expect(() => m.save({ notes: 'x' })).toThrow(expect.objectContaining({ code: 'no-session' }));
  });

  it('opens files outside the sessions folder only when the user picked them', async () => {
    const m = new SessionManager({ dataDir: dir, initialState, appVersion: '0' });
    const s = await m.create({});
    const elsewhere = join(outside, 'copy.netlab');
    writeFileSync(elsewhere, '');
    expect(() => m.open(elsewhere)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => m.open(join(dir, 'sessions', '..', '..', 'x.netlab'))).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => m.open('relative.netlab')).toThrow(expect.objectContaining({ code: 'invalid-params' }));
    m.allowPath(elsewhere);
    const opened = m.open(elsewhere);
    expect(opened.readOnly).toBe(true); // an empty file is not a session
    expect(m.open(s.info.path).readOnly).toBe(false);
    expect(() => m.open(join(dir, 'sessions', 'missing.netlab'))).toThrow(expect.objectContaining({ code: 'not-found' }));
    m.close();
  });

  it('exports the current session and imports it as a new file', async () => {
    const m = new SessionManager({ dataDir: dir, initialState, appVersion: '0' });
    const s = await m.create({ name: 'Exported' });
    m.save({ notes: 'keep me', positions: { 'pod/default/pod-a': { x: 3, y: 4 } } }, 'edit');
    const out = m.export('yaml');
    const imported = m.import(out.text);
    expect(imported.info.path).not.toBe(s.info.path);
    expect(existsSync(imported.info.path)).toBe(true);
    expect(imported.info.name).toBe('Exported (imported)');
    expect(imported.state).toEqual({ ...s.state, notes: 'keep me', positions: { 'pod/default/pod-a': { x: 3, y: 4 } } });
    expect(imported.canUndo).toBe(false);
    expect(() => m.import('kind: Pod\n')).toThrow(expect.objectContaining({ code: 'invalid-file' }));
    m.close();
  });
});
