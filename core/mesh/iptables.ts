// The iptables rules istio-init (or the istio-cni plugin) writes into an
// injected pod's network namespace, built rule by rule in the order
// `istio-iptables` appends them (tools/istio-iptables/pkg/capture/run.go),
// from the arguments the injection template passes:
//
//   istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020
//
// (-g defaults to -u; the HBONE tunnel port 15008 is always excluded). Pod
// annotations traffic.sidecar.istio.io/{include,exclude}{Inbound,Outbound}…
// change those arguments exactly as the template does. The result is a
// core/dataplane Ruleset, so `iptables-save` prints it as a real pod shows it
// (`nsenter -t <pid> -n iptables-save`) and the dataplane evaluator walks
// packets through it.

import { canonicalIP, parseIP, tryParseCidr } from '../net';
import type { PodModel } from '../model/types';
import {
  ensureChain,
  ensureTable,
  newRuleset,
  parseRuleArgs,
  renderIptablesSave,
  walkIncoming,
  walkLocalOut,
  type EvalContext,
  type Family,
  type Packet,
  type Ruleset,
  type WalkResult,
} from '../dataplane';

export const PROXY_UID = 1337;
export const PROXY_GID = 1337;
export const OUTBOUND_PORT = 15001;
export const INBOUND_PORT = 15006;
export const TUNNEL_PORT = 15008;
/** The source address Envoy binds for inbound passthrough connections to the app (InboundPassthroughBindIpv4). */
export const INBOUND_PASSTHROUGH_V4 = '127.0.0.6';
export const INBOUND_PASSTHROUGH_V6 = '::6';

/** The arguments of `istio-iptables` (names as in tools/common/config). */
export interface IstioIptablesConfig {
  proxyPort: number;
  inboundCapturePort: number;
  inboundTunnelPort: number;
  proxyUID: string;
  proxyGID: string;
  /** REDIRECT (default) or TPROXY (sidecar.istio.io/interceptionMode); only REDIRECT is modelled. */
  interceptionMode: 'REDIRECT' | 'TPROXY';
  /** `*` or a comma list of ports (-b). */
  inboundPortsInclude: string;
  /** -d: comma list. */
  inboundPortsExclude: string;
  /** -i: `*` or CIDRs. */
  outboundIPRangesInclude: string;
  /** -x: CIDRs. */
  outboundIPRangesExclude: string;
  /** -q / -o. */
  outboundPortsInclude: string;
  outboundPortsExclude: string;
  /** -k (istio.io/reroute-virtual-interfaces). */
  rerouteVirtualInterfaces: string;
  /** -c (traffic.sidecar.istio.io/excludeInterfaces). */
  excludeInterfaces: string;
  /**
   * Istio release the rules come from: 1.25 and later write `-A OUTPUT -j ISTIO_OUTPUT`
   * (all protocols, for DNS capture); earlier releases `-A OUTPUT -p tcp -j ISTIO_OUTPUT`;
   * before 1.18 the loopback ISTIO_IN_REDIRECT rules had no `-p tcp ! --dport 15008`.
   */
  istioVersion: string;
}

export const DEFAULT_ISTIO_VERSION = '1.27';

export function defaultIptablesConfig(): IstioIptablesConfig {
  return {
    proxyPort: OUTBOUND_PORT,
    inboundCapturePort: INBOUND_PORT,
    inboundTunnelPort: TUNNEL_PORT,
    proxyUID: String(PROXY_UID),
    proxyGID: String(PROXY_GID),
    interceptionMode: 'REDIRECT',
    inboundPortsInclude: '*',
    inboundPortsExclude: '15090,15021,15020',
    outboundIPRangesInclude: '*',
    outboundIPRangesExclude: '',
    outboundPortsInclude: '',
    outboundPortsExclude: '',
    rerouteVirtualInterfaces: '',
    excludeInterfaces: '',
    istioVersion: DEFAULT_ISTIO_VERSION,
  };
}

const split = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);

/** pkg/kube/inject/template.go excludeInboundPort: the status port appended to the excluded list unless already there. */
function excludeInboundPort(statusPort: string, excluded: string): string {
  const port = statusPort.trim();
  if (!port || port === '0') return excluded;
  const ports = split(excluded);
  if (ports.includes(port)) return excluded;
  return [...ports, port].join(',');
}

/** The config the injection template derives from the pod's annotations. */
export function iptablesConfigForPod(pod: PodModel, istioVersion = DEFAULT_ISTIO_VERSION): { config: IstioIptablesConfig; notes: string[] } {
  const a = pod.annotations;
  const c = defaultIptablesConfig();
  const notes: string[] = [];
  c.istioVersion = istioVersion;
  const mode = a['sidecar.istio.io/interceptionMode'];
  if (mode === 'TPROXY') {
    c.interceptionMode = 'TPROXY';
    notes.push('sidecar.istio.io/interceptionMode: TPROXY uses mangle-table TPROXY rules for inbound traffic; the model renders and walks the REDIRECT layout');
  }
  if (a['traffic.sidecar.istio.io/includeOutboundIPRanges'] !== undefined) c.outboundIPRangesInclude = a['traffic.sidecar.istio.io/includeOutboundIPRanges'];
  if (a['traffic.sidecar.istio.io/excludeOutboundIPRanges'] !== undefined) c.outboundIPRangesExclude = a['traffic.sidecar.istio.io/excludeOutboundIPRanges'];
  if (a['traffic.sidecar.istio.io/includeInboundPorts'] !== undefined) c.inboundPortsInclude = a['traffic.sidecar.istio.io/includeInboundPorts'];
  const statusPort = a['status.sidecar.istio.io/port'] ?? '15020';
  const userExcluded = a['traffic.sidecar.istio.io/excludeInboundPorts'] ?? '';
  const ex = excludeInboundPort(statusPort, userExcluded);
  c.inboundPortsExclude = ex ? `15090,15021,${ex}` : '15090,15021';
  if (a['traffic.sidecar.istio.io/includeOutboundPorts'] !== undefined) c.outboundPortsInclude = a['traffic.sidecar.istio.io/includeOutboundPorts'];
  if (a['traffic.sidecar.istio.io/excludeOutboundPorts'] !== undefined) c.outboundPortsExclude = a['traffic.sidecar.istio.io/excludeOutboundPorts'];
  const reroute = a['istio.io/reroute-virtual-interfaces'] ?? a['traffic.sidecar.istio.io/kubevirtInterfaces'];
  if (reroute !== undefined) c.rerouteVirtualInterfaces = reroute;
  if (a['traffic.sidecar.istio.io/excludeInterfaces'] !== undefined) c.excludeInterfaces = a['traffic.sidecar.istio.io/excludeInterfaces'];
  return { config: c, notes };
}

function versionAtLeast(v: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return true;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** The args of one `iptables -t TABLE -A|-I CHAIN …` call. */
export interface IstioRuleCall {
  table: 'nat';
  chain: string;
  op: 'A' | 'I';
  position?: number;
  args: string[];
}

/** The rule calls istio-iptables makes, in order, for one address family. */
export function istioRuleCalls(c: IstioIptablesConfig, family: Family = 4): IstioRuleCall[] {
  const calls: IstioRuleCall[] = [];
  const A = (chain: string, ...args: string[]): void => void calls.push({ table: 'nat', chain, op: 'A', args });
  const I = (chain: string, position: number, ...args: string[]): void => void calls.push({ table: 'nat', chain, op: 'I', position, args });
  const loopback = family === 4 ? '127.0.0.1/32' : '::1/128';
  const passthrough = family === 4 ? `${INBOUND_PASSTHROUGH_V4}/32` : `${INBOUND_PASSTHROUGH_V6}/128`;
  const inFamily = (cidr: string): boolean => {
    const p = tryParseCidr(cidr);
    return !!p && p.family === family;
  };

  for (const iface of split(c.excludeInterfaces)) {
    A('PREROUTING', '-i', iface, '-j', 'RETURN');
    A('OUTPUT', '-o', iface, '-j', 'RETURN');
  }
  for (const iface of split(c.rerouteVirtualInterfaces)) I('PREROUTING', 1, '-i', iface, '-j', 'RETURN');
  A('ISTIO_INBOUND', '-p', 'tcp', '--dport', String(c.inboundTunnelPort), '-j', 'RETURN');
  A('ISTIO_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(c.proxyPort));
  A('ISTIO_IN_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(c.inboundCapturePort));
  if (c.inboundPortsInclude !== '') {
    A('PREROUTING', '-p', 'tcp', '-j', 'ISTIO_INBOUND');
    if (c.inboundPortsInclude === '*') {
      for (const p of split(c.inboundPortsExclude)) A('ISTIO_INBOUND', '-p', 'tcp', '--dport', p, '-j', 'RETURN');
      A('ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_IN_REDIRECT');
    } else {
      for (const p of split(c.inboundPortsInclude)) A('ISTIO_INBOUND', '-p', 'tcp', '--dport', p, '-j', 'ISTIO_IN_REDIRECT');
    }
  }
  if (versionAtLeast(c.istioVersion, 1, 25)) A('OUTPUT', '-j', 'ISTIO_OUTPUT');
  else A('OUTPUT', '-p', 'tcp', '-j', 'ISTIO_OUTPUT');
  for (const p of split(c.outboundPortsExclude)) {
    A('ISTIO_OUTPUT', '-p', 'tcp', '--dport', p, '-j', 'RETURN');
    A('ISTIO_OUTPUT', '-p', 'udp', '--dport', p, '-j', 'RETURN');
  }
  A('ISTIO_OUTPUT', '-o', 'lo', '-s', passthrough, '-j', 'RETURN');
  const includes = c.outboundIPRangesInclude === '*' ? ['*'] : split(c.outboundIPRangesInclude);
  const includesLoopback = includes.some((x) => x !== '*' && inFamily(x) && tryParseCidr(x)!.contains(parseIP(family === 4 ? '127.0.0.1' : '::1')!));
  for (const [flag, id] of [
    ['--uid-owner', c.proxyUID],
    ['--gid-owner', c.proxyGID],
  ] as const) {
    for (const x of split(id)) {
      // app → Envoy (client) → Envoy (server) → app when an app calls its own Service VIP
      if (versionAtLeast(c.istioVersion, 1, 18)) {
        A('ISTIO_OUTPUT', '-o', 'lo', '!', '-d', loopback, '-p', 'tcp', '!', '--dport', String(c.inboundTunnelPort), '-m', 'owner', flag, x, '-j', 'ISTIO_IN_REDIRECT');
      } else {
        // before 1.18 the rule did not spare the HBONE port
        A('ISTIO_OUTPUT', '-o', 'lo', '!', '-d', loopback, '-m', 'owner', flag, x, '-j', 'ISTIO_IN_REDIRECT');
      }
      // app → app over lo via the endpoint address: not redirected
      if (!includesLoopback) A('ISTIO_OUTPUT', '-o', 'lo', '-m', 'owner', '!', flag, x, '-j', 'RETURN');
      // Envoy's own traffic is never redirected (no loop)
      A('ISTIO_OUTPUT', '-m', 'owner', flag, x, '-j', 'RETURN');
    }
  }
  A('ISTIO_OUTPUT', '-d', loopback, '-j', 'RETURN');
  for (const cidr of split(c.outboundIPRangesExclude)) if (inFamily(cidr)) A('ISTIO_OUTPUT', '-d', cidr, '-j', 'RETURN');
  for (const p of split(c.outboundPortsInclude)) A('ISTIO_OUTPUT', '-p', 'tcp', '--dport', p, '-j', 'ISTIO_REDIRECT');
  if (includes.includes('*')) {
    A('ISTIO_OUTPUT', '-j', 'ISTIO_REDIRECT');
    for (const iface of split(c.rerouteVirtualInterfaces)) I('PREROUTING', 1, '-i', iface, '-j', 'ISTIO_REDIRECT');
  } else {
    for (const cidr of includes.filter(inFamily)) {
      for (const iface of split(c.rerouteVirtualInterfaces)) I('PREROUTING', 1, '-i', iface, '-d', cidr, '-j', 'ISTIO_REDIRECT');
      A('ISTIO_OUTPUT', '-d', cidr, '-j', 'ISTIO_REDIRECT');
    }
  }
  return calls;
}

/** The pod network namespace's nat table as istio-iptables leaves it. */
export function istioRuleset(c: IstioIptablesConfig, family: Family = 4): Ruleset {
  const rs = newRuleset(family, ['nat']);
  const nat = ensureTable(rs, 'nat');
  for (const name of ['ISTIO_INBOUND', 'ISTIO_REDIRECT', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT']) ensureChain(nat, name);
  for (const call of istioRuleCalls(c, family)) {
    const chain = ensureChain(nat, call.chain);
    const rule = parseRuleArgs(call.args, family);
    if (call.op === 'A') chain.rules.push(rule);
    else chain.rules.splice((call.position ?? 1) - 1, 0, rule);
  }
  return rs;
}

/** `iptables-save` of the pod's network namespace (only nat exists there). */
export function renderPodIptablesSave(rs: Ruleset, opts: { date?: Date; version?: string; program?: string; variant?: 'nft' | 'legacy' } = {}): string {
  return renderIptablesSave(rs, { date: opts.date ?? new Date(0), version: opts.version, program: opts.program, ...(opts.variant ? { variant: opts.variant } : {}) });
}

// ---------------------------------------------------------------- walks in the pod's network namespace

export interface PodNetns {
  /** The pod's addresses (eth0). */
  ips: string[];
  ruleset: Ruleset;
}

function podContext(ns: PodNetns): EvalContext {
  const mine = new Set(ns.ips.map(canonicalIP));
  return {
    isLocal: (ip) => mine.has(canonicalIP(ip)) || ip.startsWith('127.') || ip === '::1',
    redirectAddress: (inIface, family) => {
      if (inIface === undefined || inIface === 'lo') return family === 4 ? '127.0.0.1' : '::1';
      return ns.ips.find((x) => parseIP(x)?.family === family) ?? (family === 4 ? '127.0.0.1' : '::1');
    },
  };
}

/** The pod's routing: its own addresses and loopback via lo, everything else via eth0 (the default route). */
function podRoute(ns: PodNetns) {
  const mine = new Set(ns.ips.map(canonicalIP));
  return (p: Packet) => {
    const local = mine.has(canonicalIP(p.dst)) || p.dst.startsWith('127.') || p.dst === '::1';
    return local ? { local: true, outIface: 'lo' } : { local: false, outIface: 'eth0' };
  };
}

/**
 * A connection opened inside the pod (OUTPUT → POSTROUTING), by the app
 * (any uid but 1337) or by Envoy (uid/gid 1337).
 */
export function walkPodOutput(ns: PodNetns, conn: { src: string; sport: number; dst: string; dport: number; proto?: string; uid: number; gid?: number }): WalkResult {
  const family = (parseIP(conn.dst)?.family ?? 4) as Family;
  const p: Packet = {
    family,
    proto: conn.proto ?? 'tcp',
    src: conn.src,
    dst: canonicalIP(conn.dst),
    sport: conn.sport,
    dport: conn.dport,
    mark: 0,
    ctstate: 'NEW',
    tcpFlags: (conn.proto ?? 'tcp') === 'tcp' ? ['SYN'] : undefined,
    uid: conn.uid,
    gid: conn.gid ?? conn.uid,
  };
  return walkLocalOut(ns.ruleset, p, podContext(ns), podRoute(ns));
}

/** A packet arriving on the pod's eth0 (PREROUTING → INPUT). */
export function walkPodInput(ns: PodNetns, conn: { src: string; sport: number; dst: string; dport: number; proto?: string; inIface?: string }): WalkResult {
  const family = (parseIP(conn.dst)?.family ?? 4) as Family;
  const p: Packet = {
    family,
    proto: conn.proto ?? 'tcp',
    src: conn.src,
    dst: canonicalIP(conn.dst),
    sport: conn.sport,
    dport: conn.dport,
    inIface: conn.inIface ?? 'eth0',
    mark: 0,
    ctstate: 'NEW',
    tcpFlags: (conn.proto ?? 'tcp') === 'tcp' ? ['SYN'] : undefined,
  };
  return walkIncoming(ns.ruleset, p, podContext(ns), podRoute(ns));
}

/** The matched rules of a walk in iptables-save form. */
export function matchedRules(w: WalkResult): string[] {
  return w.hooks.flatMap((h) => h.steps.filter((s) => s.event === 'match').map((s) => s.text));
}
