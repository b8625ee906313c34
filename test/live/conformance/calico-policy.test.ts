// Conformance of the Calico-style policy data plane (core/policy) with the
// REAL ipset and iptables. For every node of resources/samples/three-tier.yaml
// (the seed's policies) and of fixtures/policy-rich.yaml (named ports →
// hash:ip,port sets, ipBlock except → mark blocks, endPort ranges, more ports
// than one multiport holds, UDP, egress), the model's ipsets go through
// `ipset restore`, the rules as felix writes them (felix's own rendering:
// `--jump`, `--set-mark`, `-p 17`, `--destination-ports`, the `cali:<hash>`
// comment first) go through `iptables-restore`, and the real
// `iptables-save -t filter` and `ipset list` must equal the model's renderings.
//
// Normalised: the `#` header/footer lines and counters; in `ipset list` the
// random `initval` and `Size in memory` (kernel allocation; `References` is
// compared as is), the order of the sets (the kernel lists them in creation
// order, which on a node is felix's history) and of the members (hash order,
// random per set).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCalicoDataplane, felixRenderForHash, type NodeRules } from '../../../core/policy/calico';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, sweepLeftovers } from './harness';

/** The iptables-restore input felix writes for a node's filter table (its RenderAppend form). */
function felixRestore(nr: NodeRules): string {
  const builtins = ['INPUT', 'FORWARD', 'OUTPUT'];
  const lines = ['*filter'];
  for (const c of nr.chains.keys()) if (!builtins.includes(c)) lines.push(`:${c} - [0:0]`);
  for (const c of nr.chains.values()) {
    for (const r of c.rules) {
      const hashed = felixRenderForHash(c.name, r);
      lines.push(hashed.replace(/ HASH\b/, r.hash ? ` -m comment --comment "cali:${r.hash}"` : ''));
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** `ipset restore` input for the node's sets. */
function ipsetRestore(nr: NodeRules): string {
  const lines: string[] = [];
  for (const s of nr.ipsets.values()) {
    lines.push(`create ${s.name} ${s.type} family inet hashsize 1024 maxelem 1048576`);
    for (const m of s.members) lines.push(`add ${s.name} ${m}`);
  }
  return `${lines.join('\n')}\n`;
}

const saveLines = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));

/** `ipset list` as a name-sorted list of sets with sorted members and the random/allocation fields masked. */
function ipsetNormalised(text: string): { name: string; header: string[]; members: string[] }[] {
  return text
    .split(/\n\n+/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const at = lines.indexOf('Members:');
      const header = lines.slice(0, at).map((l) => l.replace(/ initval 0x[0-9a-f]+/, ' initval <random>').replace(/^Size in memory: \d+$/, 'Size in memory: <n>'));
      return { name: lines[0], header, members: lines.slice(at + 1).sort() };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

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
      it(`${short} ${node}: real iptables-save -t filter and ipset list equal the model's`, () => {
        const nr = dp.forNode(node);
        expect(nr.chains.size).toBeGreaterThan(10);
        const ns = Netns.create(`pol-${short.replace(/\.yaml$/, '')}-${node}`);
        try {
          ns.exec(['ipset', 'restore'], { input: ipsetRestore(nr) });
          ns.exec(['iptables-restore', '-w'], { input: felixRestore(nr) });
          const realSave = ns.exec(['iptables-save', '-t', 'filter']);
          expect(saveLines(realSave)).toEqual(saveLines(dp.iptablesSave(node)));
          const realSets = ns.exec(['ipset', 'list']);
          expect(ipsetNormalised(realSets)).toEqual(ipsetNormalised(dp.ipsetList(node)));
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
});
