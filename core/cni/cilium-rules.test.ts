// Cilium's policy routing for the L7 proxy (1.16+, pkg/proxy/routes.go):
// `9: from all fwmark 0x200/0xf00 lookup 2004`, table 2004's `local default
// dev lo`, the local rule moved to 100 — per enabled family — and what the
// kernel does with it. Every expected string below is what iproute2 6.1 printed
// on this machine's kernel in a scratch namespace after
//   ip route add local default dev lo table 2004 proto kernel
//   ip -6 route add local default dev lo table 2004 proto kernel
//   ip [-6] rule add pref 9 fwmark 0x200/0xf00 lookup 2004 proto kernel
//   ip [-6] rule add pref 100 lookup local proto kernel; ip [-6] rule del pref 0
// (`ip route get 8.8.8.8 mark 0x200` → `local 8.8.8.8 dev lo table 2004 src 8.8.8.8 mark 0x200 uid 0`).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDataplane, routeLookup, CILIUM_TO_PROXY_MARK } from './index';
import { testTopology } from './testing';
import { renderIpRoute, renderIpRouteGet, renderIpRule, renderIpRuleJson } from '../render/iproute';
import { loadText } from '../trace/testing';

const DUAL = readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8');

const V4_RULES = '9:\tfrom all fwmark 0x200/0xf00 lookup 2004\n100:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';
const V6_RULES = '9:\tfrom all fwmark 0x200/0xf00 lookup 2004\n100:\tfrom all lookup local\n32766:\tfrom all lookup main\n';

describe.each(['vxlan', 'native', 'geneve'])('Cilium %s, IPv4, L7 proxy on (the default)', (mode) => {
  const t = testTopology({ plugin: 'cilium', mode });
  const n1 = buildDataplane(t).node('node-1');

  it('ip rule: rule 9 to table 2004, the local rule at 100, main and default', () => {
    expect(renderIpRule(n1)).toBe(V4_RULES);
    expect(renderIpRuleJson(n1)).toBe('[{"priority":9,"src":"all","fwmark":"0x200","fwmask":"0xf00","table":"2004"},{"priority":100,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]\n');
    // IPv6 is not enabled: the kernel's IPv6 defaults stay
    expect(renderIpRule(n1, { family: 6 })).toBe('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n');
  });

  it('table 2004: local default dev lo proto kernel scope host', () => {
    expect(renderIpRoute(n1, { table: 2004 })).toBe('local default dev lo proto kernel scope host \n');
    expect(renderIpRoute(n1, { table: 'all' }).split('\n')[0]).toBe('local default dev lo table 2004 proto kernel scope host ');
  });

  it('a packet marked 0x200 (any other bits outside 0xf00) is delivered locally through table 2004', () => {
    for (const mark of [CILIUM_TO_PROXY_MARK, 0x1200, 0xabcd0200]) {
      for (const dst of ['8.8.8.8', '10.244.2.5', '10.96.0.10']) {
        const r = routeLookup(n1, dst, { mark });
        expect(r).toMatchObject({ verdict: 'local', table: 2004, dev: 'lo', src: dst, rule: '9: from all fwmark 0x200/0xf00 lookup 2004' });
        expect(r.explanation).toMatch(/table 2004.*delivered to the local stack/);
      }
    }
    expect(renderIpRouteGet(n1, '8.8.8.8', { mark: 0x200 }).text).toBe('local 8.8.8.8 dev lo table 2004 src 8.8.8.8 mark 0x200 uid 0 \n    cache <local> \n');
  });

  it('unmarked packets and other Cilium marks (0xa00 from the proxy, 0x300, 0xe00) route exactly as without the rules', () => {
    const off = testTopology({ plugin: 'cilium', mode });
    off.settings.cni.l7Proxy = false;
    const plain = buildDataplane(off).node('node-1');
    expect(plain.rules).toBeUndefined();
    const dsts = ['8.8.8.8', '10.0.1.5', '10.0.1.6', '10.244.1.1', '10.244.1.2', '10.244.2.3', '10.244.3.3', '127.0.0.1', '10.0.255.255'];
    for (const mark of [undefined, 0xa00, 0x300, 0xe00, 0x100]) {
      for (const dst of dsts) {
        const a = routeLookup(n1, dst, mark === undefined ? undefined : { mark });
        const b = routeLookup(plain, dst);
        const pick = (x: typeof a) => ({ verdict: x.verdict, dev: x.dev, gateway: x.gateway, src: x.src, mtu: x.mtu, route: x.route });
        expect(pick(a), `${dst} mark ${mark}`).toEqual(pick(b));
      }
    }
  });
});

describe('Cilium with l7Proxy: false', () => {
  const t = testTopology({ plugin: 'cilium', mode: 'vxlan' });
  t.settings.cni.l7Proxy = false;
  const n1 = buildDataplane(t).node('node-1');
  it('keeps the kernel defaults and no table 2004; a 0x200 mark changes nothing', () => {
    expect(renderIpRule(n1)).toBe('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n');
    expect(n1.routes.some((r) => r.table === 2004)).toBe(false);
    expect(routeLookup(n1, '8.8.8.8', { mark: 0x200 })).toMatchObject({ verdict: 'forward', dev: 'eth0' });
    expect(n1.notes.join(' ')).toMatch(/L7 proxy disabled/);
  });
});

describe('Cilium dual-stack (IPv6 enabled): the same rule and table for IPv6', () => {
  const t = loadText(DUAL, ['cni=cilium-native']);
  const n1 = buildDataplane(t).node('node-1');
  it('ip -6 rule and ip -6 route show table 2004', () => {
    expect(renderIpRule(n1)).toBe(V4_RULES);
    expect(renderIpRule(n1, { family: 6 })).toBe(V6_RULES);
    expect(renderIpRoute(n1, { table: 2004, family: 6 })).toBe('local default dev lo proto kernel metric 1024 pref medium\n');
  });
  it('ip -6 route get with mark 0x200: local through table 2004, source ::1', () => {
    const r = routeLookup(n1, '2001:db8::1', { mark: 0x200 });
    expect(r).toMatchObject({ verdict: 'local', table: 2004 });
    expect(renderIpRouteGet(n1, '2001:db8::1', { mark: 0x200 }).text).toBe('local 2001:db8::1 from :: dev lo table 2004 proto kernel src ::1 metric 1024 pref medium\n');
  });
  it('the node note says what was added and what is not modelled', () => {
    expect(n1.notes.join(' ')).toMatch(/moved the local rule to priority 100.*\(IPv4 and IPv6\).*rule 10 \/ table 2005.*not modelled/);
  });
});
