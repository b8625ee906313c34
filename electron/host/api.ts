import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppInfo, LabApi, LabEventMap, LabEventName, SessionState, Transport } from '../../core/api';
import { SampleLibrary } from './samples';
import { SessionManager, emptySessionState } from './store';
import { TerminalService } from './terminal';
import { NodesService, type TestbedModule } from './nodes';
import { createHostLabs } from './labs/host-labs';

export interface HostOptions {
  transport: Transport;
  electron: boolean;
  electronVersion?: string;
  version: string;
  /** The resources folder (samples live in resources/samples). */
  resourcesDir: string;
  /** Sessions and settings. */
  dataDir: string;
  /** The test-bed implementation (tests inject a fake; default: electron/host/testbed). */
  testbed?: TestbedModule;
  /** SSH handshake timeout for remote nodes (default 10 s). */
  sshConnectTimeoutMs?: number;
  /** Built-in labs (default: labs/ of the checkout, or NETLAB_LABS_DIR). */
  labsDir?: string;
  /** Runner for live lab checks (default: the local test-bed when it is up). */
  live?: () => import('../../core/labs').LiveRunner | undefined;
}

export type EventSink = <E extends LabEventName>(event: E, data: LabEventMap[E]) => void;

/** The host side of the LabApi plus what only the shell may do. */
export interface HostApi extends LabApi {
  /** Allow the renderer to open a path the user picked in a dialog. */
  allowPath(path: string): void;
  /** Where host services push events to the UI (set by the transport: IPC send or WebSocket broadcast). */
  setEventSink(sink: EventSink): void;
  /** Push an event to the UI through whichever transport is connected. */
  emit: EventSink;
  close(): void;
  readonly options: HostOptions;
}

/** Create the Node implementation of the LabApi. Never imports electron. */
export function createHostApi(options: HostOptions): HostApi {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const samples = new SampleLibrary(resolve(options.resourcesDir, 'samples'));

  const initialState = async (sample?: string): Promise<SessionState> => {
    const state = emptySessionState();
    const available = await samples.list();
    const id = sample ?? available.find((s) => s.id === 'seed')?.id ?? available[0]?.id;
    if (id) {
      const text = await samples.read(id);
      state.topology = { file: text.file, text: text.text };
      state.sample = id;
    }
    return state;
  };
  const sessions = new SessionManager({ dataDir, initialState, appVersion: options.version });
  let sink: EventSink = () => {};
  const terminals = new TerminalService({
    emit: (event, data) => sink(event, data),
    // SSH terminals: the remote-node service resolves the node and checks its host key first
    sshTarget: (name) => nodes.sshTerminalTarget(name),
    sshProbe: (host, port, user) => nodes.sshHostProbe(host, port, user),
  });
  const labs = createHostLabs({ dataDir, sessions, labsDir: options.labsDir, live: options.live, samplesDir: resolve(options.resourcesDir, 'samples') });
  const nodes = new NodesService({ dataDir, emit: (event, data) => sink(event, data), testbed: options.testbed, connectTimeoutMs: options.sshConnectTimeoutMs });

  return {
    options,
    async appInfo(): Promise<AppInfo> {
      const info: AppInfo = {
        name: 'Kubernetes Network Lab',
        version: options.version,
        transport: options.transport,
        platform: process.platform,
        electron: options.electron,
        nodeVersion: process.versions.node,
        dataDir,
      };
      if (options.electronVersion) info.electronVersion = options.electronVersion;
      return info;
    },
    listSamples: () => samples.list(),
    readSample: (id) => samples.read(id),
    sessionNew: (opts) => sessions.create(opts ?? {}),
    sessionOpen: async (path) => sessions.open(path),
    sessionCurrent: async () => sessions.currentOrRestore(),
    sessionList: async () => sessions.list(),
    sessionSave: async (patch, label) => sessions.save(patch, label),
    sessionUndo: async () => sessions.undo(),
    sessionRedo: async () => sessions.redo(),
    sessionExport: async (format) => sessions.export(format),
    sessionImport: async (text, name) => sessions.import(text, name),
    terminalOpen: (spec, opts) => terminals.open(spec, opts),
    terminalWrite: async (id, data) => terminals.write(id, data),
    terminalResize: async (id, cols, rows) => terminals.resize(id, cols, rows),
    terminalClose: async (id) => terminals.close(id),
    testbedUp: (args) => nodes.testbedUp(args),
    testbedDown: () => nodes.testbedDown(),
    testbedStatus: () => nodes.testbedStatus(),
    testbedExec: (args) => nodes.testbedExec(args),
    remoteList: () => nodes.remoteList(),
    remoteAdd: (spec) => nodes.remoteAdd(spec),
    remoteRemove: (name) => nodes.remoteRemove(name),
    remoteConnect: (name, opts) => nodes.remoteConnect(name, opts),
    remoteAcceptHostKey: (args) => nodes.remoteAcceptHostKey(args),
    remoteRun: (args) => nodes.remoteRun(args),
    remoteDisconnect: (name) => nodes.remoteDisconnect(name),
    compareNode: (args) => nodes.compareNode(args),
    ...labs,
    allowPath: (path) => sessions.allowPath(path),
    setEventSink: (next) => {
      sink = next;
    },
    emit: (event, data) => sink(event, data),
    close: () => {
      terminals.closeAll();
      void nodes.close();
      sessions.close();
    },
  };
}
