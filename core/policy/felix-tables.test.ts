// felix's raw, mangle and nat tables (felix-tables.ts), checked against real
// nodes. Captures used (read through the public code index; quoted, not copied
// into the product):
//
// [HEP] `iptables -t raw -L -n` and `iptables -t mangle -L -n` of a Calico
//   node (Kubespray cluster, Calico 3.26, a host-endpoint write-up in Russian
//   that links projectcalico/calico#8109) — public code index file id
//   14254138112 (the index does not expose its repository/path):
//     raw cali-PREROUTING  XFX5xbM8B9qR10JG  MARK and 0xfff0ffff
//                          EWMPb0zVROM-woQp  MARK or 0x40000            (-i cali+)
//                          PWuxTAIaFCtsg5Qa  cali-rpf-skip   mark match 0x40000/0x40000
//                          fSSbGND7dgyemWU7  DROP  mark match 0x40000/0x40000 rpfilter validmark invert
//                          ImU0-4Rl2WoOI9Ou  cali-from-host-endpoint  mark match 0x0/0x40000
//                          lV4V2MPoMBf0hl9T  ACCEPT  mark match 0x10000/0x10000
//     mangle cali-PREROUTING 6BJqBjBC7crtA-7- (ctstate RELATED,ESTABLISHED ACCEPT),
//                          KX7AGNd6rMcDUai6, wNH7KsA3ILKJBsY9, Cg96MgVuoPm7UMRo
// [TRACE] "Tracing Kubernetes Services" (itnext.io, RKE2 1.28, Calico v3.26.3,
//   VXLAN), public code index file id 49373955840: `iptables -t raw -L
//   cali-OUTPUT` (njdnLwYeGqBJyMxW MARK and 0xfff0ffff, rz86uTUcEZAfFsh7
//   cali-to-host-endpoint, pN0F5zD0b8yf9W1Z ACCEPT mark 0x10000) and
//   xtables-monitor --trace lines of mangle cali-POSTROUTING:
//     -A cali-POSTROUTING -m comment --comment "cali:nnqPh8lh2VOogSzX" -j MARK --set-xmark 0x0/0xf0000
//     -A cali-POSTROUTING -m comment --comment "cali:nquN8Jw8Tz72pcBW" -m conntrack --ctstate DNAT -j cali-to-host-endpoint
//   (its first rule, the accept-mark RETURN, did not match and is not traced:
//   it is checked through the chained hashes of the two after it).
// [NAT] `sudo iptables-save -t nat` of a kube-proxy IPVS node with a Calico
//   VXLAN pool (iptables 1.8.4, Sep 2022), public code index file id
//   43707430763: the felix lines quoted in NAT_CAPTURE below, with felix's
//   jumps ahead of kube-proxy's in PREROUTING, OUTPUT and POSTROUTING.
// [IPIP] `-A cali-POSTROUTING -o tunl0 -m comment --comment "cali:JHlpT-eSqR1TvyYm" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE`
//   (public code index file id 46418442539): a felix that did not add
//   --random-fully (older iptables); the same rule with --random-fully, what
//   felix 3.2x writes on current iptables, hashes to SXWvdsbh4Mw7wOln —
//   computed, not seen on a node.
// Computed, with no real capture to check them against: the IPVS-mode mangle
// cali-POSTROUTING (felix 3.2x StaticManglePostroutingChain with
// KubeIPVSSupportEnabled), the wireguard.cali / wg-v6.cali / vxlan-v6.calico
// MASQUERADE rules, and every ip6tables line (the same rules; only the set
// names of cali-nat-outgoing differ, and so does its hash).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadText } from '../trace/testing';
import { buildCalicoDataplane, felixRenderForHash, felixSettings, ruleHashes, type CalicoDataplane, type Rule } from './calico';
import { felixTables, felixTunnelDevices } from './felix-tables';
import { modelRuleset } from '../compare/model-rules';
import { renderIptablesSave } from '../dataplane';

const sample = (f: string): string => readFileSync(new URL(`../../resources/samples/${f}`, import.meta.url), 'utf8');
const SEED = sample('seed.yaml');
const DUAL = sample('dual-stack.yaml');

/** One table of an iptables-save text. */
function tableOf(save: string, table: string): string {
  const m = new RegExp(`^\\*${table}\\n([\\s\\S]*?)^COMMIT$`, 'm').exec(save);
  if (!m) throw new Error(`no *${table} in the output`);
  return m[1];
}
const rulesOf = (tableText: string, chain: string): string[] => tableText.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
const hashesOf = (lines: string[]): string[] => lines.map((l) => /"cali:([\w-]{16})"/.exec(l)?.[1] ?? '');
const dpOf = (text: string, set: string[]): CalicoDataplane => buildCalicoDataplane(loadText(text, set));

const NAT_CAPTURE = [
  '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
  '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
  '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
  '-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat',
  '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat',
  '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing',
  '-A cali-POSTROUTING -o vxlan.calico -m comment --comment "cali:e9dnSgSVNmIcpVhP" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully',
  '-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat',
  '-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
];

describe("felix's raw table", () => {
  const raw = tableOf(dpOf(SEED, ['cni=calico-vxlan']).iptablesSave('node-1'), 'raw');

  it('cali-PREROUTING equals the real node\'s hash for hash ([HEP]): mark clear, workload mark, cali-rpf-skip, the strict rpfilter DROP, untracked host-endpoint policy, accept', () => {
    const lines = rulesOf(raw, 'cali-PREROUTING');
    expect(hashesOf(lines)).toEqual(['XFX5xbM8B9qR10JG', 'EWMPb0zVROM-woQp', 'PWuxTAIaFCtsg5Qa', 'fSSbGND7dgyemWU7', 'ImU0-4Rl2WoOI9Ou', 'lV4V2MPoMBf0hl9T']);
    expect(lines).toEqual([
      '-A cali-PREROUTING -m comment --comment "cali:XFX5xbM8B9qR10JG" -j MARK --set-xmark 0x0/0xf0000',
      '-A cali-PREROUTING -i cali+ -m comment --comment "cali:EWMPb0zVROM-woQp" -j MARK --set-xmark 0x40000/0x40000',
      '-A cali-PREROUTING -m comment --comment "cali:PWuxTAIaFCtsg5Qa" -m mark --mark 0x40000/0x40000 -j cali-rpf-skip',
      '-A cali-PREROUTING -m comment --comment "cali:fSSbGND7dgyemWU7" -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP',
      '-A cali-PREROUTING -m comment --comment "cali:ImU0-4Rl2WoOI9Ou" -m mark --mark 0x0/0x40000 -j cali-from-host-endpoint',
      '-A cali-PREROUTING -m comment --comment "cali:lV4V2MPoMBf0hl9T" -m mark --mark 0x10000/0x10000 -j ACCEPT',
    ]);
  });

  it("felix renders the rpfilter match as `--invert --validmark` for its hash (RPFCheckFailed); iptables-save prints `--validmark --invert`", () => {
    const t = felixTables({ family: 4, felix: felixSettings(loadText(SEED, [])), natOutgoing: true, pools: ['10.244.0.0/16'] });
    const pre = t.raw.get('cali-PREROUTING')!;
    expect(felixRenderForHash('cali-PREROUTING', pre.rules[3])).toBe('-A cali-PREROUTING HASH -m mark --mark 0x40000/0x40000 -m rpfilter --invert --validmark --jump DROP');
    // The other order would give another hash than the real node's.
    const swapped = pre.rules.map((r) => felixRenderForHash('cali-PREROUTING', r));
    swapped[3] = swapped[3].replace('--invert --validmark', '--validmark --invert');
    expect(ruleHashes('cali-PREROUTING', swapped)[3]).not.toBe('fSSbGND7dgyemWU7');
  });

  it("cali-OUTPUT and the jumps equal the real node's ([TRACE]); the chains are the referenced ones, empty cali-rpf-skip and host-endpoint chains included", () => {
    expect(rulesOf(raw, 'cali-OUTPUT')).toEqual([
      '-A cali-OUTPUT -m comment --comment "cali:njdnLwYeGqBJyMxW" -j MARK --set-xmark 0x0/0xf0000',
      '-A cali-OUTPUT -m comment --comment "cali:rz86uTUcEZAfFsh7" -j cali-to-host-endpoint',
      '-A cali-OUTPUT -m comment --comment "cali:pN0F5zD0b8yf9W1Z" -m mark --mark 0x10000/0x10000 -j ACCEPT',
    ]);
    expect(rulesOf(raw, 'PREROUTING')).toEqual(['-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING']);
    expect(rulesOf(raw, 'OUTPUT')).toEqual(['-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT']);
    expect(raw.split('\n').filter((l) => l.startsWith(':'))).toEqual([
      ':PREROUTING ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':cali-OUTPUT - [0:0]',
      ':cali-PREROUTING - [0:0]',
      ':cali-from-host-endpoint - [0:0]',
      ':cali-rpf-skip - [0:0]',
      ':cali-to-host-endpoint - [0:0]',
    ]);
    // Calico 3.2x (≤ 3.28) has no VXLAN NOTRACK, and no WireGuard incoming-mark chain without host encryption.
    expect(raw).not.toMatch(/NOTRACK|wireguard/);
    expect(dpOf(SEED, ['cni=calico-vxlan', 'encryption=true']).iptablesSave('node-1', undefined, 4, ['raw'])).not.toMatch(/wireguard/);
  });
});

describe("felix's mangle table", () => {
  it("cali-PREROUTING equals the real node's ([HEP]); cali-POSTROUTING's clear and DNAT host-endpoint rules equal the traced ones ([TRACE])", () => {
    const mangle = tableOf(dpOf(SEED, ['cni=calico-vxlan']).iptablesSave('node-1'), 'mangle');
    expect(hashesOf(rulesOf(mangle, 'cali-PREROUTING'))).toEqual(['6BJqBjBC7crtA-7-', 'KX7AGNd6rMcDUai6', 'wNH7KsA3ILKJBsY9', 'Cg96MgVuoPm7UMRo']);
    expect(rulesOf(mangle, 'cali-PREROUTING')[0]).toBe('-A cali-PREROUTING -m comment --comment "cali:6BJqBjBC7crtA-7-" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    expect(rulesOf(mangle, 'cali-PREROUTING')[3]).toBe(
      '-A cali-PREROUTING -m comment --comment "cali:Cg96MgVuoPm7UMRo" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
    );
    const post = rulesOf(mangle, 'cali-POSTROUTING');
    expect(post.slice(1, 3)).toEqual([
      '-A cali-POSTROUTING -m comment --comment "cali:nnqPh8lh2VOogSzX" -j MARK --set-xmark 0x0/0xf0000',
      '-A cali-POSTROUTING -m comment --comment "cali:nquN8Jw8Tz72pcBW" -m conntrack --ctstate DNAT -j cali-to-host-endpoint',
    ]);
    expect(post[0]).toMatch(/ -m mark --mark 0x10000\/0x10000 -j RETURN$/);
    expect(post[3]).toMatch(/"Host endpoint policy accepted packet\." -m mark --mark 0x10000\/0x10000 -j RETURN$/);
    expect(rulesOf(mangle, 'POSTROUTING')).toEqual(['-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING']);
    expect(rulesOf(mangle, 'PREROUTING')).toEqual(['-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING']);
    // felix has no rules in mangle INPUT/FORWARD/OUTPUT; iptables-save still lists the built-in chains.
    expect(mangle).toMatch(/^:PREROUTING ACCEPT \[0:0\]\n:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\n:POSTROUTING ACCEPT \[0:0\]\n:cali-POSTROUTING - /);
  });

  it('kube-proxy IPVS mode: cali-POSTROUTING returns for packets with an endpoint mark (0xfff00000, 0xffe00000 with WireGuard); nothing else changes in raw, mangle or nat', () => {
    const plain = dpOf(SEED, ['cni=calico-vxlan']).iptablesSave('node-1', undefined, 4, ['raw', 'mangle', 'nat']);
    const ipvs = dpOf(SEED, ['cni=calico-vxlan', 'kubeProxy=ipvs']).iptablesSave('node-1', undefined, 4, ['raw', 'mangle', 'nat']);
    const post = rulesOf(tableOf(ipvs, 'mangle'), 'cali-POSTROUTING');
    expect(post).toHaveLength(5);
    expect(post[1]).toMatch(/^-A cali-POSTROUTING -m comment --comment "cali:[\w-]{16}" -m mark ! --mark 0x0\/0xfff00000 -j RETURN$/);
    // the accept-mark RETURN before it keeps its hash; every rule after it is rehashed (chained hashes)
    const plainPost = rulesOf(tableOf(plain, 'mangle'), 'cali-POSTROUTING');
    expect(post[0]).toBe(plainPost[0]);
    expect(hashesOf(post.slice(2)).some((h) => hashesOf(plainPost).includes(h))).toBe(false);
    const otherMangle = (s: string) => tableOf(s, 'mangle').split('\n').filter((l) => !l.startsWith('-A cali-POSTROUTING '));
    expect(otherMangle(ipvs)).toEqual(otherMangle(plain));
    expect(tableOf(ipvs, 'raw')).toBe(tableOf(plain, 'raw'));
    expect(tableOf(ipvs, 'nat')).toBe(tableOf(plain, 'nat'));
    const wg = dpOf(SEED, ['cni=calico-vxlan', 'kubeProxy=ipvs', 'encryption=true']).iptablesSave('node-1', undefined, 4, ['mangle']);
    expect(wg).toMatch(/^-A cali-POSTROUTING -m comment --comment "cali:[\w-]{16}" -m mark ! --mark 0x0\/0xffe00000 -j RETURN$/m);
  });
});

describe("felix's nat table", () => {
  it("every felix line of the real IPVS + VXLAN node's `iptables-save -t nat` ([NAT]), and nothing else", () => {
    const nat = tableOf(dpOf(SEED, ['cni=calico-vxlan', 'kubeProxy=ipvs']).iptablesSave('node-1'), 'nat');
    expect(nat.split('\n').filter((l) => l.startsWith('-A '))).toEqual(NAT_CAPTURE);
    expect(nat.split('\n').filter((l) => l.startsWith(':cali-'))).toEqual([
      ':cali-OUTPUT - [0:0]',
      ':cali-POSTROUTING - [0:0]',
      ':cali-PREROUTING - [0:0]',
      ':cali-fip-dnat - [0:0]',
      ':cali-fip-snat - [0:0]',
      ':cali-nat-outgoing - [0:0]',
    ]);
  });

  it("merged with kube-proxy's nat table, felix's jumps come first in PREROUTING, OUTPUT and POSTROUTING, as on the real node ([NAT])", () => {
    for (const set of [['cni=calico-vxlan', 'kubeProxy=ipvs'], ['cni=calico-vxlan']]) {
      const t = loadText(SEED, set);
      const save = renderIptablesSave(modelRuleset(t, 'node-1'), { date: new Date(0) });
      const nat = tableOf(save, 'nat');
      for (const [chain, hash, kube] of [
        ['PREROUTING', '6gwbT8clXdHdC1b1', 'KUBE-SERVICES'],
        ['OUTPUT', 'tVnHkvAo15HuiPy0', 'KUBE-SERVICES'],
        ['POSTROUTING', 'O3lYWMrLQYEMJtB5', 'KUBE-POSTROUTING'],
      ]) {
        const lines = rulesOf(nat, chain);
        expect(lines[0]).toBe(`-A ${chain} -m comment --comment "cali:${hash}" -j cali-${chain}`);
        expect(lines.slice(1).some((l) => l.endsWith(`-j ${kube}`))).toBe(true);
      }
      // every table felix writes is in the merged output, in iptables-save's order
      expect([...save.matchAll(/^\*(\w+)$/gm)].map((m) => m[1])).toEqual(['mangle', 'raw', 'filter', 'nat']);
      expect(rulesOf(tableOf(save, 'raw'), 'cali-PREROUTING')).toHaveLength(6);
    }
  });

  it('natOutgoing off: cali-nat-outgoing is empty (no MASQUERADE), the pool sets still exist, masq-ipam-pools without members', () => {
    const dp = dpOf(SEED, ['cni=calico-vxlan', 'natOutgoing=false']);
    const nat = tableOf(dp.iptablesSave('node-1'), 'nat');
    expect(rulesOf(nat, 'cali-nat-outgoing')).toEqual([]);
    expect(nat).toMatch(/^:cali-nat-outgoing - \[0:0\]$/m);
    expect(rulesOf(nat, 'cali-POSTROUTING').map((l) => /cali:(\S{16})"/.exec(l)![1])).toEqual(['Z-c7XtVd2Bq7s_hA', 'nYKhEzDlr11Jccal', 'e9dnSgSVNmIcpVhP']);
    const list = dp.ipsetList('node-1');
    expect(list).toMatch(/^Name: cali40masq-ipam-pools\nType: hash:net\nRevision: 7\nHeader: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x[0-9a-f]{8}\nSize in memory: 456\nReferences: 0\nNumber of entries: 0\nMembers:\n/m);
    expect(list).toMatch(/^Name: cali40all-ipam-pools\n[\s\S]*?References: 0\nNumber of entries: 1\nMembers:\n10\.244\.0\.0\/16\n/m);
    const on = dpOf(SEED, ['cni=calico-vxlan']);
    expect(on.ipsetList('node-1')).toMatch(/^Name: cali40masq-ipam-pools\n[\s\S]*?References: 1\nNumber of entries: 1\nMembers:\n10\.244\.0\.0\/16\n/m);
    expect(on.ipsetRestore('node-1')).toContain('create cali40all-ipam-pools hash:net family inet hashsize 1024 maxelem 1048576\nadd cali40all-ipam-pools 10.244.0.0/16\n');
  });

  it('the tunnel MASQUERADE follows the pool mode: tunl0 with IPIP, vxlan.calico with VXLAN, none with BGP; WireGuard adds wireguard.cali after it', () => {
    const masq = (set: string[]) =>
      rulesOf(tableOf(dpOf(SEED, set).iptablesSave('node-1', undefined, 4, ['nat']), 'nat'), 'cali-POSTROUTING')
        .filter((l) => l.includes('MASQUERADE'))
        .map((l) => / -o (\S+) /.exec(l)![1]);
    expect(masq(['cni=calico-bgp'])).toEqual([]);
    expect(masq(['cni=calico-ipip'])).toEqual(['tunl0']);
    expect(masq(['cni=calico-ipip-crosssubnet'])).toEqual(['tunl0']);
    expect(masq(['cni=calico-vxlan'])).toEqual(['vxlan.calico']);
    expect(masq(['cni=calico-vxlan-crosssubnet'])).toEqual(['vxlan.calico']);
    expect(masq(['cni=calico-ipip', 'encryption=true'])).toEqual(['tunl0', 'wireguard.cali']);
    expect(masq(['cni=calico-bgp', 'encryption=true'])).toEqual(['wireguard.cali']);
    const ipip = rulesOf(tableOf(dpOf(SEED, ['cni=calico-ipip']).iptablesSave('node-1'), 'nat'), 'cali-POSTROUTING')[2];
    expect(ipip).toBe('-A cali-POSTROUTING -o tunl0 -m comment --comment "cali:SXWvdsbh4Mw7wOln" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully');
  });

  it("the [IPIP] capture's hash is the same rule without --random-fully: the flag is part of what felix hashes", () => {
    const t = felixTables({ family: 4, felix: felixSettings(loadText(SEED, ['cni=calico-ipip'])), mode: 'ipip', natOutgoing: true, pools: ['10.244.0.0/16'] });
    const rules = t.nat.get('cali-POSTROUTING')!.rules;
    const render = (rs: Rule[]) => rs.map((r) => felixRenderForHash('cali-POSTROUTING', r));
    expect(ruleHashes('cali-POSTROUTING', render(rules))[2]).toBe('SXWvdsbh4Mw7wOln');
    const noRandom = rules.map((r) => (r.action.k === 'MASQUERADE' ? { ...r, action: { k: 'MASQUERADE' as const, randomFully: false } } : r));
    expect(ruleHashes('cali-POSTROUTING', render(noRandom))[2]).toBe('JHlpT-eSqR1TvyYm');
  });
});

describe('IPv6 (ip6tables) and table order', () => {
  const dual = buildCalicoDataplane(loadText(DUAL, []));
  const node = 'node-1';

  it('the same raw and mangle chains and hashes; cali60 pool sets with the IPv6 pool; cali-nat-outgoing names them, so its hash differs from IPv4', () => {
    const s6 = dual.iptablesSave(node, undefined, 6);
    const s4 = dual.iptablesSave(node, undefined, 4);
    expect(tableOf(s6, 'raw')).toBe(tableOf(s4, 'raw'));
    expect(tableOf(s6, 'mangle')).toBe(tableOf(s4, 'mangle'));
    const out6 = rulesOf(tableOf(s6, 'nat'), 'cali-nat-outgoing');
    expect(out6).toHaveLength(1);
    expect(out6[0]).toMatch(/^-A cali-nat-outgoing -m comment --comment "cali:[\w-]{16}" -m set --match-set cali60masq-ipam-pools src -m set ! --match-set cali60all-ipam-pools dst -j MASQUERADE --random-fully$/);
    expect(hashesOf(out6)[0]).not.toBe('flqWnvo8yq4ULQLa');
    expect(rulesOf(tableOf(s4, 'nat'), 'cali-nat-outgoing')).toEqual([NAT_CAPTURE[8]]);
    expect(dual.ipsetList(node, 6)).toMatch(/^Name: cali60all-ipam-pools\nType: hash:net\nRevision: 7\nHeader: family inet6 [\s\S]*?Members:\nfd00:10:244::\/56\n/m);
    expect(dual.ipsetRestore(node, 6)).toContain('create cali60masq-ipam-pools hash:net family inet6 hashsize 1024 maxelem 1048576\nadd cali60masq-ipam-pools fd00:10:244::/56\n');
  });

  it('the IPv6 tunnel devices: vxlan-v6.calico with a VXLAN pool, wg-v6.cali with WireGuard; no IPIP in IPv6', () => {
    const masq6 = (dp: CalicoDataplane) => rulesOf(tableOf(dp.iptablesSave(node, undefined, 6, ['nat']), 'nat'), 'cali-POSTROUTING').filter((l) => l.includes('MASQUERADE'));
    expect(masq6(dual).map((l) => / -o (\S+) /.exec(l)![1])).toEqual(['vxlan-v6.calico']);
    expect(masq6(buildCalicoDataplane(loadText(DUAL, ['encryption=true']))).map((l) => / -o (\S+) /.exec(l)![1])).toEqual(['vxlan-v6.calico', 'wg-v6.cali']);
    expect(masq6(buildCalicoDataplane(loadText(DUAL, ['cni=calico-ipip']))).map((l) => / -o (\S+) /.exec(l)![1])).toEqual([]);
    // a single-stack cluster has no IPv6 pool: no IPv6 tunnel address, no rule, empty sets
    const fx = felixSettings(loadText(SEED, ['cni=calico-vxlan']));
    expect(felixTunnelDevices({ family: 6, felix: fx, mode: 'vxlan', pools: [] })).toEqual([]);
    expect(felixTunnelDevices({ family: 4, felix: fx, mode: 'vxlan', pools: ['10.244.0.0/16'] })).toEqual(['vxlan.calico']);
  });

  it('iptablesSave lists mangle, raw, filter, nat (iptables-save 1.8.9 nf_tables order), or only the tables asked for; the filter table is the one walk() runs', () => {
    const dp = dpOf(SEED, ['cni=calico-vxlan']);
    const all = dp.iptablesSave('node-1');
    expect([...all.matchAll(/^\*(\w+)$/gm)].map((m) => m[1])).toEqual(['mangle', 'raw', 'filter', 'nat']);
    expect(all.match(/^COMMIT$/gm)).toHaveLength(4);
    expect(all.match(/^# Generated by iptables-save v1\.8\.9 on /gm)).toHaveLength(4);
    const filter = dp.iptablesSave('node-1', undefined, 4, ['filter']);
    expect([...filter.matchAll(/^\*(\w+)$/gm)].map((m) => m[1])).toEqual(['filter']);
    expect(all).toContain(tableOf(filter, 'filter'));
    expect(dp.tableChains('node-1', 'filter')).toBe(dp.forNode('node-1').chains);
    expect([...dp.tableChains('node-1', 'nat').keys()]).toContain('cali-nat-outgoing');
  });
});
