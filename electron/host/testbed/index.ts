// The local test-bed: a topology built in Linux network namespaces with the
// real CNI plugins, BIRD, VXLAN, iptables, dnsmasq and sshd (see DESIGN.md,
// "The live test-bed"). Node code; never imports electron.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TestbedError } from './errors';
import { PATH, type RunResult, isSameProcess, run } from './exec';
import { NETNS_DIR } from './names';
import { type TestbedState, loadState } from './state';
import { withHostname } from './configs';

export { TestbedError, type TestbedErrorCode } from './errors';
export { testbedUp, UP_STEPS, type StepEvent, type UpOptions, sshBanner } from './up';
export { testbedDown, testbedDownOrThrow, ourNamespaces, ourProcessesByCmdline, type DownReport } from './down';
export { buildPlan, dnsRecordArgs, kubeletHostsFile, type TestbedPlan, type PlanNode, type PlanPod } from './plan';
export { preflight, requirements, TESTBED_MODES, findBinary, modeOf, type Requirement } from './preflight';
export { birdConfig, sshdConfig, dnsmasqArgv, httpScript } from './configs';
export { kubeProxyFromModel, calicoPolicyFromModel, calicoPolicy6FromModel, type KubeProxyProvider, type PolicyProvider, type KubeProxyInput, type PolicyInput } from './rules';
export { rootSnapshot, checkRootUntouched, type RootSnapshot } from './safety';
export { loadState, type TestbedState, type NodeState, type PodState } from './state';
export { PREFIX, NET_NS, RUN_DIR, STATE_FILE, nodeNetns, podNetns } from './names';
export { run, type RunResult } from './exec';

export interface TestbedStatus {
  up: boolean;
  phase?: TestbedState['phase'];
  topology?: string;
  mode?: string;
  createdAt?: string;
  /** `ip6`: the IPv6 address of a dual-stack test-bed's node or pod. */
  nodes: { name: string; ip: string; ip6?: string; netns: string; present: boolean; ssh?: string; hostKeyFingerprint?: string }[];
  pods: { pod: string; node: string; ip: string; ip6?: string; netns: string; present: boolean; servers: string[] }[];
  processes: { name: string; pid: number; running: boolean }[];
  clientKey?: string;
  differences: string[];
  warnings: string[];
  error?: string;
}

export function testbedStatus(): TestbedStatus {
  const s = loadState();
  if (!s) return { up: false, nodes: [], pods: [], processes: [], differences: [], warnings: [] };
  const present = (ns: string) => existsSync(`${NETNS_DIR}/${ns}`);
  return {
    up: s.phase === 'up',
    phase: s.phase,
    topology: s.topology,
    mode: s.mode,
    createdAt: s.createdAt,
    nodes: s.nodes.map((n) => ({
      name: n.name,
      ip: n.ip,
      ...(n.ip6 ? { ip6: n.ip6 } : {}),
      netns: n.netns,
      present: present(n.netns),
      ssh: n.sshPort ? `127.0.0.1:${n.sshPort}` : undefined,
      hostKeyFingerprint: n.hostKeyFingerprint,
    })),
    pods: s.pods.map((p) => ({ pod: `${p.namespace}/${p.name}`, node: p.node, ip: p.ip, ...(p.ip6 ? { ip6: p.ip6 } : {}), netns: p.netns, present: present(p.netns), servers: p.servers })),
    processes: s.processes.map((p) => ({ name: p.name, pid: p.pid, running: isSameProcess(p) })),
    clientKey: s.clientKey,
    differences: s.differences,
    warnings: s.warnings ?? [],
    error: s.error,
  };
}

export interface ExecTarget {
  netns: string;
  /** Host name the command sees (node name or pod name). */
  hostname: string;
  kind: 'node' | 'pod';
}

/** `node-1` or `namespace/pod` (a bare pod name is looked up in every namespace when it is unique). */
export function resolveTarget(ref: string, state: TestbedState | null = loadState()): ExecTarget {
  if (!state || state.phase !== 'up') throw new TestbedError('not-up', 'the test-bed is not up', 'run netlab testbed up FILE first');
  if (ref.includes('/')) {
    const [ns, name] = ref.split('/', 2);
    const p = state.pods.find((x) => x.namespace === ns && x.name === name);
    if (p) return { netns: p.netns, hostname: p.name, kind: 'pod' };
  } else {
    const n = state.nodes.find((x) => x.name === ref);
    if (n) return { netns: n.netns, hostname: n.name, kind: 'node' };
    const ps = state.pods.filter((x) => x.name === ref);
    if (ps.length === 1) return { netns: ps[0].netns, hostname: ps[0].name, kind: 'pod' };
  }
  throw new TestbedError(
    'unknown-target',
    `no node or pod "${ref}" in the test-bed`,
    `use a node (${state.nodes.map((n) => n.name).join(', ')}) or NAMESPACE/POD (${state.pods
      .slice(0, 6)
      .map((p) => `${p.namespace}/${p.name}`)
      .join(', ')}${state.pods.length > 6 ? ', …' : ''})`,
  );
}

function execArgv(t: ExecTarget, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', t.netns, ...withHostname(t.hostname, argv)];
}

/** Runs a command inside a node's or pod's namespace and captures its output. */
export function testbedExec(ref: string, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  if (argv.length === 0) throw new TestbedError('unknown-target', 'no command given', 'e.g. netlab testbed exec default/pod-a -- curl -s http://backend');
  const t = resolveTarget(ref);
  const full = execArgv(t, argv);
  return run(full[0], full.slice(1), { check: false, timeoutMs: opts.timeoutMs ?? 60_000, input: opts.input });
}

/** Runs a command inside a node's or pod's namespace with the caller's terminal (for the CLI); resolves to the exit code. */
export function testbedExecInteractive(ref: string, argv: string[]): Promise<number> {
  const t = resolveTarget(ref);
  const full = execArgv(t, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), { stdio: 'inherit', env: { ...process.env, PATH } });
    child.on('error', (e) => reject(new TestbedError('command-failed', `cannot run ${argv[0]}: ${e.message}`, 'check the command name')));
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

/** Runs a command in a node namespace (no hostname change): for captures by tests and compare. */
export function nodeRun(node: string, argv: string[], timeoutMs = 30_000): Promise<RunResult> {
  const t = resolveTarget(node);
  return run(argv[0], argv.slice(1), { netns: t.netns, check: false, timeoutMs });
}
