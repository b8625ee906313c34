import { describe, expect, it } from 'vitest';
import { parseIpRoute, parseIpRouteJson, routePrefix } from './index';

// Lines as iproute2 prints them: each token followed by a space, so lines end in a space.
const NODE_TABLE = [
  'default via 10.0.0.1 dev eth0 ',
  '10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.1.5 ',
  'blackhole 10.244.1.0/24 proto bird metric 32 ',
  '10.244.1.5 dev cali5e1c4d6c68c scope link ',
  '10.244.2.0/24 via 10.0.1.6 dev eth0 proto bird metric 32 ',
  '10.244.3.0/24 via 10.244.3.0 dev vxlan.calico proto 80 onlink ',
  '10.244.9.0/24 via 10.0.1.9 dev eth0 proto bird metric 32 linkdown ',
  'fe80::/64 dev eth0 proto kernel metric 256 pref medium',
  'local 10.0.1.5 dev eth0 table local proto kernel scope host src 10.0.1.5 ',
  'broadcast 10.0.255.255 dev eth0 table local proto kernel scope link src 10.0.1.5 ',
  '',
].join('\n');

describe('parseIpRoute (text)', () => {
  const { records, diagnostics } = parseIpRoute(NODE_TABLE);

  it('reads every route of a node table with trailing spaces', () => {
    expect(diagnostics).toEqual([]);
    expect(records.map((r) => r.dst)).toEqual([
      'default',
      '10.0.0.0/16',
      '10.244.1.0/24',
      '10.244.1.5',
      '10.244.2.0/24',
      '10.244.3.0/24',
      '10.244.9.0/24',
      'fe80::/64',
      '10.0.1.5',
      '10.0.255.255',
    ]);
  });

  it('keeps type, protocol, metric, scope, prefsrc and flags', () => {
    expect(records[2]).toMatchObject({ type: 'blackhole', protocol: 'bird', metric: 32, flags: [] });
    expect(records[1]).toMatchObject({ type: 'unicast', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.1.5' });
    expect(records[4]).toMatchObject({ gateway: '10.0.1.6', dev: 'eth0', protocol: 'bird', metric: 32 });
    expect(records[5]).toMatchObject({ gateway: '10.244.3.0', dev: 'vxlan.calico', protocol: '80', flags: ['onlink'] });
    expect(records[6].flags).toEqual(['linkdown']);
    expect(records[7]).toMatchObject({ family: 6, protocol: 'kernel', metric: 256, pref: 'medium' });
    expect(records[8]).toMatchObject({ type: 'local', table: 'local', scope: 'host' });
    expect(records[9].type).toBe('broadcast');
    expect(records[0].line).toBe(1);
    expect(records[9].line).toBe(10);
  });

  it('normalises destinations to prefixes', () => {
    expect(routePrefix(records[0])).toBe('0.0.0.0/0');
    expect(routePrefix(records[3])).toBe('10.244.1.5/32');
    expect(routePrefix({ dst: 'default', family: 6 })).toBe('::/0');
  });

  it('folds multipath nexthop lines into their route', () => {
    const r = parseIpRoute('10.244.0.0/16 proto bird metric 32 \n\tnexthop via 10.0.1.6 dev eth0 weight 1 \n\tnexthop via 10.0.1.7 dev eth0 weight 1 \n');
    expect(r.diagnostics).toEqual([]);
    expect(r.records).toHaveLength(1);
    expect(r.records[0].nexthops).toEqual([
      { gateway: '10.0.1.6', dev: 'eth0', weight: 1, flags: [] },
      { gateway: '10.0.1.7', dev: 'eth0', weight: 1, flags: [] },
    ]);
  });

  it('reads route metrics including mtu lock', () => {
    const r = parseIpRoute('10.244.2.0/24 via 10.0.1.6 dev eth0 mtu lock 1450 advmss 1410 \n');
    expect(r.records[0].metrics).toEqual({ mtu_lock: true, mtu: 1450, advmss: 1410 });
  });

  it('names the line of a malformed route and keeps going', () => {
    const r = parseIpRoute('default via 10.0.0.1 dev eth0 \nhello world\n10.0.0.0/16 dev\n');
    expect(r.records.map((x) => x.dst)).toEqual(['default', '10.0.0.0/16']);
    expect(r.diagnostics.map((d) => d.line)).toEqual([2, 3]);
    expect(r.diagnostics[0].message).toMatch(/line 2.*"hello" is not a destination/);
    expect(r.diagnostics[1].message).toMatch(/line 3: "dev" without a value/);
  });

  it('keeps unknown tokens in extra with a warning instead of dropping them', () => {
    const r = parseIpRoute('10.0.0.0/8 dev eth0 frobnicate \n');
    expect(r.records[0].extra).toEqual(['frobnicate']);
    expect(r.diagnostics[0].severity).toBe('warning');
  });
});

describe('parseIpRouteJson', () => {
  it('reads ip -j route into the same shape as the text parser', () => {
    const json =
      '[{"dst":"default","gateway":"10.0.0.1","dev":"eth0","flags":[]},{"type":"blackhole","dst":"10.244.1.0/24","protocol":"bird","metric":32,"flags":[]},{"dst":"10.244.3.0/24","gateway":"10.244.3.0","dev":"vxlan.calico","protocol":"80","flags":["onlink"]}]';
    const j = parseIpRouteJson(json);
    const t = parseIpRoute('default via 10.0.0.1 dev eth0 \nblackhole 10.244.1.0/24 proto bird metric 32 \n10.244.3.0/24 via 10.244.3.0 dev vxlan.calico proto 80 onlink \n');
    expect(j.diagnostics).toEqual([]);
    const strip = (rs: { line: number }[]) => rs.map(({ line: _line, ...rest }) => rest);
    expect(strip(j.records)).toEqual(strip(t.records));
  });

  it('reports unbalanced JSON with line and column', () => {
    const r = parseIpRouteJson('[{"dst":"default",\n"dev":"eth0"');
    expect(r.records).toEqual([]);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', line: 2 });
    expect(r.diagnostics[0].message).toMatch(/invalid JSON at line 2, column \d+: .*end of input/);
  });

  it('refuses prototype-pollution keys and does not pollute Object.prototype', () => {
    const r = parseIpRouteJson('[{"dst":"default","__proto__":{"polluted":1}},{"dst":"10.0.0.0/8","flags":[]}]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(r.records.map((x) => x.dst)).toEqual(['10.0.0.0/8']);
    expect(r.diagnostics[0].message).toMatch(/forbidden key "__proto__"/);
  });

  it('rejects non-array JSON and non-object elements', () => {
    expect(parseIpRouteJson('{"dst":"default"}').diagnostics[0].message).toMatch(/expected a JSON array/);
    const r = parseIpRouteJson('[1,{"dst":"default"}]');
    expect(r.records).toHaveLength(1);
    expect(r.diagnostics[0].message).toMatch(/\[0\]: expected an object, got number/);
  });

  it('warns about wrongly typed fields but keeps the route', () => {
    const r = parseIpRouteJson('[{"dst":"default","metric":"high"}]');
    expect(r.records[0].metric).toBeUndefined();
    expect(r.diagnostics[0].message).toMatch(/metric: expected a number/);
  });
});
