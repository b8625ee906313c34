// Conformance of the IPv6 half of the Calico-style policy data plane
// (core/policy, family 6) with the REAL ip6tables and ipset. For every node
// of fixtures/policy-dual-stack.yaml (IPv6 and IPv4 ipBlocks side by side, an
// IPv6 ipBlock with except, named ports, egress), the model's cali60 sets go
// through `ipset restore` (family inet6), the ip6tables rules as felix writes
// them (`-p 58 -m icmp6 --icmpv6-type`, `--jump`, `--set-mark`, the
// `cali:<hash>` comment first) through `ip6tables-restore`, and the real
// `ip6tables-save -t filter` and `ipset list` must equal the model's
// renderings. The IPv4 sets go in beside them (a node's ipset namespace holds
// both families), so `ipset list` is compared for both.
//
// Normalised as in calico-policy.test.ts: header/footer comments, counters,
// the random initval, set and member order. `Size in memory` is compared.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCalicoDataplane } from '../../../core/policy/calico';
import { felixRestore, ipsetNormalised, saveLines } from './felix';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, sweepLeftovers } from './harness';

liveDescribe('conformance: Calico-style IPv6 policy rules and inet6 ipsets through the real ipset / ip6tables', ['ip', 'ipset', 'ip6tables', 'ip6tables-save', 'ip6tables-restore', 'iptables-restore'], () => {
  beforeAll(() => {
    sweepLeftovers();
  });
  afterAll(() => destroyAll());

  const file = 'test/live/conformance/fixtures/policy-dual-stack.yaml';
  const topo = loadRepoTopology(file);
  const dp = buildCalicoDataplane(topo);

  for (const node of topo.nodes.map((n) => n.name)) {
    it(`${node}: real ip6tables-save (felix's four tables) and ipset list (inet6 and inet sets) equal the model's`, () => {
      const nr6 = dp.forNode(node, 6);
      const nr4 = dp.forNode(node, 4);
      expect(nr6.chains.size).toBeGreaterThan(10);
      const ns = Netns.create(`pol6-${node}`);
      try {
        ns.exec(['ipset', 'restore'], { input: dp.ipsetRestore(node, 6) + dp.ipsetRestore(node, 4) });
        ns.exec(['ip6tables-restore', '-w'], { input: felixRestore(nr6) });
        ns.exec(['iptables-restore', '-w'], { input: felixRestore(nr4) });
        const realSave = ns.exec(['ip6tables-save']);
        expect(saveLines(realSave)).toEqual(saveLines(dp.iptablesSave(node, undefined, 6)));
        expect(realSave).toMatch(/^-A cali-wl-to-host -p ipv6-icmp -m comment --comment "cali:\S{16}" -m icmp6 --icmpv6-type 130 -j ACCEPT$/m);
        const realSets = ns.exec(['ipset', 'list']);
        // Size in memory is masked, as in the IPv4 suite: with the random initval two members of a hash:net set
        // can share a bucket (a real run printed 1312 instead of 1384 for cali60all-vxlan-net's two nodes).
        expect(ipsetNormalised(realSets, { maskSize: true })).toEqual(ipsetNormalised(dp.ipsetList(node, 6) + '\n' + dp.ipsetList(node, 4), { maskSize: true }));
        expect(realSets.match(/^Header: family inet6 /gm)?.length ?? 0).toBe(nr6.ipsets.size);
      } finally {
        ns.destroy();
      }
    });
  }

  it("dual-stack with kube-proxy IPVS and WireGuard: felix's ip6tables IPVS chains (cali60this-host) and the UDP 51821 rules load into the real ip6tables and save back as the model renders them", () => {
    const t = loadRepoTopology('resources/samples/dual-stack.yaml', ['kubeProxy=ipvs', 'encryption=true']);
    const d = buildCalicoDataplane(t);
    for (const node of t.nodes.map((n) => n.name)) {
      const nr6 = d.forNode(node, 6);
      expect(nr6.ipsets.has('cali60this-host')).toBe(true);
      const ns = Netns.create(`pol6-ipvs-${node}`);
      try {
        ns.exec(['ipset', 'restore'], { input: d.ipsetRestore(node, 6) });
        ns.exec(['ip6tables-restore', '-w'], { input: felixRestore(nr6) });
        const realSave = ns.exec(['ip6tables-save']);
        expect(saveLines(realSave)).toEqual(saveLines(d.iptablesSave(node, undefined, 6)));
        expect(realSave).toMatch(/^-A cali-INPUT -p udp -m comment --comment "cali:\S{16}" -m comment --comment "Allow incoming IPv6 Wireguard packets" -m multiport --dports 51821 -m addrtype --dst-type LOCAL -j ACCEPT$/m);
        // felix's ip6tables raw/mangle/nat: rpfilter in ip6tables, the IPv6 tunnel devices' MASQUERADE, the cali60 pool sets
        expect(realSave).toMatch(/^-A cali-PREROUTING -m comment --comment "cali:fSSbGND7dgyemWU7" -m mark --mark 0x40000\/0x40000 -m rpfilter --validmark --invert -j DROP$/m);
        expect(realSave.split('\n').filter((l) => l.startsWith('-A cali-POSTROUTING -o ')).map((l) => l.split(' ')[3])).toEqual(['vxlan-v6.calico', 'wg-v6.cali']);
        expect(realSave).toMatch(/^-A cali-nat-outgoing -m comment --comment "cali:\S{16}" -m set --match-set cali60masq-ipam-pools src -m set ! --match-set cali60all-ipam-pools dst -j MASQUERADE --random-fully$/m);
        expect(realSave).toMatch(/^-A cali-set-endpoint-mark -m comment --comment "cali:\S{16}" -m comment --comment "Non-Cali endpoint mark" -j MARK --set-xmark 0x200000\/0xffe00000$/m);
        const realSets = ns.exec(['ipset', 'list']);
        // Compared with sizes: hash:ip family inet6 is 224 + 64 per entry.
        expect(ipsetNormalised(realSets)).toEqual(ipsetNormalised(d.ipsetList(node, 6)));
      } finally {
        ns.destroy();
      }
    }
  });

  it('the model renders IPv6 sets with members, the IPv6 ipBlock in ip6tables only (the comparison above is not vacuous)', () => {
    const sets = topo.nodes.flatMap((n) => [...dp.forNode(n.name, 6).ipsets.values()]);
    expect(sets.flatMap((s) => [...s.members]).filter((m) => m.includes(':')).length).toBeGreaterThan(0);
    expect(sets.some((s) => s.type === 'hash:ip,port' && s.members.size > 0)).toBe(true);
    expect(dp.iptablesSave('node-2', undefined, 6)).toMatch(/-s fd00:10::1:6\/128 /);
    expect(dp.iptablesSave('node-2', undefined, 6)).not.toMatch(/10\.0\.0\.0\/16/);
    expect(dp.iptablesSave('node-2')).toMatch(/-s 10\.0\.0\.0\/16 /);
  });
});
