// A real OpenSSH server for tests: `sshd -D -f <tmp config>` on
// 127.0.0.1:<free port> with generated host keys and an authorized client
// key. Throws (so tests fail, never skip) when sshd or ssh-keygen is missing.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface Sshd {
  port: number;
  dir: string;
  user: string;
  clientKey: string;
  /** `ssh-keygen -lf` fingerprint of the current host key (SHA256:…). */
  hostFingerprint: string;
  /** Restarts sshd on the same port with a freshly generated host key. */
  rotateHostKey(): Promise<void>;
  stop(): Promise<void>;
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd'];

export function findSshd(): string {
  const p = SSHD_CANDIDATES.find((c) => existsSync(c));
  if (!p) throw new Error('sshd not found (looked in /usr/sbin, /usr/local/sbin, /sbin): install openssh-server (apt-get install openssh-server)');
  return p;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, ms: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`sshd exited with ${child.exitCode}: ${stderr()}`));
        return;
      }
      const s = connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`sshd did not listen on 127.0.0.1:${port} within ${ms} ms: ${stderr()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export function keygen(path: string, type = 'ed25519', passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'netlab-test', '-f', path], { stdio: 'ignore' });
}

export function fingerprintOf(pubPath: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubPath], { encoding: 'utf8' }).split(' ')[1];
}

export async function startSshd(opts: { clientKeyPassphrase?: string } = {}): Promise<Sshd> {
  const sshd = findSshd();
  const dir = mkdtempSync(join(tmpdir(), 'netlab-sshd-'));
  const user = userInfo().username;
  // sshd refuses to start without its privilege separation directory
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'host_ed25519');
  keygen(hostKey);
  const clientKey = join(dir, 'client_ed25519');
  keygen(clientKey, 'ed25519', opts.clientKeyPassphrase ?? '');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PidFile none',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'MaxSessions 20',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  let child: ChildProcess;
  let err = '';
  const launch = async (): Promise<void> => {
    err = '';
    child = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitForPort(port, 10_000, child, () => err);
  };
  const kill = (): Promise<void> =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  await launch();
  const s: Sshd = {
    port,
    dir,
    user,
    clientKey,
    hostFingerprint: fingerprintOf(`${hostKey}.pub`),
    async rotateHostKey() {
      await kill();
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      keygen(hostKey);
      s.hostFingerprint = fingerprintOf(`${hostKey}.pub`);
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}
