// SSH terminals against a real OpenSSH server on 127.0.0.1 (generated host
// and client keys): the node is registered and its fingerprint accepted
// through the LabApi, then the system ssh client runs in a real pty and a
// command's output comes back as `terminal` events. An unknown key is
// answered with the fingerprint question and a changed key with the
// refusal, both before anything is spawned; the ssh client's own strict
// checking against the lab's known_hosts refuses a changed key too.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabEventMap, RemoteConnectResult, RpcOutcome, TerminalOpenResult } from '../../core/api';
import { createHostApi, type HostApi } from './api';
import { createDispatcher, type Dispatch } from './dispatch';
import { NodesService } from './nodes';
import { readKnownHosts } from './remote/known-hosts';
import { startSshd, type Sshd } from './remote/sshd-fixture';
import { TerminalService, sshArgs, type PtySpawn } from './terminal';

let sshd: Sshd;
let dataDir: string;
let api: HostApi;
let call: Dispatch;
let knownHosts: string;
const output = new Map<string, string>();
const exits: LabEventMap['terminal-exit'][] = [];

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = mkdtempSync(join(tmpdir(), 'netlab-term-ssh-'));
  knownHosts = join(dataDir, 'known_hosts');
  api = createHostApi({ transport: 'websocket', electron: false, version: 't', resourcesDir: dataDir, dataDir });
  api.setEventSink((event, data) => {
    if (event === 'terminal') {
      const d = data as LabEventMap['terminal'];
      output.set(d.id, (output.get(d.id) ?? '') + d.data);
    } else if (event === 'terminal-exit') exits.push(data as LabEventMap['terminal-exit']);
  });
  call = createDispatcher(api);
});
afterAll(async () => {
  api?.close();
  await sshd?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function ok<T>(o: RpcOutcome): T {
  if (!o.ok) throw new Error(`expected success, got ${o.error.code}: ${o.error.message}`);
  return o.result as T;
}
async function until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const entries = () => readKnownHosts(knownHosts).entries;

/** A TerminalService on the same data dir whose spawns are counted (real node-pty underneath). */
async function countingTerminals(): Promise<{ svc: TerminalService; spawned: string[][]; nodes: NodesService }> {
  const pty = await import('node-pty');
  const spawned: string[][] = [];
  const spawn: PtySpawn = (file, args, o) => {
    spawned.push([file, ...args]);
    return pty.spawn(file, args, o) as never;
  };
  const nodes = new NodesService({ dataDir, emit: () => {} });
  const svc = new TerminalService({ emit: () => {}, spawn, sshTarget: (n) => nodes.sshTerminalTarget(n), sshProbe: (h, p, u) => nodes.sshHostProbe(h, p, u) });
  return { svc, spawned, nodes };
}

describe('SSH terminal specs', () => {
  it('take a registered node or a host, never both, and no option-like host', async () => {
    for (const bad of [{ kind: 'ssh' }, { kind: 'ssh', node: 'a', host: 'b' }, { kind: 'ssh', host: '-oProxyCommand' }, { kind: 'ssh', node: 'x; rm' }]) {
      const o = await call('terminalOpen', [bad]);
      expect(o.ok ? 'accepted' : o.error.code).toBe('invalid-params');
    }
    const missing = await call('terminalOpen', [{ kind: 'ssh', node: 'not-registered' }]);
    expect(missing.ok ? 'accepted' : missing.error.code).toBe('not-found');
  });
});

describe('SSH terminals over a real sshd', () => {
  it('an unknown host key is answered with its fingerprint; nothing is spawned, nothing trusted', async () => {
    ok(await call('remoteAdd', [{ name: 'lab-node', host: '127.0.0.1', port: sshd.port, user: sshd.user, keyFile: sshd.clientKey }]));
    const r = ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'lab-node' }]));
    expect(r).toMatchObject({ status: 'unknown-host-key', node: 'lab-node', fingerprint: sshd.hostFingerprint, keyType: 'ssh-ed25519', hostName: `[127.0.0.1]:${sshd.port}` });
    expect(entries()).toHaveLength(0);
    expect(output.size).toBe(0);

    const { svc, spawned, nodes } = await countingTerminals();
    const again = await svc.open({ kind: 'ssh', node: 'lab-node' });
    expect(again).toMatchObject({ status: 'unknown-host-key', fingerprint: sshd.hostFingerprint });
    expect(spawned).toEqual([]);
    expect(svc.list()).toEqual([]);
    // a host given directly is checked the same way
    expect(await svc.open({ kind: 'ssh', host: '127.0.0.1', port: sshd.port, user: sshd.user })).toMatchObject({ status: 'unknown-host-key', fingerprint: sshd.hostFingerprint });
    expect(spawned).toEqual([]);
    await nodes.close();
  });

  it('after the fingerprint is accepted through the LabApi, a shell runs over ssh in the terminal', async () => {
    const shown = ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'lab-node' }]));
    expect('status' in shown && shown.status).toBe('unknown-host-key');
    const acc = ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: sshd.hostFingerprint }]));
    expect(acc).toMatchObject({ status: 'ok', added: true });
    expect(entries()).toHaveLength(1);
    expect(entries()[0].hashed).toBe(true);

    const info = ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'lab-node' }, { cols: 100, rows: 30 }]));
    if ('status' in info) throw new Error(`expected a terminal, got ${info.status}`);
    expect(info.title).toBe('ssh lab-node');
    expect(info.command).toBe(`/usr/bin/ssh ${sshArgs({ host: '127.0.0.1', port: sshd.port, user: sshd.user, knownHostsPath: knownHosts, keyFile: sshd.clientKey }).join(' ')}`);
    expect(info.command).toContain('StrictHostKeyChecking=yes');
    ok(await call('terminalWrite', [info.id, 'echo ok-$((40+2))\n']));
    await until(() => (output.get(info.id) ?? '').includes('ok-42'), `ok-42 in the terminal (so far: ${JSON.stringify(output.get(info.id))})`);
    ok(await call('terminalClose', [info.id]));
    await until(() => exits.some((e) => e.id === info.id), 'the terminal-exit event');
    // nothing was added to known_hosts by the ssh client
    expect(entries()).toHaveLength(1);
  });

  it('a changed host key is refused before anything is spawned, and the ssh client refuses it too', async () => {
    const old = sshd.hostFingerprint;
    await sshd.rotateHostKey();
    const r = ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'lab-node' }]));
    expect('status' in r && r.status).toBe('changed-host-key');
    if (!('status' in r) || r.status !== 'changed-host-key') return;
    expect(r).toMatchObject({ node: 'lab-node', old, new: sshd.hostFingerprint, lineNumbers: [1], knownHostsPath: knownHosts });
    expect(r.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    // cannot be accepted
    expect(ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'lab-node' }]))).toMatchObject({ status: 'changed-host-key' });
    const acc = await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: sshd.hostFingerprint }]);
    expect(acc.ok ? 'accepted' : acc.error.code).toBe('host-key-not-shown');

    const { svc, spawned, nodes } = await countingTerminals();
    expect(await svc.open({ kind: 'ssh', node: 'lab-node' })).toMatchObject({ status: 'changed-host-key' });
    expect(spawned).toEqual([]);
    await nodes.close();

    // defence in depth: the ssh client with the same options refuses the key by itself
    const args = sshArgs({ host: '127.0.0.1', port: sshd.port, user: sshd.user, knownHostsPath: knownHosts, keyFile: sshd.clientKey });
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile('/usr/bin/ssh', ['-o', 'BatchMode=yes', ...args, 'echo', 'should-not-run'], { timeout: 15_000 }, (_e, _out, stderr) => resolve({ code: child.exitCode, stderr }));
    });
    expect(res.code).toBe(255);
    expect(res.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(res.stderr).not.toContain('should-not-run');
    expect(entries()).toHaveLength(1);
  });

  it('names the package when the ssh client is missing', async () => {
    const nodes = new NodesService({ dataDir, emit: () => {} });
    // the stale entry of the previous test goes (as the refusal told the user), then the current key is trusted
    rmSync(knownHosts, { force: true });
    const svc = new TerminalService({ emit: () => {}, spawn: () => { throw new Error('must not spawn'); }, sshTarget: (n) => nodes.sshTerminalTarget(n), sshPath: join(dataDir, 'no-such-ssh') });
    const shown = await nodes.sshTerminalTarget('lab-node');
    expect(shown.status).toBe('unknown-host-key');
    if (shown.status !== 'unknown-host-key') return;
    expect(await nodes.remoteAcceptHostKey({ name: 'lab-node', fingerprint: shown.fingerprint })).toMatchObject({ status: 'ok', added: true });
    await expect(svc.open({ kind: 'ssh', node: 'lab-node' })).rejects.toMatchObject({ code: 'ssh-missing', hint: expect.stringContaining('openssh-client') });
    await nodes.close();
  });
});

describe('SSH terminal with an encrypted key (real sshd)', () => {
  let locked: Sshd;
  beforeAll(async () => {
    locked = await startSshd({ clientKeyPassphrase: 'correct horse' });
  });
  afterAll(async () => {
    await locked?.stop();
  });

  it('the host-key check needs no passphrase; ssh asks it in the terminal, and the lab stores none', async () => {
    ok(await call('remoteAdd', [{ name: 'locked', host: '127.0.0.1', port: locked.port, user: locked.user, keyFile: locked.clientKey }]));
    // no passphrase-required here: the check does not log in
    expect(ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'locked' }]))).toMatchObject({ status: 'unknown-host-key', fingerprint: locked.hostFingerprint });
    ok(await call('remoteAcceptHostKey', [{ name: 'locked', fingerprint: locked.hostFingerprint, passphrase: 'correct horse' }]));
    const info = ok<TerminalOpenResult>(await call('terminalOpen', [{ kind: 'ssh', node: 'locked' }]));
    if ('status' in info) throw new Error(`expected a terminal, got ${info.status}`);
    const seen = () => output.get(info.id) ?? '';
    await until(() => /Enter passphrase for key/.test(seen()), `ssh's passphrase prompt (so far: ${JSON.stringify(seen())})`);
    const atPrompt = seen().length;
    ok(await call('terminalWrite', [info.id, 'correct horse\r']));
    // ssh restores the terminal with TCSAFLUSH after reading the passphrase (typed-ahead input is dropped): type once it has moved on
    await until(() => seen().length > atPrompt, 'ssh to take the passphrase');
    await until(() => /Last login|[#$] $/.test(seen().slice(atPrompt)), `the remote shell (so far: ${JSON.stringify(seen())})`);
    ok(await call('terminalWrite', [info.id, 'echo ok-$((40+2))\r']));
    await until(() => seen().includes('ok-42'), `ok-42 after the passphrase (so far: ${JSON.stringify(seen())})`);
    ok(await call('terminalClose', [info.id]));
    await until(() => exits.some((e) => e.id === info.id), 'the terminal-exit event');
    for (const f of ['remote-nodes.json', 'known_hosts']) expect(readFileSync(join(dataDir, f), 'utf8')).not.toContain('correct horse');
  });
});
