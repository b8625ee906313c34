// Policy routing against the real kernel: the namespace below is the one built
// on this machine (kernel 6.18, iproute2 6.1) in a scratch network namespace
//   ip route add default via 192.168.7.1 dev eth1 table 7
//   ip route add throw 10.50.0.0/16 table 7
//   ip route add unreachable 10.60.0.0/16 table 7
//   ip route add 10.70.0.0/16 via 192.168.7.254 dev eth1 table 8
//   ip route add 10.90.0.0/16 dev eth1 scope link table 9
//   ip rule add fwmark 0x7/0xff lookup 7 priority 100
//   ip rule add from 192.168.7.5 lookup 8 priority 150
//   ip rule add to 10.80.0.0/16 lookup 7 priority 160
//   ip rule add iif eth1 lookup 8 priority 170
//   ip rule add oif eth1 lookup 8 priority 180
//   ip rule add not fwmark 0x100000/0x100000 lookup 9 priority 190
// and every expected string is what `ip rule`, `ip route get` and
// `ip route show table all` printed there.

import { describe, expect, it } from 'vitest';
import { NamespaceBuilder, addLoopback, addr4 } from './common';
import { routeLookup } from './routing';
import { defaultRules, isDefaultRuleSet, ruleLine, rulesOf, withDefaultRules } from './rules';
import type { RoutingRule } from './types';
import { renderIpRoute, renderIpRouteGet, renderIpRule, renderIpRuleJson } from '../render/iproute';

function probeNamespace() {
  const b = new NamespaceBuilder('probe');
  addLoopback(b);
  b.addInterface({ name: 'eth0', kind: 'veth', mac: '02:00:00:00:00:01', mtu: 1500, addresses: [addr4('10.0.1.5', 16, 'global', true)], ipv6LinkLocal: false, description: 'x' });
  b.addInterface({ name: 'eth1', kind: 'veth', mac: '02:00:00:00:00:02', mtu: 1500, addresses: [addr4('192.168.7.5', 24, 'global', true)], ipv6LinkLocal: false, description: 'y' });
  b.addRoute({ dst: 'default', gateway: '10.0.0.1', dev: 'eth0', origin: 'main default' });
  b.addRoute({ dst: 'default', gateway: '192.168.7.1', dev: 'eth1', table: 7, origin: 't7 default' });
  b.addRoute({ type: 'throw', dst: '10.50.0.0/16', table: 7, origin: 't7 throw' });
  b.addRoute({ type: 'unreachable', dst: '10.60.0.0/16', table: 7, origin: 't7 unreachable' });
  b.addRoute({ dst: '10.70.0.0/16', gateway: '192.168.7.254', dev: 'eth1', table: 8, origin: 't8' });
  b.addRoute({ dst: '10.90.0.0/16', dev: 'eth1', scope: 'link', table: 9, origin: 't9' });
  const r = (x: Omit<RoutingRule, 'family' | 'origin'>): RoutingRule => ({ family: 4, origin: 'test', ...x });
  b.rules.push(
    r({ priority: 100, fwmark: 0x7, fwmask: 0xff, table: 7 }),
    r({ priority: 150, from: '192.168.7.5/32', table: 8 }),
    r({ priority: 160, to: '10.80.0.0/16', table: 7 }),
    r({ priority: 170, iif: 'eth1', table: 8 }),
    r({ priority: 180, oif: 'eth1', table: 8 }),
    r({ priority: 190, not: true, fwmark: 0x100000, fwmask: 0x100000, table: 9 }),
  );
  return b.finish();
}

describe('policy rules (ip rule) checked against the kernel', () => {
  const ns = probeNamespace();

  it('ip rule show: the kernel defaults around the added rules, PRIO:<tab>selector, no trailing space', () => {
    expect(renderIpRule(ns)).toBe(
      [
        '0:\tfrom all lookup local',
        '100:\tfrom all fwmark 0x7/0xff lookup 7',
        '150:\tfrom 192.168.7.5 lookup 8',
        '160:\tfrom all to 10.80.0.0/16 lookup 7',
        '170:\tfrom all iif eth1 lookup 8',
        '180:\tfrom all oif eth1 lookup 8',
        '190:\tnot from all fwmark 0x100000/0x100000 lookup 9',
        '32766:\tfrom all lookup main',
        '32767:\tfrom all lookup default',
        '',
      ].join('\n'),
    );
    expect(renderIpRule(ns, { family: 6 })).toBe('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n');
  });

  it('ip -j rule show: keys in iproute2 order, srclen/dstlen only for prefixes, fwmask only with a mask', () => {
    const j = JSON.parse(renderIpRuleJson(ns)) as unknown[];
    expect(j).toEqual([
      { priority: 0, src: 'all', table: 'local' },
      { priority: 100, src: 'all', fwmark: '0x7', fwmask: '0xff', table: '7' },
      { priority: 150, src: '192.168.7.5', table: '8' },
      { priority: 160, src: 'all', dst: '10.80.0.0', dstlen: 16, table: '7' },
      { priority: 170, src: 'all', iif: 'eth1', table: '8' },
      { priority: 180, src: 'all', oif: 'eth1', table: '8' },
      { priority: 190, not: null, src: 'all', fwmark: '0x100000', fwmask: '0x100000', table: '9' },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ]);
    // key order, as the text shows it (toEqual ignores order)
    expect(renderIpRuleJson(ns).split('},{')[6]).toBe('"priority":190,"not":null,"src":"all","fwmark":"0x100000","fwmask":"0x100000","table":"9"');
  });

  it('ip route get with marks: fwmark under its mask, a throw falls through to main, unreachable stops the walk', () => {
    const get = (dst: string, mark?: number) => renderIpRouteGet(ns, dst, { mark }).text;
    expect(get('8.8.8.8', 0x7)).toBe('8.8.8.8 via 192.168.7.1 dev eth1 table 7 src 192.168.7.5 mark 7 uid 0 \n    cache \n');
    expect(get('8.8.8.8', 0x107)).toBe('8.8.8.8 via 192.168.7.1 dev eth1 table 7 src 192.168.7.5 mark 0x107 uid 0 \n    cache \n');
    expect(get('8.8.8.8', 0x8)).toBe('8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.1.5 mark 8 uid 0 \n    cache \n');
    expect(get('10.50.1.1', 0x7)).toBe('10.50.1.1 via 10.0.0.1 dev eth0 src 10.0.1.5 mark 7 uid 0 \n    cache \n');
    expect(get('10.60.1.1', 0x7)).toBe('RTNETLINK answers: No route to host\n');
    expect(get('10.70.1.1')).toBe('10.70.1.1 via 10.0.0.1 dev eth0 src 10.0.1.5 uid 0 \n    cache \n');
    expect(get('10.80.1.1')).toBe('10.80.1.1 via 192.168.7.1 dev eth1 table 7 src 192.168.7.5 uid 0 \n    cache \n');
    expect(get('10.90.1.1')).toBe('10.90.1.1 dev eth1 table 9 src 192.168.7.5 uid 0 \n    cache \n');
    expect(get('10.90.1.1', 0x100000)).toBe('10.90.1.1 via 10.0.0.1 dev eth0 src 10.0.1.5 mark 0x100000 uid 0 \n    cache \n');
    // with rules of its own the namespace's local table is unmerged: the reply names it
    expect(get('10.0.1.5')).toBe('local 10.0.1.5 dev lo table local src 10.0.1.5 uid 0 \n    cache <local> \n');
    expect(get('192.168.7.255')).toBe('broadcast 192.168.7.255 dev eth1 table local src 192.168.7.5 uid 0 \n    cache <local,brd> \n');
  });

  it('from, iif and oif selectors (ip route get … from / iif / oif)', () => {
    expect(routeLookup(ns, '10.70.1.1', { src: '192.168.7.5' })).toMatchObject({ verdict: 'forward', table: 8, gateway: '192.168.7.254', dev: 'eth1', rule: '150: from 192.168.7.5 lookup 8' });
    expect(routeLookup(ns, '10.70.1.1', { src: '192.168.7.9', iif: 'eth1' })).toMatchObject({ table: 8, rule: '170: from all iif eth1 lookup 8' });
    expect(routeLookup(ns, '10.70.1.1', { oif: 'eth1' })).toMatchObject({ table: 8, gateway: '192.168.7.254', src: '192.168.7.5', rule: '180: from all oif eth1 lookup 8' });
    const plain = routeLookup(ns, '10.70.1.1');
    expect(plain).toMatchObject({ table: 'main', gateway: '10.0.0.1', rule: '32766: from all lookup main' });
    // the walk says what it passed on the way: table 9 (rule 190) had nothing for it
    expect(plain.explanation).toContain('rule 190 → table 9: no route');
  });

  it('a throw says which rule it fell from, and no table with a route is ENETUNREACH', () => {
    const r = routeLookup(ns, '10.50.1.1', { mark: 0x7 });
    expect(r.explanation).toMatch(/^policy rule "32766: from all lookup main" → table main \(after rule 100 → table 7: throw 10\.50\.0\.0\/16 \(t7 throw\)/);
    const b = new NamespaceBuilder('empty');
    addLoopback(b);
    b.addRoute({ type: 'throw', dst: '0.0.0.0/0', table: 5, scope: 'global', origin: 'everything thrown' });
    b.rules.push({ family: 4, priority: 10, table: 5, origin: 'test' });
    const none = routeLookup(b.finish(), '192.0.2.1');
    expect(none.verdict).toBe('no-route');
    expect(none.explanation).toContain('rule 10 → table 5: throw 0.0.0.0/0');
  });

  it('ip route show table all: numbered tables first (by id), then main, then local; `table N` only there', () => {
    const all = renderIpRoute(ns, { table: 'all', family: 4 }).split('\n');
    expect(all.slice(0, 8)).toEqual([
      'default via 192.168.7.1 dev eth1 table 7 ',
      'throw 10.50.0.0/16 table 7 ',
      'unreachable 10.60.0.0/16 table 7 ',
      '10.70.0.0/16 via 192.168.7.254 dev eth1 table 8 ',
      '10.90.0.0/16 dev eth1 table 9 scope link ',
      'default via 10.0.0.1 dev eth0 ',
      '10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.1.5 ',
      '192.168.7.0/24 dev eth1 proto kernel scope link src 192.168.7.5 ',
    ]);
    expect(all[8]).toBe('local 10.0.1.5 dev eth0 table local proto kernel scope host src 10.0.1.5 ');
    expect(renderIpRoute(ns, { table: 7 })).toBe('default via 192.168.7.1 dev eth1 \nthrow 10.50.0.0/16 \nunreachable 10.60.0.0/16 \n');
  });
});

describe('kernel default rules', () => {
  it('IPv4 has 0/32766/32767, IPv6 has 0/32766; a namespace without rules lists them', () => {
    expect(defaultRules(4).map(ruleLine)).toEqual(['0:\tfrom all lookup local', '32766:\tfrom all lookup main', '32767:\tfrom all lookup default']);
    expect(defaultRules(6).map(ruleLine)).toEqual(['0:\tfrom all lookup local', '32766:\tfrom all lookup main']);
    expect(rulesOf({}, 6)).toEqual(defaultRules(6));
    expect(isDefaultRuleSet(defaultRules(4), 4)).toBe(true);
    expect(isDefaultRuleSet(withDefaultRules([{ family: 4, priority: 5, table: 3, origin: 'x' }]).filter((r) => r.family === 4), 4)).toBe(false);
  });

  it('same-priority rules keep the order they were added in; a /0 prefix prints as all', () => {
    const rules = withDefaultRules([
      { family: 4, priority: 32766, table: 9, origin: 'second' },
      { family: 4, priority: 5, from: '0.0.0.0/0', to: '0.0.0.0/0', table: 3, origin: 'x' },
    ]);
    expect(rules.filter((r) => r.family === 4).map(ruleLine)).toEqual([
      '0:\tfrom all lookup local',
      '5:\tfrom all lookup 3',
      '32766:\tfrom all lookup main',
      '32766:\tfrom all lookup 9',
      '32767:\tfrom all lookup default',
    ]);
  });

  it('without rules of its own a namespace takes the local-then-main path: no rule text, the old explanation', () => {
    const b = new NamespaceBuilder('plain');
    addLoopback(b);
    b.addInterface({ name: 'eth0', kind: 'veth', mac: '02:00:00:00:00:01', mtu: 1500, addresses: [addr4('10.0.1.5', 16)], description: 'x' });
    const ns = b.finish();
    expect(ns.rules).toBeUndefined();
    const r = routeLookup(ns, '10.0.9.9', { mark: 0x100000 });
    expect(r.rule).toBeUndefined();
    expect(r.explanation).toBe('10.0.0.0/16 dev eth0 is the longest match for 10.0.9.9: the destination is directly reachable on eth0 (kernel: connected route for 10.0.1.5/16 on eth0)');
    expect(renderIpRouteGet(ns, '10.0.1.5').text).toBe('local 10.0.1.5 dev lo src 10.0.1.5 uid 0 \n    cache <local> \n');
  });
});
