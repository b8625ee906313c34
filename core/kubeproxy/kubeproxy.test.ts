// Modelled on kube-proxy's pkg/proxy/iptables/proxier_test.go: expected rules
// reconstructed from the rule layout (shared reference), not copied.
import { describe, expect, it } from 'vitest';
import {
  type EvalContext,
  type Packet,
  enumerateOutcomes,
  parseIptablesSave,
  renderIpvsadm,
  renderIptablesSave,
  walkIncoming,
  walkLocalOut,
  type Ruleset,
} from '../dataplane';
import {
  computeProbability,
  endpointChain,
  hash16,
  kubeProxyIptables,
  nodeIptablesRuleset,
  kubeProxyIpvs,
  ciliumServiceMap,
  renderCiliumServiceList,
  serviceLookup,
  serviceChains,
} from './index';
import { TopologyBuilder, seedTopology } from './testing';
import * as dataplane from '../dataplane';

const DATE = new Date(Date.UTC(2024, 10, 4, 10, 30, 1));
const H = 'XPGD46QRK7WJZT7O'; // ns1/svc1:p80 + tcp
const SEP = 'KUBE-SEP-SXIVWICOYRO3J4NJ'; // … + 10.180.0.1:80

/** kube-proxy's test cluster: node-1 at 192.168.0.2, pod CIDR 10.0.0.0/8. */
function cluster() {
  return new TopologyBuilder({ clusterCIDRs: ['10.0.0.0/8'] }).node('node-1', '192.168.0.2').node('node-2', '192.168.0.3');
}

const rulesOf = (lines: string[], needle: string): string[] => lines.filter((l) => l.includes(needle));

describe('chain names and probabilities', () => {
  it('hashes service ports and endpoints like portProtoHash', () => {
    expect(hash16('ns1/svc1:p80tcp')).toBe(H);
    expect(serviceChains('ns1/svc1:p80', 'tcp')).toEqual({ svc: `KUBE-SVC-${H}`, svl: `KUBE-SVL-${H}`, ext: `KUBE-EXT-${H}`, fw: `KUBE-FW-${H}` });
    expect(endpointChain('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe(SEP);
    expect(serviceChains('ns1/svc1', 'tcp').svc).toBe('KUBE-SVC-AQI2S6QIMU7PVVRP');
    expect(serviceChains('ns1/svc1:p80', 'sctp').svc).toBe('KUBE-SVC-GFCIFIA5VTFSTMSM');
    expect(`KUBE-FW-${H}`.length).toBe(24);
  });
  it('TestComputeProbability', () => {
    expect([2, 3, 4].map(computeProbability)).toEqual(['0.5000000000', '0.3333333333', '0.2500000000']);
    expect(computeProbability(100001)).toBe('0.0000099999');
  });
});

describe('iptables mode: the seed scenario (default/backend 10.96.5.20:80)', () => {
  const topo = seedTopology();
  const sync = kubeProxyIptables(topo, 'node-1', 4);
  const save = renderIptablesSave(nodeIptablesRuleset(topo, 'node-1', 4).ruleset, { date: DATE });
  const svc = serviceChains('default/backend', 'tcp').svc;
  const sep1 = endpointChain('default/backend', 'tcp', '10.244.2.8:8080');
  const sep2 = endpointChain('default/backend', 'tcp', '10.244.3.9:8080');
  it('writes the restore lines kube-proxy writes', () => {
    expect(rulesOf(sync.natRules, 'default/backend')).toEqual([
      `-A KUBE-SERVICES -m comment --comment "default/backend cluster IP" -m tcp -p tcp -d 10.96.5.20 --dport 80 -j ${svc}`,
      `-A ${svc} -m comment --comment "default/backend cluster IP" -m tcp -p tcp -d 10.96.5.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
      `-A ${svc} -m comment --comment "default/backend -> 10.244.2.8:8080" -m statistic --mode random --probability 0.5000000000 -j ${sep1}`,
      `-A ${svc} -m comment --comment "default/backend -> 10.244.3.9:8080" -j ${sep2}`,
      `-A ${sep1} -m comment --comment default/backend -s 10.244.2.8 -j KUBE-MARK-MASQ`,
      `-A ${sep1} -m comment --comment default/backend -m tcp -p tcp -j DNAT --to-destination 10.244.2.8:8080`,
      `-A ${sep2} -m comment --comment default/backend -s 10.244.3.9 -j KUBE-MARK-MASQ`,
      `-A ${sep2} -m comment --comment default/backend -m tcp -p tcp -j DNAT --to-destination 10.244.3.9:8080`,
    ]);
    expect(sync.natRules.slice(0, 4)).toEqual([
      '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000',
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000',
    ]);
    expect(sync.natRules.at(-1)).toBe('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  });
  it('shows them in iptables-save spelling on the node', () => {
    const lines = save.split('\n');
    expect(lines).toContain(`-A KUBE-SERVICES -d 10.96.5.20/32 -p tcp -m comment --comment "default/backend cluster IP" -m tcp --dport 80 -j ${svc}`);
    expect(lines).toContain(`-A ${svc} -m comment --comment "default/backend -> 10.244.2.8:8080" -m statistic --mode random --probability 0.50000000000 -j ${sep1}`);
    expect(lines).toContain(`-A ${sep1} -p tcp -m comment --comment "default/backend" -m tcp -j DNAT --to-destination 10.244.2.8:8080`);
    expect(lines).toContain(`-A ${sep2} -p tcp -m comment --comment "default/backend" -m tcp -j DNAT --to-destination 10.244.3.9:8080`);
    expect(lines).toContain('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
    expect(lines).toContain('-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0');
    expect(lines[0]).toBe('# Generated by iptables-save v1.8.9 on Mon Nov  4 10:30:01 2024');
    expect(lines.filter((l) => l.startsWith('-A INPUT'))).toEqual([
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A INPUT -j KUBE-FIREWALL',
    ]);
  });
  it('iptables-save → parse → render is the identity', () => {
    expect(renderIptablesSave(parseIptablesSave(save), { date: DATE })).toBe(save);
  });
});

describe('iptables mode: rule families', () => {
  it('TestClusterIPReject: no endpoints → REJECT in filter KUBE-SERVICES, no nat chains', () => {
    const t = cluster().service({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }] }).build();
    const s = kubeProxyIptables(t, 'node-1', 4);
    expect(s.filterRules).toContain('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT');
    expect(s.natChains.filter((c) => c.includes(H))).toEqual([]);
  });

  it('TestLoadBalancer: FW chain with source ranges, EXT masquerade, NodePort, firewall DROP', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', type: 'LoadBalancer', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, nodePort: 3001 }], loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: [' 203.0.113.0/25 '] })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.1', node: 'node-2' }])
      .build();
    const s = kubeProxyIptables(t, 'node-1', 4);
    expect(rulesOf(s.natRules, H)).toEqual([
      `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-${H}`,
      `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-${H}`,
      `-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-${H}`,
      `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${H} -m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${H} -j KUBE-SVC-${H}`,
      `-A KUBE-FW-${H} -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-${H}`,
      `-A KUBE-FW-${H} -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"`,
      `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j ${SEP}`,
    ]);
    expect(s.filterRules).toContain(`-A KUBE-PROXY-FIREWALL -m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-${H}" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP`);
    expect(s.natChains).toEqual(expect.arrayContaining([`:KUBE-EXT-${H} - [0:0]`, `:KUBE-FW-${H} - [0:0]`, `:KUBE-SVC-${H} - [0:0]`, `:${SEP} - [0:0]`]));
  });

  it('allows the node itself through the FW chain when a source range contains its IP', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', type: 'LoadBalancer', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, nodePort: 3001 }], loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['192.168.0.0/24'] })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.1', node: 'node-2' }])
      .build();
    expect(kubeProxyIptables(t, 'node-1', 4).natRules).toContain(`-A KUBE-FW-${H} -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 1.2.3.4 -j KUBE-EXT-${H}`);
  });

  it('TestOnlyLocalLoadBalancing: eTP=Local with a local endpoint → EXT short-circuits, SVL, health check port', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', type: 'LoadBalancer', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, nodePort: 3001 }], loadBalancerIPs: ['1.2.3.4'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000 })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.1', node: 'node-1' }, { ip: '10.180.2.1', node: 'node-2' }])
      .build();
    const s = kubeProxyIptables(t, 'node-1', 4);
    expect(rulesOf(s.natRules, `-A KUBE-EXT-${H}`)).toEqual([
      `-A KUBE-EXT-${H} -m comment --comment "pod traffic for ns1/svc1:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-${H}`,
      `-A KUBE-EXT-${H} -m comment --comment "masquerade LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${H} -m comment --comment "route LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${H}`,
      `-A KUBE-EXT-${H} -j KUBE-SVL-${H}`,
    ]);
    // SVL balances only the local endpoint; SVC both
    expect(rulesOf(s.natRules, `-A KUBE-SVL-${H}`)).toEqual([`-A KUBE-SVL-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j ${SEP}`]);
    expect(rulesOf(s.natRules, `-A KUBE-SVC-${H}`)).toHaveLength(3);
    expect(s.filterRules).toContain('-A KUBE-NODEPORTS -m comment --comment "ns1/svc1:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT');
    // on node-2's view the local endpoint is the other one; on a node with none, external traffic is dropped
    const s3 = kubeProxyIptables(new TopologyBuilder({ clusterCIDRs: ['10.0.0.0/8'] }).node('node-3', '192.168.0.4').build(), 'node-3', 4);
    expect(s3.filterRules.some((l) => l.includes('ns1'))).toBe(false);
    const t3 = { ...t, nodes: [...t.nodes, { name: 'node-3', ips: ['192.168.0.4'], labels: {}, podCIDRs: [] }] };
    const n3 = kubeProxyIptables(t3, 'node-3', 4);
    expect(n3.filterRules).toEqual(
      expect.arrayContaining([
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP',
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP',
      ]),
    );
    expect(rulesOf(n3.natRules, `-A KUBE-EXT-${H} -j`)).toEqual([]);
  });

  it('TestInternalTrafficPolicy: iTP=Local without local endpoints → DROP in filter', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }], internalTrafficPolicy: 'Local' })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.2.1', node: 'node-2' }])
      .build();
    expect(kubeProxyIptables(t, 'node-1', 4).filterRules).toContain('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP');
    const n2 = kubeProxyIptables(t, 'node-2', 4);
    expect(n2.natRules).toContain(`-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVL-${H}`);
    expect(n2.natRules).toContain(`-A KUBE-SVL-${H} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`);
  });

  it('externalIPs go through KUBE-EXT; ClientIP affinity adds recent rules', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }], externalIPs: ['192.168.99.11'], sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 10800 })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.1', node: 'node-2' }])
      .build();
    const s = kubeProxyIptables(t, 'node-1', 4);
    expect(s.natRules).toContain(`-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 external IP" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-${H}`);
    expect(rulesOf(s.natRules, `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 ->`)).toEqual([
      `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name ${SEP} --rcheck --seconds 10800 --reap -j ${SEP}`,
      `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j ${SEP}`,
    ]);
    expect(s.natRules).toContain(`-A ${SEP} -m comment --comment ns1/svc1:p80 -m recent --name ${SEP} --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80`);
  });

  it('uses serving terminating endpoints only when no endpoint is ready; sorts endpoints as strings', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }] })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [
        { ip: '10.0.1.2', node: 'node-2', ready: false, serving: true, terminating: true },
        { ip: '10.0.1.10', node: 'node-2', ready: false, serving: true, terminating: true },
        { ip: '10.0.1.3', node: 'node-2', ready: false, serving: false, terminating: true },
      ])
      .build();
    const s = kubeProxyIptables(t, 'node-1', 4);
    expect(rulesOf(s.natRules, `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 ->`).map((l) => l.match(/-> ([\d.:]+)/)![1])).toEqual(['10.0.1.10:80', '10.0.1.2:80']);
  });

  it('large-cluster mode (> 1000 endpoints) drops the per-endpoint comments', () => {
    const b = cluster().service({ namespace: 'ns1', name: 'big', clusterIP: '172.30.0.50', ports: [{ port: 80 }] });
    b.endpoints('ns1', 'big', [{ port: 80 }], Array.from({ length: 1001 }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}`, node: 'node-2' })));
    const s = kubeProxyIptables(b.build(), 'node-1', 4);
    expect(s.largeClusterMode).toBe(true);
    const chain = serviceChains('ns1/big', 'tcp').svc;
    expect(rulesOf(s.natRules, `-A ${chain}`)[1]).toMatch(new RegExp(`^-A ${chain} -m statistic --mode random --probability 0\\.0009990010 -j KUBE-SEP-`));
    expect(s.natRules.find((l) => l.startsWith('-A KUBE-SEP-') && l.includes('DNAT'))).toMatch(/^-A KUBE-SEP-\w+ -m tcp -p tcp -j DNAT --to-destination 10\.1\.0\.0:80$/);
  });

  it('masqueradeAll masquerades every ClusterIP connection', () => {
    const t = seedTopology({ kubeProxy: { mode: 'iptables', ipvsScheduler: 'rr', masqueradeAll: true, masqueradeBit: 14 } });
    const svc = serviceChains('default/backend', 'tcp').svc;
    expect(kubeProxyIptables(t, 'node-1', 4).natRules).toContain(`-A ${svc} -m comment --comment "default/backend cluster IP" -m tcp -p tcp -d 10.96.5.20 --dport 80 -j KUBE-MARK-MASQ`);
  });

  it('dual-stack: a separate IPv6 rule set (ip6tables-save)', () => {
    const t = new TopologyBuilder({ clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] })
      .node('node-1', ['10.0.1.5', 'fd00:1::5'])
      .service({ name: 'web', clusterIPs: ['10.96.0.80', 'fd00:96::80'], ports: [{ port: 80 }] })
      .endpoints('default', 'web', [{ port: 8080 }], [{ ip: '10.244.2.8', node: 'node-2' }])
      .endpoints('default', 'web', [{ port: 8080 }], [{ ip: 'fd00:10:244:2::8', node: 'node-2' }], 'IPv6')
      .build();
    const v6 = kubeProxyIptables(t, 'node-1', 6);
    const sep = endpointChain('default/web', 'tcp', '[fd00:10:244:2::8]:8080');
    expect(v6.natRules).toContain(`-A ${sep} -m comment --comment default/web -m tcp -p tcp -j DNAT --to-destination [fd00:10:244:2::8]:8080`);
    expect(v6.natRules).toContain('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS');
    expect(v6.filterChains).not.toContain(':KUBE-FIREWALL - [0:0]');
    const save = renderIptablesSave(nodeIptablesRuleset(t, 'node-1', 6).ruleset, { date: DATE });
    expect(save.split('\n')[0]).toBe('# Generated by ip6tables-save v1.8.9 on Mon Nov  4 10:30:01 2024');
    expect(save).toContain(`-A ${sep} -s fd00:10:244:2::8/128 -m comment --comment "default/web" -j KUBE-MARK-MASQ`);
    expect(kubeProxyIptables(t, 'node-1', 4).natRules.join('\n')).not.toContain('fd00');
  });
});

// ---------------------------------------------------------------------------
// tracePacket: walk the node's iptables-save output (rendered, then parsed back)
// with the evaluator, as kube-proxy's own tests do with their fake iptables.

function tracePacket(rs: Ruleset, nodeIPs: string[], src: string, proto: string, dst: string, dport: number, origin: 'pod' | 'host' | 'external') {
  const isLocal = (ip: string): boolean => nodeIPs.includes(ip) || ip.startsWith('127.');
  const route = (p: Packet) => ({ local: isLocal(p.dst), outIface: isLocal(p.dst) ? undefined : 'eth0' });
  const pkt: Packet = { family: 4, proto, src, dst, sport: 33333, dport, mark: 0, ctstate: 'NEW', inIface: origin === 'host' ? undefined : 'eth1' };
  return enumerateOutcomes((random) => {
    const ctx: EvalContext = { isLocal, random, masqueradeAddress: () => nodeIPs[0] };
    const w = origin === 'host' ? walkLocalOut(rs, pkt, ctx, route) : walkIncoming(rs, pkt, ctx, route);
    const masq = w.hooks.some((h) => h.nat.some((n) => n.kind === 'MASQUERADE'));
    const out = w.verdict === 'REJECT' || w.verdict === 'DROP' ? w.verdict : `${w.packet.dst}:${w.packet.dport}`;
    return { out, masq };
  });
}

describe('tracePacket over rendered + parsed rules', () => {
  const topo = cluster()
    .service({ namespace: 'ns1', name: 'svc1', type: 'NodePort', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, nodePort: 3001 }] })
    .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.1', node: 'node-1' }, { ip: '10.180.2.1', node: 'node-2' }])
    .service({ namespace: 'ns2', name: 'svc2', type: 'LoadBalancer', clusterIP: '172.30.0.42', ports: [{ name: 'p80', port: 80, nodePort: 3002 }], loadBalancerIPs: ['1.2.3.4'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30002 })
    .endpoints('ns2', 'svc2', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.2', node: 'node-1' }, { ip: '10.180.2.2', node: 'node-2' }])
    .service({ namespace: 'ns3', name: 'svc3', clusterIP: '172.30.0.43', ports: [{ name: 'p80', port: 80 }] })
    .build();
  const text = renderIptablesSave(nodeIptablesRuleset(topo, 'node-1', 4).ruleset, { date: DATE });
  const rs = parseIptablesSave(text);
  const ips = ['192.168.0.2'];
  const T = (src: string, dst: string, port: number, origin: 'pod' | 'host' | 'external') => tracePacket(rs, ips, src, 'tcp', dst, port, origin).map((o) => ({ ...o.result, p: Number(o.probability.toFixed(6)) }));

  it.each([
    ['pod to cluster IP', '10.0.0.2', '172.30.0.41', 80, 'pod', [{ out: '10.180.0.1:80', masq: false, p: 0.5 }, { out: '10.180.2.1:80', masq: false, p: 0.5 }]],
    ['node to cluster IP (masqueraded: source outside the pod CIDR)', '192.168.0.2', '172.30.0.41', 80, 'host', [{ out: '10.180.0.1:80', masq: true, p: 0.5 }, { out: '10.180.2.1:80', masq: true, p: 0.5 }]],
    ['external to NodePort', '203.0.113.9', '192.168.0.2', 3001, 'external', [{ out: '10.180.0.1:80', masq: true, p: 0.5 }, { out: '10.180.2.1:80', masq: true, p: 0.5 }]],
    ['external to eTP=Local LB keeps the source, local endpoint only', '203.0.113.9', '1.2.3.4', 80, 'external', [{ out: '10.180.0.2:80', masq: false, p: 1 }]],
    ['pod to eTP=Local LB short-circuits to all endpoints', '10.0.0.2', '1.2.3.4', 80, 'pod', [{ out: '10.180.0.2:80', masq: false, p: 0.5 }, { out: '10.180.2.2:80', masq: false, p: 0.5 }]],
    ['cluster IP without endpoints is rejected', '10.0.0.2', '172.30.0.43', 80, 'pod', [{ out: 'REJECT', masq: false, p: 1 }]],
    ['hairpin: an endpoint reaching itself through the service is masqueraded', '10.180.0.1', '172.30.0.41', 80, 'pod', [{ out: '10.180.0.1:80', masq: true, p: 0.5 }, { out: '10.180.2.1:80', masq: false, p: 0.5 }]],
    ['non-service traffic passes untouched', '10.0.0.2', '10.180.2.1', 80, 'pod', [{ out: '10.180.2.1:80', masq: false, p: 1 }]],
  ] as const)('%s', (_name, src, dst, port, origin, want) => {
    expect(T(src, dst, port, origin)).toEqual(want);
  });

  it('serviceLookup gives the same answers, with the rules traversed', () => {
    const r = serviceLookup(topo, 'node-1', { proto: 'TCP', src: '10.0.0.2', dst: '172.30.0.41', sport: 33333, dport: 80, origin: 'pod' });
    expect(r.mode).toBe('iptables');
    expect(r.service?.spn).toBe('ns1/svc1:p80');
    expect(r.outcomes.map((o) => [o.endpoint?.ip, o.probability, o.masquerade])).toEqual([
      ['10.180.0.1', 0.5, false],
      ['10.180.2.1', 0.5, false],
    ]);
    expect(r.outcomes[0].endpoint).toMatchObject({ nodeName: 'node-1', local: true });
    expect(r.chosen.steps.filter((s) => s.kind === 'iptables' && s.table === 'nat').map((s) => s.chain)).toEqual(['PREROUTING', 'KUBE-SERVICES', `KUBE-SVC-${H}`, ...(r.chosen.endpoint!.ip === '10.180.0.1' ? [SEP] : [r.chosen.steps.find((s) => s.chain?.startsWith('KUBE-SEP-'))!.chain!]), 'POSTROUTING', 'KUBE-POSTROUTING', 'POSTROUTING']);
    expect(r.chosen.steps.at(-1)?.text).toBe('policy ACCEPT of nat/POSTROUTING');
    const rej = serviceLookup(topo, 'node-1', { proto: 'TCP', src: '10.0.0.2', dst: '172.30.0.43', dport: 80, origin: 'pod' });
    expect(rej.chosen.verdict).toBe('REJECT');
    expect(rej.chosen.rejectWith).toBe('icmp-port-unreachable');
  });

  it('serviceLookup follows ClientIP affinity state across calls', () => {
    const t = cluster()
      .service({ namespace: 'ns1', name: 'svc1', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 60 })
      .endpoints('ns1', 'svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.180.0.1', node: 'node-2' }, { ip: '10.180.0.2', node: 'node-2' }, { ip: '10.180.0.3', node: 'node-2' }])
      .build();
    const { RecentTable, seededRandom } = dataplane;
    const rt = new RecentTable();
    const first = serviceLookup(t, 'node-1', { proto: 'TCP', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, origin: 'pod' }, { recent: rt, random: seededRandom(3), now: 0 });
    for (const seed of [4, 5, 6, 7]) {
      const again = serviceLookup(t, 'node-1', { proto: 'TCP', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, origin: 'pod' }, { recent: rt, random: seededRandom(seed), now: 30 });
      expect(again.chosen.endpoint?.ip).toBe(first.chosen.endpoint?.ip);
      expect(again.outcomes).toHaveLength(1);
    }
    const fresh = serviceLookup(t, 'node-1', { proto: 'TCP', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, origin: 'pod' }, { recent: rt, now: 200 });
    expect(fresh.outcomes).toHaveLength(3);
  });
});


describe('serviceLookup: the address MASQUERADE picks for a pod reaching itself (hairpin)', () => {
  const dns = (kubeProxy: 'iptables' | 'ipvs', cni: { plugin: 'calico' | 'flannel'; mode: string }) =>
    serviceLookup(seedTopology({ cni: { ...cni, natOutgoing: true, encryption: false }, kubeProxy: { mode: kubeProxy, ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 } }), 'node-2', { proto: 'UDP', src: '10.244.2.15', dst: '10.96.0.10', dport: 53, origin: 'pod' }).chosen;
  it.each(['iptables', 'ipvs'] as const)('%s, flannel: the packet goes back out on cni0, so its source becomes cni0\'s 10.244.2.1 (as the test-bed kernel shows)', (mode) => {
    expect(dns(mode, { plugin: 'flannel', mode: 'vxlan' })).toMatchObject({ masquerade: true, snatTo: '10.244.2.1', dnat: { to: { ip: '10.244.2.15', port: 53 } } });
  });
  it.each(['iptables', 'ipvs'] as const)('%s, calico: the host veth has no address, so the first global one (eth0\'s node IP)', (mode) => {
    expect(dns(mode, { plugin: 'calico', mode: 'bgp' })).toMatchObject({ masquerade: true, snatTo: '10.0.1.6' });
  });
});

describe('IPVS mode', () => {
  const topo = seedTopology({ kubeProxy: { mode: 'ipvs', ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 } });
  const node = kubeProxyIpvs(topo, 'node-1', 4);
  it('binds every ClusterIP to kube-ipvs0 and fills the ipsets', () => {
    expect(node.boundAddresses.sort()).toEqual(['10.96.0.1', '10.96.0.10', '10.96.5.20']);
    expect(node.ipsets.get('KUBE-CLUSTER-IP')!.entries().sort()).toEqual(['10.96.0.1,tcp:443', '10.96.0.10,tcp:53', '10.96.0.10,tcp:9153', '10.96.0.10,udp:53', '10.96.5.20,tcp:80']);
    expect(node.ipsets.get('KUBE-CLUSTER-IP')!.comment).toBe('Kubernetes service cluster ip + port for masquerade purpose');
    // node-1 has no local endpoints; node-2 runs backend-1 and CoreDNS
    expect(node.ipsets.get('KUBE-LOOP-BACK')!.size).toBe(0);
    expect(kubeProxyIpvs(topo, 'node-2', 4).ipsets.get('KUBE-LOOP-BACK')!.entries()).toEqual(['10.244.2.8,tcp:8080,10.244.2.8', '10.244.2.15,udp:53,10.244.2.15', '10.244.2.15,tcp:53,10.244.2.15', '10.244.2.15,tcp:9153,10.244.2.15']);
  });
  it('writes the IPVS-mode iptables rules', () => {
    const save = renderIptablesSave(node.ruleset, { date: DATE });
    expect(save).toContain('-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ');
    expect(save).toContain('-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');
    expect(save).not.toContain('KUBE-LOOP-BACK');
    expect(renderIptablesSave(kubeProxyIpvs(topo, 'node-2', 4).ruleset, { date: DATE })).toContain('-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE');
    expect(save).toContain('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable');
    expect(save).toContain('-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER');
  });
  it('renders ipvsadm -Ln for the node', () => {
    const out = renderIpvsadm(node.services);
    expect(out).toContain('TCP  10.96.5.20:80 rr\n  -> 10.244.2.8:8080              Masq    1      0          0         \n  -> 10.244.3.9:8080              Masq    1      0          0         \n');
    expect(out.indexOf('TCP  10.96.0.1:443 rr')).toBeLessThan(out.indexOf('UDP  10.96.0.10:53 rr'));
  });
  it('serviceLookup schedules with IPVS and masquerades node-sourced traffic', () => {
    const pod = serviceLookup(topo, 'node-1', { proto: 'TCP', src: '10.244.1.5', dst: '10.96.5.20', dport: 80, origin: 'pod' });
    expect(pod.mode).toBe('ipvs');
    expect(pod.outcomes.map((o) => [o.endpoint?.ip, o.probability, o.masquerade])).toEqual([
      ['10.244.2.8', 0.5, false],
      ['10.244.3.9', 0.5, false],
    ]);
    expect(pod.chosen.steps.some((s) => s.kind === 'ipvs' && s.text.startsWith('IPVS TCP  10.96.5.20:80 rr -> 10.244.2.8:8080 Masq'))).toBe(true);
    const host = serviceLookup(topo, 'node-1', { proto: 'TCP', src: '10.0.1.5', dst: '10.96.5.20', dport: 80, origin: 'host' });
    expect(host.chosen.masquerade).toBe(true);
    const st = new dataplane.IpvsState();
    const seq = [1, 2, 3].map(() => serviceLookup(topo, 'node-1', { proto: 'TCP', src: '10.244.1.5', dst: '10.96.5.20', dport: 80, origin: 'pod' }, { ipvsState: st }).chosen.endpoint?.ip);
    expect(seq).toEqual(['10.244.2.8', '10.244.3.9', '10.244.2.8']);
  });
});

describe('Cilium kube-proxy replacement (ebpf)', () => {
  const topo = seedTopology({ kubeProxy: { mode: 'ebpf', ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 } });
  it('lists the service map like cilium-dbg service list', () => {
    const out = renderCiliumServiceList(ciliumServiceMap(topo, 'node-1'));
    const lines = out.split('\n');
    // tabwriter: every column is as wide as its widest cell + 3 (Frontend: "10.96.0.10:9153/TCP" → 22)
    expect(lines[0]).toBe(`ID   ${'Frontend'.padEnd(22)}Service Type   ${'Backend'.padEnd(37)}`);
    expect(lines[1]).toBe(`1    ${'10.96.5.20:80/TCP'.padEnd(22)}ClusterIP      ${'1 => 10.244.2.8:8080/TCP (active)'.padEnd(37)}`);
    expect(lines[2]).toBe(`${' '.repeat(5 + 22 + 15)}${'2 => 10.244.3.9:8080/TCP (active)'.padEnd(37)}`);
    expect(lines[4]).toMatch(/^3 {4}10\.96\.0\.10:53\/UDP {5}ClusterIP {6}1 => 10\.244\.2\.15:53\/UDP \(active\)/);
  });
  it('pods are load-balanced by socket-LB at connect(), without masquerade', () => {
    const r = serviceLookup(topo, 'node-1', { proto: 'TCP', src: '10.244.1.5', dst: '10.96.5.20', dport: 80, origin: 'pod' });
    expect(r.mode).toBe('ebpf');
    expect(r.outcomes.map((o) => [o.endpoint?.ip, o.probability, o.masquerade])).toEqual([
      ['10.244.2.8', 0.5, false],
      ['10.244.3.9', 0.5, false],
    ]);
    expect(r.chosen.steps[0].text).toMatch(/^bpf_sock \(cgroup\/connect4\)/);
  });
});
