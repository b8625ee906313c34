// SSH to a node with ssh2: host-key verification against the lab's own
// known_hosts file (first contact is a question for the user, a changed key
// is refused), key-file or ssh-agent authentication, keep-alives, and
// commands with a timeout, an output cap and cancellation.
//
// ssh2 is CommonJS: its named exports are read from the default export so
// the module also loads under plain Node ESM (the CLI), not only in vitest.
//
// Secrets: a key passphrase is passed in (or asked for through a callback)
// for each connection and kept only in memory; nothing secret is written.

import { readFileSync } from 'node:fs';
import ssh2, { type Client as SshClient, type ClientChannel, type ConnectConfig } from 'ssh2';
import { prepareCommand, quoteArgv, shellLine, type PreparedCommand, type Permissions } from './command-line';
import {
  addKnownHost,
  changedKeyWarning,
  hostKeyInfo,
  knownKeyTypes,
  readKnownHosts,
  unknownKeyMessage,
  verifyHostKey,
  type HostKeyInfo,
  type KnownHostEntry,
} from './known-hosts';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, OutputCollector, RemoteError, fmtMs, type NodeRunner, type RunOptions, type RunResult } from './types';

const { Client, utils } = ssh2;

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

export interface SshOptions extends SshTarget {
  /** The lab's known_hosts file (OpenSSH format). */
  knownHostsPath: string;
  /** A private key file; its passphrase comes from `passphrase` or `askPassphrase`. */
  privateKeyPath?: string;
  /** A private key given directly (PEM/OpenSSH text). */
  privateKey?: string | Buffer;
  /** Kept in memory for this connection only. */
  passphrase?: string;
  /** Asked when the key is encrypted and no passphrase was given (the UI/CLI prompts). */
  askPassphrase?: (keyPath: string) => Promise<string | undefined>;
  /** ssh-agent socket; default SSH_AUTH_SOCK; false disables the agent. */
  agent?: string | false;
  /**
   * Accept an unknown host key: `true` accepts whatever key the host presents
   * on first contact (its fingerprint is returned and written to known_hosts);
   * a `SHA256:…` string accepts only that key. A changed key is never accepted.
   */
  acceptHostKey?: boolean | string;
  /** Write hashed host names (HashKnownHosts yes). Default true. */
  hashKnownHosts?: boolean;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  signal?: AbortSignal;
  /** Defaults for calls that give no permissions. */
  defaults?: Permissions;
}

export type SshConnectResult =
  | { status: 'connected'; runner: SshRunner; hostKey: HostKeyInfo; /** True when this connection added the key to known_hosts. */ added: boolean }
  | { status: 'host-key-unknown'; hostKey: HostKeyInfo; message: string; otherKnown: KnownHostEntry[] }
  | { status: 'host-key-changed'; hostKey: HostKeyInfo; message: string; known: KnownHostEntry[] }
  | { status: 'host-key-revoked'; hostKey: HostKeyInfo; message: string; entry: KnownHostEntry };

const HOST_KEY_ALGOS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_ORDER = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/** Host key algorithms with the types already known for the host first (as OpenSSH orders them). */
export function hostKeyAlgorithms(known: string[]): string[] {
  const order = [...known.filter((k) => HOST_KEY_ALGOS[k]), ...DEFAULT_ORDER.filter((k) => !known.includes(k))];
  return order.flatMap((k) => HOST_KEY_ALGOS[k]);
}

export function sshTargetText(t: SshTarget): string {
  return `ssh://${t.user}@${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

async function loadKey(opts: SshOptions): Promise<{ privateKey?: Buffer | string; passphrase?: string }> {
  if (!opts.privateKeyPath && !opts.privateKey) return {};
  let data: Buffer | string;
  const where = opts.privateKeyPath ?? 'the given private key';
  if (opts.privateKey) data = opts.privateKey;
  else {
    try {
      data = readFileSync(opts.privateKeyPath!);
    } catch (e) {
      throw new RemoteError('auth-failed', `cannot read the private key ${where}: ${(e as Error).message}`, 'check the path given with --identity');
    }
  }
  let passphrase = opts.passphrase;
  let parsed = utils.parseKey(data, passphrase);
  if (parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message) && passphrase === undefined && opts.askPassphrase) {
    passphrase = await opts.askPassphrase(where);
    parsed = utils.parseKey(data, passphrase);
  }
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) {
      throw new RemoteError('passphrase-required', `the private key ${where} is encrypted`, 'give its passphrase when asked (it is kept in memory for this connection only), or load the key into ssh-agent');
    }
    if (/bad passphrase|integrity check|decrypt/i.test(parsed.message) || passphrase !== undefined) {
      throw new RemoteError('auth-failed', `cannot decrypt the private key ${where}: ${parsed.message}`, 'check the passphrase');
    }
    throw new RemoteError('auth-failed', `cannot read the private key ${where}: ${parsed.message}`, 'use an OpenSSH or PEM private key file');
  }
  return { privateKey: data, passphrase };
}

/**
 * Connects and verifies the host key. Resolves with `connected` and a runner,
 * or with the host-key question/refusal; rejects with RemoteError when the
 * connection or authentication fails.
 */
export async function connectSsh(opts: SshOptions): Promise<SshConnectResult> {
  const target = sshTargetText(opts);
  const known = readKnownHosts(opts.knownHostsPath);
  const key = await loadKey(opts);
  const agent = opts.agent === false ? undefined : (opts.agent ?? process.env.SSH_AUTH_SOCK);
  if (!key.privateKey && !agent) {
    throw new RemoteError('auth-failed', `${target}: no private key and no ssh-agent`, 'give a key file (--identity ~/.ssh/id_ed25519) or start ssh-agent (SSH_AUTH_SOCK)');
  }
  return new Promise<SshConnectResult>((resolve, reject) => {
    const client = new Client();
    let decided: SshConnectResult | null = null;
    let presented: HostKeyInfo | null = null;
    let added = false;
    let done = false;
    const settle = (fn: () => void): void => {
      if (done) return;
      done = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      settle(() => reject(new RemoteError('aborted', `${target}: connection cancelled`, 'connect again when needed')));
      client.end();
    };
    if (opts.signal?.aborted) {
      reject(new RemoteError('aborted', `${target}: connection cancelled`, 'connect again when needed'));
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void): void => {
      const info = hostKeyInfo(opts.host, opts.port, blob);
      presented = info;
      const v = verifyHostKey(known, info);
      if (v.status === 'known') return verify(true);
      if (v.status === 'revoked') {
        decided = { status: 'host-key-revoked', hostKey: info, entry: v.entry, message: `the host key ${info.keyType} ${info.fingerprint} of ${info.name} is marked @revoked in ${known.path} line ${v.entry.line}; the connection was refused` };
        return verify(false);
      }
      if (v.status === 'changed') {
        decided = { status: 'host-key-changed', hostKey: info, known: v.known, message: changedKeyWarning(known, info, v.known) };
        return verify(false);
      }
      const accept = opts.acceptHostKey;
      if (accept === true || (typeof accept === 'string' && accept === info.fingerprint)) {
        try {
          addKnownHost(opts.knownHostsPath, info, { hash: opts.hashKnownHosts ?? true });
          added = true;
        } catch (e) {
          decided = { status: 'host-key-unknown', hostKey: info, otherKnown: v.otherTypes, message: `${unknownKeyMessage(info, v.otherTypes)}\nThe key was accepted but could not be written to ${opts.knownHostsPath}: ${(e as Error).message}` };
          return verify(false);
        }
        return verify(true);
      }
      let message = unknownKeyMessage(info, v.otherTypes);
      if (typeof accept === 'string') message += `\nThe fingerprint you accepted (${accept}) is not this key's: the key was NOT accepted.`;
      decided = { status: 'host-key-unknown', hostKey: info, otherKnown: v.otherTypes, message };
      return verify(false);
    };

    const config: ConnectConfig = {
      host: opts.host,
      port: opts.port,
      username: opts.user,
      readyTimeout: opts.connectTimeoutMs ?? 10_000,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      hostVerifier,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(known, opts.host, opts.port)) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      ...(key.privateKey ? { privateKey: key.privateKey, passphrase: key.passphrase } : {}),
      ...(agent ? { agent } : {}),
    };

    client.on('ready', () => {
      settle(() => resolve({ status: 'connected', runner: new SshRunner(client, opts, presented!), hostKey: presented!, added }));
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (decided) {
        const d = decided;
        settle(() => resolve(d));
        client.end();
        return;
      }
      let e: RemoteError;
      if (err.level === 'client-authentication') {
        e = new RemoteError('auth-failed', `${target}: authentication failed (${err.message})`, `check that the key is in ${opts.user}'s authorized_keys on the node, or that ssh-agent holds it`);
      } else if (err.level === 'client-timeout') {
        e = new RemoteError('connect-failed', `${target}: no SSH handshake within ${fmtMs(opts.connectTimeoutMs ?? 10_000)}`, 'check the host and port, and that sshd runs on the node');
      } else if (err.code === 'ECONNREFUSED') {
        e = new RemoteError('connect-failed', `${target}: connection refused (nothing listens on port ${opts.port})`, 'check the port and that sshd runs on the node (for the test-bed: netlab testbed status)');
      } else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        e = new RemoteError('connect-failed', `${target}: cannot resolve host ${opts.host}`, 'check the host name');
      } else {
        e = new RemoteError('connect-failed', `${target}: ${err.message}`, 'check the host, the port and the network path to it');
      }
      settle(() => reject(e));
      client.end();
    });
    client.on('close', () => {
      if (decided) {
        const d = decided;
        settle(() => resolve(d));
      } else settle(() => reject(new RemoteError('connect-failed', `${target}: the connection closed during the handshake`, 'check sshd on the node (its log says why)')));
    });
    try {
      client.connect(config);
    } catch (e) {
      settle(() => reject(new RemoteError('connect-failed', `${target}: ${(e as Error).message}`, 'check the connection settings')));
    }
  });
}

/**
 * The line sent to the node. sshd delivers signal requests only to sessions
 * it runs under privilege separation — not to root logins — so closing the
 * channel may leave a command running. Commands given as an argv are
 * therefore wrapped in `timeout -k 2 <T>` (coreutils/busybox) with T the
 * runner's own timeout rounded up plus one second: the node ends them even
 * when the client cannot. A confirmed raw shell line is sent as written.
 */
export function remoteLine(p: PreparedCommand, timeoutMs: number): string {
  if (!p.argv) return shellLine(p);
  const secs = Math.ceil(timeoutMs / 1000) + 1;
  return `timeout -k 2 ${secs} ${quoteArgv(p.argv)}`;
}

export class SshRunner implements NodeRunner {
  readonly kind = 'ssh' as const;
  readonly target: string;
  readonly defaults: Permissions;
  private closed = false;
  private readonly active = new Set<(e: RemoteError) => void>();

  constructor(
    private readonly client: SshClient,
    opts: SshOptions,
    readonly hostKey: HostKeyInfo,
  ) {
    this.target = sshTargetText(opts);
    this.defaults = opts.defaults ?? {};
    client.on('close', () => {
      this.closed = true;
      for (const fail of [...this.active]) fail(new RemoteError('closed', `${this.target}: the connection closed`, 'connect again (the node may have rebooted, or keep-alives went unanswered)'));
    });
    client.on('error', () => {
      /* reported through close */
    });
  }

  async run(cmd: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const perms = { allowWrite: opts.allowWrite ?? this.defaults.allowWrite, allowProbe: opts.allowProbe ?? this.defaults.allowProbe };
    const prepared = prepareCommand(cmd, perms);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const line = remoteLine(prepared, timeoutMs);
    const what = `${this.target}: ${line}`;
    const cap = new OutputCollector(opts.maxBytes ?? DEFAULT_MAX_BYTES);
    const started = Date.now();
    if (this.closed) throw new RemoteError('closed', `${this.target}: the connection is closed`, 'connect again');
    if (opts.signal?.aborted) throw new RemoteError('aborted', `${what}: cancelled before it started`, 'run it again when needed');
    return new Promise<RunResult>((resolve, reject) => {
      let stream: ClientChannel | null = null;
      let done = false;
      let code: number | null = null;
      let sig: string | undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.active.delete(fail);
      };
      const fail = (e: RemoteError): void => {
        if (done) return;
        done = true;
        cleanup();
        if (stream) {
          // OpenSSH delivers a signal to the session's process only (not its
          // group): TERM first, which `timeout` passes on to its child, then KILL.
          const ch = stream;
          const sig = (s: string): void => {
            try {
              ch.signal(s);
            } catch {
              /* the server may not support signals */
            }
          };
          sig('TERM');
          setTimeout(() => {
            sig('KILL');
            ch.close();
          }, 300).unref();
        }
        reject(e);
      };
      const timer = setTimeout(() => fail(new RemoteError('timeout', `${what}: no result after ${fmtMs(timeoutMs)}; the command was stopped`, 'raise the timeout (timeoutMs, CLI --timeout) or check the node', cap.partial)), timeoutMs);
      const onAbort = (): void => fail(new RemoteError('aborted', `${what}: cancelled`, 'run it again when needed', cap.partial));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.active.add(fail);
      this.client.exec(line, (err, ch) => {
        if (err) {
          fail(new RemoteError('connect-failed', `${what}: the node refused the command channel (${err.message})`, 'the server may limit sessions (MaxSessions); retry'));
          return;
        }
        if (done) {
          ch.close();
          return;
        }
        stream = ch;
        const over = (): void =>
          fail(new RemoteError('output-limit', `${what}: output exceeded ${cap.maxBytes} bytes; the command was stopped`, 'raise the limit (maxBytes, CLI --max-bytes) or narrow the command', cap.partial));
        ch.on('data', (d: Buffer) => {
          opts.onOutput?.('stdout', d.toString('utf8'));
          if (!cap.add('out', d)) over();
        });
        ch.stderr.on('data', (d: Buffer) => {
          opts.onOutput?.('stderr', d.toString('utf8'));
          if (!cap.add('err', d)) over();
        });
        ch.on('exit', (c: number | null, s?: string) => {
          if (typeof c === 'number') code = c;
          if (s) sig = s;
        });
        ch.on('close', () => {
          if (done) return;
          done = true;
          cleanup();
          resolve({ stdout: cap.stdout, stderr: cap.stderr, code, signal: sig, durationMs: Date.now() - started, command: line, classification: prepared.classification });
        });
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}
