// Terminals behind the LabApi: a pseudo-terminal (node-pty) per tab, its
// output pushed to the UI as `terminal` events (batched per frame), its exit
// as `terminal-exit`. A shell on a test-bed node is `ip netns exec nl-n-<node>
// bash` — the node's own network namespace, where `ip route`, `iptables-save`
// and `conntrack -L` show that node's data plane.
//
// An SSH terminal runs the system OpenSSH client in the pty, pinned to the
// lab's own known_hosts (StrictHostKeyChecking=yes: it never adds or accepts
// a key by itself). Before spawning, the lab checks the host key itself
// without logging in, so an unknown key comes back as the same question the
// Nodes panel asks (and a changed key as the same refusal); nothing is
// spawned then. ssh asks any key passphrase in the terminal; nothing is stored.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LabApiError } from '../../core/api';
import type { LabEventMap, RemoteConnectResult, RemoteNodeSpec, TerminalHostKeyAnswer, TerminalInfo, TerminalOpenOptions, TerminalOpenResult, TerminalSpec } from '../../core/api';

/** The part of a node-pty IPty the service uses (tests pass a fake). */
export interface PtyLike {
  readonly pid: number;
  onData(listener: (data: string) => void): { dispose(): void };
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
}

export type PtySpawn = (file: string, args: string[], options: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string> }) => PtyLike;

export type TerminalEmit = <E extends 'terminal' | 'terminal-exit'>(event: E, data: LabEventMap[E]) => void;

export interface TerminalServiceOptions {
  emit: TerminalEmit;
  /** Spawns a pty; by default node-pty, loaded on first use. */
  spawn?: PtySpawn;
  /** Where `ip netns add` keeps its namespace files. */
  netnsDir?: string;
  /** Prefix of test-bed node namespaces (the test-bed names them nl-n-<node>). */
  nodeNamespacePrefix?: string;
  maxTerminals?: number;
  /** Output is sent at most this often per terminal (ms). */
  flushMs?: number;
  /** Whether this process may enter network namespaces (root). */
  isRoot?: () => boolean;
  /** Resolves a registered remote node and checks its host key (NodesService.sshTerminalTarget). */
  sshTarget?: (name: string) => Promise<SshTerminalTarget | Exclude<RemoteConnectResult, { status: 'ok' }>>;
  /** Checks the host key of a host given directly (not a registered node). */
  sshProbe?: (host: string, port: number, user: string) => Promise<{ status: 'ok'; knownHostsPath: string; agentSocket?: string } | Exclude<RemoteConnectResult, { status: 'ok' }>>;
  /** The OpenSSH client (default /usr/bin/ssh). */
  sshPath?: string;
}

/** A remote node whose host key the lab trusts, ready for the ssh client. */
export interface SshTerminalTarget {
  status: 'ok';
  spec: RemoteNodeSpec;
  /** The private key file (~ expanded). */
  keyFile?: string;
  agentSocket?: string;
  knownHostsPath: string;
}

/** The OpenSSH client's argv for a terminal: the lab's known_hosts only, strict checking, nothing written back. */
export function sshArgs(t: { host: string; port: number; user: string; knownHostsPath: string; keyFile?: string }): string[] {
  const args = [
    '-tt',
    '-p',
    String(t.port),
    '-o',
    `UserKnownHostsFile=${t.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'CheckHostIP=no',
  ];
  if (t.keyFile !== undefined) args.push('-o', 'IdentitiesOnly=yes', '-i', t.keyFile);
  args.push('--', `${t.user}@${t.host}`);
  return args;
}

interface Session {
  info: TerminalInfo;
  pty: PtyLike;
  buffer: string;
  timer: ReturnType<typeof setTimeout> | null;
  disposers: { dispose(): void }[];
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

async function loadNodePty(): Promise<PtySpawn> {
  try {
    const pty = await import('node-pty');
    return (file, args, options) => pty.spawn(file, args, options) as unknown as PtyLike;
  } catch (err) {
    throw new LabApiError('terminal-unavailable', `Terminals need the node-pty module, which did not load: ${(err as Error).message}.`, 'Reinstall the lab (npm ci rebuilds node-pty for this machine).');
  }
}

export class TerminalService {
  private readonly sessions = new Map<string, Session>();
  private spawnFn: PtySpawn | null;
  private readonly netnsDir: string;
  private readonly prefix: string;
  private readonly max: number;
  private readonly flushMs: number;
  private readonly isRoot: () => boolean;
  private readonly sshPath: string;

  constructor(private readonly options: TerminalServiceOptions) {
    this.spawnFn = options.spawn ?? null;
    this.netnsDir = options.netnsDir ?? '/var/run/netns';
    this.prefix = options.nodeNamespacePrefix ?? 'nl-n-';
    this.max = options.maxTerminals ?? 16;
    this.flushMs = options.flushMs ?? 16;
    this.isRoot = options.isRoot ?? (() => typeof process.getuid === 'function' && process.getuid() === 0);
    this.sshPath = options.sshPath ?? '/usr/bin/ssh';
  }

  /** The command line a spec runs (exposed for tests and for the tab's tooltip). */
  command(spec: TerminalSpec): { file: string; args: string[]; title: string; env: Record<string, string> } {
    if (spec.kind === 'local-testbed') {
      if (!NODE_NAME.test(spec.node)) throw new LabApiError('invalid-params', `"${spec.node}" is not a node name.`);
      const ns = `${this.prefix}${spec.node}`;
      return {
        file: 'ip',
        args: ['netns', 'exec', ns, 'bash', '--noprofile', '--norc', '-i'],
        title: `${spec.node} (test-bed)`,
        // A prompt that says which node's namespace the shell is in.
        env: { PS1: `\\[\\e[1;34m\\]${spec.node}\\[\\e[0m\\]:\\w# `, NETLAB_NODE: spec.node, NETLAB_NETNS: ns },
      };
    }
    throw new LabApiError('invalid-params', 'An SSH terminal is opened with open(), which checks the host key first.');
  }

  private sshCommand(t: { host: string; port: number; user: string; knownHostsPath: string; keyFile?: string; agentSocket?: string }, title: string): { file: string; args: string[]; title: string; env: Record<string, string> } {
    const file = this.sshPath;
    if (!existsSync(file)) {
      throw new LabApiError('ssh-missing', `SSH terminals need the OpenSSH client, and ${file} does not exist.`, "Install it (on Debian/Ubuntu: apt-get install openssh-client) and open the terminal again.");
    }
    const env: Record<string, string> = {};
    if (t.agentSocket) env.SSH_AUTH_SOCK = t.agentSocket;
    return { file, args: sshArgs(t), title, env };
  }

  /** Resolves an SSH spec to a command line, or to the host-key answer (nothing spawned). */
  private async resolveSsh(spec: Extract<TerminalSpec, { kind: 'ssh' }>): Promise<{ file: string; args: string[]; title: string; env: Record<string, string> } | TerminalHostKeyAnswer> {
    if (spec.node !== undefined) {
      if (!this.options.sshTarget) throw new LabApiError('terminal-unavailable', 'SSH terminals to remote nodes need the remote-node service, which this host does not run.');
      const t = await this.options.sshTarget(spec.node);
      if (t.status !== 'ok') return { ...t, node: spec.node };
      return this.sshCommand({ host: t.spec.host, port: t.spec.port, user: t.spec.user, knownHostsPath: t.knownHostsPath, keyFile: t.keyFile, agentSocket: t.agentSocket }, `ssh ${spec.node}`);
    }
    if (spec.host === undefined) throw new LabApiError('invalid-params', 'An SSH terminal needs a remote node name (node) or a host.');
    if (!this.options.sshProbe) throw new LabApiError('terminal-unavailable', 'SSH terminals need the remote-node service, which this host does not run.');
    const port = spec.port ?? 22;
    const user = spec.user ?? 'root';
    const p = await this.options.sshProbe(spec.host, port, user);
    if (p.status !== 'ok') return { ...p, node: spec.host };
    return this.sshCommand({ host: spec.host, port, user, knownHostsPath: p.knownHostsPath, agentSocket: p.agentSocket }, `ssh ${user}@${spec.host}${port === 22 ? '' : `:${port}`}`);
  }

  /** A test-bed shell always opens (or throws); an SSH terminal may answer with a host key to decide on first. */
  async open(spec: Extract<TerminalSpec, { kind: 'local-testbed' }>, opts?: TerminalOpenOptions): Promise<TerminalInfo>;
  async open(spec: TerminalSpec, opts?: TerminalOpenOptions): Promise<TerminalOpenResult>;
  async open(spec: TerminalSpec, opts: TerminalOpenOptions = {}): Promise<TerminalOpenResult> {
    if (this.sessions.size >= this.max) {
      throw new LabApiError('too-many-terminals', `${this.sessions.size} terminals are open; the lab allows ${this.max}.`, 'Close a terminal tab first.');
    }
    let cmd: { file: string; args: string[]; title: string; env: Record<string, string> };
    if (spec.kind === 'ssh') {
      const r = await this.resolveSsh(spec);
      if ('status' in r) return r;
      cmd = r;
    } else cmd = this.command(spec);
    if (spec.kind === 'local-testbed') {
      const ns = `${this.prefix}${spec.node}`;
      if (!existsSync(join(this.netnsDir, ns))) {
        throw new LabApiError(
          'testbed-not-running',
          `The test-bed has no node ${spec.node}: the network namespace ${ns} does not exist.`,
          'Start the test-bed for this topology (netlab testbed up) and open the shell again.',
        );
      }
      if (!this.isRoot()) {
        throw new LabApiError('not-root', `Entering the namespace of ${spec.node} needs root (ip netns exec).`, 'Run the lab as root on the test-bed machine, or use SSH to the node.');
      }
    }
    const spawn = this.spawnFn ?? (this.spawnFn = await loadNodePty());
    const cols = clamp(opts.cols ?? 100, 10, 500);
    const rows = clamp(opts.rows ?? 30, 4, 300);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    Object.assign(env, { TERM: 'xterm-256color', COLORTERM: 'truecolor' }, cmd.env);
    let pty: PtyLike;
    try {
      pty = spawn(cmd.file, cmd.args, { name: 'xterm-256color', cols, rows, cwd: '/', env });
    } catch (err) {
      throw new LabApiError('terminal-failed', `Could not start ${cmd.file} ${cmd.args.join(' ')}: ${(err as Error).message}.`);
    }
    const id = `term-${randomBytes(6).toString('hex')}`;
    const info: TerminalInfo = { id, title: cmd.title, command: [cmd.file, ...cmd.args].join(' '), pid: pty.pid };
    const s: Session = { info, pty, buffer: '', timer: null, disposers: [] };
    this.sessions.set(id, s);
    s.disposers.push(
      pty.onData((data) => {
        s.buffer += data;
        if (!s.timer) s.timer = setTimeout(() => this.flush(s), this.flushMs);
      }),
    );
    s.disposers.push(
      pty.onExit((e) => {
        this.flush(s);
        this.sessions.delete(id);
        for (const d of s.disposers) d.dispose();
        this.options.emit('terminal-exit', { id, exitCode: e.exitCode, ...(e.signal ? { signal: e.signal } : {}) });
      }),
    );
    return info;
  }

  private flush(s: Session): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (!s.buffer) return;
    const data = s.buffer;
    s.buffer = '';
    this.options.emit('terminal', { id: s.info.id, data });
  }

  private get(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new LabApiError('no-such-terminal', `Terminal ${id} is not open (it exited or was closed).`, 'Open a new terminal tab.');
    return s;
  }

  write(id: string, data: string): void {
    this.get(id).pty.write(data);
  }

  resize(id: string, cols: number, rows: number): void {
    this.get(id).pty.resize(clamp(cols, 10, 500), clamp(rows, 4, 300));
  }

  close(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.flush(s);
    s.pty.kill('SIGHUP');
  }

  list(): TerminalInfo[] {
    return [...this.sessions.values()].map((s) => s.info);
  }

  closeAll(): void {
    for (const s of this.sessions.values()) {
      if (s.timer) clearTimeout(s.timer);
      try {
        s.pty.kill('SIGHUP');
      } catch {
        // already gone
      }
    }
    this.sessions.clear();
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(n)));
}
