import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataplane } from '../cni';
import type { Route } from '../cni/types';
import { loadTopology } from '../model';
import { parseIpRoute, parseIpRouteJson } from '../parse';
import { compareRoutes } from './routes';

function r(dst: string, extra: Partial<Route> = {}): Route {
  return { type: 'unicast', family: 4, dst, table: 'main', protocol: 'boot', scope: 'global', flags: [], origin: 'test', ...extra };
}

const MODEL: Route[] = [
  r('0.0.0.0/0', { gateway: '10.0.0.1', dev: 'eth0' }),
  r('10.0.0.0/16', { dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.1.5' }),
  r('10.244.1.5/32', { dev: 'cali5e1c4d6c68c', scope: 'link' }),
  r('10.244.2.0/26', { gateway: '10.244.2.0', dev: 'vxlan.calico', flags: ['onlink'] }),
  r('10.244.9.0/26', { gateway: '10.0.1.9', dev: 'eth0', protocol: 'bird' }),
];
const REAL = `default via 10.0.0.1 dev eth0 
10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.1.5 
10.244.1.5 dev cali5e1c4d6c68c scope link 
10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink 
10.244.9.0/26 via 10.0.1.9 dev eth0 proto bird 
`;
const cmp = (text: string, opts = {}) => compareRoutes(MODEL, parseIpRoute(text).records, opts);

describe('compareRoutes', () => {
  it('identical tables match', () => {
    const res = cmp(REAL);
    expect(res.status).toBe('match');
    expect(res.compared).toBe(5);
  });

  it('a different gateway or device is unexplained', () => {
    const res = cmp(REAL.replace('via 10.0.1.9 dev eth0', 'via 10.0.1.8 dev eth0'));
    expect(res.items).toHaveLength(1);
    expect(res.items[0]).toMatchObject({ kind: 'changed', explained: false, where: 'main 10.244.9.0/26' });
    expect(res.items[0].explanation).toContain('gateway 10.0.1.9 → 10.0.1.8');
  });

  it('proto, scope, src and a lone metric are shown but explained', () => {
    const res = cmp(REAL.replace('10.244.9.0/26 via 10.0.1.9 dev eth0 proto bird', '10.244.9.0/26 via 10.0.1.9 dev eth0 proto static metric 100').replace('10.244.1.5 dev cali5e1c4d6c68c scope link', '10.244.1.5 dev cali5e1c4d6c68c'));
    expect(res.status).toBe('explained');
    expect(res.items.map((i) => i.explanation).join(' ')).toMatch(/proto bird → static.*metric 0 → 100/);
    expect(res.items.map((i) => i.explanation).join(' ')).toMatch(/scope link → global/);
  });

  it('metric matters when a prefix has several routes', () => {
    const model = [...MODEL, r('10.244.9.0/26', { gateway: '10.0.1.10', dev: 'eth0', metric: 200 })];
    const real = `${REAL.replace('10.244.9.0/26 via 10.0.1.9 dev eth0 proto bird', '10.244.9.0/26 via 10.0.1.9 dev eth0 proto bird metric 300')}10.244.9.0/26 via 10.0.1.10 dev eth0 metric 200 \n`;
    const res = compareRoutes(model, parseIpRoute(real).records);
    expect(res.items.filter((i) => !i.explained).map((i) => i.explanation).join(' ')).toMatch(/lowest metric/);
  });

  it('onlink is explained only when the gateway is on-link anyway', () => {
    const model = [...MODEL, r('10.244.7.0/26', { gateway: '10.0.1.7', dev: 'eth0', flags: ['onlink'] })];
    const res = compareRoutes(model, parseIpRoute(`${REAL}10.244.7.0/26 via 10.0.1.7 dev eth0 \n`).records);
    expect(res.status).toBe('explained');
    expect(res.items[0].explanation).toMatch(/on-link on eth0 anyway/);
    const res2 = cmp(REAL.replace('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink', '10.244.2.0/26 via 10.244.2.0 dev vxlan.calico'));
    expect(res2.status).toBe('different');
  });

  it('pod veth names may differ: routes are paired by the pod IP they point to', () => {
    const text = REAL.replace('dev cali5e1c4d6c68c', 'dev veth1a2b3c4d');
    expect(cmp(text).status).toBe('different');
    const res = cmp(text, { podVeths: { '10.244.1.5': 'cali5e1c4d6c68c' } });
    expect(res.status).toBe('explained');
    expect(res.items[0].explanation).toMatch(/host veth names differ/);
    expect(cmp(text, { devAliases: { veth1a2b3c4d: 'cali5e1c4d6c68c' } }).status).toBe('explained');
  });

  it('missing and extra routes say where the traffic goes instead', () => {
    const res = cmp(`${REAL.replace('10.244.9.0/26 via 10.0.1.9 dev eth0 proto bird \n', '')}blackhole 10.244.5.0/26 proto bird \n`);
    const miss = res.items.find((i) => i.kind === 'missing')!;
    expect(miss.explanation).toContain('now follow `default via 10.0.0.1 dev eth0`');
    const extra = res.items.find((i) => i.kind === 'extra')!;
    expect(extra.real).toBe('blackhole 10.244.5.0/26 proto bird');
    expect(extra.explanation).toContain('the model does not');
  });

  it('other tables and IPv6 are left out unless asked for', () => {
    const res = cmp(`${REAL}local 10.0.1.5 dev eth0 table local proto kernel scope host src 10.0.1.5 \n`);
    expect(res.status).toBe('match');
  });

  it('a caller can explain a known difference', () => {
    const res = cmp(`${REAL}10.96.0.0/12 dev kube-ipvs0 \n`, { explain: (it: { real?: string }) => (it.real?.includes('kube-ipvs0') ? 'IPVS dummy device' : undefined) });
    expect(res.status).toBe('explained');
  });
});

describe('compareRoutes, IPv6 (ip -6 -j route show captured on the dual-stack test-bed)', () => {
  const FIX = join(__dirname, 'fixtures');
  const sample = readFileSync(join(__dirname, '..', '..', 'resources', 'samples', 'dual-stack.yaml'), 'utf8');
  const dataplane = (cni: string) => buildDataplane(loadTopology([{ file: 'dual-stack.yaml', text: sample }], { set: ['podIPOffset=2', `cni=${cni}`] }).topology!);
  const real = (dir: string, file: string) => parseIpRouteJson(readFileSync(join(FIX, dir, file), 'utf8')).records;
  it('calico-vxlan node-1: the model\'s IPv6 main table is what the kernel printed (vxlan-v6.calico, /128 host routes, blackholed /122, default via the node gateway)', () => {
    const dp = dataplane('calico-vxlan');
    const res = compareRoutes(dp.node('node-1').routes, real('dual-stack-calico-vxlan', 'ip-6-j-route-node-1.json'), { family: 6 });
    expect(res.items).toEqual([]);
    expect(res.compared).toBe(14);
    expect(res.summary).toContain('(table main, IPv6)');
    // the IPv4 default of the same records is not mixed in
    expect(compareRoutes(dp.node('node-1').routes, real('dual-stack-calico-vxlan', 'ip-6-j-route-node-1.json')).items.every((i) => i.kind === 'missing')).toBe(true);
  });
  it('calico-vxlan pod: /128 address route and the default via fe80::ecee:eeff:feee:eeee', () => {
    const dp = dataplane('calico-vxlan');
    const res = compareRoutes(dp.pods.get('default/web-66cd5dbf-wvq2c')!.routes, real('dual-stack-calico-vxlan', 'ip-6-j-route-pod-web-66cd5dbf-wvq2c.json'), { family: 6 });
    expect(res.items).toEqual([]);
    expect(res.compared).toBe(3);
  });
  it('flannel-vxlan node-1: flannel-v6.1 and cni0; only the random veth names differ (explained through the aliases)', () => {
    const dp = dataplane('flannel-vxlan');
    const recs = real('dual-stack-flannel-vxlan', 'ip-6-j-route-node-1.json');
    const res = compareRoutes(dp.node('node-1').routes, recs, { family: 6 });
    expect(res.items.filter((i) => !i.explained).every((i) => /fe80::\/64/.test(i.where ?? ''))).toBe(true);
    expect(res.items.filter((i) => !/fe80::\/64/.test(i.where ?? ''))).toEqual([]);
  });
  it('a missing IPv6 route is named with the route that now catches its traffic', () => {
    const dp = dataplane('calico-vxlan');
    const recs = real('dual-stack-calico-vxlan', 'ip-6-j-route-node-1.json').filter((x) => x.dst !== 'fd00:10:244:2::/122');
    const res = compareRoutes(dp.node('node-1').routes, recs, { family: 6 });
    expect(res.status).toBe('different');
    expect(res.items).toHaveLength(1);
    expect(res.items[0].explanation).toContain('packets to fd00:10:244:2:: now follow `default via fd00:10::1 dev eth0`');
  });
});
