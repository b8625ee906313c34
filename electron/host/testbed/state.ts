// The state file (/run/netlab/state.json): everything `up` created, written
// BEFORE each namespace is made and right after each process starts, so that
// `down` can undo a half-built test-bed after the CLI was killed. Writes are
// atomic (temporary file + rename).

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DaemonProcess } from './exec';
import { RUN_DIR, STATE_FILE } from './names';

export interface NodeState {
  name: string;
  ip: string;
  /** IPv6 node address (dual-stack test-beds). */
  ip6?: string;
  netns: string;
  /** 127.0.0.1 port forwarded to the node's sshd. */
  sshPort?: number;
  /** `SHA256:…` as ssh-keygen -lf prints it. */
  hostKeyFingerprint?: string;
  hostKeyPath?: string;
}

export interface PodState {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  /** IPv6 pod address (dual-stack test-beds). */
  ip6?: string;
  netns: string;
  /** CNI_CONTAINERID used for ADD (and DEL). */
  containerId: string;
  /** Host-side interface in the node namespace. */
  hostVeth?: string;
  /** Where the plugin's result JSON (stdout of ADD) is kept. */
  cniResultPath?: string;
  /** Servers started in the pod: `8080/TCP http`, `53/UDP dns`. */
  servers: string[];
}

export interface TestbedState {
  version: 1;
  /** building while `up` runs; up when it finished; failed when it stopped with an error. */
  phase: 'building' | 'up' | 'failed';
  createdAt: string;
  /** pid of the `up` process (to tell a running build from a crashed one). */
  builderPid: number;
  topology: string;
  /** `calico-bgp`, `calico-vxlan`, `flannel-vxlan`, `flannel-host-gw`. */
  mode: string;
  /** Namespaces, in creation order (recorded before each is created). */
  netns: string[];
  processes: DaemonProcess[];
  /** Files and directories created outside RUN_DIR (e.g. /etc/netns/nl-…), removed by down. */
  files: string[];
  /** Directories we created that other software also uses (/run/sshd): removed only if still empty. */
  sharedDirs: string[];
  nodes: NodeState[];
  pods: PodState[];
  /** The client key for `ssh -i` (ed25519). */
  clientKey?: string;
  /** Where this test-bed differs from a real cluster of the modelled CNI (for compare). */
  differences: string[];
  /** What the test-bed could not build from the topology (unscheduled pods, an incomplete IPv6 half…). */
  warnings: string[];
  /** Address families built: [4] or [4, 6] (absent in state files of older versions: [4]). */
  families?: (4 | 6)[];
  /** Step timings in ms (for the benchmark). */
  timings: Record<string, number>;
  error?: string;
}

export function newState(topology: string, mode: string): TestbedState {
  return {
    version: 1,
    phase: 'building',
    createdAt: new Date().toISOString(),
    builderPid: process.pid,
    topology,
    mode,
    netns: [],
    processes: [],
    files: [],
    sharedDirs: [],
    nodes: [],
    pods: [],
    differences: [],
    warnings: [],
    timings: {},
  };
}

export function saveState(s: TestbedState): void {
  mkdirSync(RUN_DIR, { recursive: true, mode: 0o700 });
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, STATE_FILE);
}

/** The state file, or null when there is none or it cannot be read (down then sweeps by prefix). */
export function loadState(): TestbedState | null {
  if (!existsSync(STATE_FILE)) return null;
  try {
    const s = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as TestbedState;
    if (s?.version !== 1 || !Array.isArray(s.netns) || !Array.isArray(s.processes)) return null;
    return s;
  } catch {
    return null;
  }
}
