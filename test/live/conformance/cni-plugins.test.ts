// Conformance of the CNI results and pod wiring the model claims with the
// REAL containernetworking plugins (/usr/lib/cni), called live:
//
// - `bridge` + `host-local`, configured as flannel's CNI plugin delegates
//   to it (kube-flannel's conflist: bridge cni0, isGateway,
//   isDefaultGateway, hairpinMode, ipMasq off, mtu = FLANNEL_MTU, ranges =
//   the node's pod CIDR, routes = the cluster CIDR), for seed.yaml's pod-a
//   under the flannel-vxlan model: the plugin's stdout must equal the model's
//   `cni-result` rendering field by field and byte by byte once MACs, the
//   random veth name and the netns path are masked; the pod's and the
//   node's routes and addresses must equal the model's renderings;
// - `ptp` + `host-local` (the test-bed's routed pods), cniVersion 0.3.1 and
//   1.0.0: its stdout must equal ptpPluginResult for the same pod, and the
//   pod's and host's wiring must equal ptpPod / ptpHostSide.
//
// The pod's address comes from host-local through CNI_ARGS IP=… (the
// model's address for the pod). Each plugin runs inside an nlconf-
// namespace that plays the node (the bridge plugin creates cni0 where it
// runs); host-local keeps its state in a temporary dataDir removed afterwards.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataplane, cniModelFor, ptpHostSide, ptpPluginResult, ptpPod, printCniResult, type NetNamespace } from '../../../core/cni';
import { NamespaceBuilder, addLoopback } from '../../../core/cni/common';
import { render, renderIpAddr, renderIpRoute, renderIpRouteJson } from '../../../core/render';
import { prepareNamespace } from './build-netns';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, sweepLeftovers } from './harness';

const CNI_DIR = '/usr/lib/cni';
const MAC = /\b(?!ff:ff:ff:ff:ff:ff\b)(?!00:00:00:00:00:00\b)([0-9a-f]{2}:){5}[0-9a-f]{2}\b/g;

/** MACs, the EUI-64 link-local addresses derived from them, `@ifN` peers, link-netnsid, veth names. */
function mask(text: string, extra: [RegExp, string][] = []): string {
  let s = text
    .replace(MAC, '<mac>')
    .replace(/fe80::[0-9a-f:]+(?=\/64| dev|\b)/g, '<fe80>')
    .replace(/@if\d+/g, '@if<n>')
    .replace(/link-netns(id)? \S+/g, 'link-netns <ns>');
  for (const [re, to] of extra) s = s.replace(re, to);
  return s;
}

function callPlugin(node: Netns, plugin: string, conf: object, env: Record<string, string>): string {
  const r = node.execFull(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), join(CNI_DIR, plugin)], { input: JSON.stringify(conf) });
  if (r.status !== 0) throw new Error(`${plugin} ADD failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

liveDescribe('conformance: real CNI plugins (bridge, ptp with host-local) vs the model', ['ip', 'bridge', `${CNI_DIR}/bridge`, `${CNI_DIR}/ptp`, `${CNI_DIR}/host-local`], () => {
  let dataDir = '';
  beforeAll(() => {
    sweepLeftovers();
    dataDir = mkdtempSync(join(tmpdir(), `nlconf-${process.pid}-ipam-`));
  });
  afterAll(() => {
    destroyAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('bridge + host-local as flannel delegates to it (flannel-vxlan, seed.yaml pod-a)', () => {
    const t = loadRepoTopology('resources/samples/seed.yaml', ['cni=flannel-vxlan']);
    const pod = t.pods.find((p) => p.name === 'pod-a')!;
    const dp = buildDataplane(t);
    const modelPod = dp.pod('default', 'pod-a');
    const modelNode = dp.node('node-1');
    let node: Netns;
    let podNs: Netns;
    let result = '';

    beforeAll(() => {
      node = Netns.create('cni-br-n');
      podNs = Netns.create('cni-br-p');
      prepareNamespace(node);
      prepareNamespace(podNs);
      const subnet = t.nodes.find((n) => n.name === 'node-1')!.podCIDRs.find((c) => !c.includes(':'))!;
      const conf = {
        cniVersion: '0.3.1',
        name: 'cbr0',
        type: 'bridge',
        bridge: 'cni0',
        mtu: cniModelFor(t).podMtu(t),
        ipMasq: false,
        isGateway: true,
        isDefaultGateway: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: t.settings.clusterCIDRs[0] }], dataDir: join(dataDir, 'bridge') },
      };
      result = callPlugin(node, 'bridge', conf, {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: modelPod.containerId,
        CNI_NETNS: `/var/run/netns/${podNs.name}`,
        CNI_IFNAME: 'eth0',
        CNI_PATH: CNI_DIR,
        CNI_ARGS: `IgnoreUnknown=1;IP=${pod.ips[0]}`,
      });
    });

    it("the plugin's result equals the model's cni-result (MACs, veth name and netns path masked)", () => {
      const model = render('cni-result', t, { pod: 'default/pod-a' }).replace(/\n$/, '');
      const hostVeth = (JSON.parse(result) as { interfaces: { name: string }[] }).interfaces[1].name;
      const m = (s: string, veth: string, sandbox: string) => mask(s, [[new RegExp(`"${veth}"`, 'g'), '"<veth>"'], [new RegExp(`"${sandbox}"`, 'g'), '"<netns>"']]);
      expect(m(result, hostVeth, `/var/run/netns/${podNs.name}`)).toBe(m(model, modelPod.hostPeer, modelPod.netnsPath));
    });

    it("the pod's routes and addresses equal the model's pod namespace", () => {
      expect(podNs.exec(['ip', 'route', 'show'])).toBe(render('ip-route', t, { pod: 'default/pod-a' }));
      expect(podNs.exec(['ip', '-j', 'route', 'show'])).toBe(render('ip-route-json', t, { pod: 'default/pod-a' }));
      expect(podNs.exec(['ip', '-6', 'route', 'show'])).toBe(render('ip-route', t, { pod: 'default/pod-a', family: '6' }));
      expect(mask(podNs.exec(['ip', 'addr', 'show']))).toBe(mask(render('ip-addr', t, { pod: 'default/pod-a' })));
    });

    it("the node's cni0 bridge, its address and its connected route equal the model's", () => {
      const cniRoute = (s: string) => s.split('\n').filter((l) => / dev cni0 /.test(l)).join('\n');
      expect(cniRoute(node.exec(['ip', 'route', 'show']))).toBe(cniRoute(render('ip-route', t, { node: 'node-1' })));
      const block = (s: string, dev: string) => {
        const m = new RegExp(`^\\d+: ${dev}[:@][\\s\\S]*?(?=^\\d+: |$(?![\\s\\S]))`, 'm').exec(s);
        return mask((m?.[0] ?? '').replace(/^\d+: /, '<i>: '));
      };
      expect(block(node.exec(['ip', 'addr', 'show']), 'cni0')).toBe(block(render('ip-addr', t, { node: 'node-1' }), 'cni0'));
      expect(modelNode.interfaces.some((i) => i.name === 'cni0')).toBe(true);
      // The host end of the pod's veth: a cni0 port with hairpin on (bridge link shows it).
      const hostVeth = (JSON.parse(result) as { interfaces: { name: string }[] }).interfaces[1].name;
      expect(block(node.exec(['ip', 'addr', 'show']), hostVeth).replace(new RegExp(hostVeth, 'g'), '<veth>')).toBe(block(render('ip-addr', t, { node: 'node-1' }), modelPod.hostPeer).replace(new RegExp(modelPod.hostPeer, 'g'), '<veth>'));
      expect(node.exec(['bridge', '-d', 'link', 'show', 'dev', hostVeth])).toMatch(/hairpin on/);
      expect(modelNode.interfaces.find((i) => i.name === modelPod.hostPeer)?.bridgeSlave?.hairpin).toBe(true);
    });
  });

  for (const cniVersion of ['0.3.1', '1.0.0']) {
    describe(`ptp + host-local, cniVersion ${cniVersion} (seed.yaml pod-a)`, () => {
      const t = loadRepoTopology('resources/samples/seed.yaml');
      const pod = t.pods.find((p) => p.name === 'pod-a')!;
      const subnet = '10.244.1.0/24';
      const address = `${pod.ips[0]}/24`;
      const gateway = '10.244.1.1';
      let node: Netns;
      let podNs: Netns;
      let result: { interfaces: { name: string; mac: string; sandbox?: string }[] };
      let printed = '';
      let hostIfindex = 0;
      let spec: Parameters<typeof ptpPod>[0];

      beforeAll(() => {
        const tag = cniVersion.replace(/\./g, '');
        node = Netns.create(`cni-ptp${tag}-n`);
        podNs = Netns.create(`cni-ptp${tag}-p`);
        prepareNamespace(node);
        prepareNamespace(podNs);
        const conf = { cniVersion, name: 'k8s-pod-network', type: 'ptp', mtu: 1500, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dataDir, `ptp-${tag}`) } };
        printed = callPlugin(node, 'ptp', conf, {
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: `nlconf${tag}`,
          CNI_NETNS: `/var/run/netns/${podNs.name}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: CNI_DIR,
          CNI_ARGS: `IgnoreUnknown=1;IP=${pod.ips[0]}`,
        });
        result = JSON.parse(printed);
        const hostVeth = result.interfaces[0].name;
        hostIfindex = (JSON.parse(node.exec(['ip', '-j', 'link', 'show', 'dev', hostVeth])) as { ifindex: number }[])[0].ifindex;
        spec = { topology: t, pod, address, gateway, ipamRoutes: ['0.0.0.0/0'], mtu: 1500, hostVeth, hostIfindex };
      });

      it("the plugin's stdout is ptpPluginResult byte for byte (fed the real MACs, veth name and netns path)", () => {
        const [host, cont] = result.interfaces;
        const model = ptpPluginResult({
          cniVersion,
          hostVeth: { name: host.name, mac: host.mac },
          container: { ifname: 'eth0', mac: cont.mac, sandbox: cont.sandbox! },
          address,
          gateway,
          ipamRoutes: [{ dst: '0.0.0.0/0' }],
        });
        expect(printed).toBe(printCniResult(model));
      });

      it("the pod's routes and addresses equal ptpPod", () => {
        const modelNs: NetNamespace = ptpPod(spec);
        expect(podNs.exec(['ip', 'route', 'show'])).toBe(renderIpRoute(modelNs));
        expect(podNs.exec(['ip', '-j', 'route', 'show'])).toBe(renderIpRouteJson(modelNs));
        expect(podNs.exec(['ip', 'route', 'show', 'table', 'local'])).toBe(renderIpRoute(modelNs, { table: 'local' }));
        expect(mask(podNs.exec(['ip', 'addr', 'show']))).toBe(mask(renderIpAddr(modelNs)));
      });

      it("the host end (gateway /32 on the veth, scope-host route to the pod) equals ptpHostSide", () => {
        // The node namespace as the model would hold it: lo + ptp's host side (the builder adds the kernel's fe80::/64 and local routes).
        const host = ptpHostSide(spec);
        const b = new NamespaceBuilder('node/ptp');
        addLoopback(b);
        const { flags: _f, qdisc: _q, operstate: _o, ...iface } = host.interface;
        b.addInterface(iface);
        for (const r of host.routes) b.addRoute({ type: r.type, dst: r.dst, dev: r.dev, protocol: r.protocol, scope: r.scope, origin: r.origin });
        const modelNs = b.finish();
        expect(node.exec(['ip', 'route', 'show'])).toBe(renderIpRoute(modelNs));
        expect(node.exec(['ip', 'route', 'show', 'table', 'local'])).toBe(renderIpRoute(modelNs, { table: 'local' }));
        expect(mask(node.exec(['ip', '-6', 'route', 'show']))).toBe(mask(renderIpRoute(modelNs, { family: 6 })));
        expect(mask(node.exec(['ip', 'addr', 'show']))).toBe(mask(renderIpAddr(modelNs)));
      });
    });
  }
});
