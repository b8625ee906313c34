// The LabApi contract: everything the UI asks of the host. One interface,
// two transports (Electron IPC through the preload bridge, and a WebSocket on
// 127.0.0.1 for the browser). Pure types and constants only.

import type { CheckName, NodeReport } from '../compare/types';
import type { AuthorInput, CheckSpec, HintView, LabReport, LabView, NetChange, PackMeta, Submission, TaskResult } from '../labs';
import type { Diagnostic } from '../model/types';

export type Transport = 'ipc' | 'websocket';

export interface AppInfo {
  name: string;
  version: string;
  transport: Transport;
  /** process.platform of the host (linux, darwin, win32). */
  platform: string;
  /** True when the UI runs inside Electron. */
  electron: boolean;
  electronVersion?: string;
  nodeVersion: string;
  /** Where sessions and settings live. */
  dataDir: string;
}

export interface SampleInfo {
  id: string;
  /** File name inside resources/samples. */
  file: string;
  /** First comment line of the file, or the id. */
  title: string;
}

export interface SampleText {
  id: string;
  file: string;
  text: string;
}

export interface CanvasPosition {
  x: number;
  y: number;
}

/** Any JSON value (what traces and comparisons are stored as). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A saved result (a packet trace, a model-versus-node comparison) kept in a session. */
export interface SavedRecord {
  id: string;
  kind: string;
  title: string;
  createdAt: string;
  data: JsonValue;
}

/** What a session holds. Every field is replaced as a whole by a patch. */
export interface SessionState {
  /** The topology as YAML text, and the name it is shown under in diagnostics. */
  topology: { file: string; text: string };
  /** Sample the topology was started from, if any. */
  sample: string | null;
  /** Canvas positions by element id (e.g. `pod/default/pod-a`). */
  positions: Record<string, CanvasPosition>;
  traces: SavedRecord[];
  comparisons: SavedRecord[];
  notes: string;
}

export type SessionPatch = Partial<SessionState>;

export interface SessionInfo {
  /** Absolute path of the session file. */
  path: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** Where a session stands, without its contents. */
export interface SessionStatus {
  info: SessionInfo;
  /** Sequence number of the last applied change (0 = none). */
  revision: number;
  canUndo: boolean;
  canRedo: boolean;
  /** Label of the change Undo would revert, e.g. "Delete pod default/pod-c". */
  undoLabel?: string;
  redoLabel?: string;
  readOnly: boolean;
  /** Why the session is read-only and what to do about it. */
  readOnlyReason?: string;
}

export interface SessionSnapshot extends SessionStatus {
  state: SessionState;
}

export interface RecentSession {
  path: string;
  name: string;
  openedAt: string;
  exists: boolean;
}

export type ExportFormat = 'yaml' | 'json';

export interface SessionExport {
  filename: string;
  mediaType: string;
  text: string;
}

export interface SessionNewOptions {
  name?: string;
  /** Start from this sample (default: the `seed` sample when it exists). */
  sample?: string;
}

export interface LabApi {
  appInfo(): Promise<AppInfo>;
  listSamples(): Promise<SampleInfo[]>;
  readSample(id: string): Promise<SampleText>;

  /** Create a session file in the data directory and make it current. */
  sessionNew(options?: SessionNewOptions): Promise<SessionSnapshot>;
  /** Open a session file and make it current (read-only when damaged or too new). */
  sessionOpen(path: string): Promise<SessionSnapshot>;
  /** The current session, or null when none is open. */
  sessionCurrent(): Promise<SessionSnapshot | null>;
  /** Recently opened sessions, newest first. */
  sessionList(): Promise<RecentSession[]>;
  /**
   * Apply a patch to the current session as one undoable change, and persist it.
   * Canvas positions alone (a drag, a layout) are persisted outside the undo
   * history; positions sent with a topology change are part of that change.
   */
  sessionSave(patch: SessionPatch, label?: string): Promise<SessionStatus>;
  sessionUndo(): Promise<SessionSnapshot>;
  sessionRedo(): Promise<SessionSnapshot>;
  sessionExport(format: ExportFormat): Promise<SessionExport>;
  /** Import an exported session (YAML or JSON) as a new session file and make it current. */
  sessionImport(text: string, name?: string): Promise<SessionSnapshot>;

  /** Open a terminal (a shell on a test-bed node, or SSH to a remote node: an untrusted host key is answered, nothing started); output arrives as `terminal` events. */
  terminalOpen(spec: TerminalSpec, options?: TerminalOpenOptions): Promise<TerminalOpenResult>;
  /** Send keystrokes (or pasted text) to a terminal. */
  terminalWrite(id: string, data: string): Promise<void>;
  terminalResize(id: string, cols: number, rows: number): Promise<void>;
  /** Hang up a terminal; a `terminal-exit` event follows. */
  terminalClose(id: string): Promise<void>;

  /**
   * Build the topology on the local test-bed (network namespaces; needs root).
   * Resolves when it is up; each step is pushed as a `testbed-step` event.
   */
  testbedUp(args: TestbedUpArgs): Promise<TestbedStatusInfo>;
  /** Remove everything the test-bed created (also after a crash). */
  testbedDown(): Promise<TestbedDownReport>;
  testbedStatus(): Promise<TestbedStatusInfo>;
  /** Run a command in a test-bed node's or pod's namespace (read-only and probes; anything else needs `confirm`). */
  testbedExec(args: TestbedExecArgs): Promise<CommandResult>;

  /** Remote nodes (SSH) kept in the data directory. */
  remoteList(): Promise<RemoteNodeInfo[]>;
  remoteAdd(spec: RemoteNodeSpec): Promise<RemoteNodeInfo>;
  remoteRemove(name: string): Promise<void>;
  /** Connect and check the host key against the lab's known_hosts; never trusts a key by itself. */
  remoteConnect(name: string, options?: RemoteConnectOptions): Promise<RemoteConnectResult>;
  /** Trust the host key shown by the last `remoteConnect` of this node: only that exact fingerprint is accepted. */
  remoteAcceptHostKey(args: RemoteAcceptArgs): Promise<RemoteConnectResult>;
  /** Run a command on a connected node (read-only allow-list; anything else needs `confirm`). */
  remoteRun(args: RemoteRunArgs): Promise<CommandResult>;
  remoteDisconnect(name: string): Promise<void>;

  /** Compare the model with a real node (a test-bed node, or a connected remote node): each difference explained. */
  compareNode(args: CompareNodeArgs): Promise<CompareNodeResult>;

  /** Labs: built-in and imported, with the current session's progress. */
  labList(): Promise<LabListEntry[]>;
  /** Start (or resume) a lab in the current session; `seed` picks the random faults. */
  labStart(labId: string, options?: { seed?: number }): Promise<LabView>;
  labView(labId: string): Promise<LabView>;
  /** The starting topology YAML and the kernel changes (injected faults) of the run. */
  labStartState(labId: string): Promise<LabStartState>;
  /** Grade one task; progress is saved in the session. */
  labCheck(labId: string, taskId: string, submission: Submission): Promise<TaskResult>;
  /** Reveal the task's next hint (its cost is deducted from the task). */
  labHint(labId: string, taskId: string): Promise<HintView & { remaining: number }>;
  /** Forget the lab's progress; `newSeed` draws other random faults. */
  labReset(labId: string, options?: { newSeed?: number }): Promise<LabView>;
  /** Per-task results and the debrief (faults injected, seed-document corrections). */
  labReport(labId: string): Promise<LabReport>;
  /** One pack file holding the labs (instructor mode). */
  labExportPack(labIds: string[], meta: PackMeta, format?: ExportFormat): Promise<SessionExport>;
  /** Validate a pack and add its labs to the data directory. */
  labImportPack(text: string, file: string): Promise<LabImportResult>;
  /** Checks that tell the answer topology from the start (instructor mode). */
  labSuggestChecks(startYaml: string, answerYaml: string): Promise<{ checks: CheckSpec[]; summary: string[] }>;
  /** Author a lab (instructor mode); added as an imported lab when it loads without errors. */
  labAuthor(input: AuthorInput): Promise<LabImportResult>;
}

export interface LabListEntry {
  id: string;
  title: string;
  summary: string;
  level: string;
  estimatedMinutes: number;
  tags: string[];
  tasks: number;
  points: number;
  kinds: string[];
  source: 'built-in' | 'imported';
  /** Problems that keep the lab from loading. */
  errors: string[];
  /** Progress in the current session: 0..100 of the points, attempts over all tasks. */
  percent: number;
  attempts: number;
  started: boolean;
}

export interface LabStartState {
  yaml: string;
  changes: NetChange[];
}

export interface LabImportResult {
  imported: string[];
  diagnostics: Diagnostic[];
}

export interface CompareNodeArgs {
  /** The topology YAML the node is compared with (the session's). */
  topologyText: string;
  file?: string;
  /** `--set` overrides (e.g. the mode the test-bed was built as). */
  set?: string[];
  /** The topology node the real node plays. */
  node: string;
  /** `testbed` (the node's namespace on the local test-bed) or `remote:NAME` (a connected remote node). */
  via: string;
  /** Default: all (routes, rules, iptables, conntrack, tcpdump, dns, policy, cni). */
  checks?: CheckName[];
  /** Allow test requests (curl, nc from pod namespaces) on a remote node; the test-bed always allows them. */
  allowProbe?: boolean;
}

export interface CompareNodeResult {
  report: NodeReport;
  /** What the node printed, by command (`ip-j-route.json`, `iptables-save.txt`…), each cut at 256 KiB. */
  raw: Record<string, string>;
  /** Where the target is not what the topology describes (e.g. the test-bed runs another topology or mode). */
  warnings: string[];
  durationMs: number;
}

export type { CheckName, NodeReport, CheckResult, DiffItem, SkippedCheck } from '../compare/types';

export interface TestbedUpArgs {
  /** The topology YAML (what the session holds). */
  topologyText: string;
  /** Its file name, for diagnostics (default `topology.yaml`). */
  file?: string;
  /** `--set key=value` overrides, e.g. `cni=calico-vxlan`. */
  set?: string[];
}

/** One step of `testbed up` (pushed as a `testbed-step` event). */
export interface TestbedStep {
  /** 1-based. */
  step: number;
  total: number;
  message: string;
}

export interface TestbedNodeStatus {
  name: string;
  ip: string;
  netns: string;
  /** Whether the namespace exists. */
  present: boolean;
  /** `127.0.0.1:PORT`, the forward to the node's sshd. */
  ssh?: string;
  /** `SHA256:…` of the node's sshd host key. */
  hostKeyFingerprint?: string;
}

export interface TestbedPodStatus {
  /** `namespace/name`. */
  pod: string;
  node: string;
  ip: string;
  netns: string;
  present: boolean;
  /** `8080/TCP http`, `53/UDP dns`. */
  servers: string[];
}

export interface TestbedStatusInfo {
  up: boolean;
  /** Absent when nothing was built. */
  phase?: 'building' | 'up' | 'failed';
  topology?: string;
  /** `calico-bgp`, `calico-vxlan`, `flannel-vxlan`… */
  mode?: string;
  createdAt?: string;
  nodes: TestbedNodeStatus[];
  pods: TestbedPodStatus[];
  processes: { name: string; pid: number; running: boolean }[];
  /** Private key for `ssh -i KEY -p PORT root@127.0.0.1`. */
  clientKey?: string;
  /** Where the test-bed differs from a real cluster of the modelled CNI. */
  differences: string[];
  warnings: string[];
  error?: string;
  /** An `up` or `down` started from this lab is running. */
  busy?: 'up' | 'down';
}

export interface TestbedDownReport {
  killed: number[];
  namespaces: string[];
  files: string[];
  /** What could not be removed (empty when down succeeded). */
  leftovers: string[];
}

export interface TestbedExecArgs {
  /** A node name or `namespace/pod`. */
  target: string;
  argv: string[];
  /** Allow a command that may change the namespace (not on the read-only list). */
  confirm?: boolean;
  timeoutMs?: number;
}

/** What a command printed on a node. */
export interface CommandResult {
  /** The command line as run. */
  command: string;
  stdout: string;
  stderr: string;
  /** Exit status; null when ended by a signal. */
  code: number | null;
  signal?: string;
  durationMs: number;
  /** read: on the read-only list; probe: sends test traffic; write: may change the node (ran only with confirm). */
  classification: { class: 'read' | 'probe' | 'write'; reason: string };
}

/** A remote node reached over SSH. No secrets: a key file PATH or the ssh-agent; passphrases are never stored. */
export interface RemoteNodeSpec {
  name: string;
  host: string;
  port: number;
  user: string;
  /** Private key file (absolute path, or `~/…`). */
  keyFile?: string;
  /** Authenticate with the ssh-agent (SSH_AUTH_SOCK of the lab process). */
  agent?: boolean;
}

export interface RemoteNodeInfo extends RemoteNodeSpec {
  /** `ssh://user@host:port`. */
  target: string;
  connected: boolean;
  /** The key of the current connection. */
  hostKey?: { keyType: string; fingerprint: string };
}

export interface RemoteConnectOptions {
  /** Passphrase of an encrypted key: used for this connection only, never stored. */
  passphrase?: string;
}

export interface RemoteAcceptArgs extends RemoteConnectOptions {
  name: string;
  /** The fingerprint the user was shown (`SHA256:…`). */
  fingerprint: string;
}

export interface RemoteRunArgs {
  name: string;
  /** A command line, split without a shell (`ip -j route`, `iptables-save -t nat`). */
  command: string;
  /** Allow probes and commands that may change the node. */
  confirm?: boolean;
  timeoutMs?: number;
}

export type RemoteConnectResult =
  | { status: 'ok'; keyType: string; fingerprint: string; /** The key was written to known_hosts by this call. */ added: boolean }
  /** First contact: the key is not in known_hosts. Show the fingerprint and ask. */
  | { status: 'unknown-host-key'; keyType: string; fingerprint: string; /** `host` or `[host]:port`. */ hostName: string; message: string }
  /** The key differs from the one in known_hosts: refused. */
  | {
      status: 'changed-host-key';
      keyType: string;
      /** Fingerprint stored in known_hosts. */
      old: string;
      /** Fingerprint the host presented now. */
      new: string;
      /** The known_hosts line holding the old key (to remove if the key really was replaced). */
      knownHostsLine: string;
      knownHostsPath: string;
      /** 1-based line numbers of the stale entries. */
      lineNumbers: number[];
      /** `ssh-keygen -R '[host]:port' -f FILE`. */
      removeCommand: string;
      message: string;
    };

/** What a terminal connects to. */
export type TerminalSpec =
  /** A shell in a test-bed node's network namespace (`ip netns exec nl-n-<node> bash`). */
  | { kind: 'local-testbed'; node: string }
  /**
   * A login shell over SSH with the system `ssh` client: `node` names a
   * registered remote node (its host, port, user and key); otherwise `host`
   * (with `port`, default 22, and `user`, default root) is used with the
   * ssh-agent. Host keys are checked against the lab's known_hosts first.
   */
  | { kind: 'ssh'; node?: string; host?: string; port?: number; user?: string };

/** terminalOpen's answer when the SSH host key is not trusted: the same question or refusal remoteConnect gives; nothing was spawned. */
export type TerminalHostKeyAnswer = Exclude<RemoteConnectResult, { status: 'ok' }> & { /** The remote node (or host) whose key it is. */ node: string };

/** A terminal, or (SSH only) a host key to decide on first. */
export type TerminalOpenResult = TerminalInfo | TerminalHostKeyAnswer;

export interface TerminalOpenOptions {
  cols?: number;
  rows?: number;
}

export interface TerminalInfo {
  id: string;
  /** Tab title, e.g. "node-1 (test-bed)". */
  title: string;
  /** The command line the terminal runs. */
  command: string;
  pid: number;
}

export type LabApiMethod = keyof LabApi;

/** Events the host pushes to the UI (menu actions, sessions opened from a dialog). */
export interface LabEventMap {
  menu: { action: MenuAction; arg?: string };
  session: SessionSnapshot;
  notice: { level: 'info' | 'error'; message: string };
  /** Output of a terminal (batched per frame). */
  terminal: { id: string; data: string };
  /** A terminal's process ended. */
  'terminal-exit': { id: string; exitCode: number; signal?: number };
  /** Progress of `testbedUp`. */
  'testbed-step': TestbedStep;
}

export type LabEventName = keyof LabEventMap;

export type MenuAction =
  | 'session-new'
  | 'session-export-yaml'
  | 'session-export-json'
  | 'session-import'
  | 'undo'
  | 'redo'
  | 'fit'
  | 'zoom-in'
  | 'zoom-out'
  | 'toggle-panel'
  | 'load-sample'
  | 'about';

export interface LabEvents {
  on<E extends LabEventName>(event: E, listener: (data: LabEventMap[E]) => void): () => void;
}

/** The wire form of one call's outcome, shared by both transports. */
export type RpcOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: RpcErrorBody };

export interface RpcErrorBody {
  code: string;
  message: string;
  hint?: string;
  /** Extra detail (command output, a log tail), shown under the message. */
  detail?: string;
}

/** What the Electron preload exposes as `window.labApi`: exactly the LabApi methods, returning wire outcomes. */
export type LabApiBridge = { [M in LabApiMethod]: (...args: Parameters<LabApi[M]>) => Promise<RpcOutcome> };

/** What the Electron preload exposes as `window.labEvents`. */
export interface LabEventsBridge {
  on(event: LabEventName, listener: (data: unknown) => void): () => void;
}
