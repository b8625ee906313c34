// Runs a local program (docker, ip netns exec) with a timeout, an output cap
// and cancellation. No shell: the program and its arguments are passed as an
// argv. The child gets its own process group so a timeout kills everything
// it started.

import { spawn } from 'node:child_process';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, OutputCollector, RemoteError, fmtMs, type RunOptions } from './types';

export interface SpawnOutcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal?: string;
  durationMs: number;
}

export class SpawnMissing extends Error {
  constructor(readonly program: string) {
    super(`${program}: not found`);
  }
}

/** Spawns `file args…`; rejects with RemoteError on timeout, cancel or output limit, SpawnMissing when the program is absent. */
export function spawnCollect(file: string, args: readonly string[], opts: RunOptions & { what: string; env?: NodeJS.ProcessEnv }): Promise<SpawnOutcome> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cap = new OutputCollector(opts.maxBytes ?? DEFAULT_MAX_BYTES);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new RemoteError('aborted', `${opts.what}: cancelled before it started`, 'run it again when needed'));
      return;
    }
    const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: opts.env ?? process.env });
    let settled = false;
    let stopReason: RemoteError | null = null;
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        try {
          child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    const stop = (err: RemoteError): void => {
      if (stopReason) return;
      stopReason = err;
      killGroup();
    };
    const timer = setTimeout(
      () => stop(new RemoteError('timeout', `${opts.what}: no result after ${fmtMs(timeoutMs)}; the command was killed`, 'raise the timeout (timeoutMs, CLI --timeout) or check that the node answers', cap.partial)),
      timeoutMs,
    );
    const onAbort = (): void => stop(new RemoteError('aborted', `${opts.what}: cancelled`, 'run it again when needed', cap.partial));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const onData = (which: 'out' | 'err') => (d: Buffer) => {
      opts.onOutput?.(which === 'out' ? 'stdout' : 'stderr', d.toString('utf8'));
      if (!cap.add(which, d)) {
        stop(new RemoteError('output-limit', `${opts.what}: output exceeded ${cap.maxBytes} bytes; the command was killed`, 'raise the limit (maxBytes, CLI --max-bytes) or narrow the command (e.g. conntrack -L -p tcp)', cap.partial));
      }
    };
    child.stdout.on('data', onData('out'));
    child.stderr.on('data', onData('err'));
    const finish = (): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      finish();
      if (e.code === 'ENOENT') reject(new SpawnMissing(file));
      else reject(new RemoteError('connect-failed', `${opts.what}: could not start ${file}: ${e.message}`, 'check that the program is installed and executable'));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      finish();
      if (stopReason) {
        reject(new RemoteError(stopReason.code, stopReason.message, stopReason.hint, cap.partial));
        return;
      }
      resolve({ stdout: cap.stdout, stderr: cap.stderr, code, signal: signal ?? undefined, durationMs: Date.now() - started });
    });
  });
}
