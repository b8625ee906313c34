// Logic behind the Nodes panel (pure, tested without a DOM): what the local
// test-bed cannot build for a topology, the overrides that make it buildable,
// the step list of `testbed up`, and how host errors are shown.

import type { ClusterSettings } from '../../../core/model/types';
import type { TestbedStep } from '../../../core/api';

/** CNI modes the local test-bed builds (kept equal to electron/host/testbed TESTBED_MODES by a unit test). */
export const TESTBED_BUILDABLE = ['calico-bgp', 'calico-vxlan', 'calico-vxlan-crosssubnet', 'flannel-vxlan', 'flannel-host-gw'] as const;

export function cniMode(settings: Pick<ClusterSettings, 'cni'>): string {
  return `${settings.cni.plugin}-${settings.cni.mode}`;
}

export interface ModelledOnly {
  /** Kernel features the topology needs that the test-bed cannot show (IPIP, WireGuard, Open vSwitch, Geneve, IPVS…). */
  features: string[];
  /** Why, one line per feature. */
  reasons: string[];
  /** Whether `testbed up` can build the topology as it is. */
  buildable: boolean;
}

/**
 * What the test-bed cannot show for these settings. The test-bed's kernel has
 * no IPIP, WireGuard, netem, Open vSwitch, Geneve or IPVS, and it does not
 * run Cilium's eBPF programs: those modes are modelled only.
 */
export function modelledOnly(settings: Pick<ClusterSettings, 'cni' | 'kubeProxy'>): ModelledOnly {
  const features: string[] = [];
  const reasons: string[] = [];
  const add = (f: string, why: string) => {
    if (!features.includes(f)) features.push(f);
    reasons.push(why);
  };
  const mode = cniMode(settings);
  const { plugin, mode: m } = settings.cni;
  if (plugin === 'calico' && m.startsWith('ipip')) add('IPIP', `${mode} encapsulates pod traffic in IP-in-IP (tunl0)`);
  if (plugin === 'antrea') {
    add('Open vSwitch', `${mode}: Antrea forwards with Open vSwitch (br-int)`);
    if (m === 'geneve') add('Geneve', `${mode} tunnels with Geneve (antrea-gw0 / genev_sys_6081)`);
  }
  if (plugin === 'weave') {
    if (m === 'fastdp') add('Open vSwitch', 'weave-fastdp uses the kernel Open vSwitch datapath (vxlan-6784)');
    else add('Weave sleeve', 'weave-sleeve encapsulates in the weave router (userspace, UDP 6783)');
  }
  if (plugin === 'cilium') {
    if (m === 'geneve') add('Geneve', 'cilium-geneve tunnels with Geneve (cilium_geneve)');
    add('eBPF (Cilium)', `${mode}: Cilium forwards and enforces policy in eBPF programs`);
  }
  if (settings.cni.encryption) add('WireGuard', 'encryption: the CNI encrypts node-to-node traffic with WireGuard');
  if (settings.kubeProxy.mode === 'ipvs') add('IPVS', 'kube-proxy in IPVS mode programs ip_vs virtual servers');
  if (settings.kubeProxy.mode === 'ebpf') add('eBPF kube-proxy replacement', 'kube-proxy replacement in eBPF (Cilium)');
  const buildable = (TESTBED_BUILDABLE as readonly string[]).includes(mode) && settings.kubeProxy.mode === 'iptables' && !settings.cni.encryption;
  return { features, reasons, buildable };
}

/** `--set` overrides that build the topology as `mode` on the test-bed (empty: as written). */
export function overridesFor(settings: Pick<ClusterSettings, 'cni' | 'kubeProxy'>, mode: string): string[] {
  const set: string[] = [];
  if (mode && mode !== cniMode(settings)) set.push(`cni=${mode}`);
  if (mode && settings.kubeProxy.mode !== 'iptables') set.push('kubeProxy=iptables');
  if (mode && settings.cni.encryption) set.push('cni.encryption=false');
  return set;
}

export type StepState = 'done' | 'running' | 'failed';

export interface StepRow {
  step: number;
  message: string;
  state: StepState;
}

export interface UpProgress {
  total: number;
  rows: StepRow[];
  /** 0…1 for the progress bar. */
  fraction: number;
  finished: 'ok' | 'failed' | null;
}

export function startProgress(): UpProgress {
  return { total: 0, rows: [], fraction: 0, finished: null };
}

/** A `testbed-step` event: earlier steps are done, this one runs. */
export function applyStep(p: UpProgress, e: TestbedStep): UpProgress {
  if (p.finished) return p;
  const rows = p.rows.filter((r) => r.step !== e.step).map((r) => (r.step < e.step && r.state === 'running' ? { ...r, state: 'done' as const } : r));
  rows.push({ step: e.step, message: e.message, state: 'running' });
  rows.sort((a, b) => a.step - b.step);
  return { total: e.total, rows, fraction: Math.min(1, (e.step - 1) / Math.max(1, e.total)), finished: null };
}

/** The call returned: every step done, or the running one failed. */
export function finishProgress(p: UpProgress, ok: boolean): UpProgress {
  if (ok) return { ...p, rows: p.rows.map((r) => ({ ...r, state: 'done' })), fraction: 1, finished: 'ok' };
  const rows = p.rows.map((r) => (r.state === 'running' ? { ...r, state: 'failed' as const } : r));
  return { ...p, rows, finished: 'failed' };
}

export interface ShownError {
  code: string;
  message: string;
  hint?: string;
  detail?: string;
}

export function shownError(err: unknown): ShownError {
  const e = err as { code?: unknown; message?: unknown; hint?: unknown; detail?: unknown };
  const out: ShownError = { code: typeof e?.code === 'string' ? e.code : 'error', message: typeof e?.message === 'string' ? e.message : String(err) };
  if (typeof e?.hint === 'string') out.hint = e.hint;
  if (typeof e?.detail === 'string' && e.detail) out.detail = e.detail;
  return out;
}

/** What the UI adds to a test-bed error: the lab runs the CLI's code, so the CLI hints apply to the lab process. */
export function testbedAdvice(code: string): string | undefined {
  switch (code) {
    case 'not-root':
      return 'In the lab: start it as root on the machine that hosts the test-bed (sudo npm start), or use remote nodes over SSH.';
    case 'missing-binary':
      return 'Install the packages on the machine that runs the lab, then press Up again.';
    case 'unsupported-mode':
      return 'Pick a mode the test-bed can build under "Build as"; the model still shows this mode in Simulate.';
    case 'already-up':
      return 'Press Down first (it removes the other test-bed), then Up.';
    default:
      return undefined;
  }
}

/** `ssh -i KEY -p PORT root@127.0.0.1` for a test-bed node's forward. */
export function sshCommand(endpoint: string | undefined, clientKey: string | undefined): string | null {
  if (!endpoint || !clientKey) return null;
  const port = endpoint.split(':').pop();
  return `ssh -i ${clientKey} -p ${port} root@127.0.0.1`;
}

/**
 * Window event the terminal drawer sends when an SSH terminal was not opened
 * because the lab does not trust the node's host key (detail: the
 * TerminalHostKeyAnswer); the Nodes panel asks about it and opens it again.
 */
export const SSH_HOST_KEY_EVENT = 'netlab:ssh-host-key';

/** Where OpenSSH keeps a host key of this type on the node (to compare fingerprints there). */
export function hostKeyFile(keyType: string): string {
  const short = keyType.startsWith('ecdsa-') ? 'ecdsa' : keyType.replace(/^ssh-/, '');
  return `/etc/ssh/ssh_host_${short}_key.pub`;
}

/** Splits `a b 'c d'` for testbedExec's argv (the host checks the command against the allow-list). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

// ---- model versus node

export const CHECKS = ['routes', 'rules', 'iptables', 'conntrack', 'tcpdump', 'dns', 'policy', 'cni'] as const;

export const CHECK_LABELS: Record<(typeof CHECKS)[number], string> = {
  routes: 'Routes (ip -j route)',
  rules: 'Policy rules (ip -j rule)',
  iptables: 'iptables-save',
  conntrack: 'conntrack -L after a request',
  tcpdump: 'tcpdump -i any during a request',
  dns: 'DNS (resolv.conf, queries)',
  policy: 'NetworkPolicy attempts',
  cni: 'CNI ADD results',
};

export interface ViaOption {
  id: string;
  label: string;
  /** Remote nodes send test requests only when allowed. */
  remote: boolean;
}

/** Where a node can be compared: the test-bed when it is up (and has the node), connected remote nodes. */
export function viaOptions(status: { up: boolean; nodes: { name: string }[]; topology?: string; mode?: string } | null, remotes: { name: string; target: string; connected: boolean }[], node: string): ViaOption[] {
  const out: ViaOption[] = [];
  if (status?.up && status.nodes.some((n) => n.name === node)) out.push({ id: 'testbed', label: `test-bed (${status.topology}, ${status.mode})`, remote: false });
  for (const r of remotes) if (r.connected) out.push({ id: `remote:${r.name}`, label: `${r.name} — ${r.target}`, remote: true });
  return out;
}

export interface CompareCounts {
  match: number;
  explained: number;
  different: number;
  skipped: number;
  /** Unexplained differences over all checks. */
  unexplainedItems: number;
}

export function compareCounts(r: { checks: { status: 'match' | 'explained' | 'different'; items: { explained: boolean }[] }[]; skipped?: unknown[] }): CompareCounts {
  const c: CompareCounts = { match: 0, explained: 0, different: 0, skipped: r.skipped?.length ?? 0, unexplainedItems: 0 };
  for (const ch of r.checks) {
    c[ch.status]++;
    c.unexplainedItems += ch.items.filter((i) => !i.explained).length;
  }
  return c;
}
