// Running commands for the test-bed: never through a shell, always with a
// timeout, optionally inside a network namespace (`ip netns exec`, which also
// bind-mounts /etc/netns/NAME/* over /etc), and long-running daemons detached
// (their own session) with output to a log file, so they outlive the CLI.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { TestbedError } from './errors';

export interface RunOptions {
  /** Run inside this network namespace. */
  netns?: string;
  /** Standard input. */
  input?: string;
  /** Extra environment (merged over a minimal PATH-only environment). */
  env?: Record<string, string>;
  /** Default 20 s. */
  timeoutMs?: number;
  /** Throw a TestbedError when the exit code is not 0 (default true). */
  check?: boolean;
  /** What the command does, for error messages ("add the bridge br0 in nl-net"). */
  what?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** argv for running `argv` inside `netns` (or as is). */
export function inNetns(netns: string | undefined, argv: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const argv = inNetns(opts.netns, [cmd, ...args]);
  const timeout = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH, LANG: 'C', LC_ALL: 'C', ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new TestbedError('command-failed', `cannot run ${argv[0]}: ${e.message}`, 'check that the program is installed (netlab testbed up lists what is missing)'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      const shown = argv.join(' ');
      if (timedOut) {
        reject(new TestbedError('timeout', `${opts.what ?? shown}: no answer within ${timeout} ms`, 'the command hung; run netlab testbed down and try again', r.stderr.trim()));
        return;
      }
      if ((opts.check ?? true) && r.code !== 0) {
        reject(
          new TestbedError(
            'command-failed',
            `${opts.what ? `${opts.what}: ` : ''}\`${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}\` failed with exit code ${r.code}`,
            'see the output below; netlab testbed down removes whatever was built',
            (r.stderr || r.stdout).trim().slice(0, 4000),
          ),
        );
        return;
      }
      resolve(r);
    });
    child.stdin.on('error', () => {
      /* the process may exit before reading its input */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Several `ip` commands in one process (`ip -n NS -batch -`): stops at the first that fails. */
export function ipBatch(netns: string | undefined, lines: string[], what: string): Promise<RunResult> {
  if (lines.length === 0) return Promise.resolve({ code: 0, stdout: '', stderr: '' });
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  return run('ip', args, { input: `${lines.join('\n')}\n`, what });
}

export interface DaemonSpec {
  /** Role, for state and messages: `bird node-1`, `sshd node-2`, `http default/backend-1:8080`. */
  name: string;
  netns?: string;
  argv: string[];
  /** Log file receiving stdout and stderr. */
  log: string;
  env?: Record<string, string>;
}

export interface DaemonProcess {
  name: string;
  pid: number;
  netns?: string;
  /** The program the process runs (after `ip netns exec` execs it), to recognise the pid later. */
  exe: string;
  /** /proc/<pid>/stat starttime, to tell our process from a later one with the same pid. */
  startTime: number;
  log: string;
}

/** Starts a detached daemon (own session, no controlling terminal) that survives the CLI's exit. */
export async function spawnDaemon(spec: DaemonSpec): Promise<DaemonProcess> {
  const argv = inNetns(spec.netns, spec.argv);
  const fd = openSync(spec.log, 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { PATH, LANG: 'C', LC_ALL: 'C', ...spec.env },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(new TestbedError('daemon-failed', `cannot start ${spec.name}: ${e.message}`, 'check that the program is installed')));
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    const exe = spec.argv[0].split('/').pop()!;
    return { name: spec.name, pid, netns: spec.netns, exe, startTime: procStartTime(pid) ?? 0, log: spec.log };
  } finally {
    closeSync(fd);
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null when the process is gone. */
export function procStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 is rest[19]
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** The process's argv, or null when it is gone. */
export function procCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((x, i, a) => x !== '' || i < a.length - 1);
  } catch {
    return null;
  }
}

/** Zombie or gone. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** True when `p` still is the process we started (same pid, same start time). */
export function isSameProcess(p: Pick<DaemonProcess, 'pid' | 'startTime'>): boolean {
  const st = procStartTime(p.pid);
  return st !== null && (p.startTime === 0 || st === p.startTime) && isAlive(p.pid);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns a value or `timeoutMs` passes (then returns null). */
export async function waitFor<T>(check: () => Promise<T | null> | T | null, timeoutMs: number, intervalMs = 100): Promise<T | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null && v !== undefined) return v;
    if (Date.now() >= end) return null;
    await sleep(intervalMs);
  }
}

/** Reads the last `max` characters of a log file (for error messages). */
export function tailLog(path: string, max = 2000): string {
  try {
    const t = readFileSync(path, 'utf8');
    return t.length > max ? `…${t.slice(-max)}` : t;
  } catch {
    return '';
  }
}
