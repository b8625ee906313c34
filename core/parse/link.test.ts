import { describe, expect, it } from 'vitest';
import { FOREVER, parseIpAddr, parseIpAddrJson, parseIpLink, parseIpLinkJson } from './index';

// Captured on this machine from a pod namespace of the test-bed (ptp CNI) and `ip -s -s link show lo`.
const POD_ADDR = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host 
       valid_lft forever preferred_lft forever
3: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default 
    link/ether 52:11:93:17:f2:4c brd ff:ff:ff:ff:ff:ff link-netns nl-n-node-1
    inet 10.244.1.5/24 brd 10.244.1.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet6 fe80::5011:93ff:fe17:f24c/64 scope link tentative 
       valid_lft forever preferred_lft forever
`;

const LO_STATS = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    RX:  bytes packets errors dropped  missed   mcast           
         30982     151      0       0       0       0 
    RX errors:  length    crc   frame    fifo overrun
                     0      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
         30982     151      0       0       0       0 
    TX errors: aborted   fifo  window heartbt transns
                     0      0       0       0       2 
`;

const LO_STATS_JSON =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","stats64":{"rx":{"bytes":30982,"packets":151,"errors":0,"dropped":0,"over_errors":0,"multicast":0,"length_errors":0,"crc_errors":0,"frame_errors":0,"fifo_errors":0,"missed_errors":0},"tx":{"bytes":30982,"packets":151,"errors":0,"dropped":0,"carrier_errors":0,"collisions":0,"aborted_errors":0,"fifo_errors":0,"window_errors":0,"heartbeat_errors":0,"carrier_changes":2}}}]';

describe('parseIpAddr (text)', () => {
  const { records, diagnostics } = parseIpAddr(POD_ADDR);
  it('reads interfaces, veth peer index and link-netns', () => {
    expect(diagnostics).toEqual([]);
    expect(records.map((r) => r.ifname)).toEqual(['lo', 'eth0']);
    expect(records[1]).toMatchObject({
      ifindex: 3,
      link: 'if3',
      link_index: 3,
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      mtu: 1500,
      qdisc: 'noqueue',
      operstate: 'UP',
      group: 'default',
      link_type: 'ether',
      address: '52:11:93:17:f2:4c',
      broadcast: 'ff:ff:ff:ff:ff:ff',
      link_netns: 'nl-n-node-1',
    });
  });
  it('reads addresses with scope, label, flags and lifetimes', () => {
    expect(records[1].addr_info).toEqual([
      { family: 'inet', local: '10.244.1.5', prefixlen: 24, broadcast: '10.244.1.255', scope: 'global', label: 'eth0', flags: [], valid_life_time: FOREVER, preferred_life_time: FOREVER },
      { family: 'inet6', local: 'fe80::5011:93ff:fe17:f24c', prefixlen: 64, scope: 'link', flags: ['tentative'], valid_life_time: FOREVER, preferred_life_time: FOREVER },
    ]);
  });
});

describe('parseIpLink -s -s (text) and ip -j -s -s link', () => {
  it('maps counter columns to the JSON stats64 names, so text and JSON agree', () => {
    const t = parseIpLink(LO_STATS);
    const j = parseIpLinkJson(LO_STATS_JSON);
    expect(t.diagnostics).toEqual([]);
    expect(j.diagnostics).toEqual([]);
    expect(t.records[0].stats64?.rx).toMatchObject({ bytes: 30982, packets: 151, missed_errors: 0, multicast: 0, over_errors: 0, crc_errors: 0 });
    expect(t.records[0].stats64?.tx).toMatchObject({ bytes: 30982, carrier_errors: 0, collisions: 0, heartbeat_errors: 0, carrier_changes: 2 });
    expect({ ...t.records[0].stats64!.rx }).toEqual({ ...j.records[0].stats64!.rx });
    expect({ ...t.records[0].stats64!.tx }).toEqual({ ...j.records[0].stats64!.tx });
  });
  it('flags counter rows that do not match their header', () => {
    const bad = LO_STATS.replace('         30982     151      0       0       0       0 \n    RX errors', '         30982     151 \n    RX errors');
    const r = parseIpLink(bad);
    expect(r.diagnostics.some((d) => d.line === 4 && /2 counters under 6 column names/.test(d.message))).toBe(true);
  });
});

describe('ip -d link details', () => {
  it('keeps the vxlan detail line and reads its attributes', () => {
    const text = `4: vxlan.calico: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/ether 66:6e:6c:00:00:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    vxlan id 4096 local 10.0.1.5 dev eth0 srcport 0 0 dstport 4789 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 
`;
    const r = parseIpLink(text);
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0].linkinfo?.kind).toBe('vxlan');
    expect(r.records[0].linkinfo?.data).toMatchObject({ id: 4096, local: '10.0.1.5', dev: 'eth0', dstport: 4789, nolearning: true, ttl: 'auto', ageing: 300 });
    expect(r.records[0].mtu).toBe(1450);
  });
});

describe('parseIpAddrJson', () => {
  it('reads addr_info and refuses __proto__ keys inside it', () => {
    const r = parseIpAddrJson(
      '[{"ifindex":3,"ifname":"eth0","link_index":3,"link_netnsid":0,"flags":["UP"],"mtu":1500,"addr_info":[{"family":"inet","local":"10.244.1.5","prefixlen":32,"scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"__proto__":{"x":1},"family":"inet","local":"1.2.3.4","prefixlen":8}]}]',
    );
    expect(r.records[0].link).toBe('if3');
    expect(r.records[0].addr_info).toHaveLength(1);
    expect(r.diagnostics[0].message).toMatch(/addr_info\[1\]: forbidden key "__proto__"/);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
  it('skips the empty objects ip -j addr prints for filtered interfaces', () => {
    const r = parseIpAddrJson('[{},{"ifindex":1,"ifname":"lo","flags":[],"addr_info":[]}]');
    expect(r.records).toHaveLength(1);
    expect(r.diagnostics).toEqual([]);
  });
});

describe('bad interface text', () => {
  it('names the line of a broken header and of an orphan address line', () => {
    const r = parseIpLink('    inet 10.0.0.1/8 scope global eth0\n2 eth0 <UP> mtu 1500\n3: eth1: <UP mtu 1500\n');
    expect(r.records).toEqual([]);
    expect(r.diagnostics.map((d) => d.line)).toEqual([1, 2, 3]);
    expect(r.diagnostics[2].message).toMatch(/unterminated flag list/);
  });
});
