// Conformance of the CNI models' node and pod data planes (core/cni) and the
// iproute2 / bridge renderers (core/render) with the REAL kernel and tools.
//
// For every CNI model this kernel can host (veth, bridge and vxlan devices:
// Calico BGP, VXLAN and VXLAN CrossSubnet, Flannel VXLAN and host-gw, Cilium
// native and VXLAN, Weave sleeve; the others need IPIP, Geneve or Open
// vSwitch, which this kernel lacks, and are listed as skipped), seed.yaml's
// node-1 and its three pods are built in fresh namespaces from the model's
// data (build-netns.ts: the model's device names, ifindexes, MACs, MTUs, queue
// lengths, addresses, routes, vxlan id/port/local, neighbours, FDB entries,
// sysctls; the kernel refusing any of it fails the suite), then the real
// `ip route`, `ip -6 route`, `ip route show table local|all`, `ip -j route`,
// `ip route get`, `ip addr`, `ip -j addr`, `ip link`, `ip neigh` and
// `bridge fdb` must print what the model's renderers print.
//
// Normalised, each for a stated reason:
// - the modelled physical NIC (eth0) is a veth to a "lan" namespace here:
//   its `@ifN`, `link-netns`, link_index/link_netnsid and qdisc (fq_codel is
//   not in this kernel) are the test bed's, not the model's;
// - `link-netns NAME`: our namespaces carry nlconf- names; they are mapped to
//   the names the model uses (containerd's cni-<uuid>), and in a pod the
//   host namespace (unnamed on a real node) to `link-netnsid N`;
// - `link-netnsid` numbers (allocated by the kernel in first-use order);
// - the order of the kernel's automatic IPv6 fe80::/64 and ff00::/8 routes
//   among themselves (set by when each link's carrier came up, via linkwatch);
// - the order of `ip neigh` (hash order, random seed per boot) and of a vxlan
//   device's FDB entries (hash order);
// - `bridge fdb`'s per-device multicast `self permanent` entries (33:33:…,
//   01:00:5e:…), which the model does not claim to list.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataplane, getCniModel, listCniModels, type NetNamespace, type NodeDataplane, type PodDataplane } from '../../../core/cni';
import type { CniPlugin, Topology } from '../../../core/model/types';
import { render } from '../../../core/render';
import { buildNode, unsupportedKinds, type BuiltNode } from './build-netns';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, readSysctls, sweepLeftovers } from './harness';

/** Every CNI model, with the device kinds its node-1 needs that this kernel / builder lacks (ipip, geneve, Open vSwitch). */
const MODELS = listCniModels().map((m) => {
  const name = `${m.plugin}-${m.mode}`;
  const t = loadRepoTopology('resources/samples/seed.yaml', [`cni=${name}`]);
  return { name, missing: unsupportedKinds(buildDataplane(t).node('node-1')) };
});

interface View {
  ns: Netns;
  model: NetNamespace;
  /** `--node X` or `--pod NS/NAME` for the renderers. */
  where: Record<string, string>;
  /** real namespace name → what to print instead (`link-netns NAME` or `link-netnsid N`). */
  netns: Map<string, string>;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function deviceNames(model: NetNamespace): string[] {
  return model.interfaces.filter((i) => i.kind === 'device').map((i) => i.name);
}

/** Text output of ip addr / ip link with the test-bed artifacts replaced by the model's. */
function normLinks(text: string, v: View): string {
  let out = text;
  for (const [real, shown] of v.netns) out = out.replace(new RegExp(`link-netns ${escapeRe(real)}(?=\\s|$)`, 'gm'), shown);
  out = out.replace(/link-netnsid \d+/g, 'link-netnsid 0');
  for (const dev of deviceNames(v.model)) {
    const i = v.model.interfaces.find((x) => x.name === dev)!;
    out = out.replace(new RegExp(`^(\\d+: ${escapeRe(dev)})@if\\d+: (.*?) qdisc \\S+ `, 'gm'), `$1: $2 qdisc ${i.qdisc} `);
    out = out.replace(new RegExp(`^(\\d+: ${escapeRe(dev)}: [^\\n]*\\n    link/ether [^\\n]*?) link-netns(id)? \\S+$`, 'gm'), '$1');
  }
  return out;
}

function normLinksJson(text: string, v: View): string {
  const list = JSON.parse(text) as Record<string, unknown>[];
  const devs = deviceNames(v.model);
  for (const o of list) {
    if ('link_netnsid' in o) o.link_netnsid = 0;
    if (devs.includes(o.ifname as string)) {
      delete o.link_index;
      delete o.link_netnsid;
      o.qdisc = v.model.interfaces.find((i) => i.name === o.ifname)!.qdisc;
    }
  }
  return JSON.stringify(list);
}

const AUTO_V6 = /^(fe80::\/64 |multicast ff00::\/8 )/;

/** Sorts each run of consecutive automatic IPv6 link-local / multicast routes. */
function normRoutes(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (!AUTO_V6.test(lines[i])) {
      out.push(lines[i++]);
      continue;
    }
    const kind = AUTO_V6.exec(lines[i])![1];
    const run: string[] = [];
    while (i < lines.length && lines[i].startsWith(kind)) run.push(lines[i++]);
    out.push(...run.sort());
  }
  return out.join('\n');
}

const sortLines = (text: string): string => text.split('\n').filter(Boolean).sort().join('\n');

function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** bridge fdb: drop the multicast address-list entries; sort each vxlan device's (hash-ordered) entries. */
function normFdb(text: string, v: View): string {
  const modelled = new Set(v.model.fdb.map((e) => `${e.mac} ${e.dev}`));
  const vxlans = new Set(v.model.interfaces.filter((i) => i.kind === 'vxlan').map((i) => i.name));
  const lines = text.split('\n').filter((l) => {
    if (!l) return false;
    const [mac, , dev] = l.split(' ');
    return !(isMulticastMac(mac) && / self permanent$/.test(l) && !modelled.has(`${mac} ${dev}`));
  });
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const dev = lines[i].split(' ')[2];
    if (!vxlans.has(dev)) {
      out.push(lines[i++]);
      continue;
    }
    const run: string[] = [];
    while (i < lines.length && lines[i].split(' ')[2] === dev) run.push(lines[i++]);
    out.push(...run.sort());
  }
  return out.join('\n');
}

/** `ip route get` for each address, in one shell inside the namespace: stdout, or stderr when the kernel refuses (blackhole…). */
function routeGets(ns: Netns, dsts: string[]): string[] {
  const script = 'for d in "$@"; do ip route get "$d" 2>&1; echo "#END"; done';
  const out = ns.exec(['sh', '-c', script, 'sh', ...dsts]);
  return out.split('#END\n').slice(0, dsts.length);
}

/** Addresses worth asking `ip route get` about: every route's first address, the pods, node IPs, an outside address. */
function probeAddresses(t: Topology, model: NetNamespace): string[] {
  const out = new Set<string>(['8.8.8.8']);
  for (const n of t.nodes) for (const ip of n.ips) if (!ip.includes(':')) out.add(ip);
  for (const p of t.pods) for (const ip of p.ips) if (!ip.includes(':')) out.add(ip);
  for (const r of model.routes) {
    if (r.family !== 4 || r.table !== 'main' || r.dst === '0.0.0.0/0') continue;
    const [base, len] = r.dst.split('/');
    const parts = base.split('.').map(Number);
    if (Number(len) <= 30) parts[3] += 3; // an address inside the prefix that no /32 covers
    out.add(parts.join('.'));
  }
  return [...out];
}

liveDescribe('conformance: CNI data planes built in real namespaces vs the iproute2 / bridge renderers', ['ip', 'bridge', 'sh'], () => {
  beforeAll(() => {
    sweepLeftovers();
  });
  afterAll(() => destroyAll());

  for (const { name: cni, missing } of MODELS.filter((m) => m.missing.length > 0)) {
    // Not built here: this kernel has no IPIP, Geneve or Open vSwitch. What we
    // can check is that the model says so, as the UI shows it.
    it(`${cni}: its node needs ${missing.join(', ')} devices, so the model marks it as not shown by the local test-bed`, () => {
      const [plugin, ...mode] = cni.split('-');
      const d = getCniModel(plugin as CniPlugin, mode.join('-')).describe();
      expect(d.testbedSupported).toBe(false);
      expect(d.testbedNote ?? '').toMatch(/modelled only/);
    });
  }

  for (const { name: cni } of MODELS.filter((m) => m.missing.length === 0)) {
    describe(cni, () => {
      const t = loadRepoTopology('resources/samples/seed.yaml', [`cni=${cni}`]);
      const dp = buildDataplane(t);
      const node: NodeDataplane = dp.node('node-1');
      const pods: PodDataplane[] = [...dp.pods.values()].filter((p) => p.node === 'node-1');
      let built: BuiltNode | undefined;
      const views: View[] = [];

      beforeAll(() => {
        expect(unsupportedKinds(node)).toEqual([]);
        built = buildNode(cni.replace(/[^a-z0-9]/g, ''), node, pods);
        views.push({ ns: built.node, model: node, where: { node: 'node-1' }, netns: new Map([...built.netnsNames].map(([real, model]) => [real, `link-netns ${model}`])) });
        for (const { ns, model } of built.pods.values()) {
          // In a pod, the host namespace is unnamed on a real node: iproute2 prints its nsid.
          const ids = ns.exec(['ip', 'netns', 'list-id']);
          const nsid = new RegExp(`nsid (\\d+) \\(iproute2 netns name: ${escapeRe(built.node.name)}\\)`).exec(ids)?.[1] ?? '0';
          views.push({ ns, model, where: { pod: `${model.namespace}/${model.pod}` }, netns: new Map([[built.node.name, `link-netnsid ${nsid}`]]) });
        }
      });
      afterAll(() => {
        if (!built) return;
        for (const { ns } of built.pods.values()) ns.destroy();
        built.node.destroy();
        built.lan.destroy();
      });

      const each = (fn: (v: View) => void) => () => {
        expect(views.length).toBe(1 + pods.length);
        for (const v of views) fn(v);
      };
      const label = (v: View) => v.where.node ?? v.where.pod;

      it(
        'ip route show (IPv4 main), ip -6 route show, ip route show table local / table all',
        each((v) => {
          const r = (argv: string[]) => normRoutes(v.ns.exec(argv));
          const m = (o: Record<string, string>) => normRoutes(render('ip-route', t, { ...v.where, ...o }));
          expect(r(['ip', 'route', 'show']), `${label(v)} ip route`).toBe(m({}));
          expect(r(['ip', '-6', 'route', 'show']), `${label(v)} ip -6 route`).toBe(m({ family: '6' }));
          expect(r(['ip', 'route', 'show', 'table', 'local']), `${label(v)} ip route show table local`).toBe(m({ table: 'local' }));
          expect(r(['ip', 'route', 'show', 'table', 'all']), `${label(v)} ip route show table all`).toBe(m({ table: 'all' }));
        }),
      );

      it(
        'ip -j route show',
        each((v) => {
          expect(v.ns.exec(['ip', '-j', 'route', 'show']), label(v)).toBe(render('ip-route-json', t, v.where));
        }),
      );

      it(
        'ip route get for pods, nodes, every routed prefix and an outside address',
        each((v) => {
          const dsts = probeAddresses(t, v.model);
          const real = routeGets(v.ns, dsts);
          dsts.forEach((dst, i) => expect(real[i], `${label(v)} ip route get ${dst}`).toBe(render('ip-route-get', t, { ...v.where, dst })));
        }),
      );

      it(
        'ip addr show and ip -j addr show',
        each((v) => {
          expect(normLinks(v.ns.exec(['ip', 'addr', 'show']), v), `${label(v)} ip addr`).toBe(normLinks(render('ip-addr', t, v.where), v));
          expect(normLinksJson(v.ns.exec(['ip', '-j', 'addr', 'show']), v), `${label(v)} ip -j addr`).toBe(normLinksJson(render('ip-addr-json', t, v.where), v));
        }),
      );

      it(
        'ip link show',
        each((v) => {
          expect(normLinks(v.ns.exec(['ip', 'link', 'show']), v), label(v)).toBe(normLinks(render('ip-link', t, v.where), v));
        }),
      );

      it(
        'ip neigh show and bridge fdb show',
        each((v) => {
          expect(sortLines(v.ns.exec(['ip', 'neigh', 'show'])), `${label(v)} ip neigh`).toBe(sortLines(render('ip-neigh', t, v.where)));
          expect(normFdb(v.ns.exec(['bridge', 'fdb', 'show']), v), `${label(v)} bridge fdb`).toBe(normFdb(render('bridge-fdb', t, v.where), v));
        }),
      );

      it('the kernel holds the modelled sysctls', () => {
        const keys = Object.keys(node.sysctls);
        const values = readSysctls(built!.node, keys);
        expect(Object.fromEntries(keys.map((k, i) => [k, values[i]]))).toEqual(node.sysctls);
      });
    });
  }
});
