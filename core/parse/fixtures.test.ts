// Real output captured on the local test-bed (test/live/testbed.test.ts with
// NETLAB_UPDATE_FIXTURES=1): every fixture parses without a diagnostic, and
// the records say what the test-bed built.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseBridgeFdb,
  parseBridgeFdbJson,
  parseConntrack,
  parseIpAddr,
  parseIpAddrJson,
  parseIpLink,
  parseIpLinkJson,
  parseIpNeigh,
  parseIpNeighJson,
  parseIpRoute,
  parseIpRouteJson,
  parseIpsetList,
  parseTcpdump,
  routePrefix,
  type ParseResult,
} from './index';

const DIR = join(__dirname, 'fixtures');
const read = (mode: string, f: string) => readFileSync(join(DIR, mode, f), 'utf8');

const PARSERS: Record<string, (t: string) => ParseResult<unknown>> = {
  'ip-route.txt': parseIpRoute,
  'pod-a-ip-route.txt': parseIpRoute,
  'ip-j-route.json': parseIpRouteJson,
  'ip-addr.txt': parseIpAddr,
  'pod-a-ip-addr.txt': parseIpAddr,
  'ip-j-addr.json': parseIpAddrJson,
  'ip-s-s-d-link.txt': parseIpLink,
  'ip-j-s-s-d-link.json': parseIpLinkJson,
  'ip-neigh.txt': parseIpNeigh,
  'ip-j-neigh.json': parseIpNeighJson,
  'bridge-fdb.txt': parseBridgeFdb,
  'bridge-j-fdb.json': parseBridgeFdbJson,
  'ipset-list-node-2.txt': parseIpsetList,
  'conntrack-L.txt': parseConntrack,
  'tcpdump-node-1-eth0.txt': parseTcpdump,
  'tcpdump-pod-a-dns.txt': parseTcpdump,
};

const MODES = ['calico-bgp', 'calico-vxlan'];

describe.each(MODES)('fixtures captured on the test-bed (%s)', (mode) => {
  const files = readdirSync(join(DIR, mode));

  it('has every capture', () => {
    for (const f of Object.keys(PARSERS)) expect(files).toContain(f);
  });

  it.each(Object.keys(PARSERS))('%s parses without diagnostics', (f) => {
    const r = PARSERS[f](read(mode, f));
    expect(r.diagnostics).toEqual([]);
    expect(r.records.length).toBeGreaterThan(0);
  });

  it('text and JSON forms of ip route, ip addr, ip link, ip neigh and bridge fdb agree', () => {
    const pairs: [string, string, (x: { [k: string]: unknown }) => string][] = [
      ['ip-route.txt', 'ip-j-route.json', (r) => `${r.type} ${r.dst} ${r.gateway} ${r.dev} ${r.protocol} ${r.metric} ${(r.flags as string[]).join(',')}`],
      ['ip-addr.txt', 'ip-j-addr.json', (r) => `${r.ifname} ${r.mtu} ${JSON.stringify((r.addr_info as { local: string; prefixlen: number }[]).map((a) => `${a.local}/${a.prefixlen}`))}`],
      ['ip-s-s-d-link.txt', 'ip-j-s-s-d-link.json', (r) => `${r.ifindex} ${r.ifname} ${r.address} ${r.link_index} ${(r.flags as string[]).join(',')}`],
      ['ip-neigh.txt', 'ip-j-neigh.json', (r) => `${r.dst} ${r.dev} ${r.lladdr}`],
      ['bridge-fdb.txt', 'bridge-j-fdb.json', (r) => `${r.mac} ${r.ifname} ${r.dst} ${r.state}`],
    ];
    for (const [text, json, key] of pairs) {
      const t = (PARSERS[text](read(mode, text)).records as { [k: string]: unknown }[]).map(key);
      const j = (PARSERS[json](read(mode, json)).records as { [k: string]: unknown }[]).map(key);
      // neighbour states change between two captures; compare the sets of entries that are in both
      if (text === 'ip-neigh.txt') expect(t.filter((x) => j.includes(x)).length).toBeGreaterThan(0);
      else expect(t).toEqual(j);
    }
  });

  it('ip route shows the Calico layout: local /32 routes, a blackholed block, remote blocks', () => {
    const routes = parseIpRoute(read(mode, 'ip-route.txt')).records;
    expect(routes.find((r) => r.dst === '10.244.1.5')).toMatchObject({ dev: 'cali5e1c4d6c68c', scope: 'link' });
    expect(routes.find((r) => r.type === 'blackhole')).toMatchObject({ dst: '10.244.1.0/26', protocol: mode === 'calico-bgp' ? 'bird' : '80' });
    const remote = routes.filter((r) => r.dst === '10.244.2.0/26' || r.dst === '10.244.3.0/26');
    expect(remote).toHaveLength(2);
    if (mode === 'calico-bgp') expect(remote.every((r) => r.protocol === 'bird' && r.metric === 32 && r.dev === 'eth0')).toBe(true);
    else expect(remote.every((r) => r.dev === 'vxlan.calico' && r.flags.includes('onlink') && r.gateway === routePrefix(r).split('/')[0])).toBe(true);
  });

  it('tcpdump in pod A walks the search list under ndots:5, and conntrack shows the Service DNAT', () => {
    const dns = parseTcpdump(read(mode, 'tcpdump-pod-a-dns.txt')).records.filter((p) => p.dns?.query && p.dns.qtype === 'A');
    expect(dns.map((p) => p.dns!.qname)).toEqual([
      'backend.default.svc.cluster.local.default.svc.cluster.local.',
      'backend.default.svc.cluster.local.svc.cluster.local.',
      'backend.default.svc.cluster.local.cluster.local.',
      'backend.default.svc.cluster.local.',
    ]);
    const ct = parseConntrack(read(mode, 'conntrack-L.txt'));
    expect(ct.summary?.count).toBe(ct.records.length);
    const flow = ct.records.find((e) => e.original.dst === '10.96.5.20');
    expect(flow?.reply.sport).toBe(8080);
    expect(flow?.assured).toBe(true);
  });

  it('the node capture shows VXLAN outer headers only in VXLAN mode', () => {
    const pk = parseTcpdump(read(mode, 'tcpdump-node-1-eth0.txt'));
    const vx = pk.records.filter((p) => p.vxlan);
    if (mode === 'calico-vxlan') {
      expect(vx.length).toBe(pk.records.length);
      expect(vx.every((p) => p.vxlan!.vni === 4096 && p.vxlan!.inner !== undefined)).toBe(true);
    } else expect(vx).toEqual([]);
  });

  it('the CNI result is ptp\'s (kept as the plugin printed it)', () => {
    const r = JSON.parse(read(mode, 'cni-result-ptp-pod-a.json')) as { cniVersion: string; ips: { address: string; gateway: string }[]; interfaces: { name: string; sandbox?: string }[] };
    expect(r.cniVersion).toBe('1.0.0');
    expect(r.ips[0]).toMatchObject({ address: '10.244.1.5/24', gateway: '10.244.1.1' });
    expect(r.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: '/var/run/netns/nl-p-default-pod-a' });
  });
});

// Other output forms captured on the test-bed by hand: conntrack -E / -o extended,id,
// ip route get and table all, ip -s link, tcpdump -tttt -# -e -i any, -tt -v, -e, -i any.
describe('output variants captured on the test-bed', () => {
  const v = (f: string) => read('variants', f);

  it('conntrack -E -o id: events with [NEW]/[UPDATE], the ICMP tuple id and the entry id told apart', () => {
    const r = parseConntrack(v('conntrack-E-o-id.txt'));
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((e) => e.event)).toEqual(['NEW', 'UPDATE']);
    expect(r.records[0]).toMatchObject({ l4: { name: 'icmp', num: 1 }, unreplied: true, original: { type: 8, code: 0 } });
    expect(r.records[0].original.id).not.toBe(r.records[0].id);
    expect(r.records[0].id).toBeGreaterThan(65535);
    expect(r.summary).toMatchObject({ count: 2, verb: 'flow events have been shown' });
  });

  it('conntrack -L -o extended,id and -p udp', () => {
    const r = parseConntrack(v('conntrack-L-o-extended-id.txt'));
    expect(r.diagnostics).toEqual([]);
    expect(r.records.every((e) => e.l3?.name === 'ipv4' && e.l3.num === 2 && typeof e.id === 'number')).toBe(true);
    const u = parseConntrack(v('conntrack-L-p-udp.txt'));
    expect(u.diagnostics).toEqual([]);
    expect(u.records[0]).toMatchObject({ l4: { name: 'udp' }, original: { dst: '10.96.0.10', dport: 53 }, reply: { src: '10.244.2.15' } });
    expect(u.records[0].state).toBeUndefined();
  });

  it('ip route show table all / ip -j route show table all agree; ip -6 route; ip route get with its cache line', () => {
    const t = parseIpRoute(v('ip-route-table-all.txt'));
    const j = parseIpRouteJson(v('ip-j-route-table-all.json'));
    expect(t.diagnostics).toEqual([]);
    expect(j.diagnostics).toEqual([]);
    expect(t.records.map((r) => `${r.type} ${r.dst} ${r.table ?? 'main'}`)).toEqual(j.records.map((r) => `${r.type} ${r.dst} ${r.table ?? 'main'}`));
    expect(t.records.some((r) => r.type === 'local' && r.table === 'local' && r.dst === '10.0.1.5')).toBe(true);
    expect(t.records.some((r) => r.type === 'broadcast')).toBe(true);
    const six = parseIpRoute(v('ip-6-route.txt'));
    expect(six.diagnostics).toEqual([]);
    expect(six.records.every((r) => r.family === 6 && r.pref === 'medium')).toBe(true);
    const get = parseIpRoute(v('ip-route-get.txt'));
    expect(get.diagnostics).toEqual([]);
    expect(get.records).toEqual([{ line: 1, type: 'unicast', dst: '10.244.2.8', family: 4, gateway: '10.0.1.6', dev: 'eth0', prefsrc: '10.0.1.5', uid: 0, cache: true, flags: [] }]);
  });

  it('ip -s link counters', () => {
    const r = parseIpLink(v('ip-s-link-eth0.txt'));
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0].ifname).toBe('eth0');
    expect(r.records[0].stats64?.rx.packets).toBeGreaterThan(0);
    expect(r.records[0].stats64?.tx.bytes).toBeGreaterThan(0);
  });

  it('tcpdump -tttt -# -e -i any (cooked capture: direction, ifindex, source MAC only)', () => {
    const r = parseTcpdump(v('tcpdump-tttt-e-any.txt'));
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toMatchObject({ number: 1, interface: 'eth0', direction: 'M', ifindex: 2, link: { dst: '', ethertype: 'IPv6', length: 76 }, protocol: 'IP6', transport: 'icmp6' });
    expect(r.records[0].timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  });

  it('tcpdump -tt -v: IP header, addresses on the continuation line, HTTP payload lines kept', () => {
    const r = parseTcpdump(v('tcpdump-tt-v.txt'));
    expect(r.diagnostics).toEqual([]);
    expect(r.records).toHaveLength(6);
    expect(r.records[0]).toMatchObject({ src: '10.244.1.5', dport: 8080, tcp: { flags: 'S' } });
    expect(r.records[0].timestamp).toMatch(/^\d{10}\.\d{6}$/);
    expect(r.records[0].ipHeader).toMatch(/^tos 0x0, ttl 63, id \d+, offset 0, flags \[DF\], proto TCP \(6\), length 60$/);
    expect(r.records[3].verbose?.[0]).toBe('GET / HTTP/1.1');
  });

  it('tcpdump: ARP through proxy ARP (ee:ee:ee:ee:ee:ee answers 169.254.1.1), ICMP echo, -e headers, -i any directions', () => {
    const a = parseTcpdump(v('tcpdump-icmp-arp.txt'));
    expect(a.diagnostics).toEqual([]);
    expect(a.records[1].arp).toEqual({ op: 'reply', target: '169.254.1.1', mac: 'ee:ee:ee:ee:ee:ee', length: 28 });
    expect(a.records.filter((p) => p.icmp?.kind === 'echo reply')).toHaveLength(2);
    const e = parseTcpdump(v('tcpdump-e.txt'));
    expect(e.diagnostics).toEqual([]);
    expect(e.records.every((p) => p.link?.ethertype === 'IPv4' && p.link.src && p.link.dst)).toBe(true);
    expect(e.records[3].app).toBe('HTTP: GET / HTTP/1.1');
    const any = parseTcpdump(v('tcpdump-any.txt'));
    expect(any.diagnostics).toEqual([]);
    expect(any.records.map((p) => `${p.interface} ${p.direction}`).slice(0, 4)).toEqual(['cali5e1c4d6c68c In', 'eth0 Out', 'eth0 In', 'cali5e1c4d6c68c Out']);
  });
});
