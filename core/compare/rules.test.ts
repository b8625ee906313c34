// The rules check: the model's policy rules against what `ip [-6] [-j] rule`
// printed on a node, and the round trip model → iproute2 text/JSON → parser →
// model for every sample topology and node (with Calico WireGuard and Cilium's
// L7 proxy rules switched on).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDataplane } from '../cni';
import { rulesOf, withDefaultRules } from '../cni/rules';
import type { RoutingRule } from '../cni/types';
import { parseIpRule, parseIpRuleJson } from '../parse';
import { renderIpRule, renderIpRuleJson } from '../render/iproute';
import { loadText } from '../trace/testing';
import { testTopology } from '../cni/testing';
import { compareRules, ruleRecordToModel } from './rules';

const sample = (f: string) => readFileSync(new URL(`../../resources/samples/${f}`, import.meta.url), 'utf8');
const real = (text: string, family: 4 | 6 = 4) => {
  const r = parseIpRule(text, { family });
  expect(r.diagnostics).toEqual([]);
  return r.records;
};

const KERNEL = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';
const CILIUM = '9:\tfrom all fwmark 0x200/0xf00 lookup 2004\n100:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';
const WG = '0:\tfrom all lookup local\n99:\tnot from all fwmark 0x100000/0x100000 lookup 1\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';

const cilium = buildDataplane(testTopology({ plugin: 'cilium', mode: 'vxlan' })).node('node-1');
const calico = buildDataplane(testTopology({ plugin: 'calico', mode: 'bgp' })).node('node-1');
const wg = buildDataplane(testTopology({ plugin: 'calico', mode: 'vxlan', encryption: true })).node('node-1');

describe('compareRules', () => {
  it('equal rules: match, every rule compared (text and JSON from the node alike)', () => {
    for (const [ns, text] of [[cilium, CILIUM], [calico, KERNEL], [wg, WG]] as const) {
      const r = compareRules(ns, real(text));
      expect(r).toMatchObject({ check: 'rules', status: 'match', items: [], compared: text.trim().split('\n').length });
      expect(compareRules(ns, parseIpRuleJson(renderIpRuleJson(ns)).records).status).toBe('match');
    }
    // the node's `proto kernel` (ip -d rule) is not a difference
    expect(compareRules(cilium, real(CILIUM.replace(/\n/g, ' proto kernel\n'))).status).toBe('match');
  });

  it('a Cilium node without the agent\'s rules: rule 9 missing (unexplained), the local rule at 0 instead of 100 (explained: same order)', () => {
    const r = compareRules(cilium, real(KERNEL));
    expect(r.status).toBe('different');
    const missing = r.items.find((i) => i.kind === 'missing')!;
    expect(missing).toMatchObject({ where: 'IPv4 rule 9', model: '9: from all fwmark 0x200/0xf00 lookup 2004', explained: false });
    expect(missing.explanation).toMatch(/packets matching `from all fwmark 0x200\/0xf00` look in table 2004 in the model/);
    // and who installs it, from the model
    expect(missing.explanation).toMatch(/\(model: cilium-agent \(pkg\/proxy toProxyRule\)/);
    const local = r.items.find((i) => i.kind === 'changed')!;
    expect(local).toMatchObject({ where: 'IPv4 rule 100', model: '100: from all lookup local', real: '0: from all lookup local', explained: true });
    expect(local.explanation).toMatch(/L7 proxy disabled there/);
  });

  it('a non-Cilium node whose local rule sits at 100 (left over from Cilium): explained, with the reason', () => {
    const r = compareRules(calico, real(KERNEL.replace('0:\t', '100:\t')));
    expect(r.status).toBe('explained');
    expect(r.items).toHaveLength(1);
    expect(r.items[0].explanation).toMatch(/where Cilium's agent moves the local rule.*not running Cilium it is left over/);
  });

  it('a moved rule that now passes another node rule is unexplained', () => {
    const r = compareRules(calico, real('0:\tfrom 10.9.0.0/16 lookup 5\n100:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n'));
    const moved = r.items.find((i) => i.kind === 'changed')!;
    expect(moved.explained).toBe(false);
    const extra = r.items.find((i) => i.kind === 'extra')!;
    expect(extra).toMatchObject({ where: 'IPv4 rule 0', real: '0: from 10.9.0.0/16 lookup 5', explained: false });
  });

  it('Calico WireGuard: rule 99 missing on the node, or pointing at another table', () => {
    const missing = compareRules(wg, real(KERNEL));
    expect(missing.items).toEqual([expect.objectContaining({ kind: 'missing', where: 'IPv4 rule 99', explained: false })]);
    const other = compareRules(wg, real(WG.replace('lookup 1\n', 'lookup 7\n')));
    expect(other.items).toEqual([expect.objectContaining({ kind: 'changed', model: '99: not from all fwmark 0x100000/0x100000 lookup 1', real: '99: not from all fwmark 0x100000/0x100000 lookup 7', explained: false })]);
    expect(other.items[0].explanation).toMatch(/look in table 1 in the model but look in table 7 on the node/);
  });

  it('rules of other software: Tailscale\'s 52xx explained; one before main the model cannot express is not, and says what it cannot express', () => {
    const ts = '5210:\tfrom all fwmark 0x80000/0xff0000 lookup main\n5230:\tfrom all fwmark 0x80000/0xff0000 lookup default\n5250:\tfrom all fwmark 0x80000/0xff0000 unreachable\n5270:\tfrom all lookup 52\n';
    const r = compareRules(calico, real(`0:\tfrom all lookup local\n${ts}1000:\tfrom all uidrange 1000-2000 ipproto tcp dport 443 lookup 200\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n`));
    const tail = r.items.filter((i) => /rule 52/.test(i.where ?? ''));
    expect(tail).toHaveLength(4);
    expect(tail.every((i) => i.explained && /tailscaled/.test(i.explanation))).toBe(true);
    const uid = r.items.find((i) => i.where === 'IPv4 rule 1000')!;
    expect(uid.explained).toBe(false);
    expect(uid.explanation).toMatch(/cannot express uidrange 1000-2000, ipproto tcp, dport 443/);
  });

  it('after main, the default-table rule, detached devices', () => {
    const after = compareRules(calico, real(`${KERNEL}40000:\tfrom all lookup 9\n`));
    expect(after.status).toBe('explained');
    expect(after.items[0].explanation).toMatch(/after the main rule \(32766\)/);
    const noDefault = compareRules(calico, real('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n'));
    expect(noDefault.items).toEqual([expect.objectContaining({ kind: 'missing', where: 'IPv4 rule 32767', explained: true })]);
    const ns = { rules: withDefaultRules([{ family: 4, priority: 50, iif: 'eth1', table: 8, origin: 't' } as RoutingRule]) };
    const det = compareRules(ns, real(`0:\tfrom all lookup local\n50:\tfrom all iif eth1 [detached] lookup 8\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n`));
    expect(det.items).toEqual([expect.objectContaining({ kind: 'changed', where: 'IPv4 rule 50', explained: false, explanation: expect.stringMatching(/no device eth1/) })]);
  });

  it('compares one family at a time', () => {
    const v6 = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n';
    expect(compareRules(calico, real(v6, 6), { family: 6 }).status).toBe('match');
    // IPv4 records are not IPv6 rules: every model IPv6 rule is missing
    expect(compareRules(calico, real(KERNEL), { family: 6 }).items.filter((i) => i.kind === 'missing')).toHaveLength(2);
  });
});

describe('round trip: render ip rule / ip -j rule → parse → the model\'s rules', () => {
  const strip = (r: RoutingRule) => ({ ...r, origin: '' });
  const topologies: [string, ReturnType<typeof loadText>][] = [];
  // every topology sample (resources/samples/policy holds reach scenarios, not topologies)
  for (const f of ['seed.yaml', 'three-tier.yaml', 'dual-stack.yaml', 'mesh.yaml']) {
    for (const set of [[], ['cni=calico-vxlan', 'encryption=true'], ['cni=cilium-vxlan'], ['cni=cilium-native'], ['cni=cilium-native', 'l7Proxy=false']]) {
      topologies.push([`${f} ${set.join(' ')}`.trim(), loadText(sample(f), set, f)]);
    }
  }
  it.each(topologies)('%s: every node and pod, both families, text and JSON', (_name, t) => {
    const dp = buildDataplane(t);
    const spaces = [...t.nodes.map((n) => dp.node(n.name)), ...dp.pods.values()];
    let nonDefault = 0;
    for (const ns of spaces) {
      for (const family of [4, 6] as const) {
        const want = rulesOf(ns, family).map(strip);
        if (ns.rules) nonDefault++;
        for (const parsed of [parseIpRule(renderIpRule(ns, { family }), { family }), parseIpRuleJson(renderIpRuleJson(ns, { family }), { family })]) {
          expect(parsed.diagnostics).toEqual([]);
          const back = parsed.records.map((r) => ruleRecordToModel(r, ''));
          expect(back.every((b) => b.unsupported.length === 0)).toBe(true);
          expect(back.map((b) => strip(b.rule!))).toEqual(want);
        }
        expect(compareRules(ns, parseIpRuleJson(renderIpRuleJson(ns, { family }), { family }).records, { family }).status).toBe('match');
      }
    }
    if (/encryption|cilium-(vxlan|native)$/.test(_name)) expect(nonDefault).toBeGreaterThan(0);
  });

  it('any rule set the model can hold survives the text and the JSON (property)', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${[a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.')}/${p}`);
    const rule = fc.record(
      {
        priority: fc.integer({ min: 1, max: 40000 }),
        not: fc.boolean(),
        from: v4,
        to: v4,
        fwmark: fc.integer({ min: 0, max: 0xffffffff }),
        fwmask: fc.integer({ min: 0, max: 0xffffffff }),
        iif: fc.constantFrom('eth0', 'lo', 'cilium_host'),
        oif: fc.constantFrom('eth1', 'wireguard.cali'),
        table: fc.oneof(fc.constantFrom<RoutingRule['table']>('main', 'local', 'default'), fc.integer({ min: 1, max: 252 }), fc.integer({ min: 256, max: 0xfffffff })),
      },
      { requiredKeys: ['priority', 'table'] },
    );
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 8 }), (rs) => {
        const extra = rs.map((r) => {
          const out: RoutingRule = { family: 4, priority: r.priority, table: r.table, origin: '' };
          if (r.not) out.not = true;
          for (const k of ['from', 'to'] as const) {
            const v = r[k];
            // the kernel stores a /0 as no prefix and prints the address with its host bits as given;
            // the model keeps canonical prefixes
            if (v && !v.endsWith('/0')) out[k] = v.split('/')[1] === '32' ? v : canonical(v);
          }
          if (r.fwmark !== undefined) {
            out.fwmark = r.fwmark;
            if (r.fwmask !== undefined && r.fwmask !== 0xffffffff) out.fwmask = r.fwmask;
          }
          if (r.iif) out.iif = r.iif;
          if (r.oif) out.oif = r.oif;
          return out;
        });
        const ns = { id: 'p', interfaces: [], routes: [], neighbours: [], fdb: [], sysctls: {}, rules: withDefaultRules(extra) };
        const want = rulesOf(ns, 4).map(strip);
        for (const parsed of [parseIpRule(renderIpRule(ns)), parseIpRuleJson(renderIpRuleJson(ns))]) {
          expect(parsed.diagnostics).toEqual([]);
          expect(parsed.records.map((x) => strip(ruleRecordToModel(x, '').rule!))).toEqual(want);
        }
      }),
      { numRuns: 200 },
    );
  });
});

function canonical(cidr: string): string {
  const [a, p] = cidr.split('/');
  const n = a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const plen = Number(p);
  const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
  const b = (n & mask) >>> 0;
  return `${[b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join('.')}/${plen}`;
}
