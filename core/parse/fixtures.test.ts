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
