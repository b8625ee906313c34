// Real nodes behind the LabApi: the local test-bed (network namespaces built
// from the session's topology, progress pushed as `testbed-step` events) and
// remote nodes over SSH, whose host keys are checked against the lab's
// known_hosts (first contact asks, a changed key is refused).
//
// Remote node definitions live in <data dir>/remote-nodes.json: names, hosts,
// ports, users and key file PATHS only. Passphrases are passed per connection
// and kept in memory by ssh2 for that connection; nothing secret is written.

import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { LabApiError, remoteNodeSpecSchema } from '../../core/api';
import type {
  CommandResult,
  CompareNodeArgs,
  CompareNodeResult,
  LabEventMap,
  RemoteAcceptArgs,
  RemoteConnectOptions,
  RemoteConnectResult,
  RemoteNodeInfo,
  RemoteNodeSpec,
  RemoteRunArgs,
  TestbedDownReport,
  TestbedExecArgs,
  TestbedStatusInfo,
  TestbedStep,
  TestbedUpArgs,
} from '../../core/api';
import { loadTopology, type Diagnostic, type Topology } from '../../core/model';
import { CommandRejected, prepareCommand, quoteArgv } from './remote/command-line';
import { compareNode } from './remote/compare';
import { NetnsRunner } from './remote/netns';
import { fingerprintSha256 } from './remote/known-hosts';
import { connectSsh, sshTargetText, type SshConnectResult, type SshRunner } from './remote/ssh';
import { RemoteError, type NodeRunner } from './remote/types';
import { probeHostKey, type HostKeyProbe } from './remote/host-key-probe';
import { TestbedError } from './testbed/errors';
import type { TestbedState } from './testbed/state';

/** What the service needs of electron/host/testbed (tests inject a fake). */
export interface TestbedModule {
  testbedUp(t: Topology, opts: { onStep?: (e: TestbedStep) => void }): Promise<unknown>;
  testbedDown(): Promise<TestbedDownReport>;
  testbedStatus(): Omit<TestbedStatusInfo, 'busy'>;
  testbedExec(ref: string, argv: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The state file (what is built, where), for comparisons. */
  loadState(): TestbedState | null;
}

export type NodesEmit = <E extends 'testbed-step'>(event: E, data: LabEventMap[E]) => void;

export interface NodesServiceOptions {
  dataDir: string;
  emit: NodesEmit;
  /** Default: the real test-bed, loaded on first use. */
  testbed?: TestbedModule;
  /** Default: <dataDir>/known_hosts (the CLI's `netlab compare --via ssh://…` uses the same file). */
  knownHostsPath?: string;
  /** SSH handshake timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** ssh-agent socket for nodes with `agent: true` (default SSH_AUTH_SOCK). */
  agentSocket?: () => string | undefined;
}

export const REMOTE_NODES_FILE = 'remote-nodes.json';
const FILE_KIND = 'NetlabRemoteNodes';
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const MAX_RAW_CHARS = 256 * 1024;

const remoteFileSchema = z
  .object({
    kind: z.literal(FILE_KIND),
    version: z.literal(1),
    nodes: z.array(remoteNodeSpecSchema),
  })
  .strict();

/** A test-bed or remote error as the UI shows it: the module's own message and hint, verbatim. */
export function toLabApiError(err: unknown, fallbackCode = 'failed'): LabApiError {
  if (err instanceof LabApiError) return err;
  if (err instanceof TestbedError) return new LabApiError(err.code, err.message, err.hint, err.detail);
  if (err instanceof RemoteError) {
    const partial = err.partial && (err.partial.stdout || err.partial.stderr) ? `${err.partial.stdout}${err.partial.stderr}`.slice(-4000) : undefined;
    return new LabApiError(err.code, err.message, err.hint, partial);
  }
  if (err instanceof CommandRejected) return new LabApiError('command-rejected', err.message, err.hint);
  const message = err instanceof Error ? err.message : String(err);
  return new LabApiError(fallbackCode, message);
}

function place(d: Diagnostic): string {
  if (d.file && d.line) return `${d.file}:${d.line}:${d.column ?? 1}: `;
  if (d.file) return `${d.file}: `;
  if (d.code.startsWith('set-')) return '--set: ';
  return '';
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

interface Connection {
  runner: SshRunner;
  keyType: string;
  fingerprint: string;
}

interface ShownKey {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
}

export class NodesService {
  private readonly knownHostsPath: string;
  private readonly file: string;
  private busy: 'up' | 'down' | undefined;
  private testbedModule: TestbedModule | undefined;
  private readonly connections = new Map<string, Connection>();
  /** The unknown host key last shown for each node: the only one remoteAcceptHostKey will trust. */
  private readonly shown = new Map<string, ShownKey>();
  /** Connection attempts in flight, so a node is not connected twice at once. */
  private readonly connecting = new Map<string, Promise<RemoteConnectResult>>();

  constructor(private readonly options: NodesServiceOptions) {
    this.knownHostsPath = options.knownHostsPath ?? join(options.dataDir, 'known_hosts');
    this.file = join(options.dataDir, REMOTE_NODES_FILE);
    this.testbedModule = options.testbed;
  }

  private async testbed(): Promise<TestbedModule> {
    if (!this.testbedModule) {
      const m = await import('./testbed');
      this.testbedModule = { testbedUp: m.testbedUp, testbedDown: m.testbedDown, testbedStatus: m.testbedStatus, testbedExec: m.testbedExec, loadState: m.loadState };
    }
    return this.testbedModule;
  }

  // ------------------------------------------------------------------ test-bed

  async testbedUp(args: TestbedUpArgs): Promise<TestbedStatusInfo> {
    if (this.busy) throw this.busyError();
    const topology = this.loadTopology(args.topologyText, args.file, args.set, 'the test-bed builds only a valid one');
    const tb = await this.testbed();
    this.busy = 'up';
    try {
      await tb.testbedUp(topology, { onStep: (e) => this.options.emit('testbed-step', { step: e.step, total: e.total, message: e.message }) });
    } catch (err) {
      throw toLabApiError(err, 'testbed-failed');
    } finally {
      this.busy = undefined;
    }
    return this.testbedStatus();
  }

  private loadTopology(text: string, file = 'topology.yaml', set: string[] = [], purpose: string): Topology {
    const loaded = loadTopology({ file, text }, { set });
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length || !loaded.topology) {
      const first = errors[0];
      throw new LabApiError(
        'invalid-topology',
        first ? `The topology has ${errors.length} error${errors.length === 1 ? '' : 's'}; ${purpose}. First: ${place(first)}${first.message}` : 'The topology is empty: there is nothing to build.',
        'Fix it in the YAML tab (the Diagnostics tab lists every problem with its line).',
        errors.length ? errors.map((d) => `${place(d)}${d.message}`).join('\n') : undefined,
      );
    }
    return loaded.topology;
  }

  async testbedDown(): Promise<TestbedDownReport> {
    if (this.busy) throw this.busyError();
    const tb = await this.testbed();
    this.busy = 'down';
    try {
      const r = await tb.testbedDown();
      return { killed: r.killed, namespaces: r.namespaces, files: r.files, leftovers: r.leftovers };
    } catch (err) {
      throw toLabApiError(err, 'testbed-failed');
    } finally {
      this.busy = undefined;
    }
  }

  async testbedStatus(): Promise<TestbedStatusInfo> {
    const tb = await this.testbed();
    let s: Omit<TestbedStatusInfo, 'busy'>;
    try {
      s = tb.testbedStatus();
    } catch (err) {
      throw toLabApiError(err, 'testbed-failed');
    }
    return this.busy ? { ...s, busy: this.busy } : { ...s };
  }

  /** Read-only commands and probes (curl, ping… between the test-bed's own namespaces) run as given; anything else only with confirm. */
  async testbedExec(args: TestbedExecArgs): Promise<CommandResult> {
    let classification: CommandResult['classification'];
    try {
      classification = prepareCommand(args.argv, { allowProbe: true, allowWrite: args.confirm === true }).classification;
    } catch (err) {
      throw toLabApiError(err);
    }
    const tb = await this.testbed();
    const started = Date.now();
    try {
      const r = await tb.testbedExec(args.target, args.argv, { timeoutMs: args.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      return { command: quoteArgv(args.argv), stdout: r.stdout, stderr: r.stderr, code: r.code, durationMs: Date.now() - started, classification };
    } catch (err) {
      throw toLabApiError(err, 'testbed-failed');
    }
  }

  private busyError(): LabApiError {
    return this.busy === 'up'
      ? new LabApiError('testbed-busy', 'testbed up is still running.', 'Wait for it to finish: when it fails it removes everything it built.')
      : new LabApiError('testbed-busy', 'testbed down is still running.', 'Wait for it to finish, then try again.');
  }

  // ------------------------------------------------------------------ remote nodes: definitions

  private readNodes(): RemoteNodeSpec[] {
    if (!existsSync(this.file)) return [];
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw new LabApiError('invalid-file', `${this.file} is not valid JSON: ${(err as Error).message}.`, 'Fix the file or delete it (it lists remote nodes only; known_hosts is kept apart).');
    }
    const parsed = remoteFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LabApiError('invalid-file', `${this.file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}.`, 'Fix the file or delete it (it lists remote nodes only; known_hosts is kept apart).');
    }
    return parsed.data.nodes;
  }

  private writeNodes(nodes: RemoteNodeSpec[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ kind: FILE_KIND, version: 1, nodes }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  private node(name: string): RemoteNodeSpec {
    const n = this.readNodes().find((x) => x.name === name);
    if (!n) throw new LabApiError('not-found', `There is no remote node "${name}".`, 'Add it first (name, host, port, user and a key file or the ssh-agent).');
    return n;
  }

  private info(n: RemoteNodeSpec): RemoteNodeInfo {
    const c = this.connections.get(n.name);
    const out: RemoteNodeInfo = { ...n, target: sshTargetText(n), connected: !!c };
    if (c) out.hostKey = { keyType: c.keyType, fingerprint: c.fingerprint };
    return out;
  }

  async remoteList(): Promise<RemoteNodeInfo[]> {
    return this.readNodes().map((n) => this.info(n));
  }

  async remoteAdd(spec: RemoteNodeSpec): Promise<RemoteNodeInfo> {
    const nodes = this.readNodes();
    if (nodes.some((n) => n.name === spec.name)) {
      throw new LabApiError('exists', `A remote node named "${spec.name}" exists already.`, 'Pick another name, or remove the old node first.');
    }
    const clean: RemoteNodeSpec = { name: spec.name, host: spec.host, port: spec.port, user: spec.user };
    if (spec.keyFile !== undefined) {
      const path = expandHome(spec.keyFile);
      if (path.endsWith('.pub')) {
        throw new LabApiError('invalid-params', `${spec.keyFile} is a public key.`, `Give the private key file (${spec.keyFile.slice(0, -4)}); its .pub half goes into the node's authorized_keys.`);
      }
      try {
        accessSync(path, constants.R_OK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new LabApiError(
          'not-found',
          code === 'ENOENT' ? `The key file ${path} does not exist.` : `The key file ${path} cannot be read (${code ?? (err as Error).message}).`,
          'Give the path of a private key on this machine, e.g. ~/.ssh/id_ed25519 (only the path is stored).',
        );
      }
      clean.keyFile = spec.keyFile;
    } else clean.agent = true;
    this.writeNodes([...nodes, clean]);
    return this.info(clean);
  }

  async remoteRemove(name: string): Promise<void> {
    const nodes = this.readNodes();
    if (!nodes.some((n) => n.name === name)) throw new LabApiError('not-found', `There is no remote node "${name}".`);
    await this.drop(name);
    this.shown.delete(name);
    this.writeNodes(nodes.filter((n) => n.name !== name));
  }

  async remoteDisconnect(name: string): Promise<void> {
    this.node(name);
    await this.drop(name);
  }

  private async drop(name: string): Promise<void> {
    const c = this.connections.get(name);
    this.connections.delete(name);
    await c?.runner.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ remote nodes: host keys and commands

  /** Connects, checking the host key; a key already in known_hosts connects, anything else is a question or a refusal. */
  async remoteConnect(name: string, options: RemoteConnectOptions = {}): Promise<RemoteConnectResult> {
    return this.once(name, () => this.connect(this.node(name), options, undefined));
  }

  /** Trusts exactly the fingerprint remoteConnect showed for this node (and only if the host still presents that key). */
  async remoteAcceptHostKey(args: RemoteAcceptArgs): Promise<RemoteConnectResult> {
    const spec = this.node(args.name);
    const shown = this.shown.get(args.name);
    if (!shown || shown.host !== spec.host || shown.port !== spec.port) {
      throw new LabApiError('host-key-not-shown', `No host key of ${args.name} is waiting for your decision, so nothing was trusted.`, 'Connect first: the lab shows the key\'s fingerprint and asks whether to trust it.');
    }
    if (shown.fingerprint !== args.fingerprint) {
      throw new LabApiError(
        'host-key-mismatch',
        `${args.fingerprint} is not the fingerprint shown for ${args.name} (${shown.keyType} ${shown.fingerprint}); nothing was trusted.`,
        'Connect again and compare the fingerprint shown with the node\'s own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the node).',
      );
    }
    return this.once(args.name, () => this.connect(spec, { passphrase: args.passphrase }, shown.fingerprint));
  }

  private once(name: string, fn: () => Promise<RemoteConnectResult>): Promise<RemoteConnectResult> {
    const pending = this.connecting.get(name);
    if (pending) return Promise.reject(new LabApiError('busy', `${name} is being connected already.`, 'Wait for that attempt to finish.'));
    const p = fn().finally(() => this.connecting.delete(name));
    this.connecting.set(name, p);
    return p;
  }

  private async connect(spec: RemoteNodeSpec, options: RemoteConnectOptions, accept: string | undefined): Promise<RemoteConnectResult> {
    await this.drop(spec.name);
    let agent: string | false = false;
    if (spec.agent) {
      const sock = (this.options.agentSocket ?? (() => process.env.SSH_AUTH_SOCK))();
      if (!sock) throw new LabApiError('auth-failed', `${spec.name} authenticates with the ssh-agent, but SSH_AUTH_SOCK is not set for the lab.`, 'Start the lab from a shell where ssh-agent runs (ssh-add -l lists its keys), or give the node a key file.');
      agent = sock;
    }
    let r: SshConnectResult;
    try {
      r = await connectSsh({
        host: spec.host,
        port: spec.port,
        user: spec.user,
        knownHostsPath: this.knownHostsPath,
        privateKeyPath: spec.keyFile !== undefined ? expandHome(spec.keyFile) : undefined,
        agent,
        passphrase: options.passphrase,
        acceptHostKey: accept,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      });
    } catch (err) {
      throw toLabApiError(err, 'connect-failed');
    }
    if (r.status === 'connected') {
      this.shown.delete(spec.name);
      this.connections.set(spec.name, { runner: r.runner, keyType: r.hostKey.keyType, fingerprint: r.hostKey.fingerprint });
      return { status: 'ok', keyType: r.hostKey.keyType, fingerprint: r.hostKey.fingerprint, added: r.added };
    }
    return this.hostKeyAnswer(spec, r);
  }

  /** The question (unknown key) or refusal (changed key) for a host key that is not trusted; a revoked key throws. */
  private hostKeyAnswer(spec: RemoteNodeSpec, r: Exclude<SshConnectResult, { status: 'connected' }>, remember = true): Exclude<RemoteConnectResult, { status: 'ok' }> {
    switch (r.status) {
      case 'host-key-unknown':
        if (remember) this.shown.set(spec.name, { host: spec.host, port: spec.port, keyType: r.hostKey.keyType, fingerprint: r.hostKey.fingerprint });
        return { status: 'unknown-host-key', keyType: r.hostKey.keyType, fingerprint: r.hostKey.fingerprint, hostName: r.hostKey.name, message: r.message };
      case 'host-key-changed': {
        if (remember) this.shown.delete(spec.name);
        const first = r.known[0];
        let lineText = `${first.hosts} ${first.keyType} ${first.key}${first.comment ? ` ${first.comment}` : ''}`;
        try {
          lineText = readFileSync(this.knownHostsPath, 'utf8').split('\n')[first.line - 1]?.replace(/\r$/, '') || lineText;
        } catch {
          /* keep the reconstructed line */
        }
        const path = this.knownHostsPath;
        return {
          status: 'changed-host-key',
          keyType: r.hostKey.keyType,
          old: fingerprintSha256(Buffer.from(first.key, 'base64')),
          new: r.hostKey.fingerprint,
          knownHostsLine: lineText,
          knownHostsPath: path,
          lineNumbers: r.known.map((e) => e.line),
          removeCommand: `ssh-keygen -R '${r.hostKey.name}' -f ${path}`,
          message: r.message,
        };
      }
      case 'host-key-revoked':
        if (remember) this.shown.delete(spec.name);
        throw new LabApiError('host-key-revoked', r.message, 'A revoked key is never trusted: ask the node\'s administrator why it presents it.');
    }
  }

  /**
   * Where an SSH terminal to a registered node goes, after the lab's own host
   * key check (without logging in: the system ssh client authenticates and
   * asks any passphrase itself). An untrusted key is answered with the same
   * question or refusal as remoteConnect, and a question can be answered
   * with remoteAcceptHostKey.
   */
  async sshTerminalTarget(name: string): Promise<
    | { status: 'ok'; spec: RemoteNodeSpec; keyFile?: string; agentSocket?: string; knownHostsPath: string; fingerprint: string }
    | Exclude<RemoteConnectResult, { status: 'ok' }>
  > {
    const spec = this.node(name);
    let agentSocket: string | undefined;
    if (spec.agent) {
      agentSocket = (this.options.agentSocket ?? (() => process.env.SSH_AUTH_SOCK))();
      if (!agentSocket) throw new LabApiError('auth-failed', `${spec.name} authenticates with the ssh-agent, but SSH_AUTH_SOCK is not set for the lab.`, 'Start the lab from a shell where ssh-agent runs (ssh-add -l lists its keys), or give the node a key file.');
    }
    let r: HostKeyProbe;
    try {
      r = await probeHostKey({ host: spec.host, port: spec.port, user: spec.user, knownHostsPath: this.knownHostsPath, timeoutMs: this.options.connectTimeoutMs ?? 10_000 });
    } catch (err) {
      throw toLabApiError(err, 'connect-failed');
    }
    if (r.status === 'known') {
      return { status: 'ok', spec, ...(spec.keyFile !== undefined ? { keyFile: expandHome(spec.keyFile) } : {}), ...(agentSocket ? { agentSocket } : {}), knownHostsPath: this.knownHostsPath, fingerprint: r.hostKey.fingerprint };
    }
    return this.hostKeyAnswer(spec, r);
  }

  /** The host-key check for an SSH terminal to a host that is not a registered node (such a key can only be trusted by adding the node). */
  async sshHostProbe(host: string, port: number, user: string): Promise<{ status: 'ok'; knownHostsPath: string } | Exclude<RemoteConnectResult, { status: 'ok' }>> {
    let r: HostKeyProbe;
    try {
      r = await probeHostKey({ host, port, user, knownHostsPath: this.knownHostsPath, timeoutMs: this.options.connectTimeoutMs ?? 10_000 });
    } catch (err) {
      throw toLabApiError(err, 'connect-failed');
    }
    if (r.status === 'known') return { status: 'ok', knownHostsPath: this.knownHostsPath };
    if (r.status === 'host-key-revoked') throw new LabApiError('host-key-revoked', r.message, 'A revoked key is never trusted: ask the node\'s administrator why it presents it.');
    // not a registered node: nothing is recorded for remoteAcceptHostKey
    return this.hostKeyAnswer({ name: host, host, port, user, agent: true }, r, false);
  }

  async remoteRun(args: RemoteRunArgs): Promise<CommandResult> {
    this.node(args.name);
    const c = this.connections.get(args.name);
    if (!c) throw new LabApiError('not-connected', `${args.name} is not connected.`, 'Connect first (its host key is checked then).');
    const perms = args.confirm ? { allowProbe: true, allowWrite: true } : {};
    try {
      const r = await c.runner.run(args.command, { ...perms, timeoutMs: args.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBytes: MAX_OUTPUT_BYTES });
      const out: CommandResult = { command: r.command, stdout: r.stdout, stderr: r.stderr, code: r.code, durationMs: r.durationMs, classification: r.classification };
      if (r.signal) out.signal = r.signal;
      return out;
    } catch (err) {
      if (err instanceof RemoteError && err.code === 'closed') this.connections.delete(args.name);
      throw toLabApiError(err, 'remote-failed');
    }
  }

  // ------------------------------------------------------------------ model versus node

  /** Runs core/compare's checks on a test-bed node (its namespace) or a connected remote node. */
  async compareNode(args: CompareNodeArgs): Promise<CompareNodeResult> {
    if (this.busy) throw this.busyError();
    const t = this.loadTopology(args.topologyText, args.file, args.set, 'only a valid topology can be compared');
    if (!t.nodes.some((n) => n.name === args.node)) {
      throw new LabApiError('not-found', `The topology has no node "${args.node}".`, `Its nodes: ${t.nodes.map((n) => n.name).join(', ')}.`);
    }
    const tb = await this.testbed();
    const mode = `${t.settings.cni.plugin}-${t.settings.cni.mode}`;
    const warnings: string[] = [];
    let runner: NodeRunner;
    let state: TestbedState | null = null;
    let via: string;
    let own = false;
    let remoteName: string | undefined;
    if (args.via === 'testbed') {
      const st = tb.loadState();
      if (!st || st.phase !== 'up') throw new LabApiError('not-up', 'The local test-bed is not up.', 'Press Up in the Nodes panel first: it builds this topology in network namespaces.');
      const n = st.nodes.find((x) => x.name === args.node);
      if (!n) throw new LabApiError('not-found', `The test-bed has no node ${args.node}.`, `Its nodes: ${st.nodes.map((x) => x.name).join(', ')}.`);
      try {
        runner = new NetnsRunner(n.netns, { defaults: { allowProbe: true } });
      } catch (err) {
        throw toLabApiError(err);
      }
      state = st;
      via = 'testbed';
      own = true;
    } else {
      remoteName = args.via.slice('remote:'.length);
      const spec = this.node(remoteName);
      const c = this.connections.get(remoteName);
      if (!c) throw new LabApiError('not-connected', `${remoteName} is not connected.`, 'Connect it first in the Nodes panel (its host key is checked then).');
      runner = c.runner;
      via = sshTargetText(spec);
      // a remote node that is one of the test-bed's own 127.0.0.1 forwards: its pods' namespaces are known
      const st = tb.loadState();
      const tbNode = st?.phase === 'up' && (spec.host === '127.0.0.1' || spec.host === 'localhost') ? st.nodes.find((n) => n.sshPort === spec.port) : undefined;
      if (tbNode) {
        state = st;
        if (tbNode.name !== args.node) warnings.push(`${via} is the test-bed's node ${tbNode.name}, compared here as ${args.node}.`);
      }
    }
    if (state && (state.mode !== mode || state.topology !== t.settings.name)) {
      warnings.push(`The test-bed runs ${state.topology} (${state.mode}); the topology compared is ${t.settings.name} (${mode}): differences are expected.`);
    }
    const raw: Record<string, string> = {};
    const started = Date.now();
    try {
      const report = await compareNode({
        topology: t,
        node: args.node,
        runner,
        via,
        checks: args.checks,
        testbed: state,
        allowProbe: own || args.allowProbe === true,
        onRaw: (name, text) => {
          raw[name] = text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}\n… (cut at ${MAX_RAW_CHARS} characters)` : text;
        },
      });
      return { report, raw, warnings, durationMs: Date.now() - started };
    } catch (err) {
      if (remoteName && err instanceof RemoteError && err.code === 'closed') this.connections.delete(remoteName);
      throw toLabApiError(err, 'compare-failed');
    } finally {
      if (own) await runner.close();
    }
  }

  async close(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.runner.close().catch(() => undefined)));
  }
}
