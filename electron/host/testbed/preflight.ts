// What the test-bed needs before it touches anything: root, the programs
// (with the Debian package that provides each), and a CNI mode the local
// kernel can build. Nothing is created when a check fails.

import { accessSync, constants } from 'node:fs';
import type { Topology } from '../../../core/model';
import { TestbedError } from './errors';

export interface Requirement {
  /** Program name or absolute path. */
  binary: string;
  /** Debian package providing it. */
  pkg: string;
  /** What it is used for. */
  use: string;
}

export const CNI_BIN_DIR = '/usr/lib/cni';
const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The modes the local test-bed can build, with the wiring each uses. */
export const TESTBED_MODES: Record<string, string> = {
  'calico-bgp': 'ptp + host-local CNI, Calico-style /32 pod routes and proxy ARP, BIRD 2 iBGP full mesh',
  'calico-vxlan': 'ptp + host-local CNI, Calico-style pods, vxlan.calico (VNI 4096, port 4789) with static ARP/FDB entries',
  'calico-vxlan-crosssubnet': 'as calico-vxlan; nodes of one subnet are routed natively (the test-bed node network is one subnet)',
  'flannel-vxlan': 'bridge + host-local CNI on cni0, flannel.1 (VNI 1, port 8472) with static ARP/FDB entries',
  'flannel-host-gw': 'bridge + host-local CNI on cni0, routes via the peer node on eth0',
};

const MODELLED_ONLY: Record<string, string> = {
  'calico-ipip': 'IPIP',
  'calico-ipip-crosssubnet': 'IPIP',
  'cilium-native': 'eBPF (Cilium)',
  'cilium-vxlan': 'eBPF (Cilium)',
  'cilium-geneve': 'Geneve/eBPF (Cilium)',
  'weave-fastdp': 'Open vSwitch datapath (Weave fastdp)',
  'weave-sleeve': 'Weave sleeve',
  'antrea-geneve': 'Open vSwitch/Geneve (Antrea)',
  'antrea-vxlan': 'Open vSwitch (Antrea)',
  'antrea-noencap': 'Open vSwitch (Antrea)',
};

export function modeOf(t: Topology): string {
  return `${t.settings.cni.plugin}-${t.settings.cni.mode}`;
}

export function requirements(mode: string): Requirement[] {
  const r: Requirement[] = [
    { binary: 'ip', pkg: 'iproute2', use: 'namespaces, links, addresses, routes' },
    { binary: 'bridge', pkg: 'iproute2', use: 'VXLAN forwarding entries' },
    { binary: 'iptables-restore', pkg: 'iptables', use: 'kube-proxy and policy rules' },
    { binary: 'iptables-save', pkg: 'iptables', use: 'reading the rules back' },
    { binary: 'ipset', pkg: 'ipset', use: 'policy address sets' },
    { binary: 'unshare', pkg: 'util-linux', use: 'per-node and per-pod host names' },
    { binary: 'dnsmasq', pkg: 'dnsmasq-base', use: 'cluster DNS (stands in for CoreDNS)' },
    { binary: 'sshd', pkg: 'openssh-server', use: 'SSH into each node' },
    { binary: 'ssh-keygen', pkg: 'openssh-client', use: 'host and client keys' },
    { binary: 'socat', pkg: 'socat', use: 'the 127.0.0.1 SSH forwards and the small servers in pods' },
    { binary: `${CNI_BIN_DIR}/host-local`, pkg: 'containernetworking-plugins', use: 'pod IPAM (CNI)' },
    { binary: `${CNI_BIN_DIR}/loopback`, pkg: 'containernetworking-plugins', use: 'pod loopback (CNI)' },
  ];
  if (mode.startsWith('calico')) r.push({ binary: `${CNI_BIN_DIR}/ptp`, pkg: 'containernetworking-plugins', use: 'pod veths (CNI ptp)' });
  if (mode.startsWith('flannel')) r.push({ binary: `${CNI_BIN_DIR}/bridge`, pkg: 'containernetworking-plugins', use: 'pod veths on cni0 (CNI bridge)' });
  if (mode === 'calico-bgp') {
    r.push({ binary: 'bird', pkg: 'bird2', use: 'BGP route exchange between nodes' });
    r.push({ binary: 'birdc', pkg: 'bird2', use: 'BGP session status' });
  }
  return r;
}

export function findBinary(name: string): string | null {
  const candidates = name.startsWith('/') ? [name] : SEARCH.map((d) => `${d}/${name}`);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface PreflightOptions {
  /** For tests: pretend the effective uid is this. */
  uid?: number;
  /** For tests: which binaries exist. */
  exists?: (binary: string) => boolean;
}

/** Throws a TestbedError naming exactly what is missing; returns the mode when all is well. */
export function preflight(t: Topology, opts: PreflightOptions = {}): string {
  const mode = modeOf(t);
  if (!(mode in TESTBED_MODES)) {
    const what = MODELLED_ONLY[mode];
    throw new TestbedError(
      'unsupported-mode',
      what ? `the local test-bed kernel has no ${what}; this mode (${mode}) is modelled only` : `the local test-bed cannot build ${mode}; it is modelled only`,
      `use one of: ${Object.keys(TESTBED_MODES).join(', ')} (e.g. --set cni=calico-vxlan)`,
    );
  }
  if (t.settings.kubeProxy.mode !== 'iptables') {
    const what = t.settings.kubeProxy.mode === 'ipvs' ? 'IPVS' : 'eBPF kube-proxy replacement';
    throw new TestbedError('unsupported-mode', `the local test-bed kernel has no ${what}; kube-proxy mode ${t.settings.kubeProxy.mode} is modelled only`, 'use --set kubeProxy=iptables');
  }
  if (t.settings.cni.encryption) {
    throw new TestbedError('unsupported-mode', 'the local test-bed kernel has no WireGuard; encryption is modelled only', 'use --set cni.encryption=false');
  }
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  if (uid !== 0) {
    throw new TestbedError('not-root', 'the test-bed needs root (it creates network namespaces, veths, routes and iptables rules)', 'run netlab testbed up as root, e.g. sudo npx netlab testbed up …');
  }
  const exists = opts.exists ?? ((b: string) => findBinary(b) !== null);
  const missing = requirements(mode).filter((r) => !exists(r.binary));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    throw new TestbedError(
      'missing-binary',
      `missing: ${missing.map((m) => `${m.binary} (Debian package ${m.pkg}, for ${m.use})`).join('; ')}`,
      `install them with: apt-get install ${pkgs.join(' ')}`,
    );
  }
  return mode;
}
