// TerminalService with a fake pty: what it spawns, how output is batched into
// `terminal` events, exits, and the errors a user can hit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAB_API_PARAMS, LabApiError } from '../../core/api';
import type { LabEventMap } from '../../core/api';
import { createDispatcher } from './dispatch';
import { TerminalService, type PtyLike, type PtySpawn } from './terminal';

class FakePty implements PtyLike {
  pid = 4242;
  written: string[] = [];
  sizes: [number, number][] = [];
  killed: string[] = [];
  private data: ((d: string) => void)[] = [];
  private exit: ((e: { exitCode: number; signal?: number }) => void)[] = [];
  onData(l: (d: string) => void) {
    this.data.push(l);
    return { dispose: () => (this.data = this.data.filter((x) => x !== l)) };
  }
  onExit(l: (e: { exitCode: number; signal?: number }) => void) {
    this.exit.push(l);
    return { dispose: () => (this.exit = this.exit.filter((x) => x !== l)) };
  }
  write(d: string) {
    this.written.push(d);
  }
  resize(c: number, r: number) {
    this.sizes.push([c, r]);
  }
  kill(sig?: string) {
    this.killed.push(sig ?? 'SIGTERM');
    for (const l of this.exit) l({ exitCode: 0, signal: 1 });
  }
  emit(d: string) {
    for (const l of this.data) l(d);
  }
}

type Ev = { event: string; data: LabEventMap['terminal'] | LabEventMap['terminal-exit'] };

describe('TerminalService', () => {
  let dir: string;
  let events: Ev[];
  let spawned: { file: string; args: string[]; env: Record<string, string>; cols: number; rows: number }[];
  let ptys: FakePty[];
  let svc: TerminalService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlab-netns-'));
    writeFileSync(join(dir, 'nl-n-node-1'), '');
    events = [];
    spawned = [];
    ptys = [];
    const spawn: PtySpawn = (file, args, o) => {
      spawned.push({ file, args, env: o.env, cols: o.cols, rows: o.rows });
      const p = new FakePty();
      ptys.push(p);
      return p;
    };
    svc = new TerminalService({ emit: (event, data) => events.push({ event, data }), spawn, netnsDir: dir, isRoot: () => true, flushMs: 5, maxTerminals: 2 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs bash inside the node namespace with a prompt naming the node', async () => {
    const info = await svc.open({ kind: 'local-testbed', node: 'node-1' }, { cols: 120, rows: 40 });
    expect(info.id).toMatch(/^term-[0-9a-f]{12}$/);
    expect(info.title).toBe('node-1 (test-bed)');
    expect(info.command).toBe('ip netns exec nl-n-node-1 bash --noprofile --norc -i');
    expect(spawned[0]).toMatchObject({ file: 'ip', args: ['netns', 'exec', 'nl-n-node-1', 'bash', '--noprofile', '--norc', '-i'], cols: 120, rows: 40 });
    expect(spawned[0].env.PS1).toContain('node-1');
    expect(spawned[0].env.TERM).toBe('xterm-256color');
  });

  it('batches output into terminal events, forwards input and resizes, reports the exit', async () => {
    const info = await svc.open({ kind: 'local-testbed', node: 'node-1' });
    ptys[0].emit('default via ');
    ptys[0].emit('10.0.1.1 dev eth0\r\n');
    expect(events).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([{ event: 'terminal', data: { id: info.id, data: 'default via 10.0.1.1 dev eth0\r\n' } }]);
    svc.write(info.id, 'ip route\r');
    svc.resize(info.id, 2000, 2);
    expect(ptys[0].written).toEqual(['ip route\r']);
    expect(ptys[0].sizes).toEqual([[500, 4]]);
    ptys[0].emit('tail');
    svc.close(info.id);
    // Pending output is flushed before the exit event.
    expect(events.slice(1)).toEqual([
      { event: 'terminal', data: { id: info.id, data: 'tail' } },
      { event: 'terminal-exit', data: { id: info.id, exitCode: 0, signal: 1 } },
    ]);
    expect(ptys[0].killed).toEqual(['SIGHUP']);
    expect(() => svc.write(info.id, 'x')).toThrow(/not open/);
    expect(svc.list()).toEqual([]);
  });

  it('says what to do when the test-bed is not running, without root, for SSH, and when too many are open', async () => {
    await expect(svc.open({ kind: 'local-testbed', node: 'node-9' })).rejects.toMatchObject({ code: 'testbed-not-running', message: expect.stringContaining('nl-n-node-9 does not exist') });
    const noRoot = new TerminalService({ emit: () => {}, spawn: () => new FakePty(), netnsDir: dir, isRoot: () => false });
    await expect(noRoot.open({ kind: 'local-testbed', node: 'node-1' })).rejects.toMatchObject({ code: 'not-root' });
    await expect(svc.open({ kind: 'ssh', host: 'kind-worker', user: 'root' })).rejects.toBeInstanceOf(LabApiError);
    await expect(svc.open({ kind: 'ssh', host: 'kind-worker' })).rejects.toMatchObject({ code: 'terminal-unavailable' });
    await svc.open({ kind: 'local-testbed', node: 'node-1' });
    await svc.open({ kind: 'local-testbed', node: 'node-1' });
    await expect(svc.open({ kind: 'local-testbed', node: 'node-1' })).rejects.toMatchObject({ code: 'too-many-terminals' });
    svc.closeAll();
    expect(svc.list()).toEqual([]);
  });

  it('refuses bad terminal calls at the dispatcher (zod), before they reach the host', async () => {
    const opened: unknown[] = [];
    const api = { terminalOpen: async (...a: unknown[]) => (opened.push(a), { id: 'term-00', title: '', command: '', pid: 1 }) } as never;
    const dispatch = createDispatcher(api);
    expect(await dispatch('terminalOpen', [{ kind: 'local-testbed', node: 'node-1; rm -rf /' }])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await dispatch('terminalOpen', [{ kind: 'telnet', host: 'x' }])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await dispatch('terminalWrite', ['term-zz', 'ls\r'])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await dispatch('terminalResize', ['term-0a0a', 0, 24])).toMatchObject({ ok: false });
    expect(await dispatch('terminalOpen', [{ kind: 'local-testbed', node: 'node-1' }, { cols: 80, rows: 24 }])).toMatchObject({ ok: true });
    expect(opened).toEqual([[{ kind: 'local-testbed', node: 'node-1' }, { cols: 80, rows: 24 }]]);
    expect(LAB_API_PARAMS.terminalWrite.safeParse(['term-0a0a', 'x'.repeat(1024 * 1024 + 1)]).success).toBe(false);
  });
});
