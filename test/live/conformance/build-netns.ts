// Builds a modelled node (core/cni NodeDataplane) and its pods' namespaces
// in real network namespaces: devices with the model's names, ifindexes,
// MACs, MTUs, queue lengths and flags; addresses; the routes the kernel does
// not make by itself; static neighbours and FDB entries; sysctls. Whatever
// the kernel refuses fails the build with the command and the kernel's error.
// Policy routing rules beyond the kernel's defaults are loaded with `ip rule`
// (rules-netns.ts).
//
// Test-bed artifacts (not model claims, normalised by the caller): a modelled
// physical NIC (`device`, eth0) is a veth whose peer sits in a separate "lan"
// namespace, so iproute2 shows `eth0@ifN … link-netns <lan>`, and this kernel
// has no fq_codel, so its qdisc is noqueue.

import type { NetInterface, NodeDataplane, PodDataplane, Route } from '../../../core/cni';
import { Netns, writeSysctls } from './harness';
import { loadRules } from './rules-netns';

export interface BuiltNode {
  node: Netns;
  lan: Netns;
  /** Pod namespace per pod id (`pod/<ns>/<name>`). */
  pods: Map<string, { ns: Netns; model: PodDataplane }>;
  /** Real namespace name → the name the model uses for it (basename of the pod's netnsPath). */
  netnsNames: Map<string, string>;
}

const SUPPORTED = new Set(['loopback', 'device', 'veth', 'bridge', 'vxlan']);

/** Whether this builder (and kernel) can realise every device of the namespace. */
export function unsupportedKinds(ns: { interfaces: NetInterface[] }): string[] {
  return [...new Set(ns.interfaces.map((i) => i.kind).filter((k) => !SUPPORTED.has(k)))];
}

function routeKey(r: { type: string; family: number; dst: string; table: string | number; dev?: string }): string {
  return `${r.type}|${r.family}|${r.dst}|${r.table}|${r.dev ?? ''}`;
}

interface JsonRoute {
  type?: string;
  dst: string;
  dev?: string;
  table?: string;
}

/** The routes a namespace really has, keyed like the model's (canonical `/len` destinations). */
function realRouteKeys(ns: Netns): Set<string> {
  const keys = new Set<string>();
  for (const fam of [4, 6] as const) {
    const list = JSON.parse(ns.exec(['ip', `-${fam}`, '-j', 'route', 'show', 'table', 'all'])) as JsonRoute[];
    for (const r of list) {
      let dst = r.dst === 'default' ? (fam === 4 ? '0.0.0.0/0' : '::/0') : r.dst;
      if (!dst.includes('/')) dst += fam === 4 ? '/32' : '/128';
      const table = r.table === undefined || r.table === 'main' ? 'main' : r.table === 'local' ? 'local' : Number(r.table);
      keys.add(routeKey({ type: r.type ?? 'unicast', family: fam, dst, table, dev: r.dev }));
    }
  }
  return keys;
}

function routeAddArgs(r: Route): string {
  const a: string[] = ['route', 'add'];
  if (r.type !== 'unicast') a.push(r.type);
  a.push(r.dst);
  if (r.gateway) a.push('via', r.gateway);
  if (r.dev) a.push('dev', r.dev);
  if (r.table !== 'main') a.push('table', String(r.table));
  a.push('proto', r.protocol);
  a.push('scope', r.scope);
  if (r.prefsrc) a.push('src', r.prefsrc);
  if (r.metric !== undefined) a.push('metric', String(r.metric));
  for (const f of r.flags) a.push(f);
  if (r.mtu !== undefined) a.push('mtu', String(r.mtu));
  return a.join(' ');
}

/** `ip link set` for the model's link-layer attributes, then up (as the flags say). */
function linkAttrs(i: NetInterface): string[] {
  // (a WireGuard device has no link-layer address; its veth stand-in keeps the kernel's random one)
  const out = [`link set dev ${i.name}${i.mac ? ` address ${i.mac}` : ''} mtu ${i.mtu} txqueuelen ${i.txqlen ?? 0}`];
  if (i.flags.includes('NOARP')) out.push(`link set dev ${i.name} arp off`);
  return out;
}

function addrLines(i: NetInterface): string[] {
  if (i.kind === 'loopback') return []; // lo gets 127.0.0.1/8 and ::1 by itself when up
  return i.addresses
    .filter((a) => !(a.family === 6 && a.scope === 'link')) // the kernel derives fe80:: from the MAC (EUI-64)
    .map((a) => `address add ${a.local}/${a.prefixlen}${a.broadcast ? ` broadcast ${a.broadcast}` : ''} scope ${a.scope} dev ${i.name}`);
}

/** Routes the model lists that the kernel did not create from addresses: scope-link ones first, gateways after. */
function addMissingRoutes(ns: Netns, routes: Route[]): void {
  const have = realRouteKeys(ns);
  const missing = routes.filter((r) => !have.has(routeKey(r)));
  missing.sort((a, b) => Number(Boolean(a.gateway)) - Number(Boolean(b.gateway)));
  ns.ipBatch(missing.map(routeAddArgs));
}

/** Namespace-wide settings before devices exist: no DAD (addresses are not `tentative` while we look). */
export function prepareNamespace(ns: Netns): void {
  writeSysctls(ns, { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' });
  ns.ipBatch(['link set dev lo up']);
}

/**
 * Realises `node` and the pods wired to it. `tag` keeps the namespace names
 * of parallel builds apart (`nlconf-<pid>-<tag>-n`, `-lan`, `-p0`…).
 */
export interface BuildOptions {
  /**
   * This kernel has no WireGuard module: build a `wireguard` device as a veth
   * of the same name (its peer in the lan namespace), enough for the routes
   * and rules that name it — not for `ip link` output or for traffic.
   */
  wireguardStandIn?: boolean;
}

export function buildNode(tag: string, node: NodeDataplane, pods: PodDataplane[], opts: BuildOptions = {}): BuiltNode {
  const bad = unsupportedKinds(node).filter((k) => !(k === 'wireguard' && opts.wireguardStandIn));
  if (bad.length) throw new Error(`cannot build ${node.id}: device kinds ${bad.join(', ')} are not available here`);
  const n = Netns.create(`${tag}-n`);
  const lan = Netns.create(`${tag}-lan`);
  const built: BuiltNode = { node: n, lan, pods: new Map(), netnsNames: new Map() };
  const podByPeer = new Map(pods.map((p) => [p.hostPeer, p]));
  prepareNamespace(n);
  prepareNamespace(lan);
  const nodeCmds: string[] = [];
  const later: string[] = [];
  const made = new Set<string>(['lo']);
  let podIndex = 0;
  const ifaces = [...node.interfaces].sort((a, b) => a.ifindex - b.ifindex);
  for (const i of ifaces) {
    if (i.kind === 'loopback') continue;
    if (made.has(i.name)) {
      nodeCmds.push(...linkAttrs(i));
      continue;
    }
    switch (i.kind) {
      case 'device':
        nodeCmds.push(`link add name ${i.name} index ${i.ifindex} type veth peer name up0 netns ${lan.name}`);
        break;
      case 'veth': {
        if (i.link?.kind === 'same-netns') {
          const peer = ifaces.find((x) => x.name === (i.link as { name: string }).name)!;
          nodeCmds.push(`link add name ${i.name} index ${i.ifindex} type veth peer name ${peer.name} index ${peer.ifindex}`);
          made.add(peer.name);
          break;
        }
        const pod = podByPeer.get(i.name);
        if (!pod) throw new Error(`${node.id}: veth ${i.name} has no modelled pod end`);
        const pns = Netns.create(`${tag}-p${podIndex++}`);
        prepareNamespace(pns);
        built.pods.set(pod.id, { ns: pns, model: pod });
        built.netnsNames.set(pns.name, pod.netnsPath.replace(/^.*\//, ''));
        const peer = pod.interfaces.find((x) => x.name === pod.ifname)!;
        nodeCmds.push(`link add name ${i.name} index ${i.ifindex} type veth peer name ${peer.name} index ${peer.ifindex} netns ${pns.name}`);
        break;
      }
      case 'bridge':
        nodeCmds.push(`link add name ${i.name} index ${i.ifindex} type bridge`);
        break;
      case 'wireguard':
        if (!opts.wireguardStandIn) throw new Error(`unsupported device kind ${i.kind}`);
        nodeCmds.push(`link add name ${i.name} index ${i.ifindex} type veth peer name wg${i.ifindex} netns ${lan.name}`);
        break;
      case 'vxlan': {
        const v = i.vxlan!;
        const parts = [`link add name ${i.name} index ${i.ifindex} type vxlan`];
        if (v.external) parts.push('external');
        else parts.push(`id ${v.id}`);
        if (v.local) parts.push(`local ${v.local}`);
        if (v.dev) parts.push(`dev ${v.dev}`);
        parts.push(`dstport ${v.dstport}`, v.learning ? 'learning' : 'nolearning', `ageing ${v.ageing}`);
        nodeCmds.push(parts.join(' '));
        break;
      }
      default:
        throw new Error(`unsupported device kind ${i.kind}`);
    }
    made.add(i.name);
    nodeCmds.push(...linkAttrs(i));
  }
  n.ipBatch(nodeCmds);
  // Far ends first (the lan side of eth0, the pods' eth0), so each node-side
  // device gets its carrier the moment it goes up, in ifindex order, as on a
  // booted node (the order of the kernel's fe80::/64 routes follows it).
  lan.ipBatch(['link set dev up0 up', ...ifaces.filter((i) => i.kind === 'wireguard').map((i) => `link set dev wg${i.ifindex} up`)]);
  for (const { ns, model } of built.pods.values()) {
    const cmds: string[] = [];
    for (const i of [...model.interfaces].sort((a, b) => a.ifindex - b.ifindex)) {
      if (i.kind === 'loopback') continue;
      if (i.kind !== 'veth') throw new Error(`${model.id}: pod device kind ${i.kind} not supported`);
      cmds.push(...linkAttrs(i), `link set dev ${i.name} up`);
    }
    ns.ipBatch(cmds);
  }
  const up: string[] = [];
  for (const i of ifaces) if (i.master) up.push(`link set dev ${i.name} master ${i.master}`);
  for (const i of ifaces) if (i.kind !== 'loopback' && i.flags.includes('UP')) up.push(`link set dev ${i.name} up`);
  // A bridge takes the lowest port MTU when ports join; the model's MTU is set again after enslaving.
  for (const i of ifaces) if (i.kind === 'bridge') up.push(`link set dev ${i.name} mtu ${i.mtu}`);
  n.ipBatch(up);
  for (const i of ifaces) if (i.bridgeSlave?.hairpin) n.exec(['bridge', 'link', 'set', 'dev', i.name, 'hairpin', 'on']);

  // Addresses (after the links are up, so prefix routes are not `linkdown`), then routes.
  n.ipBatch(ifaces.flatMap(addrLines));
  for (const { ns, model } of built.pods.values()) ns.ipBatch(model.interfaces.flatMap(addrLines));
  writeSysctls(n, node.sysctls);
  addMissingRoutes(n, node.routes);
  // Policy routing rules (Calico WireGuard's 99, Cilium's 9 and local rule at 100).
  loadRules(n, node);
  for (const { ns, model } of built.pods.values()) {
    writeSysctls(ns, model.sysctls);
    addMissingRoutes(ns, model.routes);
  }
  // Static neighbours and FDB entries (flanneld / felix program these).
  later.push(...node.neighbours.map((x) => `neigh replace ${x.ip} dev ${x.dev}${x.lladdr ? ` lladdr ${x.lladdr}` : ''} nud ${x.state.toLowerCase()}`));
  n.ipBatch(later);
  for (const e of node.fdb) {
    if (e.self && e.dst) {
      n.exec(['bridge', 'fdb', 'append', e.mac, 'dev', e.dev, 'dst', e.dst, 'self', ...(e.state ? [e.state] : [])]);
    } else if (e.master && !e.state) {
      // A MAC the bridge learned from traffic (dynamic): add it the way learning would leave it.
      n.exec(['bridge', 'fdb', 'replace', e.mac, 'dev', e.dev, 'master', 'dynamic']);
    }
    // `master … permanent` entries are the bridge's and its ports' own MACs: the kernel makes them.
  }
  return built;
}
