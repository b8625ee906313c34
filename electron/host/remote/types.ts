// One interface for running commands on a node, whatever carries them: SSH
// (ssh2), `docker exec` (kind nodes without sshd) or `ip netns exec` (the
// local test-bed). Commands are read-only unless the caller says otherwise.

import type { Classification, Permissions } from './command-line';

export interface RunOptions extends Permissions {
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
  /** Stop reading and kill the command once stdout + stderr exceed this many bytes (default 64 MiB). */
  maxBytes?: number;
  /** Cancels the command. */
  signal?: AbortSignal;
  /** Called with each chunk as it arrives (e.g. to see tcpdump's "listening on" before sending traffic). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was ended by a signal. */
  code: number | null;
  /** The signal that ended it, when one did. */
  signal?: string;
  durationMs: number;
  /** The command line as the node received it. */
  command: string;
  classification: Classification;
}

export type RunnerKind = 'ssh' | 'docker' | 'netns';

export interface NodeRunner {
  readonly kind: RunnerKind;
  /** `ssh://root@10.0.1.5:22`, `docker://kind-worker`, `netns://nl-n-node-1`. */
  readonly target: string;
  /** Permissions applied when a call gives none (the test-bed's own namespaces allow probes). */
  readonly defaults: Permissions;
  run(cmd: string | readonly string[], opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export type RemoteErrorCode =
  | 'timeout'
  | 'aborted'
  | 'output-limit'
  | 'connect-failed'
  | 'auth-failed'
  | 'passphrase-required'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'docker-missing'
  | 'docker-daemon'
  | 'container-missing'
  | 'netns-missing'
  | 'not-root'
  | 'closed'
  | 'bad-target';

/** An error a user can hit when talking to a node, with what to do next. */
export class RemoteError extends Error {
  readonly code: RemoteErrorCode;
  readonly hint: string;
  /** What the command printed before it was stopped (timeouts, output limit, cancel). */
  readonly partial?: { stdout: string; stderr: string };
  constructor(code: RemoteErrorCode, message: string, hint: string, partial?: { stdout: string; stderr: string }) {
    super(message);
    this.name = 'RemoteError';
    this.code = code;
    this.hint = hint;
    this.partial = partial;
  }
}

/** Collects a command's output up to a byte cap (stdout + stderr together). */
export class OutputCollector {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private bytes = 0;
  exceeded = false;
  constructor(readonly maxBytes: number) {}

  /** Adds a chunk; returns false once the cap is exceeded (the chunk is kept only up to the cap). */
  add(which: 'out' | 'err', chunk: Buffer): boolean {
    if (this.exceeded) return false;
    const room = this.maxBytes - this.bytes;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    (which === 'out' ? this.out : this.err).push(part);
    this.bytes += part.length;
    if (chunk.length > room) {
      this.exceeded = true;
      return false;
    }
    return true;
  }
  get stdout(): string {
    return Buffer.concat(this.out).toString('utf8');
  }
  get stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }
  get partial(): { stdout: string; stderr: string } {
    return { stdout: this.stdout, stderr: this.stderr };
  }
}

export function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
