import { describe, expect, it } from 'vitest';
import { parseBridgeFdb, parseBridgeFdbJson, parseIpNeigh, parseIpNeighJson, parseIpsetList } from './index';

describe('parseIpNeigh', () => {
  it('reads states, lladdr, router and proxy entries', () => {
    const r = parseIpNeigh(
      [
        '10.244.2.0 dev vxlan.calico lladdr 66:6e:6c:00:00:02 PERMANENT ',
        '10.0.1.6 dev eth0 lladdr 7a:17:82:07:9e:8a DELAY ',
        'fd00::1 dev eth0 FAILED ',
        'fe80::1 dev eth0 lladdr 02:fc:00:00:00:05 router STALE ',
        '169.254.1.1 dev eth0 proxy ',
      ].join('\n'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((x) => [x.dst, x.dev, x.lladdr, x.state, x.flags])).toEqual([
      ['10.244.2.0', 'vxlan.calico', '66:6e:6c:00:00:02', ['PERMANENT'], []],
      ['10.0.1.6', 'eth0', '7a:17:82:07:9e:8a', ['DELAY'], []],
      ['fd00::1', 'eth0', undefined, ['FAILED'], []],
      ['fe80::1', 'eth0', '02:fc:00:00:00:05', ['STALE'], ['router']],
      ['169.254.1.1', 'eth0', undefined, [], ['proxy']],
    ]);
  });
  it('agrees with ip -j neigh', () => {
    const j = parseIpNeighJson('[{"dst":"192.0.2.1","dev":"eth0","lladdr":"02:fc:00:00:00:05","state":["STALE"]},{"dst":"fd00::1","dev":"eth0","state":["FAILED"]}]');
    const t = parseIpNeigh('192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 STALE \nfd00::1 dev eth0 FAILED \n');
    const strip = (rs: { line: number }[]) => rs.map(({ line: _l, ...x }) => x);
    expect(strip(j.records)).toEqual(strip(t.records));
  });
  it('rejects a line that is not a neighbour entry, naming it', () => {
    const r = parseIpNeigh('garbage here\n10.0.0.1 dev eth0 lladdr\n');
    expect(r.diagnostics[0]).toMatchObject({ line: 1, severity: 'error' });
    expect(r.diagnostics[1].message).toMatch(/line 2: "lladdr" without a value/);
  });
});

describe('parseBridgeFdb', () => {
  it('reads VXLAN fdb entries with dst, self and permanent', () => {
    const r = parseBridgeFdb('66:6e:6c:00:00:02 dev vxlan.calico dst 10.0.1.6 self permanent\n33:33:00:00:00:01 dev eth0 self permanent\nde:ad:be:ef:00:01 dev veth1 vlan 1 master cni0 \n');
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toEqual({ line: 1, mac: '66:6e:6c:00:00:02', ifname: 'vxlan.calico', dst: '10.0.1.6', flags: ['self'], state: 'permanent' });
    expect(r.records[2]).toMatchObject({ ifname: 'veth1', vlan: 1, master: 'cni0', flags: ['master'] });
    expect(r.records[2].state).toBeUndefined();
  });
  it('agrees with bridge -j fdb', () => {
    const j = parseBridgeFdbJson('[{"mac":"66:6e:6c:00:00:02","ifname":"vxlan.calico","dst":"10.0.1.6","flags":["self"],"state":"permanent"}]');
    const t = parseBridgeFdb('66:6e:6c:00:00:02 dev vxlan.calico dst 10.0.1.6 self permanent\n');
    expect(j.records).toEqual(t.records);
  });
  it('rejects lines that do not start with a MAC address', () => {
    const r = parseBridgeFdb('not-a-mac dev eth0\n');
    expect(r.records).toEqual([]);
    expect(r.diagnostics[0].message).toMatch(/line 1: "not-a-mac" is not a MAC address/);
  });
});

// Captured on this machine: ipset 7.17 in a scratch namespace.
const IPSET = `Name: KUBE-CLUSTER-IP
Type: hash:ip,port
Revision: 7
Header: family inet hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x3698b7c5
Size in memory: 321
References: 0
Number of entries: 1
Members:
10.96.0.10,udp:53 timeout 0 comment "kube-dns"

Name: cali40s:abc
Type: hash:net
Revision: 7
Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xebebfca2
Size in memory: 552
References: 0
Number of entries: 2
Members:
10.244.1.0/24
10.244.2.5

Name: empty
Type: list:set
Revision: 3
Header: size 8
Size in memory: 80
References: 0
Number of entries: 0
Members:
`;

describe('parseIpsetList', () => {
  const r = parseIpsetList(IPSET);
  it('reads all sections of every set', () => {
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((s) => [s.name, s.type, s.revision, s.numberOfEntries, s.members.length])).toEqual([
      ['KUBE-CLUSTER-IP', 'hash:ip,port', 7, 1, 1],
      ['cali40s:abc', 'hash:net', 7, 2, 2],
      ['empty', 'list:set', 3, 0, 0],
    ]);
    expect({ ...r.records[0].header }).toEqual({ family: 'inet', hashsize: 1024, maxelem: 65536, timeout: 0, comment: true, bucketsize: 12, initval: '0x3698b7c5' });
    expect(r.records[0]).toMatchObject({ sizeInMemory: 321, references: 0 });
    expect(r.records[0].members[0]).toEqual({ line: 9, element: '10.96.0.10,udp:53', timeout: 0, comment: 'kube-dns' });
    expect(r.records[1].members.map((m) => m.element)).toEqual(['10.244.1.0/24', '10.244.2.5']);
  });
  it('reads the save format to the same sets', () => {
    const s = parseIpsetList(
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x3698b7c5\nadd KUBE-CLUSTER-IP 10.96.0.10,udp:53 timeout 0 comment "kube-dns"\n',
    );
    expect(s.records[0].members[0].comment).toBe('kube-dns');
    expect({ ...s.records[0].header }).toEqual({ ...r.records[0].header });
  });
  it('reports a truncated member list against "Number of entries"', () => {
    const t = parseIpsetList(IPSET.split('\n').slice(0, 19).join('\n'));
    expect(t.diagnostics.some((d) => d.line === 11 && /says "Number of entries: 2" but lists 1 members/.test(d.message))).toBe(true);
  });
  it('refuses a __proto__ header key without polluting', () => {
    const t = parseIpsetList('Name: x\nType: hash:ip\nHeader: __proto__ polluted family inet\nMembers:\n');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(t.diagnostics[0].message).toMatch(/line 3: forbidden header key "__proto__"/);
    expect(t.records[0].header.family).toBe('inet');
  });
  it('names an unterminated comment', () => {
    const t = parseIpsetList('Name: x\nMembers:\n10.0.0.1 comment "oops\n');
    expect(t.diagnostics[0].message).toMatch(/line 3: unterminated quoted comment/);
  });
});
