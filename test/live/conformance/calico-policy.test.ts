// Conformance of the Calico-style policy data plane (core/policy) with the
// REAL ipset and iptables. For every node of resources/samples/three-tier.yaml
// (the seed's policies) and of fixtures/policy-rich.yaml (named ports →
// hash:ip,port sets, ipBlock except → mark blocks, endPort ranges, more ports
// than one multiport holds, UDP, egress), the model's ipsets go through
// `ipset restore`, the rules as felix writes them (felix's own rendering:
// `--jump`, `--set-mark`, `-p 17`, `--destination-ports`, the `cali:<hash>`
// comment first) go through `iptables-restore` — the filter table and felix's
// raw, mangle and nat tables — and the real `iptables-save` (all four tables,
// in the kernel's table order) and `ipset list` must equal the model's
// renderings.
//
// Normalised: the `#` header/footer lines and counters; in `ipset list` the
// random `initval` and `Size in memory` (kernel allocation; `References` is
// compared as is), the order of the sets (the kernel lists them in creation
// order, which on a node is felix's history) and of the members (hash order,
// random per set).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCalicoDataplane } from '../../../core/policy/calico';
import { generateCluster, loadText } from '../../../core/trace/testing';
import { felixRestore, ipsetNormalised, saveLines } from './felix';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, sweepLeftovers } from './harness';

liveDescribe('conformance: Calico-style policy rules and ipsets through the real ipset / iptables', ['ip', 'ipset', 'iptables', 'iptables-save', 'iptables-restore'], () => {
  beforeAll(() => {
    sweepLeftovers();
  });
  afterAll(() => destroyAll());

  for (const file of ['resources/samples/three-tier.yaml', 'test/live/conformance/fixtures/policy-rich.yaml']) {
    const topo = loadRepoTopology(file);
    const dp = buildCalicoDataplane(topo);
    const short = file.replace(/^.*\//, '');

    for (const node of topo.nodes.map((n) => n.name)) {
      it(`${short} ${node}: real iptables-save (felix's four tables) and ipset list equal the model's`, () => {
        const nr = dp.forNode(node);
        expect(nr.chains.size).toBeGreaterThan(10);
        const ns = Netns.create(`pol-${short.replace(/\.yaml$/, '')}-${node}`);
        try {
          ns.exec(['ipset', 'restore'], { input: dp.ipsetRestore(node) });
          ns.exec(['iptables-restore', '-w'], { input: felixRestore(nr) });
          const realSave = ns.exec(['iptables-save']);
          expect(saveLines(realSave)).toEqual(saveLines(dp.iptablesSave(node)));
          const realSets = ns.exec(['ipset', 'list']);
          expect(ipsetNormalised(realSets, { maskSize: true })).toEqual(ipsetNormalised(dp.ipsetList(node), { maskSize: true }));
          // Members really went in (an empty model would also compare equal to an empty kernel).
          expect(realSets.match(/^Name: /gm)?.length ?? 0).toBe(nr.ipsets.size);
        } finally {
          ns.destroy();
        }
      });
    }

    it(`${short}: the model renders sets with members (the comparison above is not vacuous)`, () => {
      const sets = topo.nodes.flatMap((n) => [...dp.forNode(n.name).ipsets.values()]);
      expect(sets.flatMap((s) => [...s.members]).length).toBeGreaterThan(0);
      if (short === 'policy-rich.yaml') expect(sets.some((s) => s.type === 'hash:ip,port' && s.members.size > 0)).toBe(true);
    });
  }

  // felix's kube-proxy IPVS support (cali-forward-check, cali-set-endpoint-mark[-<char>], cali-sm-<iface>,
  // cali-from-endpoint-mark, cali-forward-endpoint-mark, `-m mark ! --mark`, `-m set ! --match-set` on the hash:ip
  // cali40this-host) and WireGuard's UDP 51820 rules only match marks, sets, ports and address types: the
  // kernel takes them without the IPVS or WireGuard modules.
  const ipvsCases: [string, string[]][] = [
    ['resources/samples/three-tier.yaml', ['kubeProxy=ipvs']],
    ['resources/samples/seed.yaml', ['cni=calico-vxlan', 'kubeProxy=ipvs', 'encryption=true']],
  ];
  for (const [file, set] of ipvsCases) {
    it(`${file.replace(/^.*\//, '')} with ${set.join(', ')}: felix's IPVS-mode${set.includes('encryption=true') ? ' and WireGuard' : ''} chains load into the real iptables and save back as the model renders them`, () => {
      const topo = loadRepoTopology(file, set);
      const dp = buildCalicoDataplane(topo);
      for (const node of topo.nodes.map((n) => n.name)) {
        const nr = dp.forNode(node);
        expect(nr.chains.has('cali-forward-check')).toBe(true);
        const ns = Netns.create(`pol-ipvs-${node}`);
        try {
          ns.exec(['ipset', 'restore'], { input: dp.ipsetRestore(node) });
          ns.exec(['iptables-restore', '-w'], { input: felixRestore(nr) });
          const realSave = ns.exec(['iptables-save']);
          expect(saveLines(realSave)).toEqual(saveLines(dp.iptablesSave(node)));
          expect(realSave).toMatch(/^-A cali-forward-check -m comment --comment "cali:jmhU0ODogX-Zfe5g" -m comment --comment "To kubernetes service" -m set ! --match-set cali40this-host dst -j cali-set-endpoint-mark$/m);
          expect(realSave).toMatch(/^-A cali-OUTPUT -m comment --comment "cali:\S{16}" -m mark ! --mark 0x0\/0xff[fe]00000 -g cali-forward-endpoint-mark$/m);
          if (set.includes('encryption=true')) expect(realSave).toMatch(/^-A cali-INPUT -p udp -m comment --comment "cali:\S{16}" -m comment --comment "Allow incoming IPv4 Wireguard packets" -m multiport --dports 51820 -m addrtype --dst-type LOCAL -j ACCEPT$/m);
          const realSets = ns.exec(['ipset', 'list']);
          expect(ipsetNormalised(realSets, { maskSize: true })).toEqual(ipsetNormalised(dp.ipsetList(node), { maskSize: true }));
          // hash:ip's size (216 + 40 per entry) and the rule references, unmasked, for this-host.
          const thisHost = (t: string) => ipsetNormalised(t).filter((b) => b.name === 'Name: cali40this-host');
          expect(thisHost(realSets)).toEqual(thisHost(dp.ipsetList(node)));
          expect(thisHost(realSets)[0].members.length).toBeGreaterThan(1);
        } finally {
          ns.destroy();
        }
      }
    });
  }

  // felix's raw, mangle and nat tables (felix-tables.ts): the strict rpfilter check (`-m rpfilter --validmark --invert`,
  // which the kernel accepts only in chains reached from PREROUTING), the tunnel MASQUERADE's two addrtype matches with
  // --limit-iface-out, cali-nat-outgoing's set matches and --random-fully all load into the real kernel and save back as
  // the model prints them, table order included (mangle, raw, filter, nat).
  const tableCases: string[][] = [['cni=calico-vxlan'], ['cni=calico-ipip', 'encryption=true'], ['cni=calico-bgp', 'natOutgoing=false'], ['cni=calico-vxlan', 'kubeProxy=ipvs']];
  for (const set of tableCases) {
    it(`seed.yaml with ${set.join(', ')}: felix's raw, mangle and nat tables load into the real iptables and save back as the model renders them`, () => {
      const topo = loadRepoTopology('resources/samples/seed.yaml', set);
      const dp = buildCalicoDataplane(topo);
      const nr = dp.forNode('node-1');
      const ns = Netns.create(`pol-tables-${set.join('-').toLowerCase().replace(/[^a-z0-9]+/g, '').slice(0, 20)}`);
      try {
        ns.exec(['ipset', 'restore'], { input: dp.ipsetRestore('node-1') });
        ns.exec(['iptables-restore', '-w'], { input: felixRestore(nr) });
        const realSave = ns.exec(['iptables-save']);
        expect(saveLines(realSave)).toEqual(saveLines(dp.iptablesSave('node-1')));
        expect([...realSave.matchAll(/^\*(\w+)$/gm)].map((m) => m[1])).toEqual(['mangle', 'raw', 'filter', 'nat']);
        expect(realSave).toMatch(/^-A cali-PREROUTING -m comment --comment "cali:fSSbGND7dgyemWU7" -m mark --mark 0x40000\/0x40000 -m rpfilter --validmark --invert -j DROP$/m);
        const tunnel = set.includes('cni=calico-ipip') ? 'tunl0' : set.includes('cni=calico-vxlan') ? 'vxlan.calico' : undefined;
        if (tunnel) expect(realSave).toMatch(new RegExp(`^-A cali-POSTROUTING -o ${tunnel.replace('.', '\\.')} -m comment --comment "cali:\\S{16}" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully$`, 'm'));
        else expect(realSave).not.toMatch(/-o (tunl0|vxlan\.calico) /);
        if (set.includes('encryption=true')) expect(realSave).toMatch(/^-A cali-POSTROUTING -o wireguard\.cali -m comment /m);
        const outgoing = realSave.split('\n').filter((l) => l.startsWith('-A cali-nat-outgoing '));
        expect(outgoing).toEqual(
          set.includes('natOutgoing=false')
            ? []
            : ['-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully'],
        );
        if (set.includes('kubeProxy=ipvs')) expect(realSave).toMatch(/^-A cali-POSTROUTING -m comment --comment "cali:\S{16}" -m mark ! --mark 0x0\/0xfff00000 -j RETURN$/m);
        const realSets = ns.exec(['ipset', 'list']);
        expect(ipsetNormalised(realSets)).toEqual(ipsetNormalised(dp.ipsetList('node-1')));
        // the pool sets with their real sizes and references (an empty masq set when natOutgoing is off)
        const pools = (t: string) => ipsetNormalised(t).filter((b) => /ipam-pools$/.test(b.name));
        expect(pools(realSets)).toHaveLength(2);
        expect(pools(realSets).find((b) => b.name === 'Name: cali40masq-ipam-pools')?.members).toEqual(set.includes('natOutgoing=false') ? [] : ['10.244.0.0/16']);
      } finally {
        ns.destroy();
      }
    });
  }

  it("a node with 30 workloads: felix's split dispatch chains (cali-from-wl-dispatch-<char>) and the VXLAN host rules load into the real iptables and save back as the model renders them", () => {
    const t = loadText(generateCluster({ nodes: 2, pods: 60, services: 5, cni: 'calico-vxlan' }));
    const dp = buildCalicoDataplane(t);
    const nr = dp.forNode('node-1');
    expect([...nr.chains.keys()].filter((c) => /^cali-(from|to)-wl-dispatch-.$/.test(c)).length).toBeGreaterThan(2);
    const ns = Netns.create('pol-dispatch');
    try {
      ns.exec(['ipset', 'restore'], { input: dp.ipsetRestore('node-1') });
      ns.exec(['iptables-restore', '-w'], { input: felixRestore(nr) });
      expect(saveLines(ns.exec(['iptables-save']))).toEqual(saveLines(dp.iptablesSave('node-1')));
      expect(ns.exec(['ipset', 'list', 'cali40all-vxlan-net'])).toMatch(/^Number of entries: 2$/m);
    } finally {
      ns.destroy();
    }
  });
});
