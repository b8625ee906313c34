import { describe, expect, it } from 'vitest';
import { testTopology } from '../cni/testing';
import { buildDataplane } from '../cni';
import { formatRouteLine, getRenderer, listRenderers, render, renderIpRoute, renderIpRouteJson, RenderError } from './index';

const t = testTopology({ plugin: 'cilium', mode: 'vxlan' });

describe('CNI renderers in the registry', () => {
  it('registers the iproute2, bridge and CNI result renderers', () => {
    const names = listRenderers().map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['ip-route', 'ip-route-json', 'ip-route-get', 'ip-addr', 'ip-addr-json', 'ip-link', 'ip-neigh', 'bridge-fdb', 'cni-result']));
    expect(getRenderer('ip-route')!.options).toContain('--pod NS/NAME');
  });

  it('ip-route: a node by --node, a pod by --pod, the first node by default', () => {
    expect(render('ip-route', t, { node: 'node-2' })).toContain('10.244.2.0/24 via 10.244.2.1 dev cilium_host proto kernel src 10.244.2.1 \n');
    expect(render('ip-route', t, {})).toBe(render('ip-route', t, { node: 'node-1' }));
    expect(render('ip-route', t, { pod: 'default/pod-a' })).toBe('default via 10.244.1.1 dev eth0 mtu 1450 \n10.244.1.1 dev eth0 scope link \n');
    expect(render('ip-route', t, { pod: 'default/pod-a', table: 'local' })).toContain('local 10.244.1.5 dev eth0 proto kernel scope host src 10.244.1.5 \n');
  });

  it('ip-route-json carries the route MTU in metrics', () => {
    const routes = JSON.parse(render('ip-route-json', t, { pod: 'default/pod-a' })) as Record<string, unknown>[];
    expect(routes[0]).toEqual({ dst: 'default', gateway: '10.244.1.1', dev: 'eth0', flags: [], metrics: [{ mtu: 1450 }] });
    expect(routes[1]).toEqual({ dst: '10.244.1.1', dev: 'eth0', scope: 'link', flags: [] });
  });

  it('cni-result prints the plugin\'s JSON for a pod', () => {
    const out = render('cni-result', t, { pod: 'default/pod-a' });
    expect(JSON.parse(out)).toMatchObject({ cniVersion: '0.3.1', ips: [{ address: '10.244.1.5/32', gateway: '10.244.1.1' }] });
    expect(out.endsWith('}\n')).toBe(true);
  });

  it('ip-route-get, ip-addr, ip-neigh, bridge-fdb', () => {
    // The gateway is cilium_host's own address: the kernel does not use it as a gateway, so no `via`
    // (what a real kernel prints: test/live/conformance/routes.test.ts).
    expect(render('ip-route-get', t, { node: 'node-1', dst: '10.244.3.9' })).toBe('10.244.3.9 dev cilium_host src 10.244.1.1 uid 0 \n    cache mtu 1450 \n');
    expect(render('ip-addr', t, { node: 'node-1', dev: 'cilium_host', family: '4' })).toBe(
      '4: cilium_host@cilium_net: <BROADCAST,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n    inet 10.244.1.1/32 scope link cilium_host\n       valid_lft forever preferred_lft forever\n',
    );
    const flannel = testTopology({ plugin: 'flannel', mode: 'vxlan' });
    expect(render('ip-neigh', flannel, { node: 'node-1' })).toMatch(/^10\.244\.2\.0 dev flannel\.1 lladdr ([0-9a-f]{2}:){5}[0-9a-f]{2} PERMANENT \n10\.244\.3\.0 dev flannel\.1/);
    expect(render('bridge-fdb', flannel, { node: 'node-1', dev: 'flannel.1' })).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2} dst 10\.0\.1\.6 self permanent\n/);
  });

  it('says what to do on bad options', () => {
    expect(() => render('ip-route', t, { table: 'foo' })).toThrow(RenderError);
    expect(() => render('cni-result', t, {})).toThrow(/--pod/);
    expect(() => render('ip-route-get', t, {})).toThrow(/--dst/);
    expect(() => render('no-such', t, {})).toThrow(/unknown renderer/);
    try {
      render('no-such', t, {});
    } catch (e) {
      expect((e as RenderError).hint).toContain('ip-route');
    }
  });
});

describe('iproute2 text details', () => {
  const n1 = buildDataplane(testTopology({ plugin: 'calico', mode: 'bgp' })).node('node-1');

  it('IPv6 routes: metric always, `pref medium` without a trailing space', () => {
    const v6 = renderIpRoute(n1, { family: 6, table: 'all' }).split('\n');
    expect(v6[0]).toBe('fe80::/64 dev eth0 proto kernel metric 256 pref medium');
    expect(v6).toContain('local ::1 dev lo table local proto kernel metric 0 pref medium');
  });

  it('--details prints unicast, protocol boot and scope global', () => {
    const r = n1.routes.find((x) => x.dst === '0.0.0.0/0')!;
    expect(formatRouteLine(r, { details: true })).toBe('unicast default via 10.0.0.1 dev eth0 proto boot scope global ');
    expect(formatRouteLine(r)).toBe('default via 10.0.0.1 dev eth0 ');
  });

  it('-j with table all shows the table of local routes', () => {
    const all = JSON.parse(renderIpRouteJson(n1, { table: 'all', family: 4 })) as Record<string, unknown>[];
    expect(all.find((x) => x.type === 'local' && x.dst === '10.0.1.5')).toEqual({
      type: 'local',
      dst: '10.0.1.5',
      dev: 'eth0',
      table: 'local',
      protocol: 'kernel',
      scope: 'host',
      prefsrc: '10.0.1.5',
      flags: [],
    });
  });
});
