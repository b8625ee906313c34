// A real terminal on a network namespace named like a test-bed node, through
// the whole browser transport: createHostApi + the WebSocket server + the
// renderer's WebSocket client. Output arrives as server-pushed `terminal`
// events; closing the tab ends the shell with a `terminal-exit` event. Needs
// root and iproute2 (skipped otherwise). The namespace carries the test-bed
// prefix (nl-n-) and is removed afterwards.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { createLabApiClient } from '../../core/api';
import type { LabEventMap } from '../../core/api';
import { createHostApi } from '../../electron/host/api';
import { createDispatcher } from '../../electron/host/dispatch';
import { startLabServer } from '../../electron/host/ws-server';
import { connectWebSocket } from '../../renderer/src/lib/ws-client';
import { validatingEvents } from '../../renderer/src/lib/lab';

const root = resolve(__dirname, '..', '..');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasIp = existsSync('/usr/sbin/ip') || existsSync('/sbin/ip') || existsSync('/usr/bin/ip');
const node = `termtest-${process.pid}`;
const ns = `nl-n-${node}`;
const dir = mkdtempSync(join(tmpdir(), 'netlab-term-'));

afterAll(() => {
  if (isRoot && hasIp) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not created
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

// In CI nothing skips: a machine without root or iproute2 fails here, naming what is missing.
if (process.env.CI && (!isRoot || !hasIp)) {
  it('has what the terminal live test needs (root and iproute2)', () => {
    throw new Error(`cannot run the terminal live test: ${!isRoot ? 'not root' : ''} ${!hasIp ? 'no ip (apt-get install iproute2)' : ''}`.trim());
  });
}

describe.skipIf(!isRoot || !hasIp)('terminal on a test-bed node namespace, over the WebSocket transport', () => {
  it('runs commands inside the namespace and streams their output as events', async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    const rendererDir = join(dir, 'renderer');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>');
    const api = createHostApi({ transport: 'websocket', electron: false, version: '0.0.0-test', resourcesDir: join(root, 'resources'), dataDir: join(dir, 'data') });
    const server = await startLabServer({ dispatch: createDispatcher(api), rendererDir });
    api.setEventSink((event, data) => server.broadcast(event, data));
    const conn = await connectWebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, (url) => new WebSocket(url) as never);
    try {
      const client = createLabApiClient(conn.call);
      const events = validatingEvents(conn.events);
      let out = '';
      const exits: LabEventMap['terminal-exit'][] = [];
      const opened = await client.terminalOpen({ kind: 'local-testbed', node }, { cols: 120, rows: 30 });
      if ('status' in opened) throw new Error(`a test-bed shell answered ${opened.status}`);
      const info = opened;
      events.on('terminal', (d) => {
        if (d.id === info.id) out += d.data;
      });
      events.on('terminal-exit', (d) => exits.push(d));
      expect(info.command).toBe(`ip netns exec ${ns} bash --noprofile --norc -i`);
      const until = async (pred: () => boolean, what: string) => {
        const t0 = Date.now();
        while (!pred()) {
          if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}; output so far: ${JSON.stringify(out)}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await until(() => out.includes(`${node}`), 'the prompt naming the node');
      // A fresh namespace has only a loopback device, and it is down.
      await client.terminalWrite(info.id, 'ip -br link; ip netns identify $$\r');
      await until(() => /lo\s+DOWN/.test(out) && out.includes(`\n${ns}`), 'ip -br link and the namespace name');
      await client.terminalResize(info.id, 90, 20);
      await client.terminalWrite(info.id, 'stty size\r');
      await until(() => out.includes('20 90'), 'the new terminal size');
      await client.terminalClose(info.id);
      await until(() => exits.some((e) => e.id === info.id), 'the terminal-exit event');
      await expect(client.terminalWrite(info.id, 'x')).rejects.toMatchObject({ code: 'no-such-terminal' });
      await expect(client.terminalOpen({ kind: 'local-testbed', node: 'no-such-node' })).rejects.toMatchObject({ code: 'testbed-not-running' });
    } finally {
      conn.close();
      await server.close();
      api.close();
    }
  });
});
