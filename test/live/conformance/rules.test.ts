// Conformance of the policy routing rules (core/cni RoutingRule, the ip-rule /
// ip-rule-json renderers, the `ip rule` parser and the rules compare check)
// with the REAL kernel and iproute2: node-1 of a Calico WireGuard cluster
// (felix's `99: not from all fwmark 0x100000/0x100000 lookup 1` and table 1)
// and of Cilium clusters (the L7 proxy's `9: from all fwmark 0x200/0xf00
// lookup 2004`, table 2004, the local rule moved to 100), IPv4 and dual-stack,
// are built in scratch namespaces from the model (build-netns.ts; rules with
// `ip rule add` as the agents do, rules-netns.ts). Then:
// - `ip [-6] rule` and `ip [-6] -j rule` print exactly what the renderers print;
// - both parse back to exactly the model's rules;
// - the rules check (compareRules, and compareNode through a NetnsRunner as
//   `netlab compare --via netns://…` runs it) reports "match";
// - `ip route get DST mark M` agrees with the model's lookup for unmarked
//   packets, WireGuard's mark and the proxy mark.
//
// Test-bed artifact: this kernel has no WireGuard module, so wireguard.cali /
// wg-v6.cali are veths of the same name (their peers in the lan namespace),
// enough for the routes and rules that name them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataplane, type NodeDataplane } from '../../../core/cni';
import { rulesOf } from '../../../core/cni/rules';
import type { RoutingRule } from '../../../core/cni/types';
import { compareRules, ruleRecordToModel } from '../../../core/compare';
import { parseIpRule, parseIpRuleJson } from '../../../core/parse';
import { renderIpRouteGet, renderIpRule, renderIpRuleJson } from '../../../core/render/iproute';
import { compareNode } from '../../../electron/host/remote/compare';
import { NetnsRunner } from '../../../electron/host/remote/netns';
import { buildNode, prepareNamespace, type BuiltNode } from './build-netns';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, sweepLeftovers } from './harness';
import { loadRules } from './rules-netns';

interface Case {
  name: string;
  file: string;
  set: string[];
  rulesBeyondDefaults: boolean;
  /**
   * `node`: node-1 and its pods built whole (build-netns.ts). `rules-only`: a
   * namespace with lo, the numbered tables' routes and the rules — for Cilium
   * dual-stack, whose IPv6 routes via the router IP on cilium_host the kernel
   * refuses from `ip route add` ("Gateway can not be a local address"; the agent
   * installs them before the address), so `ip route get` is not compared there.
   */
  build: 'node' | 'rules-only';
}

const CASES: Case[] = [
  { name: 'calico-vxlan WireGuard', file: 'seed.yaml', set: ['cni=calico-vxlan', 'encryption=true'], rulesBeyondDefaults: true, build: 'node' },
  { name: 'calico-vxlan WireGuard dual-stack', file: 'dual-stack.yaml', set: ['podIPOffset=2', 'cni=calico-vxlan', 'encryption=true'], rulesBeyondDefaults: true, build: 'node' },
  { name: 'cilium-vxlan', file: 'seed.yaml', set: ['cni=cilium-vxlan'], rulesBeyondDefaults: true, build: 'node' },
  { name: 'cilium-native', file: 'seed.yaml', set: ['cni=cilium-native'], rulesBeyondDefaults: true, build: 'node' },
  { name: 'cilium-native dual-stack', file: 'dual-stack.yaml', set: ['podIPOffset=2', 'cni=cilium-native'], rulesBeyondDefaults: true, build: 'rules-only' },
  { name: 'cilium-vxlan without the L7 proxy', file: 'seed.yaml', set: ['cni=cilium-vxlan', 'l7Proxy=false'], rulesBeyondDefaults: false, build: 'node' },
];

/** lo, the routes of the numbered tables (Cilium's `local default dev lo table 2004`), and the rules. */
function buildRulesOnly(tag: string, node: NodeDataplane): BuiltNode {
  const n = Netns.create(`${tag}-n`);
  const lan = Netns.create(`${tag}-lan`);
  prepareNamespace(n);
  for (const family of [4, 6] as const) {
    const lines = node.routes
      .filter((r) => r.family === family && typeof r.table === 'number')
      .map((r) => {
        if (r.dev && r.dev !== 'lo') throw new Error(`rules-only build: ${r.dst} table ${r.table} needs device ${r.dev}`);
        return `route add ${r.type} ${r.dst} dev ${r.dev ?? 'lo'} table ${r.table} proto ${r.protocol}${family === 4 ? ` scope ${r.scope}` : ''}${r.metric !== undefined ? ` metric ${r.metric}` : ''}`;
      });
    if (lines.length) n.exec(['ip', `-${family}`, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }
  loadRules(n, node);
  return { node: n, lan, pods: new Map(), netnsNames: new Map() };
}

const strip = (r: RoutingRule) => ({ ...r, origin: '' });

liveDescribe('conformance: policy routing rules (ip rule) in real namespaces vs the model, the parser and the rules check', ['ip'], () => {
  beforeAll(() => {
    sweepLeftovers();
  });
  afterAll(() => destroyAll());

  CASES.forEach((c, index) => {
    describe(c.name, () => {
      const t = loadRepoTopology(`resources/samples/${c.file}`, c.set);
      const dp = buildDataplane(t);
      const node: NodeDataplane = dp.node('node-1');
      const families: (4 | 6)[] = t.settings.clusterCIDRs.some((x) => x.includes(':')) ? [4, 6] : [4];
      let built: BuiltNode | undefined;

      beforeAll(() => {
        built =
          c.build === 'node'
            ? buildNode(`rules${index}`, node, [...dp.pods.values()].filter((p) => p.node === 'node-1'), { wireguardStandIn: true })
            : buildRulesOnly(`rules${index}`, node);
      });
      afterAll(() => {
        if (!built) return;
        for (const { ns } of built.pods.values()) ns.destroy();
        built.node.destroy();
        built.lan.destroy();
      });

      it('the model has the rules this case is about', () => {
        expect(!!node.rules).toBe(c.rulesBeyondDefaults);
      });

      it.each([4, 6] as const)('ip -%s rule and ip -j rule print exactly what the renderers print', (family) => {
        const ns = built!.node;
        expect(ns.exec(['ip', `-${family}`, 'rule', 'show'])).toBe(renderIpRule(node, { family }));
        expect(ns.exec(['ip', `-${family}`, '-j', 'rule', 'show'])).toBe(renderIpRuleJson(node, { family }));
      });

      it.each([4, 6] as const)('the kernel\'s IPv%s rules parse back to exactly the model\'s (text and JSON), and the rules check says match', (family) => {
        const ns = built!.node;
        const want = rulesOf(node, family).map(strip);
        for (const parsed of [parseIpRule(ns.exec(['ip', `-${family}`, 'rule', 'show']), { family }), parseIpRuleJson(ns.exec(['ip', `-${family}`, '-j', 'rule', 'show']), { family })]) {
          expect(parsed.diagnostics).toEqual([]);
          const back = parsed.records.map((r) => ruleRecordToModel(r, ''));
          expect(back.flatMap((b) => b.unsupported)).toEqual([]);
          expect(back.map((b) => strip(b.rule!))).toEqual(want);
        }
        // `ip -d` prints proto (kernel for the kernel's rules, unspec for ours): not a difference
        const detailed = parseIpRule(ns.exec(['ip', `-${family}`, '-d', 'rule', 'show']), { family });
        expect(detailed.records.every((r) => r.protocol !== undefined)).toBe(true);
        const res = compareRules(node, detailed.records, { family });
        expect(res.items).toEqual([]);
        expect(res.status).toBe('match');
      });

      it('compareNode through the namespace (netlab compare --check rules): match, both families when dual-stack', async () => {
        const raw: string[] = [];
        const report = await compareNode({ topology: t, node: 'node-1', runner: new NetnsRunner(built!.node.name), checks: ['rules'], onRaw: (n) => raw.push(n) });
        expect(report.checks).toHaveLength(1);
        expect(report.checks[0].items).toEqual([]);
        expect(report.checks[0].status).toBe('match');
        expect(raw).toEqual(families.map((f) => (f === 6 ? 'ip-6-j-rule.json' : 'ip-j-rule.json')));
      });

      if (c.build === 'node') {
        it('ip route get with and without marks: the kernel walks the rules as the model does', () => {
          const ns = built!.node;
          const dsts = ['8.8.8.8', '10.0.1.5', '10.0.1.6', '10.244.2.8', '10.244.3.9', ...t.pods.filter((p) => p.nodeName === 'node-1' && !p.hostNetwork).map((p) => p.ips[0])];
          for (const mark of [0, 0x200, 0x1200, 0x100000, 0xa00]) {
            for (const dst of dsts) {
              const argv = ['ip', 'route', 'get', dst, ...(mark ? ['mark', `0x${mark.toString(16)}`] : [])];
              const real = ns.execFull(argv);
              const model = renderIpRouteGet(node, dst, mark ? { mark } : {});
              expect(real.status === 0 ? real.stdout : real.stderr, `${argv.join(' ')}`).toBe(model.text);
            }
          }
        });
      } else {
        // Only the numbered tables are built here (no main-table routes): compare the lookups the
        // proxy rule decides, IPv4 and IPv6 — marked packets go local through table 2004.
        it('ip route get with the proxy marks (IPv4 and IPv6): rule 9 sends them to table 2004 as the model does', () => {
          const ns = built!.node;
          let compared = 0;
          for (const family of families) {
            const dsts = family === 4 ? ['8.8.8.8', '10.0.1.6', '10.244.2.8'] : ['2001:db8::1', ...t.pods.filter((p) => p.nodeName !== 'node-1' && !p.hostNetwork).map((p) => p.ips.find((ip) => ip.includes(':'))).filter((ip): ip is string => !!ip).slice(0, 2)];
            for (const mark of [0x200, 0x1200]) {
              for (const dst of dsts) {
                const argv = ['ip', `-${family}`, 'route', 'get', dst, 'mark', `0x${mark.toString(16)}`];
                const real = ns.execFull(argv);
                const model = renderIpRouteGet(node, dst, { mark });
                expect(real.status, `${argv.join(' ')}: ${real.stderr}`).toBe(0);
                expect(real.stdout, argv.join(' ')).toBe(model.text);
                expect(real.stdout).toMatch(/ table 2004 /);
                compared++;
              }
            }
          }
          expect(compared).toBeGreaterThanOrEqual(10);
        });
      }
    });
  });
});
