import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniConfigError, compareCniResults, expectedPluginResult } from './cni';

const CNI_FIX = join(__dirname, '..', 'cni', 'fixtures');
const PTP = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'ptp', mtu: 1500, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.98.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } };
const BRIDGE = { cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', bridge: 'cni0', mtu: 1450, isGateway: true, isDefaultGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.99.0/24' }]], routes: [{ dst: '10.244.0.0/16' }] } };

describe('CNI results (real plugin output from core/cni/fixtures)', () => {
  it('ptp and bridge results match the model field by field, MACs and veth names aside', () => {
    const ptp = expectedPluginResult(PTP, { ip: '10.244.98.2', sandbox: '/var/run/netns/nlcni-pod2' });
    const bridge = expectedPluginResult(BRIDGE, { ip: '10.244.99.2', sandbox: '/var/run/netns/nlcni-pod1' });
    const r = compareCniResults([
      { pod: 'p/ptp', model: ptp, real: readFileSync(join(CNI_FIX, 'ptp-1.0.0.json'), 'utf8') },
      { pod: 'p/bridge', model: bridge, real: readFileSync(join(CNI_FIX, 'bridge-1.0.0.json'), 'utf8') },
    ]);
    expect(r.items).toEqual([]);
    expect(r.compared).toBeGreaterThan(15);
  });

  it('0.3.1 results carry ips[].version and no interface MTU: a version mismatch shows', () => {
    const model = expectedPluginResult({ ...PTP, cniVersion: '0.3.1' }, { ip: '10.244.98.2', sandbox: '/var/run/netns/nlcni-pod2' });
    const real = readFileSync(join(CNI_FIX, 'ptp-0.3.1.json'), 'utf8');
    expect(compareCniResults([{ pod: 'p', model, real }]).items).toEqual([]);
    const v1 = expectedPluginResult(PTP, { ip: '10.244.98.2', sandbox: '/var/run/netns/nlcni-pod2' });
    const r = compareCniResults([{ pod: 'p', model: v1, real }]);
    expect(r.items.map((i) => i.where)).toEqual(['p cniVersion', 'p ips[0].version']);
  });

  it('a different address, gateway or route is an unexplained difference with its JSON path', () => {
    const model = expectedPluginResult(PTP, { ip: '10.244.98.3', sandbox: '/var/run/netns/nlcni-pod2' });
    const r = compareCniResults([{ pod: 'default/pod-a', model, real: readFileSync(join(CNI_FIX, 'ptp-1.0.0.json'), 'utf8') }]);
    expect(r.items).toMatchObject([{ kind: 'changed', where: 'default/pod-a ips[0].address', model: '"10.244.98.3/24"', real: '"10.244.98.2/24"', explained: false }]);
  });

  it('a container interface name is compared (only host veth names are set aside)', () => {
    const model = expectedPluginResult(PTP, { ip: '10.244.98.2', sandbox: '/var/run/netns/nlcni-pod2', ifname: 'net1' });
    const r = compareCniResults([{ pod: 'p', model, real: readFileSync(join(CNI_FIX, 'ptp-1.0.0.json'), 'utf8') }]);
    expect(r.items.map((i) => i.where)).toEqual(['p interfaces[1].name']);
  });

  it('reads libcni\'s cache file (kind cniCacheV1) and reports missing or unreadable results', () => {
    const real = JSON.parse(readFileSync(join(CNI_FIX, 'ptp-1.0.0.json'), 'utf8')) as unknown;
    const cache = JSON.stringify({ kind: 'cniCacheV1', containerId: 'abc', ifName: 'eth0', networkName: 'k8s-pod-network', result: real });
    const model = expectedPluginResult(PTP, { ip: '10.244.98.2', sandbox: '/var/run/netns/nlcni-pod2' });
    expect(compareCniResults([{ pod: 'p', model, real: cache }]).items).toEqual([]);
    const r = compareCniResults([
      { pod: 'a', model, real: undefined, source: '/var/lib/cni/results' },
      { pod: 'b', model, real: '{not json' },
    ]);
    expect(r.items.map((i) => i.kind)).toEqual(['missing', 'changed']);
    expect(r.items[1].explanation).toMatch(/not JSON/);
  });

  it('configs the model does not cover are refused with a reason', () => {
    expect(() => expectedPluginResult({ ...PTP, ipam: { type: 'dhcp' } }, { ip: '10.0.0.2', sandbox: '/x' })).toThrow(CniConfigError);
    expect(() => expectedPluginResult({ ...PTP, type: 'macvlan' }, { ip: '10.244.98.2', sandbox: '/x' })).toThrow(/macvlan/);
  });
});

describe('CNI results of dual-stack pods (real ptp / bridge output with two host-local range sets, captured on the test-bed)', () => {
  const FIX = join(__dirname, 'fixtures');
  const ranges = (v4: string, v6: string) => [[{ subnet: v4 }], [{ subnet: v6 }]];
  const sandbox = '/var/run/netns/nl-p-default-web-66cd5dbf-wvq2c';
  it('ptp: one address per range set, in order, both on the container interface; the IPAM routes as given', () => {
    const conf = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'ptp', mtu: 1430, ipam: { type: 'host-local', ranges: ranges('10.244.1.0/24', 'fd00:10:244:1::/64'), routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] } };
    const model = expectedPluginResult(conf, { ip: '10.244.1.2', ip6: 'fd00:10:244:1::2', sandbox });
    expect(model.ips).toEqual([
      { interface: 1, address: '10.244.1.2/24', gateway: '10.244.1.1' },
      { interface: 1, address: 'fd00:10:244:1::2/64', gateway: 'fd00:10:244:1::1' },
    ]);
    const real = readFileSync(join(FIX, 'dual-stack-calico-vxlan', 'cni-result-ptp-web-66cd5dbf-wvq2c.json'), 'utf8');
    expect(compareCniResults([{ pod: 'default/web', model, real, source: 'fixture' }]).status).toBe('match');
    // without the IPv6 address the second range set cannot be modelled
    expect(() => expectedPluginResult(conf, { ip: '10.244.1.2', sandbox })).toThrow(/range set 1 \(fd00:10:244:1::\/64\)/);
  });
  it('bridge with isDefaultGateway: a default route per family, after the IPAM routes', () => {
    const conf = { cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, mtu: 1430, ipam: { type: 'host-local', ranges: ranges('10.244.1.0/24', 'fd00:10:244:1::/64'), routes: [{ dst: '10.244.0.0/16' }, { dst: 'fd00:10:244::/56' }] } };
    const model = expectedPluginResult(conf, { ip: '10.244.1.2', ip6: 'fd00:10:244:1::2', sandbox });
    expect(model.routes).toEqual([{ dst: '10.244.0.0/16' }, { dst: 'fd00:10:244::/56' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }, { dst: '::/0', gw: 'fd00:10:244:1::1' }]);
    const real = readFileSync(join(FIX, 'dual-stack-flannel-vxlan', 'cni-result-bridge-web-66cd5dbf-wvq2c.json'), 'utf8');
    expect(compareCniResults([{ pod: 'default/web', model, real, source: 'fixture' }]).status).toBe('match');
    // a wrong IPv6 gateway is found
    const bad = expectedPluginResult({ ...conf, ipam: { ...conf.ipam, ranges: [[{ subnet: '10.244.1.0/24' }], [{ subnet: 'fd00:10:244:1::/64', gateway: 'fd00:10:244:1::9' }]] } }, { ip: '10.244.1.2', ip6: 'fd00:10:244:1::2', sandbox });
    const res = compareCniResults([{ pod: 'default/web', model: bad, real, source: 'fixture' }]);
    expect(res.status).toBe('different');
    expect(res.items.map((i) => i.where)).toContain('default/web ips[1].gateway');
  });
});
