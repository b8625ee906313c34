// felix's kube-proxy IPVS support and WireGuard rules, checked against real
// nodes. Captures used (read through the public code index; quoted, not copied
// into the product):
//
// [IPVS] `iptables -L -n -v` of a Calico worker node ("nvd-worker1", kube-proxy
//   in IPVS mode, IPIP pool, five workloads) — public code index file id
//   20939316301 (the index does not expose its repository/path). Its felix
//   predates the `! --ctstate DNAT` on cali-OUTPUT's cali-to-host-endpoint
//   jump (and felix 3.2x's pass-mark clear in the endpoint chains), so the last
//   two cali-OUTPUT hashes are checked with that match removed.
// [WG] tigera-cs/Calico-Security-Observability-Troubleshooting-Training,
//   "modules/5.Secure Kubernetes Network Using Wireguard Encryption/README.md":
//   `iptables-save | grep -i wireguard` of a WireGuard node:
//     -A cali-INPUT -p udp -m comment --comment "cali:Vnbo2QqyS1ffLI4P" -m comment --comment "Allow incoming IPv4 Wireguard packets" -m multiport --dports 51820 -m addrtype --dst-type LOCAL -j ACCEPT
//     -A cali-OUTPUT -p udp -m comment --comment "cali:o2S0bt1hL_KIBcHM" -m comment --comment "Allow outgoing IPv4 Wireguard packets" -m multiport --dports 51820 -m addrtype --src-type LOCAL -j ACCEPT
//   That cluster runs Calico Enterprise (its `wg` shows fwmark 0x200000: one
//   more mark bit allocated, and more rules ahead in cali-INPUT), so its lines
//   apply but not its chained hashes.
// Source of the rule layout: projectcalico/calico v3.28.2 felix/rules/static.go
// (StaticFilterInputForwardCheckChain, StaticFilterOutputForwardEndpointMarkChain,
// filterInputChain, filterOutputChain, FilterInputChainAllowWG),
// felix/rules/dispatch.go (endpointMarkDispatchChains), endpoints.go
// (endpointSetMarkChain), epmark.go, felix/dataplane/driver.go (mark bits).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IpsetStore, parseIptablesSave, runHook, type Hook, type Packet as NfPacket } from '../dataplane';
import { compileRuleset, runHookCompiled } from '../trace/netfilter';
import { loadText } from '../trace/testing';
import { buildCalicoDataplane, calicoInterfaceName, felixRenderForHash, felixSettings, ipvsChains, ruleHashes, saveRule, type CalicoDataplane, type Rule } from './calico';
import { CALICO_WIREGUARD_MARK } from '../cni';
import { fnv1_32 } from '../hash';
import { endpointMarks, felixMarks, mapNumberToMark } from './felix-marks';

const sample = (f: string): string => readFileSync(new URL(`../../resources/samples/${f}`, import.meta.url), 'utf8');
const SEED = sample('seed.yaml');
const THREE = sample('three-tier.yaml');
const DUAL = sample('dual-stack.yaml');

const chainRules = (save: string, chain: string): string[] => save.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
const hashesOf = (lines: string[]): string[] => lines.map((l) => /"cali:([\w-]{16})"/.exec(l)?.[1] ?? '');
const noHash = (l: string): string => l.replace(/ -m comment --comment "cali:[\w-]{16}"/, '');

/** The five workload interfaces of the [IPVS] capture. */
const CAPTURE_IFACES = ['cali27d5a8fe8ae', 'cali2aef8851418', 'cali7aefa6d70b6', 'cali9819c942018', 'calia839c1cc9c9'];

describe("felix's mark bits", () => {
  it('allocates accept, pass, scratch0, scratch1, [WireGuard] and the endpoint field from 0xffff0000, lowest bit first', () => {
    expect(felixMarks(false)).toEqual({ accept: 0x10000, pass: 0x20000, scratch0: 0x40000, scratch1: 0x80000, wireguard: 0, endpoint: 0xfff00000, nonCaliEndpoint: 0x100000 });
    expect(felixMarks(true)).toEqual({ accept: 0x10000, pass: 0x20000, scratch0: 0x40000, scratch1: 0x80000, wireguard: 0x100000, endpoint: 0xffe00000, nonCaliEndpoint: 0x200000 });
    // Another IptablesMarkMask: the same order over its bits; nothing left for the endpoint field with only four.
    expect(felixMarks(false, 0x0ff0)).toEqual({ accept: 0x10, pass: 0x20, scratch0: 0x40, scratch1: 0x80, wireguard: 0, endpoint: 0xf00, nonCaliEndpoint: 0x100 });
    expect(felixMarks(false, 0xf0000)).toMatchObject({ endpoint: 0, nonCaliEndpoint: 0 });
  });

  it('spreads FNV-1 positions (core/hash fnv1_32) over the endpoint bits', () => {
    expect(mapNumberToMark(0xfff00000, 1)).toBe(0x100000);
    expect(mapNumberToMark(0xfff00000, 0xd8e)).toBe(0xd8e00000);
    expect(mapNumberToMark(0x0f0f0000, 0x1f)).toBe(0x010f0000);
    expect(mapNumberToMark(0x000f0000, 0x10)).toBe(0); // does not fit
  });

  it("gives the real node's interfaces the endpoint marks they had ([IPVS] cali-sm-* / cali-from-endpoint-mark)", () => {
    const m = endpointMarks(CAPTURE_IFACES, felixMarks(false));
    expect(Object.fromEntries([...m].map(([k, v]) => [k, `0x${v.toString(16)}`]))).toEqual({
      cali27d5a8fe8ae: '0xd8e00000',
      cali2aef8851418: '0xef300000',
      cali7aefa6d70b6: '0x78900000',
      cali9819c942018: '0x7ea00000',
      calia839c1cc9c9: '0xcaa00000',
    });
    // With WireGuard the field is 11 bits (0xffe00000): position = hash mod 2048 = 0xd8e mod 0x800 = 0x58e.
    expect(endpointMarks(['cali27d5a8fe8ae'], felixMarks(true)).get('cali27d5a8fe8ae')).toBe(0x58e << 21 >>> 0);
  });

  it('moves a colliding interface to the next free position, never 0 or the non-Calico position 1', () => {
    const pos = (n: string): number => fnv1_32(n) % 4096;
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const n = `cali${i.toString(16).padStart(11, '0')}`;
      const other = seen.get(pos(n));
      if (other) pair = [other, n];
      else seen.set(pos(n), n);
    }
    const m = endpointMarks(pair, felixMarks(false));
    const [a, b] = [...pair].sort();
    expect(m.get(a)).toBe(mapNumberToMark(0xfff00000, pos(a)));
    expect(m.get(b)).toBe(mapNumberToMark(0xfff00000, (pos(a) + 1) % 4096 || 2));
    for (const v of endpointMarks(CAPTURE_IFACES, felixMarks(false)).values()) expect([0, 0x100000]).not.toContain(v);
  });
});

describe('kube-proxy IPVS mode: felix\'s KubeIPVSSupportEnabled chains', () => {
  const ipvs = loadText(SEED, ['cni=calico-ipip', 'kubeProxy=ipvs']);
  const dp = buildCalicoDataplane(ipvs);
  const save = dp.iptablesSave('node-1', undefined, 4, ['filter']);

  it("cali-INPUT, cali-OUTPUT, cali-forward-check and cali-forward-endpoint-mark equal the real IPVS node's, hash for hash", () => {
    // [IPVS] cali-INPUT: PajejrV4aFdkZojI / _wjq-Yrma8Ly1Svo (IPIP), "MARK and 0xfffff" ss8lEMQsXi-s6qYT,
    // cali-forward-check PgIW-V0nEjwPhF_8, "RETURN … mark match ! 0x0/0xfff00000" QMJlDwlS0OjHyfMN, cali-wl-to-host [goto]
    // nDRe73txrna-aZjG, ACCEPT mark 0x10000 iX2AYvqGXaVqwkro, "MARK and 0xfff0ffff" bhpnxD5IRtBP8KW0,
    // cali-from-host-endpoint H5_bccAbHV0sooVy, "Host endpoint policy accepted packet." inBL01YlfurT0dbI.
    const input = chainRules(save, 'cali-INPUT');
    expect(hashesOf(input)).toEqual(['PajejrV4aFdkZojI', '_wjq-Yrma8Ly1Svo', 'ss8lEMQsXi-s6qYT', 'PgIW-V0nEjwPhF_8', 'QMJlDwlS0OjHyfMN', 'nDRe73txrna-aZjG', 'iX2AYvqGXaVqwkro', 'bhpnxD5IRtBP8KW0', 'H5_bccAbHV0sooVy', 'inBL01YlfurT0dbI']);
    expect(input.slice(2, 5).map(noHash)).toEqual([
      '-A cali-INPUT -j MARK --set-xmark 0x0/0xfff00000',
      '-A cali-INPUT -j cali-forward-check',
      '-A cali-INPUT -m mark ! --mark 0x0/0xfff00000 -j RETURN',
    ]);
    // [IPVS] cali-OUTPUT: Mq1_rAdXXH3YkrzW, "cali-forward-endpoint-mark [goto] mark match ! 0x0/0xfff00000" 5Z67OUUpTOM7Xa1a,
    // "RETURN -o cali+" M2Wf0OehNdig8MHR, IPIP AJBkLho_0Qd8LNr3, "MARK and 0xfff0ffff" iz2RWXlXJDUfsLpe, then (without
    // the ctstate match) cali-to-host-endpoint hXojbnLundZDgZyw and the host endpoint accept wankpMDC2Cy1KfBv.
    const output = chainRules(save, 'cali-OUTPUT');
    expect(hashesOf(output).slice(0, 5)).toEqual(['Mq1_rAdXXH3YkrzW', '5Z67OUUpTOM7Xa1a', 'M2Wf0OehNdig8MHR', 'AJBkLho_0Qd8LNr3', 'iz2RWXlXJDUfsLpe']);
    expect(noHash(output[1])).toBe('-A cali-OUTPUT -m mark ! --mark 0x0/0xfff00000 -g cali-forward-endpoint-mark');
    const rules = dp.forNode('node-1').chains.get('cali-OUTPUT')!.rules;
    const older = rules.map((r): Rule => ({ ...r, matches: r.matches.filter((m) => m.k !== 'ctstate') }));
    expect(ruleHashes('cali-OUTPUT', older.map((r) => felixRenderForHash('cali-OUTPUT', r))).slice(5)).toEqual(['hXojbnLundZDgZyw', 'wankpMDC2Cy1KfBv']);
    // [IPVS] cali-forward-check: RETURN ctstate RELATED,ESTABLISHED Pbldlb4FaULvpdD8; tcp/udp "To kubernetes NodePort service"
    // multiport dports 30000:32767 match-set cali40this-host dst [goto] ZD-6UxuUtGW-xtzg / CbPfUajQ2bFVnDq4;
    // "To kubernetes service" ! match-set cali40this-host dst jmhU0ODogX-Zfe5g.
    expect(chainRules(save, 'cali-forward-check')).toEqual([
      '-A cali-forward-check -m comment --comment "cali:Pbldlb4FaULvpdD8" -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
      '-A cali-forward-check -p tcp -m comment --comment "cali:ZD-6UxuUtGW-xtzg" -m comment --comment "To kubernetes NodePort service" -m multiport --dports 30000:32767 -m set --match-set cali40this-host dst -g cali-set-endpoint-mark',
      '-A cali-forward-check -p udp -m comment --comment "cali:CbPfUajQ2bFVnDq4" -m comment --comment "To kubernetes NodePort service" -m multiport --dports 30000:32767 -m set --match-set cali40this-host dst -g cali-set-endpoint-mark',
      '-A cali-forward-check -m comment --comment "cali:jmhU0ODogX-Zfe5g" -m comment --comment "To kubernetes service" -m set ! --match-set cali40this-host dst -j cali-set-endpoint-mark',
    ]);
    // [IPVS] cali-forward-endpoint-mark: cali-from-endpoint-mark "mark match ! 0x100000/0xfff00000" O0SmFDrnm7KggWqW,
    // cali-to-wl-dispatch -o cali+ aFl0WFKRxDqj8oA6, cali-to-hep-forward AZKVrO3i_8cLai5f, "MARK and 0xfffff"
    // 96HaP1sFtb-NYoYA, "Policy explicitly accepted packet." VxO6hyNWz62YEtul.
    expect(chainRules(save, 'cali-forward-endpoint-mark')).toEqual([
      '-A cali-forward-endpoint-mark -m comment --comment "cali:O0SmFDrnm7KggWqW" -m mark ! --mark 0x100000/0xfff00000 -j cali-from-endpoint-mark',
      '-A cali-forward-endpoint-mark -o cali+ -m comment --comment "cali:aFl0WFKRxDqj8oA6" -j cali-to-wl-dispatch',
      '-A cali-forward-endpoint-mark -m comment --comment "cali:AZKVrO3i_8cLai5f" -j cali-to-hep-forward',
      '-A cali-forward-endpoint-mark -m comment --comment "cali:96HaP1sFtb-NYoYA" -j MARK --set-xmark 0x0/0xfff00000',
      '-A cali-forward-endpoint-mark -m comment --comment "cali:VxO6hyNWz62YEtul" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
    ]);
  });

  it("the endpoint-mark dispatch for the real node's five workloads, hash for hash (cali2+ split into cali-set-endpoint-mark-2)", () => {
    const chains = new Map(ipvsChains(CAPTURE_IFACES, felixSettings(ipvs), 'cali40this-host').map((c) => [c.name, c]));
    const lines = (name: string): string[] => chains.get(name)!.rules.map((r) => saveRule(name, r));
    // [IPVS] cali-set-endpoint-mark: cali2+ [goto] cali-set-endpoint-mark-2 tz9NBFniulUgGBjW, cali-sm-cali7aefa6d70b6
    // IIdcC1Nc8DMJPOmV, cali-sm-cali9819c942018 HhHRDuuRHawybzO0, cali-sm-calia839c1cc9c9 s0llq7oHvWXgtWHF, DROP cali+
    // "Unknown endpoint" WvxmRu87ZdkMFZfN, "Non-Cali endpoint mark" MARK xset 0x100000/0xfff00000 5mtFm2IJrCxBoUiE.
    expect(lines('cali-set-endpoint-mark')).toEqual([
      '-A cali-set-endpoint-mark -i cali2+ -m comment --comment "cali:tz9NBFniulUgGBjW" -g cali-set-endpoint-mark-2',
      '-A cali-set-endpoint-mark -i cali7aefa6d70b6 -m comment --comment "cali:IIdcC1Nc8DMJPOmV" -g cali-sm-cali7aefa6d70b6',
      '-A cali-set-endpoint-mark -i cali9819c942018 -m comment --comment "cali:HhHRDuuRHawybzO0" -g cali-sm-cali9819c942018',
      '-A cali-set-endpoint-mark -i calia839c1cc9c9 -m comment --comment "cali:s0llq7oHvWXgtWHF" -g cali-sm-calia839c1cc9c9',
      '-A cali-set-endpoint-mark -i cali+ -m comment --comment "cali:WvxmRu87ZdkMFZfN" -m comment --comment "Unknown endpoint" -j DROP',
      '-A cali-set-endpoint-mark -m comment --comment "cali:5mtFm2IJrCxBoUiE" -m comment --comment "Non-Cali endpoint mark" -j MARK --set-xmark 0x100000/0xfff00000',
    ]);
    // [IPVS] cali-set-endpoint-mark-2: 1Ezy3UuQellelUY6, JdjymFzDaTn6R8OT — and no end rule (felix passes nil end rules).
    expect(hashesOf(lines('cali-set-endpoint-mark-2'))).toEqual(['1Ezy3UuQellelUY6', 'JdjymFzDaTn6R8OT']);
    // [IPVS] cali-sm-*: one "MARK xset <mark>/0xfff00000" each.
    expect(CAPTURE_IFACES.map((i) => lines(`cali-sm-${i}`))).toEqual([
      ['-A cali-sm-cali27d5a8fe8ae -m comment --comment "cali:5YcUdcJi9FRaL31s" -j MARK --set-xmark 0xd8e00000/0xfff00000'],
      ['-A cali-sm-cali2aef8851418 -m comment --comment "cali:wNB3cxkn8Zy4hVaZ" -j MARK --set-xmark 0xef300000/0xfff00000'],
      ['-A cali-sm-cali7aefa6d70b6 -m comment --comment "cali:iCSqkzn6SmXohZ0r" -j MARK --set-xmark 0x78900000/0xfff00000'],
      ['-A cali-sm-cali9819c942018 -m comment --comment "cali:7ewcJAgujCj_O-At" -j MARK --set-xmark 0x7ea00000/0xfff00000'],
      ['-A cali-sm-calia839c1cc9c9 -m comment --comment "cali:gDdTkl18TQmHodkw" -j MARK --set-xmark 0xcaa00000/0xfff00000'],
    ]);
    // [IPVS] cali-from-endpoint-mark: [goto] cali-fw-<iface> by "mark match <mark>/0xfff00000", then "Unknown interface" DROP.
    expect(lines('cali-from-endpoint-mark')).toEqual([
      '-A cali-from-endpoint-mark -m comment --comment "cali:yrNYN7JSyKTMrK2e" -m mark --mark 0xd8e00000/0xfff00000 -g cali-fw-cali27d5a8fe8ae',
      '-A cali-from-endpoint-mark -m comment --comment "cali:Mof1pl96ntHWNQs1" -m mark --mark 0xef300000/0xfff00000 -g cali-fw-cali2aef8851418',
      '-A cali-from-endpoint-mark -m comment --comment "cali:P5K9PLTqVKy5i_1_" -m mark --mark 0x78900000/0xfff00000 -g cali-fw-cali7aefa6d70b6',
      '-A cali-from-endpoint-mark -m comment --comment "cali:fQ0ik3KiJzTh9I70" -m mark --mark 0x7ea00000/0xfff00000 -g cali-fw-cali9819c942018',
      '-A cali-from-endpoint-mark -m comment --comment "cali:gitZnAAukiLAmCUI" -m mark --mark 0xcaa00000/0xfff00000 -g cali-fw-calia839c1cc9c9',
      '-A cali-from-endpoint-mark -m comment --comment "cali:tej56hiPcjcRGpe6" -m comment --comment "Unknown interface" -j DROP',
    ]);
    // No workloads: the root keeps its two end rules, from-endpoint-mark its drop.
    const empty = new Map(ipvsChains([], felixSettings(ipvs), 'cali40this-host').map((c) => [c.name, c]));
    expect(empty.get('cali-set-endpoint-mark')!.rules.map((r) => r.comments[0])).toEqual(['Unknown endpoint', 'Non-Cali endpoint mark']);
    expect(empty.get('cali-from-endpoint-mark')!.rules).toHaveLength(1);
  });

  it('adds only the IPVS chains and rules: every other chain is the iptables-mode one, byte for byte', () => {
    const plain = buildCalicoDataplane(loadText(SEED, ['cni=calico-ipip'])).iptablesSave('node-1', undefined, 4, ['filter']);
    expect(plain).not.toMatch(/forward-check|endpoint-mark|cali-sm-|this-host/);
    const byChain = (s: string): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      for (const l of s.split('\n')) if (l.startsWith('-A ')) m.set(l.split(' ')[1], [...(m.get(l.split(' ')[1]) ?? []), l]);
      return m;
    };
    const a = byChain(plain);
    const b = byChain(save);
    const ipvsOnly = [...b.keys()].filter((c) => !a.has(c)).sort();
    expect(ipvsOnly).toEqual(['cali-forward-check', 'cali-forward-endpoint-mark', 'cali-from-endpoint-mark', 'cali-set-endpoint-mark', ...[...dp.forNode('node-1').endpoints.keys()].sort().map((i) => `cali-sm-${i}`)]);
    for (const [c, lines] of a) if (c !== 'cali-INPUT' && c !== 'cali-OUTPUT') expect(b.get(c), c).toEqual(lines);
    expect(b.get('cali-INPUT')!.map(noHash).filter((l) => !/forward-check|0xfff00000/.test(l))).toEqual(a.get('cali-INPUT')!.map(noHash));
    expect(b.get('cali-OUTPUT')!.map(noHash).filter((l) => !/endpoint-mark/.test(l))).toEqual(a.get('cali-OUTPUT')!.map(noHash));
  });

  it("cali40this-host holds the host's own addresses (loopback, InternalIP, tunnel address), never a ClusterIP", () => {
    const nr = dp.forNode('node-1');
    const set = nr.ipsets.get('cali40this-host')!;
    const node = ipvs.nodes.find((n) => n.name === 'node-1')!;
    expect(set.type).toBe('hash:ip');
    expect([...set.members].sort()).toEqual(['10.0.1.5', '10.244.1.0', '127.0.0.1'].sort());
    expect(node.ips).toContain('10.0.1.5');
    for (const s of ipvs.services) for (const ip of s.clusterIPs ?? []) expect(set.members.has(ip)).toBe(false);
    expect(dp.ipsetList('node-1')).toMatch(/^Name: cali40this-host\nType: hash:ip\nRevision: 6\nHeader: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x[0-9a-f]{8}\nSize in memory: 336\nReferences: 3\nNumber of entries: 3\nMembers:\n10\.0\.1\.5\n10\.244\.1\.0\n127\.0\.0\.1$/m);
    // A caller with the node's interfaces replaces the default members.
    const given = buildCalicoDataplane(ipvs, { hostAddresses: (n, f) => (f === 4 ? ['127.0.0.1', '10.0.1.5', '172.17.0.1', 'fd00::1'] : []) });
    expect([...given.forNode('node-1').ipsets.get('cali40this-host')!.members].sort()).toEqual(['10.0.1.5', '127.0.0.1', '172.17.0.1']);
    // IPv6 (dual-stack): cali60this-host with ::1 and the node's IPv6 address, in the ip6tables forward-check.
    const dual = loadText(DUAL, ['kubeProxy=ipvs']);
    const d6 = buildCalicoDataplane(dual);
    const n6 = dual.nodes[0];
    const set6 = d6.forNode(n6.name, 6).ipsets.get('cali60this-host')!;
    expect(set6.family).toBe(6);
    expect(set6.members.has('::1')).toBe(true);
    for (const ip of n6.ips.filter((x) => x.includes(':'))) expect(set6.members.has(ip)).toBe(true);
    expect(d6.iptablesSave(n6.name, undefined, 6, ['filter'])).toContain('-m set ! --match-set cali60this-host dst -j cali-set-endpoint-mark');
  });

  describe('walks through INPUT and, after IPVS, OUTPUT', () => {
    const three = loadText(THREE, ['kubeProxy=ipvs']);
    const d3 = buildCalicoDataplane(three);
    const pods = three.pods.filter((p) => !p.hostNetwork && p.ips.length);
    const iface = (p: (typeof pods)[number]): string => calicoInterfaceName(p.namespace, p.name);
    const VIP = '10.96.0.77';

    it('a pod → ClusterIP → backend pod verdict equals the FORWARD verdict of the same pair (egress of the client; ingress too when the backend is local)', () => {
      let drops = 0;
      let accepts = 0;
      let local = 0;
      for (const a of pods)
        for (const b of pods) {
          if (a === b) continue;
          const same = a.nodeName === b.nodeName;
          for (const port of [80, 8080, 5432, 53]) {
            const fwd = d3.walk(a.nodeName!, 'FORWARD', { src: a.ips[0], dst: b.ips[0], proto: 'tcp', dport: port, in: iface(a), out: same ? iface(b) : 'eth0' });
            const r = d3.walkIpvsService(a.nodeName!, { src: a.ips[0], dst: VIP, proto: 'tcp', dport: 80, in: iface(a) }, { dst: b.ips[0], dport: port, out: same ? iface(b) : 'eth0' });
            expect(r.verdict, `${a.name} → ${b.name}:${port}`).toBe(fwd.verdict);
            // The egress chain ran in OUTPUT (through the endpoint mark), not in cali-INPUT's cali-wl-to-host.
            expect(r.input.trace.some((l) => l.includes('cali-wl-to-host'))).toBe(false);
            expect(r.input.trace).toContainEqual(expect.stringMatching(new RegExp(`^-A cali-sm-${iface(a)} .* -j MARK --set-xmark 0x[0-9a-f]+/0xfff00000$`)));
            expect(r.output!.trace).toContainEqual(expect.stringMatching(new RegExp(`^-A cali-from-endpoint-mark .* -g cali-fw-${iface(a)}$`)));
            if (same && r.output!.trace.some((l) => l.startsWith(`-A cali-fw-${iface(a)}`) && l.includes('RETURN'))) {
              expect(r.output!.trace).toContainEqual(expect.stringMatching(new RegExp(`-g cali-tw-${iface(b)}$`)));
            }
            if (r.verdict === 'ACCEPT') expect(r.output!.trace.at(-1)).toContain('Policy explicitly accepted packet.');
            drops += r.verdict === 'DROP' ? 1 : 0;
            accepts += r.verdict === 'ACCEPT' ? 1 : 0;
            local += same ? 1 : 0;
          }
        }
      expect(drops).toBeGreaterThan(10);
      expect(accepts).toBeGreaterThan(10);
      expect(local).toBeGreaterThan(0);
    });

    it('a NodePort from outside the cluster gets the non-Calico mark and only the backend\'s ingress policy', () => {
      const node = three.nodes[0];
      const nodeIP = node.ips.find((ip) => !ip.includes(':'))!;
      for (const b of pods.filter((p) => p.nodeName === node.name)) {
        for (const port of [80, 8080, 5432]) {
          const r = d3.walkIpvsService(node.name, { src: '192.0.2.10', dst: nodeIP, proto: 'tcp', dport: 30080, in: 'eth0' }, { dst: b.ips[0], dport: port, out: iface(b) });
          const fwd = d3.walk(node.name, 'FORWARD', { src: '192.0.2.10', dst: b.ips[0], proto: 'tcp', dport: port, in: 'eth0', out: iface(b) });
          expect(r.verdict).toBe(fwd.verdict);
          expect(r.input.trace).toContainEqual(expect.stringContaining('"To kubernetes NodePort service"'));
          expect(r.input.trace).toContainEqual(expect.stringContaining('Non-Cali endpoint mark'));
          expect(r.output!.trace.some((l) => l.includes('cali-from-endpoint-mark'))).toBe(false);
        }
      }
    });

    it("a pod's packet to its own node's address on a non-NodePort port is host traffic (cali-wl-to-host), not IPVS-forwarded", () => {
      const a = pods[0];
      const nodeIP = three.nodes.find((n) => n.name === a.nodeName)!.ips[0];
      const r = d3.walk(a.nodeName!, 'INPUT', { src: a.ips[0], dst: nodeIP, proto: 'tcp', dport: 10250, in: iface(a) });
      expect(r.mark & 0xfff00000).toBe(0);
      expect(r.trace).toContainEqual(expect.stringContaining('-g cali-wl-to-host'));
    });

    it('is refused when kube-proxy is not in IPVS mode', () => {
      const plain = buildCalicoDataplane(loadText(THREE));
      expect(() => plain.walkIpvsService('node-1', { src: pods[0].ips[0], dst: VIP, proto: 'tcp', dport: 80, in: iface(pods[0]) }, { dst: pods[1].ips[0], dport: 80 })).toThrow(/IPVS/);
    });

    it('core/dataplane\'s evaluator (runHook and the compiled walk evaluator) parses the rendered rules and gives the same verdicts and marks', () => {
      const ctxFor = (dp: CalicoDataplane, node: string) => {
        const nr = dp.forNode(node);
        const store = new IpsetStore();
        for (const s of nr.ipsets.values()) {
          const set = store.create(s.name, s.type, s.family);
          for (const m of s.members) set.add(m);
        }
        const local = new Set(three.nodes.find((n) => n.name === node)!.ips);
        const rs = parseIptablesSave(dp.iptablesSave(node, undefined, 4, ['filter']));
        return { rs, compiled: compileRuleset(rs), ctx: { isLocal: (ip: string) => local.has(ip), ipsets: store } };
      };
      const envs = new Map(three.nodes.map((n) => [n.name, ctxFor(d3, n.name)]));
      let n = 0;
      for (const a of pods)
        for (const b of pods) {
          if (a === b) continue;
          const same = a.nodeName === b.nodeName;
          const e = envs.get(a.nodeName!)!;
          const model = d3.walkIpvsService(a.nodeName!, { src: a.ips[0], dst: VIP, proto: 'tcp', dport: 80, in: iface(a) }, { dst: b.ips[0], dport: 8080, out: same ? iface(b) : 'eth0' });
          const pkt = (hook: Hook, mark: number): NfPacket =>
            hook === 'INPUT'
              ? { family: 4, proto: 'tcp', src: a.ips[0], dst: VIP, sport: 40000, dport: 80, inIface: iface(a), mark, ctstate: 'NEW', tcpFlags: ['SYN'] }
              : { family: 4, proto: 'tcp', src: a.ips[0], dst: b.ips[0], sport: 40000, dport: 8080, outIface: same ? iface(b) : 'eth0', mark, ctstate: 'NEW', tcpFlags: ['SYN'] };
          for (const run of [(h: Hook, p: NfPacket) => runHook(e.rs, h, p, e.ctx), (h: Hook, p: NfPacket) => runHookCompiled(e.compiled, h, p, e.ctx)]) {
            const inp = run('INPUT', pkt('INPUT', 0));
            expect(inp.verdict).toBe(model.input.verdict);
            expect(inp.packet.mark >>> 0).toBe(model.input.mark);
            const out = run('OUTPUT', pkt('OUTPUT', inp.packet.mark));
            expect(out.verdict).toBe(model.verdict);
            expect(out.packet.mark >>> 0).toBe(model.output!.mark);
          }
          n++;
        }
      expect(n).toBeGreaterThan(20);
    });
  });
});

describe('WireGuard (settings.cni.encryption)', () => {
  it("cali-INPUT / cali-OUTPUT accept UDP 51820 to / from local addresses after the tunnel rules, in the real node's spelling ([WG])", () => {
    for (const cni of ['calico-bgp', 'calico-ipip', 'calico-vxlan']) {
      const save = buildCalicoDataplane(loadText(SEED, [`cni=${cni}`, 'encryption=true'])).iptablesSave('node-1', undefined, 4, ['filter']);
      const input = chainRules(save, 'cali-INPUT');
      const output = chainRules(save, 'cali-OUTPUT');
      const wgIn = input.findIndex((l) => l.includes('Wireguard'));
      const wgOut = output.findIndex((l) => l.includes('Wireguard'));
      expect(noHash(input[wgIn])).toBe('-A cali-INPUT -p udp -m comment --comment "Allow incoming IPv4 Wireguard packets" -m multiport --dports 51820 -m addrtype --dst-type LOCAL -j ACCEPT');
      expect(noHash(output[wgOut])).toBe('-A cali-OUTPUT -p udp -m comment --comment "Allow outgoing IPv4 Wireguard packets" -m multiport --dports 51820 -m addrtype --src-type LOCAL -j ACCEPT');
      // felix's order: the IPIP / VXLAN rules, then WireGuard's, then the workload goto (INPUT) / the host mark clear (OUTPUT).
      expect(wgIn).toBe({ 'calico-bgp': 0, 'calico-ipip': 2, 'calico-vxlan': 2 }[cni]);
      expect(input[wgIn + 1]).toContain('-g cali-wl-to-host');
      expect(wgOut).toBe({ 'calico-bgp': 2, 'calico-ipip': 3, 'calico-vxlan': 3 }[cni]);
      expect(output[wgOut + 1]).toContain('-j MARK --set-xmark 0x0/0xf0000');
      expect(save.match(/Wireguard/g)).toHaveLength(2);
    }
    // The chained hashes (felix's scheme, checked on real nodes above and in dataplanes.test.ts) for the BGP layout.
    const bgp = buildCalicoDataplane(loadText(SEED, ['encryption=true'])).iptablesSave('node-1', undefined, 4, ['filter']);
    expect(hashesOf(chainRules(bgp, 'cali-INPUT'))[0]).toBe('srac2cQ5E3exSwlu');
    expect(hashesOf(chainRules(bgp, 'cali-OUTPUT'))[2]).toBe('OEtsJd1JBh1oiNuw');
  });

  it('no WireGuard rule without encryption, nor on ip6tables of an IPv4-only cluster', () => {
    for (const f of [SEED, THREE, DUAL]) {
      const t = loadText(f);
      expect(t.settings.cni.encryption).toBe(false);
      const dp = buildCalicoDataplane(t);
      for (const n of t.nodes) for (const fam of [4, 6] as const) expect(dp.iptablesSave(n.name, undefined, fam, ['filter'])).not.toMatch(/Wireguard|51820|51821/);
    }
    const seedWg = buildCalicoDataplane(loadText(SEED, ['encryption=true']));
    expect(seedWg.felix.wireguardV6).toBe(false);
    expect(seedWg.iptablesSave('node-1', undefined, 6, ['filter'])).not.toMatch(/Wireguard/);
  });

  it('dual-stack: ip6tables gets the IPv6 rules for wg-v6.cali on UDP 51821', () => {
    const t = loadText(DUAL, ['encryption=true']);
    const dp = buildCalicoDataplane(t);
    expect(dp.felix.wireguardV6).toBe(true);
    const s6 = dp.iptablesSave(t.nodes[0].name, undefined, 6, ['filter']);
    expect(chainRules(s6, 'cali-INPUT').map(noHash)).toContain('-A cali-INPUT -p udp -m comment --comment "Allow incoming IPv6 Wireguard packets" -m multiport --dports 51821 -m addrtype --dst-type LOCAL -j ACCEPT');
    expect(chainRules(s6, 'cali-OUTPUT').map(noHash)).toContain('-A cali-OUTPUT -p udp -m comment --comment "Allow outgoing IPv6 Wireguard packets" -m multiport --dports 51821 -m addrtype --src-type LOCAL -j ACCEPT');
    expect(s6).not.toContain('51820');
    expect(dp.iptablesSave(t.nodes[0].name, undefined, 4, ['filter'])).toContain('Allow incoming IPv4 Wireguard packets');
  });

  it('the walk accepts WireGuard from a peer by its rule; without encryption the same packet only meets the host endpoint chains', () => {
    const pkt = { src: '10.0.1.6', dst: '10.0.1.5', proto: 'udp', dport: 51820, in: 'eth0' };
    const on = buildCalicoDataplane(loadText(SEED, ['encryption=true'])).walk('node-1', 'INPUT', pkt);
    expect(on.verdict).toBe('ACCEPT');
    expect(on.trace.at(-1)).toContain('Allow incoming IPv4 Wireguard packets');
    const off = buildCalicoDataplane(loadText(SEED)).walk('node-1', 'INPUT', pkt);
    expect(off.trace.some((l) => l.includes('Wireguard'))).toBe(false);
    expect(off.trace).toContainEqual(expect.stringContaining('-j cali-from-host-endpoint'));
  });

  it("with kube-proxy IPVS, the WireGuard bit 0x100000 narrows the endpoint field to 0xffe00000 (non-Calico mark 0x200000)", () => {
    const t = loadText(SEED, ['cni=calico-vxlan', 'kubeProxy=ipvs', 'encryption=true']);
    const dp = buildCalicoDataplane(t);
    expect(dp.felix.marks.wireguard).toBe(0x100000);
    // the same bit the routing model's rule 99 tests (not fwmark 0x100000/0x100000 lookup 1)
    expect(dp.felix.marks.wireguard).toBe(CALICO_WIREGUARD_MARK);
    const save = dp.iptablesSave('node-1', undefined, 4, ['filter']);
    expect(chainRules(save, 'cali-INPUT').map(noHash)).toContain('-A cali-INPUT -m mark ! --mark 0x0/0xffe00000 -j RETURN');
    expect(save).toMatch(/"Non-Cali endpoint mark" -j MARK --set-xmark 0x200000\/0xffe00000$/m);
    expect(save).not.toContain('0xfff00000');
    for (const [i, m] of endpointMarks([...dp.forNode('node-1').endpoints.keys()], felixMarks(true))) {
      expect(save).toContain(`-A cali-sm-${i} -m comment --comment "cali:`);
      expect(save).toMatch(new RegExp(`-m mark --mark 0x${m.toString(16)}/0xffe00000 -g cali-fw-${i}$`, 'm'));
      expect(m & 0x100000).toBe(0);
    }
    // The INPUT order: VXLAN, WireGuard, then the IPVS endpoint-mark rules.
    const input = chainRules(save, 'cali-INPUT');
    expect(input.findIndex((l) => l.includes('Wireguard'))).toBe(2);
    expect(input[3]).toContain('-j MARK --set-xmark 0x0/0xffe00000');
  });
});
