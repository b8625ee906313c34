import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildCalicoDataplane,
  calicoInterfaceName,
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
  it('renders a node with only its local endpoints, and walks packets to verdicts', () => {
    const c = buildCalicoDataplane(threeTier());
    const n2 = c.iptablesSave('node-2');
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
