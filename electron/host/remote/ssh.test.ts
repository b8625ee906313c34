// SSH against a real local sshd (openssh-server): host-key first contact,
// acceptance, a read-only command, a changed key refused, timeout, output
// cap, cancel, refused writes, encrypted keys and ssh-agent.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRejected } from './command-line';
import { readKnownHosts } from './known-hosts';
import { connectSsh, type SshOptions, type SshRunner } from './ssh';
import { startSshd, type Sshd } from './sshd-fixture';
import { RemoteError } from './types';

let sshd: Sshd;
let dir: string;
let knownHostsPath: string;

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'netlab-ssh-test-'));
  knownHostsPath = join(dir, 'known_hosts');
});
afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function base(extra: Partial<SshOptions> = {}): SshOptions {
  return { host: '127.0.0.1', port: sshd.port, user: sshd.user, knownHostsPath, privateKeyPath: sshd.clientKey, agent: false, ...extra };
}

async function connected(extra: Partial<SshOptions> = {}): Promise<SshRunner> {
  const r = await connectSsh(base(extra));
  if (r.status !== 'connected') throw new Error(`expected a connection, got ${r.status}: ${'message' in r ? r.message : ''}`);
  return r.runner;
}

describe('ssh host keys and commands (real sshd)', () => {
  it('first contact returns the fingerprint ssh-keygen -lf prints and trusts nothing', async () => {
    const r = await connectSsh(base());
    expect(r.status).toBe('host-key-unknown');
    if (r.status !== 'host-key-unknown') return;
    expect(r.hostKey.fingerprint).toBe(sshd.hostFingerprint);
    expect(r.hostKey.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(r.hostKey.keyType).toBe('ssh-ed25519');
    expect(r.hostKey.name).toBe(`[127.0.0.1]:${sshd.port}`);
    expect(r.message).toContain(sshd.hostFingerprint);
    expect(readKnownHosts(knownHostsPath).entries).toHaveLength(0);
  });

  it('a wrong accepted fingerprint accepts nothing', async () => {
    const r = await connectSsh(base({ acceptHostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
    expect(r.status).toBe('host-key-unknown');
    if (r.status === 'host-key-unknown') expect(r.message).toContain('NOT accepted');
    expect(readKnownHosts(knownHostsPath).entries).toHaveLength(0);
  });

  it('accepting the fingerprint writes a hashed known_hosts line; the next connection needs no question', async () => {
    const r = await connectSsh(base({ acceptHostKey: sshd.hostFingerprint }));
    expect(r.status).toBe('connected');
    if (r.status !== 'connected') return;
    expect(r.added).toBe(true);
    await r.runner.close();
    const file = readKnownHosts(knownHostsPath);
    expect(file.entries).toHaveLength(1);
    expect(file.entries[0].hashed).toBe(true);
    expect(readFileSync(knownHostsPath, 'utf8')).not.toContain('127.0.0.1');
    const again = await connectSsh(base());
    expect(again.status).toBe('connected');
    if (again.status === 'connected') {
      expect(again.added).toBe(false);
      await again.runner.close();
    }
  });

  it('runs ip -j route and returns what the host prints', async () => {
    const runner = await connected();
    try {
      const r = await runner.run('ip -j route');
      expect(r.code).toBe(0);
      expect(r.classification.class).toBe('read');
      const remote = JSON.parse(r.stdout) as unknown[];
      const local = JSON.parse(execFileSync('ip', ['-j', 'route'], { encoding: 'utf8' })) as unknown[];
      expect(remote).toEqual(local);
      // several commands share the connection
      const [a, b] = await Promise.all([runner.run(['ip', '-j', 'addr']), runner.run('cat /etc/resolv.conf')]);
      expect(a.code).toBe(0);
      expect(JSON.parse(a.stdout)).toBeInstanceOf(Array);
      expect(b.stdout).toBe(readFileSync('/etc/resolv.conf', 'utf8'));
    } finally {
      await runner.close();
    }
  });

  it('reports the exit status and stderr of a failing read-only command', async () => {
    const runner = await connected();
    try {
      const r = await runner.run('ip route show table 123456789');
      expect(r.code).not.toBe(0);
      expect(r.stderr.length).toBeGreaterThan(0);
    } finally {
      await runner.close();
    }
  });

  it('refuses writes and shell tricks before anything is sent', async () => {
    const runner = await connected();
    try {
      await expect(runner.run('ip route add 10.99.0.0/24 dev lo')).rejects.toBeInstanceOf(CommandRejected);
      await expect(runner.run('ip route; touch /tmp/x')).rejects.toThrow(/column 9/);
      await expect(runner.run('cat /etc/resolv.conf $(id)')).rejects.toBeInstanceOf(CommandRejected);
      const routes = execFileSync('ip', ['route'], { encoding: 'utf8' });
      expect(routes).not.toContain('10.99.0.0');
    } finally {
      await runner.close();
    }
  });

  it('kills a command that exceeds its timeout', async () => {
    const runner = await connected();
    try {
      const t0 = Date.now();
      const p = runner.run("timeout 20 tcpdump -n -c 1 -i lo 'udp port 8'", { timeoutMs: 700 });
      await expect(p).rejects.toMatchObject({ code: 'timeout' });
      expect(Date.now() - t0).toBeLessThan(1500);
      // on the node the command ends at the runner's bound (timeout -k 2 2), not at its own 20 s
      const lingering = (): string[] =>
        execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => l.startsWith('tcpdump -n -c 1 -i lo udp port 8'));
      let left = lingering();
      for (let i = 0; i < 40 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = lingering();
      }
      expect(left).toEqual([]);
      expect(Date.now() - t0).toBeLessThan(6000);
      // the connection is still usable
      expect((await runner.run('ip -j link')).code).toBe(0);
    } finally {
      await runner.close();
    }
  });

  it('stops at the output cap and keeps what fit', async () => {
    const runner = await connected();
    try {
      const err = await runner.run('ip -j -d addr', { maxBytes: 64 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).code).toBe('output-limit');
      expect((err as RemoteError).partial!.stdout.length).toBeLessThanOrEqual(64);
      expect((err as RemoteError).partial!.stdout.startsWith('[')).toBe(true);
    } finally {
      await runner.close();
    }
  });

  it('cancels a running command through its AbortSignal', async () => {
    const runner = await connected();
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await expect(runner.run("timeout 20 tcpdump -n -c 1 -i lo 'udp port 9'", { signal: ac.signal, timeoutMs: 3000 })).rejects.toMatchObject({ code: 'aborted' });
    } finally {
      await runner.close();
    }
  });

  it('refuses a changed host key, naming both fingerprints and the known_hosts line', async () => {
    const before = readKnownHosts(knownHostsPath).entries;
    expect(before).toHaveLength(1);
    const oldFp = sshd.hostFingerprint;
    await sshd.rotateHostKey();
    expect(sshd.hostFingerprint).not.toBe(oldFp);
    const r = await connectSsh(base({ acceptHostKey: true }));
    expect(r.status).toBe('host-key-changed');
    if (r.status !== 'host-key-changed') return;
    expect(r.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(r.message).toContain(oldFp);
    expect(r.message).toContain(sshd.hostFingerprint);
    expect(r.message).toContain(`${knownHostsPath} line 1`);
    // nothing was added or replaced
    expect(readKnownHosts(knownHostsPath).entries).toEqual(before);
  });

  it('connection failures are typed: refused port, bad key', async () => {
    const closed = await connectSsh(base({ port: 1 })).catch((e: unknown) => e);
    expect(closed).toMatchObject({ code: 'connect-failed' });
    const other = join(dir, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const kh2 = join(dir, 'kh2');
    const denied = await connectSsh(base({ knownHostsPath: kh2, acceptHostKey: true, privateKeyPath: other })).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'auth-failed' });
  });
});

describe('ssh key passphrases and ssh-agent (real sshd)', () => {
  let enc: Sshd;
  beforeAll(async () => {
    enc = await startSshd({ clientKeyPassphrase: 'correct horse' });
  });
  afterAll(async () => enc?.stop());

  const encOpts = (extra: Partial<SshOptions> = {}): SshOptions => ({
    host: '127.0.0.1',
    port: enc.port,
    user: enc.user,
    knownHostsPath: join(dir, 'kh-enc'),
    privateKeyPath: enc.clientKey,
    agent: false,
    acceptHostKey: true,
    ...extra,
  });

  it('an encrypted key without a passphrase asks for one instead of failing silently', async () => {
    await expect(connectSsh(encOpts())).rejects.toMatchObject({ code: 'passphrase-required' });
    let asked = 0;
    const r = await connectSsh(encOpts({ askPassphrase: async () => (asked++, 'correct horse') }));
    expect(asked).toBe(1);
    expect(r.status).toBe('connected');
    if (r.status === 'connected') await r.runner.close();
    await expect(connectSsh(encOpts({ passphrase: 'wrong' }))).rejects.toMatchObject({ code: 'auth-failed' });
  });

  it('authenticates through ssh-agent (SSH_AUTH_SOCK) with no key file', async () => {
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100; i++) {
        try {
          readFileSync(sock);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') break;
          await new Promise((r) => setTimeout(r, 30));
        }
      }
      const askpass = join(dir, 'askpass.sh');
      writeFileSync(askpass, "#!/bin/sh\necho 'correct horse'\n", { mode: 0o700 });
      execFileSync('ssh-add', [enc.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: 'ignore' });
      const r = await connectSsh(encOpts({ privateKeyPath: undefined, agent: sock }));
      expect(r.status).toBe('connected');
      if (r.status === 'connected') {
        expect((await r.runner.run('ip -j route')).code).toBe(0);
        await r.runner.close();
      }
    } finally {
      agent.kill();
    }
  });
});
