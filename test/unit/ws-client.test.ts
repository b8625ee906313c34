// The renderer's WebSocket client against the real browser-transport server.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LabApiError, createLabApiClient } from '../../core/api';
import { createHostApi } from '../../electron/host/api';
import type { HostApi } from '../../electron/host/api';
import { createDispatcher } from '../../electron/host/dispatch';
import { startLabServer } from '../../electron/host/ws-server';
import type { LabServer } from '../../electron/host/ws-server';
import { connectWebSocket, describeClose } from '../../renderer/src/lib/ws-client';
import type { WebSocketLike } from '../../renderer/src/lib/ws-client';

const root = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'netlab-wsc-'));
let host: HostApi;
let server: LabServer;
const factory = (url: string) => new WebSocket(url) as unknown as WebSocketLike;
const api = (conn: { call: Parameters<typeof createLabApiClient>[0] }) => createLabApiClient(conn.call);

beforeAll(async () => {
  mkdirSync(join(tmp, 'renderer'));
  writeFileSync(join(tmp, 'renderer', 'index.html'), '<!doctype html>');
  host = createHostApi({ transport: 'websocket', electron: false, version: '0.1.0', resourcesDir: join(root, 'resources'), dataDir: join(tmp, 'data') });
  server = await startLabServer({ dispatch: createDispatcher(host), rendererDir: join(tmp, 'renderer') });
  host.setEventSink((event, data) => server.broadcast(event, data));
});
afterAll(async () => {
  await server.close();
  host.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('renderer WebSocket client', () => {
  it('gives the UI a working LabApi: samples, sessions, undo, export/import', async () => {
    const conn = await connectWebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, factory);
    const api = createLabApiClient(conn.call);
    expect(await api.appInfo()).toMatchObject({ transport: 'websocket', electron: false, version: '0.1.0' });
    const samples = await api.listSamples();
    expect(samples[0].id).toBe('seed');
    const seed = await api.readSample('seed');
    expect(seed.text).toContain('kind: Topology');

    expect(await api.sessionCurrent()).toBeNull();
    const s = await api.sessionNew({ name: 'Client test' });
    expect(s.state.topology.text).toBe(seed.text);
    const st = await api.sessionSave({ notes: 'hello' }, 'Edit notes');
    expect(st).toMatchObject({ canUndo: true, undoLabel: 'Edit notes', revision: 1 });
    expect((await api.sessionUndo()).state.notes).toBe('');
    expect((await api.sessionRedo()).state.notes).toBe('hello');
    const exported = await api.sessionExport('json');
    const imported = await api.sessionImport(exported.text, 'Copy');
    expect(imported.info.name).toBe('Copy');
    expect(imported.state.notes).toBe('hello');
    expect((await api.sessionList()).map((r) => r.name)).toEqual(['Copy', 'Client test']);
    expect((await api.sessionOpen(s.info.path)).info.name).toBe('Client test');
    conn.close();
  });

  it('delivers events host services emit, to the listeners of that event only', async () => {
    const conn = await connectWebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, factory);
    const notices: unknown[] = [];
    const menus: unknown[] = [];
    const off = conn.events.on('notice', (n) => notices.push(n));
    conn.events.on('menu', (m) => menus.push(m));
    host.emit('notice', { level: 'info', message: 'test-bed is up' });
    await vi.waitFor(() => expect(notices).toEqual([{ level: 'info', message: 'test-bed is up' }]));
    off();
    host.emit('notice', { level: 'error', message: 'not delivered' });
    await api(conn).appInfo(); // a round trip: the event above has arrived by now
    expect(notices).toHaveLength(1);
    expect(menus).toEqual([]);
    conn.close();
  });

  it('turns host errors into LabApiErrors with code and hint', async () => {
    const conn = await connectWebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, factory);
    const api = createLabApiClient(conn.call);
    const err = await api.readSample('no-such-sample').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabApiError);
    expect(err).toMatchObject({ code: 'not-found', hint: expect.stringContaining('seed') });
    await expect(api.sessionOpen('/etc/passwd')).rejects.toMatchObject({ code: 'forbidden' });
    conn.close();
  });

  it('fails pending and later calls with the reason when the connection closes', async () => {
    const conn = await connectWebSocket(`ws://127.0.0.1:${server.port}/ws?token=wrong`, factory).catch((e: Error) => e);
    // The server accepts the upgrade, then closes with 4401: either the connect or the first call reports it.
    if (conn instanceof Error) {
      expect(conn.message).toMatch(/token is missing or wrong/);
    } else {
      const closed = await conn.closed;
      expect(closed.code).toBe(4401);
      const out = await conn.call('appInfo', []);
      expect(out).toMatchObject({ ok: false, error: { code: 'transport', message: expect.stringMatching(/token is missing or wrong/) } });
    }
    expect(describeClose(1006, '')).toMatch(/lost/);
  });
});
