import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildCalicoDataplane,
  calicoInterfaceName,
  dispatchChains,
  felixRenderForHash,
  lengthLimitedId,
  makeUniqueId,
  ruleHashes,
  saveRule,
  type Rule,
} from './calico';
import { buildCiliumDataplane, findPod, portBlocks, portProtoString } from './cilium';
import { base64RawUrl, sha1, sha224, sha256 } from '../hash';
import { tabwrite } from './tabwriter';
import { mkTopology, np } from './testkit';
import { readFileSync } from 'node:fs';
import { loadText } from '../trace/testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');

describe('hashes', () => {
  it('match node:crypto for SHA-1, SHA-224, SHA-256', () => {
    for (const s of ['', 'abc', 'default.frontend', 'x'.repeat(1000), 'ünïcode ✓']) {
      expect(Buffer.from(sha1(s)).toString('hex')).toBe(createHash('sha1').update(s).digest('hex'));
      expect(Buffer.from(sha224(s)).toString('hex')).toBe(createHash('sha224').update(s).digest('hex'));
      expect(Buffer.from(sha256(s)).toString('hex')).toBe(createHash('sha256').update(s).digest('hex'));
      expect(base64RawUrl(sha224(s))).toBe(createHash('sha224').update(s).digest('base64url'));
    }
  });
});

describe('Calico naming', () => {
  it('reproduces felix rule hashes seen on real nodes', () => {
    // iptables-save output quoted in projectcalico/felix#1421 and aws/amazon-vpc-cni-k8s#34.
    const one = (chain: string, r: Rule): string => ruleHashes(chain, [felixRenderForHash(chain, r)])[0];
    expect(one('INPUT', { matches: [], action: { k: 'jump', target: 'cali-INPUT' }, comments: [] })).toBe('Cz_u1IQiXIMmKD4c');
    expect(one('FORWARD', { matches: [], action: { k: 'jump', target: 'cali-FORWARD' }, comments: [] })).toBe('wUHhoiAYhphO9Mso');
    expect(one('OUTPUT', { matches: [], action: { k: 'jump', target: 'cali-OUTPUT' }, comments: [] })).toBe('tVnHkvAo15HuiPy0');
    const chain = 'cali-tw-cali77cb96a0922';
    const rules: Rule[] = [
      { matches: [{ k: 'ctstate', states: 'RELATED,ESTABLISHED' }], action: { k: 'ACCEPT' }, comments: [] },
      { matches: [{ k: 'ctstate', states: 'INVALID' }], action: { k: 'DROP' }, comments: [] },
      { matches: [], action: { k: 'mark', value: 0, mask: 0x1000000 }, comments: [] },
      { matches: [], action: { k: 'jump', target: 'cali-pri-kns.default' }, comments: [] },
    ];
    expect(ruleHashes(chain, rules.map((r) => felixRenderForHash(chain, r)))).toEqual(['mC6ZbTPIK4oIKq9H', 'Tj1-x3mwGnH5Nly8', 'okRYA3FkTnE902IR', 't_oDJS3L8kWI2RXQ']);
  });

  it("felix 3.2x's static chains: the FORWARD appends, cali-cidr-block, host tunnel rules and host-endpoint hooks, with the hashes and lines of real nodes", () => {
    // Real iptables-save / iptables -L output of Calico nodes (VXLAN and IPIP pools) quoted in public write-ups.
    const hashes = (text: string, chain: string) => [...text.matchAll(new RegExp(`^-A ${chain} .*?"cali:([\\w-]{16})"`, 'gm'))].map((m) => m[1]);
    const vxlan = buildCalicoDataplane(loadText(SEED, ['cni=calico-vxlan'])).iptablesSave('node-1', undefined, 4, ['filter']);
    expect(hashes(vxlan, 'FORWARD')).toEqual(['wUHhoiAYhphO9Mso', 'S93hcgKJrXEqnTfs', 'mp77cMpurHhyjLrM']);
    expect(vxlan).toContain('-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT\n-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000\n');
    expect(hashes(vxlan, 'cali-FORWARD')).toEqual(['vjrMJCRpqwy5oRoX', 'A_sPAO0mcxbT9mOV', '8ZoYfO5HKXWbB3pk', 'jdEuaPBe14V2hutn', '12bc6HljsMKsmfr-', 'NOSxoaGx8OIstr1z']);
    expect(hashes(vxlan, 'cali-INPUT')).toEqual(['J76FwxInZIsk7uKY', 'EDCNTTxYfggApx8C', 'H03xYXARh4e8pwd4', 'MN6K3isIWBigb1Va', 'OSYphBLwOgic22Hz', 'rmi2_piRVmfeiwVp', 'F7Q8zu44qIbOVben']);
    expect(vxlan).toContain('-A cali-INPUT -p udp -m comment --comment "cali:J76FwxInZIsk7uKY" -m comment --comment "Allow IPv4 VXLAN packets from allowed hosts" -m multiport --dports 4789 -m set --match-set cali40all-vxlan-net src -m addrtype --dst-type LOCAL -j ACCEPT\n');
    expect(hashes(vxlan, 'cali-OUTPUT')).toEqual(['Mq1_rAdXXH3YkrzW', '69FkRTJDvD5Vu6Vl', '-QZG79DohFjalQBb', 'iC1pSPgbvgQzkUk_', '4Zh7KtRvt4W5AEBR', 'Y0k-bqjt-5CUqyUq']);
    expect(vxlan).toContain('-A cali-OUTPUT -m comment --comment "cali:4Zh7KtRvt4W5AEBR" -m conntrack ! --ctstate DNAT -j cali-to-host-endpoint\n');
    expect(hashes(vxlan, 'cali-wl-to-host')).toEqual(['Ee9Sbo10IpVujdIY', 'nSZbcOoG1xPONxb8']);
    expect(vxlan).toMatch(/^:cali-cidr-block - \[0:0\]$/m);
    const ipip = buildCalicoDataplane(loadText(SEED, ['cni=calico-ipip'])).iptablesSave('node-1', undefined, 4, ['filter']);
    expect(hashes(ipip, 'cali-INPUT')).toEqual(['PajejrV4aFdkZojI', '_wjq-Yrma8Ly1Svo', '8TZGxLWh_Eiz66wc', '6McIeIDvPdL6PE1T', 'YGPbrUms7NId8xVa', '2gmY7Bg2i0i84Wk_', 'q-Vz2ZT9iGE331LL']);
    expect(ipip).toContain('-A cali-INPUT -p ipencap -m comment --comment "cali:PajejrV4aFdkZojI" -m comment --comment "Allow IPIP packets from Calico hosts" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT\n');
    expect(hashes(ipip, 'cali-OUTPUT')).toEqual(['Mq1_rAdXXH3YkrzW', '69FkRTJDvD5Vu6Vl', 'AnEsmO6bDZbQntWW', '9e9Uf3GU5tX--Lxy', '0f3LDz_VKuHFaA2K', 'OgU2f8BVEAZ_fwkq']);
    // BGP: no tunnel rules; the set the tunnel rules need exists, with every node's address.
    const bgp = buildCalicoDataplane(loadText(SEED, ['cni=calico-bgp']));
    expect(bgp.iptablesSave('node-1', undefined, 4, ['filter'])).not.toMatch(/VXLAN packets from|IPIP packets from/);
    expect(buildCalicoDataplane(loadText(SEED, ['cni=calico-ipip'])).ipsetList('node-1')).toMatch(/^Name: cali40all-hosts-net\nType: hash:net\n/m);
    expect(buildCalicoDataplane(loadText(SEED, ['cni=calico-vxlan'])).ipsetList('node-1')).toMatch(/^Name: cali40all-vxlan-net\nType: hash:net\n[\s\S]*?Members:\n10\.0\.1\.5\n10\.0\.1\.6\n10\.0\.1\.7$/m);
  });

  it('endpoint and profile chains equal a real node\'s, hash for hash (calico-system pod on cali839f4f93e61, VXLAN pool)', () => {
    const t = loadText(`${SEED}---
apiVersion: v1
kind: Pod
metadata: { name: csi-node-driver, namespace: calico-system }
spec: { nodeName: node-1, serviceAccountName: default, containers: [ { name: c, image: x } ] }
`, ['cni=calico-vxlan']);
    const pod = t.pods.find((p) => p.name === 'csi-node-driver')!;
    // The real interface name came from a pod we cannot recreate (its name is not in the capture): build its chains for that name.
    const dp = buildCalicoDataplane(t) as unknown as { endpointChain(p: typeof pod, iface: string, dir: 'Ingress' | 'Egress'): { name: string; rules: Rule[] }; profileChains(p: typeof pod): { name: string; rules: Rule[] }[] };
    const hashes = (c: { rules: Rule[] }) => c.rules.map((r) => r.hash);
    expect(hashes(dp.endpointChain(pod, 'cali839f4f93e61', 'Egress'))).toEqual(['OMdV1VmYvgay0Ju_', '9GTJTvgFoQSuHKyd', 'z8vZgauvdvTX14jS', 'WJxdljn16dqhpgmF', 'rzce_8ES3RZZ9abT', 'cr3QRQN7OZshnwZM', 'yQFK3WKtWLN-RIEH', 'bGNGJdfsMA4VCnAZ', '4jKZ60Lo3ApMmZll', 'tzuXKpDyOxEZ7V_o']);
    expect(hashes(dp.endpointChain(pod, 'cali839f4f93e61', 'Ingress'))).toEqual(['aAGPL5ce-sfWvtEi', 'uGYjECSJP78AgcRn', 'MwKebX5wAu_THC67', 'AgNwg8ifzTwYQcWu', '7Wl-PUKK1Kcq6eU-', 'Kn5_KGJdoAzoXq9Q', 'xHcktBvIC6Kjdl7A', 'hHYkwi_qPKC7uR09']);
    const profiles = new Map(dp.profileChains(pod).map((c) => [c.name, c]));
    expect([...profiles.keys()].sort()).toEqual(['cali-pri-_og73BH3DuNOZrbBKFW', 'cali-pri-kns.calico-system', 'cali-pro-_og73BH3DuNOZrbBKFW', 'cali-pro-kns.calico-system']);
    expect(profiles.get('cali-pro-kns.calico-system')!.rules.map((r) => saveRule('cali-pro-kns.calico-system', r))).toEqual(['-A cali-pro-kns.calico-system -m comment --comment "cali:gWxJzCZXxl31NR0P" -m comment --comment "Profile kns.calico-system egress" -j MARK --set-xmark 0x10000/0x10000']);
    expect(hashes(profiles.get('cali-pri-kns.calico-system')!)).toEqual(['hLANj-OVIyT53h_j']);
    expect(hashes(profiles.get('cali-pri-_og73BH3DuNOZrbBKFW')!)).toEqual(['OzmBDJrkeSSUiXhX']);
    expect(hashes(profiles.get('cali-pro-_og73BH3DuNOZrbBKFW')!)).toEqual(['09a9ZBFOA1dZ4RN5']);
  });

  it("dispatch chains split like felix's (a real node's five interfaces: cali2+ into cali-from-wl-dispatch-2), hash for hash", () => {
    const ifaces = ['calia839c1cc9c9', 'cali9819c942018', 'cali2aef8851418', 'cali7aefa6d70b6', 'cali27d5a8fe8ae'];
    const [root, child, ...rest] = dispatchChains('cali-from-wl-dispatch', 'in', 'cali-fw-', ifaces);
    expect(rest).toEqual([]);
    expect(root.rules.map((r) => saveRule(root.name, r))).toEqual([
      '-A cali-from-wl-dispatch -i cali2+ -m comment --comment "cali:fB9Zj6ek3X-WcdQa" -g cali-from-wl-dispatch-2',
      '-A cali-from-wl-dispatch -i cali7aefa6d70b6 -m comment --comment "cali:Y-YCo-lrbr8ubEc0" -g cali-fw-cali7aefa6d70b6',
      '-A cali-from-wl-dispatch -i cali9819c942018 -m comment --comment "cali:0C_IyHuMKlJZbFOB" -g cali-fw-cali9819c942018',
      '-A cali-from-wl-dispatch -i calia839c1cc9c9 -m comment --comment "cali:EwvdMvMjiZ68lqHV" -g cali-fw-calia839c1cc9c9',
      '-A cali-from-wl-dispatch -m comment --comment "cali:I7vxl4VhpuAWVxE7" -m comment --comment "Unknown interface" -j DROP',
    ]);
    expect(child.name).toBe('cali-from-wl-dispatch-2');
    expect(child.rules.map((r) => r.hash)).toEqual(['NE5q7vY2OTZu5i8T', 'Qg36YK9Lij1X-oHQ', 'm9pbfem2W7SQRLQk']);
    // few interfaces with distinct first characters stay flat
    expect(dispatchChains('cali-to-wl-dispatch', 'out', 'cali-tw-', ['cali5e1c4d6c68c', 'cali3754a2f57f6'])).toHaveLength(1);
  });

  it('a walk through FORWARD ends on the appended accept; the tunnel rules accept VXLAN only from allowed hosts', () => {
    const dp = buildCalicoDataplane(loadText(SEED, ['cni=calico-vxlan']));
    const t = loadText(SEED, ['cni=calico-vxlan']);
    const a = t.pods.find((p) => p.name === 'pod-a')!;
    const b = t.pods.find((p) => p.name === 'pod-b')!;
    const fwd = dp.walk('node-1', 'FORWARD', { src: a.ips[0], dst: b.ips[0], proto: 'tcp', dport: 8080, in: calicoInterfaceName('default', 'pod-a'), out: calicoInterfaceName('default', 'pod-b') });
    expect(fwd.verdict).toBe('ACCEPT');
    expect(fwd.trace[fwd.trace.length - 1]).toMatch(/^-A FORWARD .*"Policy explicitly accepted packet\." .* -j ACCEPT$/);
    const fromPeer = dp.walk('node-1', 'INPUT', { src: '10.0.1.6', dst: '10.0.1.5', proto: 'udp', dport: 4789, in: 'eth0' });
    expect(fromPeer.verdict).toBe('ACCEPT');
    expect(fromPeer.trace.at(-1)).toContain('Allow IPv4 VXLAN packets from allowed hosts');
    const stranger = dp.walk('node-1', 'INPUT', { src: '192.0.2.9', dst: '10.0.1.5', proto: 'udp', dport: 4789, in: 'eth0' });
    expect(stranger.verdict).toBe('DROP');
    expect(stranger.trace.at(-1)).toContain('Drop IPv4 VXLAN packets from non-allowed hosts');
  });

  it('names workload interfaces cali + sha1("<ns>.<pod>")[:11]', () => {
    const want = 'cali' + createHash('sha1').update('production.frontend-7d4b9c').digest('hex').slice(0, 11);
    expect(calicoInterfaceName('production', 'frontend-7d4b9c')).toBe(want);
    expect(want).toHaveLength(15); // IFNAMSIZ - 1
  });

  it('shortens long chain names like hashutils.GetLengthLimitedID', () => {
    expect(lengthLimitedId('cali-pi-', 'x/knp.default.p', 28)).toBe('cali-pi-x/knp.default.p');
    const long = 'production/knp.default.database-policy';
    const h = createHash('sha256').update(long).digest('base64url');
    expect(lengthLimitedId('cali-pi-', long, 28)).toBe(`cali-pi-_${h.slice(0, 19)}`);
    expect(lengthLimitedId('cali-pi-', long, 28)).toHaveLength(28);
  });

  it('names selector ipsets cali40s:<base64url(sha224)> truncated to 31 characters', () => {
    const id = makeUniqueId('s', "k8s-app == 'kube-dns'");
    expect(id).toBe('s:' + createHash('sha224').update("s:k8s-app == 'kube-dns'").digest('base64url'));
  });

  it('saves rules in iptables-save order and spelling', () => {
    const r: Rule = {
      matches: [
        { k: 'proto', proto: 'tcp' },
        { k: 'set', name: 'cali40s:abc', dir: 'src' },
        { k: 'dports', ranges: [[80, 80], [9000, 9010]] },
      ],
      action: { k: 'mark', value: 0x10000, mask: 0x10000 },
      comments: ['Policy x/y ingress'],
      hash: 'abcdefgh',
    };
    // Checked against iptables-save v1.8.9 on this machine for the same rule.
    expect(saveRule('cali-pi-test', r)).toBe(
      '-A cali-pi-test -p tcp -m comment --comment "cali:abcdefgh" -m comment --comment "Policy x/y ingress" -m set --match-set cali40s:abc src -m multiport --dports 80,9000:9010 -j MARK --set-xmark 0x10000/0x10000',
    );
    expect(saveRule('c', { matches: [{ k: 'mark', value: 0, mask: 0x20000 }], action: { k: 'DROP' }, comments: [] })).toBe('-A c -m mark --mark 0x0/0x20000 -j DROP');
    expect(saveRule('c', { matches: [{ k: 'src', cidr: '10.0.0.0/8' }, { k: 'in', iface: 'cali+' }], action: { k: 'goto', target: 'x' }, comments: [] })).toBe('-A c -s 10.0.0.0/8 -i cali+ -g x');
    expect(saveRule('c', { matches: [{ k: 'proto', proto: '4' }], action: { k: 'DROP' }, comments: [] })).toBe('-A c -p ipencap -j DROP');
  });
});

const threeTier = () =>
  mkTopology({
    namespaces: { production: {}, 'kube-system': {} },
    pods: [
      { id: 'production/frontend', labels: { tier: 'frontend' }, ip: '10.244.1.10', node: 'node-1', ports: ['http:80'] },
      { id: 'production/backend', labels: { tier: 'backend' }, ip: '10.244.1.11', node: 'node-1', ports: ['http:8080'] },
      { id: 'production/database', labels: { tier: 'database' }, ip: '10.244.2.10', node: 'node-2', ports: ['pg:5432'] },
      { id: 'kube-system/coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.2', node: 'node-2', ports: ['dns:53/UDP', 'dns-tcp:53/TCP'] },
    ],
    policies: [
      np('production/database-policy', {
        podSelector: { matchLabels: { tier: 'database' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'backend' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
          },
        ],
      }),
    ],
  });

describe('Calico-style iptables and ipsets', () => {
  it("splits a rule's ports as felix's SplitPortList does: at most 15 multiport slots per rule, a range taking two", () => {
    const t = threeTier();
    const singles = Array.from({ length: 14 }, (_, i) => 5000 + i);
    t.networkPolicies[0].ingress![0].ports = [...singles.map((port) => ({ protocol: 'TCP' as const, port })), { protocol: 'TCP', port: 6000, endPort: 6010 }];
    const c = buildCalicoDataplane(t);
    const dports = c
      .iptablesSave('node-2', undefined, 4, ['filter'])
      .split('\n')
      .filter((l) => l.startsWith('-A cali-pi-') && l.includes(' --dports '))
      .map((l) => / --dports (\S+)/.exec(l)?.[1]);
    // 14 single ports fill 14 slots; the range needs 2 more, so it starts the second split
    // (felix then marks each split with the scratch bit and matches the peer set once).
    expect(dports).toEqual([singles.join(','), '6000:6010']);
    expect(c.verdict({ from: 'production/backend', to: 'production/database', port: 6005 }).allowed).toBe(true);
    expect(c.verdict({ from: 'production/backend', to: 'production/database', port: 5014 }).allowed).toBe(false);
  });

  it('renders a node with only its local endpoints, and walks packets to verdicts', () => {
    const c = buildCalicoDataplane(threeTier());
    const n2 = c.iptablesSave('node-2', undefined, 4, ['filter']);
    const dbIf = calicoInterfaceName('production', 'database');
    const feIf = calicoInterfaceName('production', 'frontend');
    expect(n2).toContain(`:cali-tw-${dbIf} - [0:0]`);
    expect(n2).not.toContain(`cali-tw-${feIf}`);
    expect(n2.split('\n')[1]).toBe('*filter');
    expect(n2).toMatch(/^# Generated by iptables-save v1\.8\.9 on /);
    expect(n2.trimEnd().split('\n').slice(-2)[0]).toBe('COMMIT');
    expect(n2).toContain(`-A cali-to-wl-dispatch -o ${dbIf} -m comment --comment "cali:`);
    expect(n2).toMatch(/-A cali-pi-_[A-Za-z0-9_-]{19} -p tcp -m comment --comment "cali:[A-Za-z0-9_-]{16}" -m comment --comment "Policy production\/knp\.default\.database-policy ingress" -m set --match-set cali40s:[A-Za-z0-9_-]{23} src -m multiport --dports 5432 -j MARK --set-xmark 0x10000\/0x10000/);
    expect(n2).toContain('-m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x20000 -j DROP');
    // Walks
    const ok = c.verdict({ from: 'production/backend', to: 'production/database', port: 5432 });
    expect(ok.allowed).toBe(true);
    expect(ok.hops.map((h) => [h.node, h.hook, h.verdict])).toEqual([
      ['node-1', 'FORWARD', 'ACCEPT'],
      ['node-2', 'FORWARD', 'ACCEPT'],
    ]);
    const bad = c.verdict({ from: 'production/frontend', to: 'production/database', port: 5432 });
    expect(bad.allowed).toBe(false);
    expect(bad.hops[1].trace.at(-1)).toContain('Drop if no policies passed packet');
    expect(c.verdict({ from: 'production/database', to: 'kube-system/coredns', port: 53, protocol: 'UDP' }).allowed).toBe(true);
    expect(c.verdict({ from: 'production/database', to: 'ip:1.1.1.1', port: 443 }).allowed).toBe(false);
  });

  it('lists ipsets in ipset 7.17 format with the members felix would program', () => {
    const c = buildCalicoDataplane(threeTier());
    const text = c.ipsetList('node-2');
    const blocks = text.trim().split('\n\n');
    expect(blocks).toHaveLength(2);
    const backend = blocks.find((b) => b.includes('\n10.244.1.11'))!;
    expect(backend).toMatch(
      /^Name: cali40s:[A-Za-z0-9_-]{23}\nType: hash:net\nRevision: 7\nHeader: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x[0-9a-f]{8}\nSize in memory: 504\nReferences: 1\nNumber of entries: 1\nMembers:\n10\.244\.1\.11$/,
    );
    expect(blocks.find((b) => b.includes('10.244.2.2'))).toContain('Number of entries: 1');
  });
});

describe('Cilium-style policy map', () => {
  it('splits port ranges into LPM blocks', () => {
    expect(portBlocks(80, 80)).toEqual([[80, 16]]);
    expect(portBlocks(8080, 8087)).toEqual([[8080, 13]]);
    expect(portBlocks(9000, 9010)).toEqual([[9000, 13], [9008, 15], [9010, 16]]);
    expect(portProtoString({ proto: 6, port: 8080, prefix: 21 })).toBe('0x1f90/13/TCP');
    expect(portProtoString({ proto: 17, port: 53, prefix: 24 })).toBe('53/UDP');
    expect(portProtoString({ proto: 6, port: 0, prefix: 8 })).toBe('TCP');
    expect(portProtoString({ proto: 0, port: 0, prefix: 0 })).toBe('ANY');
  });

  it('builds identities, looks up in datapath order and renders bpf policy get', () => {
    const topo = threeTier();
    const c = buildCiliumDataplane(topo);
    const db = findPod(topo, 'production/database');
    const be = findPod(topo, 'production/backend');
    const beId = c.identityOfPod(be);
    expect(beId).toBeGreaterThanOrEqual(256);
    expect(c.identities.get(beId)!.labels).toContain('k8s:io.kubernetes.pod.namespace=production');
    expect(c.identities.get(beId)!.labels).toContain('k8s:tier=backend');
    const hit = c.lookup(db, 'Ingress', beId, 5432, 'TCP');
    expect(hit).toMatchObject({ allowed: true, step: 1 });
    expect(c.lookup(db, 'Ingress', beId, 5433, 'TCP').allowed).toBe(false);
    expect(c.lookup(db, 'Ingress', 1, 22, 'TCP')).toMatchObject({ allowed: true, step: 5 }); // reserved:host, L3-only
    expect(c.lookup(be, 'Ingress', 2, 22, 'TCP')).toMatchObject({ allowed: true, step: 6 }); // enforcement disabled
    const out = c.renderPolicyGet(db);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^POLICY {3}DIRECTION {3}LABELS \(source:key\[=value\]\) +PORT\/PROTO {3}PROXY PORT {3}AUTH TYPE {3}BYTES {3}PACKETS {3}PREFIX$/);
    expect(out).toMatch(/\nAllow +Ingress +reserved:host +ANY +NONE +disabled +0 +0 +0\n/);
    expect(out).toMatch(/\nAllow +Ingress +k8s:io\.cilium\.k8s\.namespace\.labels\.kubernetes\.io\/metadata\.name=production +5432\/TCP +NONE +disabled +0 +0 +24\n/);
    expect(out).toMatch(/\nAllow +Egress +k8s:io\.cilium\.k8s\.namespace\.labels\.kubernetes\.io\/metadata\.name=kube-system +53\/UDP /);
    // Continuation lines carry only the label column.
    expect(lines.some((l) => /^ {2,}k8s:tier=backend +$/.test(l))).toBe(true);
  });

  it('formats like Go text/tabwriter', () => {
    expect(tabwrite('a\tbb\tc\nddd\te\tf\n', 5, 3)).toBe('a     bb   c\nddd   e    f\n');
    // A shorter line ends the column block.
    expect(tabwrite('aaaaaaaaa\tb\nc\nd\te\n', 1, 1)).toBe('aaaaaaaaa b\nc\nd e\n');
  });
});
