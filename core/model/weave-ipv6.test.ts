// Weave Net on a dual-stack cluster CIDR. Weave's IPAM hands out IPv4 only
// (no IPv6 in IPAM, sleeve or fastdp), so a real Weave cluster with a
// dual-stack clusterCIDR runs IPv4-only pods. The loader builds it that way
// and says so once, at the cluster CIDR (as single-stack Services on a
// dual-stack cluster are loaded with a warning), and drops an IPv6 pod
// address the input fixes, naming the field. Other CNIs keep dual-stack pods.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Diagnostic } from '.';
import { nodeReservedAddresses } from '../ipam';

const DUAL = { file: 'dual-stack.yaml', text: readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8') };
const v6 = (ips: string[]) => ips.filter((ip) => ip.includes(':'));
const where = (ds: Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.file, d.line, d.column, d.path]);

describe('Weave on a dual-stack cluster CIDR', () => {
  for (const cni of ['weave', 'weave-sleeve']) {
    it(`${cni}: loads with IPv4-only pods and one cni-ipv4-only warning at cluster.clusterCIDR`, () => {
      const r = loadTopology(DUAL, { set: [`cni=${cni}`] });
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const w = r.diagnostics.filter((d) => d.code === 'cni-ipv4-only');
      expect(where(w)).toEqual([['warning', 'cni-ipv4-only', 'dual-stack.yaml', 10, 16, 'cluster.clusterCIDR']]);
      expect(w[0].message).toContain('Weave Net is IPv4-only');
      expect(w[0].message).toContain('fd00:10:244::/56');
      expect(w[0].hint).toMatch(/calico, flannel or cilium/);
      const t = r.topology!;
      const podNet = t.pods.filter((p) => !p.hostNetwork);
      expect(podNet.length).toBeGreaterThan(0);
      for (const p of podNet) {
        expect(v6(p.ips), `${p.namespace}/${p.name}`).toEqual([]);
        expect(p.ips).toHaveLength(1);
      }
      // the IPv6 Services exist (the API server allocates them) but no pod is behind them
      const webV6 = t.endpointSlices.filter((s) => s.serviceName === 'web-v6');
      expect(webV6.flatMap((s) => s.endpoints)).toEqual([]);
      // kube-controller-manager still gives the nodes an IPv6 pod CIDR; the weave bridge takes no address from it
      const n1 = t.nodes.find((n) => n.name === 'node-1')!;
      expect(v6(n1.podCIDRs)).toEqual(['fd00:10:244:1::/64']);
      expect(nodeReservedAddresses(t.settings, n1)).toEqual([{ role: 'gateway', device: 'weave', ip: '10.244.1.1', family: 4 }]);
    });
  }

  it('an IPv6 pod address fixed in the input is dropped with a warning naming status.podIPs[1].ip', () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: { name: fixed, namespace: default }
spec:
  nodeName: node-1
  containers: [{ name: c, image: x }]
status:
  podIP: 10.244.1.50
  podIPs: [{ ip: 10.244.1.50 }, { ip: "fd00:10:244:1::50" }]
`;
    const r = loadTopology([DUAL, { file: 'fixed.yaml', text: pod }], { set: ['cni=weave'] });
    const w = r.diagnostics.filter((d) => d.code === 'cni-ipv4-only' && d.file === 'fixed.yaml');
    expect(where(w)).toEqual([['warning', 'cni-ipv4-only', 'fixed.yaml', 9, 39, 'status.podIPs[1].ip']]);
    expect(w[0].message).toBe('pod default/fixed: weave cannot give it the IPv6 address fd00:10:244:1::50 (Weave Net is IPv4-only); the address is left out');
    expect(r.topology!.pods.find((p) => p.name === 'fixed')!.ips).toEqual(['10.244.1.50']);
  });

  it('hostNetwork pods keep their node\'s IPv6 address (the node has it; Weave does not hand it out)', () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: { name: agent, namespace: kube-system }
spec: { nodeName: node-2, hostNetwork: true, containers: [{ name: c, image: x }] }
`;
    const r = loadTopology([DUAL, { file: 'agent.yaml', text: pod }], { set: ['cni=weave'] });
    expect(r.topology!.pods.find((p) => p.name === 'agent')!.ips).toEqual(['10.0.1.6', 'fd00:10::1:6']);
  });

  it.each(['calico-vxlan', 'flannel-vxlan', 'cilium-vxlan', 'antrea-geneve'])('%s keeps dual-stack pods and says nothing about it', (cni) => {
    const r = loadTopology(DUAL, { set: [`cni=${cni}`] });
    expect(r.diagnostics.filter((d) => d.code === 'cni-ipv4-only')).toEqual([]);
    for (const p of r.topology!.pods.filter((x) => !x.hostNetwork)) expect(v6(p.ips), p.name).toHaveLength(1);
  });

  it('an IPv4-only Weave cluster gets no warning', () => {
    const seed = { file: 'seed.yaml', text: readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8') };
    expect(loadTopology(seed, { set: ['cni=weave'] }).diagnostics.filter((d) => d.code === 'cni-ipv4-only')).toEqual([]);
  });
});
