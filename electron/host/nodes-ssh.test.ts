// Remote nodes through the LabApi methods (dispatcher + zod, as both
// transports call them) against a real OpenSSH server on 127.0.0.1 with
// generated keys: first contact shows the fingerprint ssh-keygen prints and
// trusts nothing; only the exact fingerprint shown is accepted; a changed key
// is refused with the known_hosts line to remove; encrypted keys ask for
// their passphrase, which is never stored.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult, RemoteConnectResult, RemoteNodeInfo, RpcOutcome } from '../../core/api';
import { createHostApi, type HostApi } from './api';
import { createDispatcher, type Dispatch } from './dispatch';
import { REMOTE_NODES_FILE } from './nodes';
import { readKnownHosts } from './remote/known-hosts';
import { startSshd, type Sshd } from './remote/sshd-fixture';

let sshd: Sshd;
let dataDir: string;
let api: HostApi;
let call: Dispatch;
let knownHosts: string;

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = mkdtempSync(join(tmpdir(), 'netlab-nodes-ssh-'));
  knownHosts = join(dataDir, 'known_hosts');
  api = createHostApi({ transport: 'websocket', electron: false, version: 't', resourcesDir: dataDir, dataDir });
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
function err(o: RpcOutcome): { code: string; message: string; hint?: string } {
  if (o.ok) throw new Error(`expected an error, got ${JSON.stringify(o.result).slice(0, 200)}`);
  return o.error;
}
const entries = () => readKnownHosts(knownHosts).entries;
const OTHER = `SHA256:${'B'.repeat(43)}`;

describe('remote nodes over a real sshd, through the LabApi', () => {
  it('first contact: unknown-host-key with the fingerprint ssh-keygen -lf prints; nothing trusted, nothing runs', async () => {
    ok(await call('remoteAdd', [{ name: 'lab-node', host: '127.0.0.1', port: sshd.port, user: sshd.user, keyFile: sshd.clientKey }]));
    const r = ok<RemoteConnectResult>(await call('remoteConnect', ['lab-node']));
    expect(r.status).toBe('unknown-host-key');
    if (r.status !== 'unknown-host-key') return;
    expect(r.fingerprint).toBe(sshd.hostFingerprint);
    expect(r.keyType).toBe('ssh-ed25519');
    expect(r.hostName).toBe(`[127.0.0.1]:${sshd.port}`);
    expect(r.message).toContain("can't be established");
    expect(entries()).toHaveLength(0);
    expect(err(await call('remoteRun', [{ name: 'lab-node', command: 'ip -j route' }])).code).toBe('not-connected');
    expect(ok<RemoteNodeInfo[]>(await call('remoteList', []))[0]).toMatchObject({ name: 'lab-node', connected: false });
  });

  it('accepts only the exact fingerprint that was shown', async () => {
    const e = err(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: OTHER }]));
    expect(e.code).toBe('host-key-mismatch');
    expect(e.message).toContain(sshd.hostFingerprint);
    expect(entries()).toHaveLength(0);
    const r = ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: sshd.hostFingerprint }]));
    expect(r).toEqual({ status: 'ok', keyType: 'ssh-ed25519', fingerprint: sshd.hostFingerprint, added: true });
    expect(entries()).toHaveLength(1);
    expect(entries()[0].hashed).toBe(true);
    expect(ok<RemoteNodeInfo[]>(await call('remoteList', []))[0]).toMatchObject({ connected: true, hostKey: { keyType: 'ssh-ed25519', fingerprint: sshd.hostFingerprint } });
    // the question is answered: accepting again needs a new question
    expect(err(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: sshd.hostFingerprint }])).code).toBe('host-key-not-shown');
  });

  it('runs read-only commands; probes and writes need confirm', async () => {
    const r = ok<CommandResult>(await call('remoteRun', [{ name: 'lab-node', command: 'ip -j link show lo' }]));
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { ifname: string }[])[0].ifname).toBe('lo');
    expect(r.classification.class).toBe('read');
    expect(r.command).toMatch(/^timeout -k 2 \d+ ip -j link show lo$/);
    const w = err(await call('remoteRun', [{ name: 'lab-node', command: 'ip link add nlx0 type dummy' }]));
    expect(w.code).toBe('command-rejected');
    expect(w.message).toContain('not read-only');
    const p = err(await call('remoteRun', [{ name: 'lab-node', command: 'ping -c 1 -W 1 127.0.0.1' }]));
    expect(p.code).toBe('command-rejected');
    expect(p.message).toContain('sends test traffic');
    const m = err(await call('remoteRun', [{ name: 'lab-node', command: 'cat /etc/hostname; id' }]));
    expect(m).toMatchObject({ code: 'command-rejected' });
    const echo = ok<CommandResult>(await call('remoteRun', [{ name: 'lab-node', command: 'echo confirmed', confirm: true }]));
    expect(echo).toMatchObject({ stdout: 'confirmed\n', code: 0, classification: { class: 'write' } });
  });

  it('a known key connects without a question', async () => {
    ok(await call('remoteDisconnect', ['lab-node']));
    expect(ok<RemoteNodeInfo[]>(await call('remoteList', []))[0].connected).toBe(false);
    expect(ok<RemoteConnectResult>(await call('remoteConnect', ['lab-node']))).toEqual({ status: 'ok', keyType: 'ssh-ed25519', fingerprint: sshd.hostFingerprint, added: false });
  });

  it('a changed key is refused with the old and new fingerprints and the known_hosts line to remove; it cannot be accepted', async () => {
    const old = sshd.hostFingerprint;
    const lineBefore = readFileSync(knownHosts, 'utf8').split('\n')[0];
    await sshd.rotateHostKey();
    expect(sshd.hostFingerprint).not.toBe(old);
    const r = ok<RemoteConnectResult>(await call('remoteConnect', ['lab-node']));
    expect(r.status).toBe('changed-host-key');
    if (r.status !== 'changed-host-key') return;
    expect(r.old).toBe(old);
    expect(r.new).toBe(sshd.hostFingerprint);
    expect(r.knownHostsLine).toBe(lineBefore);
    expect(r.knownHostsPath).toBe(knownHosts);
    expect(r.lineNumbers).toEqual([1]);
    expect(r.removeCommand).toBe(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${knownHosts}`);
    expect(r.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(ok<RemoteNodeInfo[]>(await call('remoteList', []))[0].connected).toBe(false);
    expect(err(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: sshd.hostFingerprint }])).code).toBe('host-key-not-shown');
    expect(err(await call('remoteRun', [{ name: 'lab-node', command: 'ip -j route' }])).code).toBe('not-connected');
    expect(readFileSync(knownHosts, 'utf8').split('\n')[0]).toBe(lineBefore);

    // the user removes the stale line as told, then is asked about the new key
    execFileSync('sh', ['-c', r.removeCommand], { stdio: 'ignore' });
    expect(entries()).toHaveLength(0);
    const again = ok<RemoteConnectResult>(await call('remoteConnect', ['lab-node']));
    expect(again).toMatchObject({ status: 'unknown-host-key', fingerprint: sshd.hostFingerprint });
  });

  it('a key that changes between the question and the answer is not trusted', async () => {
    const shown = sshd.hostFingerprint;
    await sshd.rotateHostKey();
    const r = ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: shown }]));
    expect(r.status).toBe('unknown-host-key');
    if (r.status === 'unknown-host-key') {
      expect(r.fingerprint).toBe(sshd.hostFingerprint);
      expect(r.message).toContain('NOT accepted');
    }
    expect(entries()).toHaveLength(0);
    // the new question can be answered
    expect(ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'lab-node', fingerprint: sshd.hostFingerprint }]))).toMatchObject({ status: 'ok', added: true });
  });

  it('names a refused connection', async () => {
    ok(await call('remoteAdd', [{ name: 'nothing-here', host: '127.0.0.1', port: 1, user: 'root', keyFile: sshd.clientKey }]));
    const e = err(await call('remoteConnect', ['nothing-here']));
    expect(e.code).toBe('connect-failed');
    expect(e.message).toContain('connection refused');
  });
});

describe('encrypted key (real sshd)', () => {
  let locked: Sshd;
  beforeAll(async () => {
    locked = await startSshd({ clientKeyPassphrase: 'correct horse' });
  });
  afterAll(async () => {
    await locked?.stop();
  });

  it('asks for the passphrase, uses it for the connection only, never stores it', async () => {
    ok(await call('remoteAdd', [{ name: 'locked', host: '127.0.0.1', port: locked.port, user: locked.user, keyFile: locked.clientKey }]));
    const e = err(await call('remoteConnect', ['locked']));
    expect(e.code).toBe('passphrase-required');
    expect(err(await call('remoteConnect', ['locked', { passphrase: 'wrong' }])).code).toBe('auth-failed');
    const q = ok<RemoteConnectResult>(await call('remoteConnect', ['locked', { passphrase: 'correct horse' }]));
    expect(q).toMatchObject({ status: 'unknown-host-key', fingerprint: locked.hostFingerprint });
    expect(ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'locked', fingerprint: locked.hostFingerprint, passphrase: 'correct horse' }]))).toMatchObject({ status: 'ok' });
    expect(ok<CommandResult>(await call('remoteRun', [{ name: 'locked', command: 'ip -j addr show lo' }])).code).toBe(0);
    for (const f of [REMOTE_NODES_FILE, 'known_hosts']) expect(readFileSync(join(dataDir, f), 'utf8')).not.toContain('correct horse');
  });
});
