// `ip rule` parser against real iproute2 6.1 output (fixtures/ip-rule, see its
// README for the commands that made it): text, JSON and pretty JSON give the
// same records; every selector iproute2 prints is kept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpRule, parseIpRuleJson, type RuleRecord } from './index';

const DIR = join(__dirname, 'fixtures', 'ip-rule');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

/** The record without its line number (text and JSON put objects on different lines). */
function strip(r: RuleRecord): Omit<RuleRecord, 'line'> {
  const { line: _line, ...rest } = r;
  void _line;
  return rest;
}

describe('ip rule (text) on real output', () => {
  const r = parseIpRule(read('ip-rule.txt'));
  const byPrio = (p: number) => r.records.filter((x) => x.priority === p);

  it('reads every line without an error', () => {
    expect(r.diagnostics).toEqual([]);
    expect(r.records).toHaveLength(34);
  });

  it('kernel-shaped rules: Cilium\'s proxy rule, felix\'s inverted WireGuard rule, the moved local rule', () => {
    expect(strip(byPrio(9)[0])).toEqual({ family: 4, priority: 9, not: false, fwmark: 0x200, fwmask: 0xf00, action: 'lookup', table: '2004' });
    expect(strip(byPrio(99)[0])).toEqual({ family: 4, priority: 99, not: true, fwmark: 0x100000, fwmask: 0x100000, action: 'lookup', table: '1' });
    expect(strip(byPrio(100)[0])).toEqual({ family: 4, priority: 100, not: false, action: 'lookup', table: 'local' });
  });

  it('prefixes (a bare host is /32), tos, iif/oif with [detached]', () => {
    expect(strip(byPrio(200)[0])).toEqual({
      family: 4, priority: 200, not: false, from: '10.0.0.0/8', to: '192.168.1.1/32', tos: '0x10', iif: 'eth0', iifDetached: true, oif: 'lo', action: 'lookup', table: 'main',
    });
    expect(byPrio(218)[0]).toMatchObject({ iif: 'dummy0', iifDetached: true, table: '6' });
  });

  it('actions: goto (and [unresolved]), blackhole, unreachable, prohibit, nop, l3mdev', () => {
    expect(byPrio(201)[0]).toMatchObject({ from: '10.0.0.1/32', action: 'goto', goto: 32766 });
    expect(byPrio(201)[0].unresolved).toBeUndefined();
    // 217 was printed `goto 300 [unresolved]` until rule 300 was added (the same kernel, before the capture)
    expect(byPrio(217)[0]).toMatchObject({ action: 'goto', goto: 300 });
    expect(parseIpRule('217:\tfrom all goto 300 [unresolved]\n').records[0]).toMatchObject({ action: 'goto', goto: 300, unresolved: true });
    expect(parseIpRuleJson('[{"priority":217,"src":"all","goto":300,"unresolved":null}]').records[0]).toMatchObject({ action: 'goto', goto: 300, unresolved: true });
    expect(byPrio(202)[0]).toMatchObject({ to: '1.2.3.0/24', action: 'blackhole' });
    expect(byPrio(203)[0]).toMatchObject({ action: 'unreachable' });
    expect(byPrio(204)[0]).toMatchObject({ action: 'prohibit' });
    expect(byPrio(205)[0]).toMatchObject({ action: 'nop' });
    expect(byPrio(206)[0]).toMatchObject({ action: 'lookup', l3mdev: true });
    expect(byPrio(206)[0].table).toBeUndefined();
  });

  it('uidrange, ipproto, sport/dport, tun_id, suppress_*, realms, proto', () => {
    expect(byPrio(207)[0].uidrange).toEqual({ start: 1000, end: 2000 });
    expect(byPrio(208)[0]).toMatchObject({ ipproto: 'tcp', sport: { start: 1000, end: 2000 }, dport: { start: 80, end: 80 } });
    expect(byPrio(216)[0].ipproto).toBe('udp');
    expect(byPrio(300)[0].sport).toEqual({ start: 53, end: 53 });
    expect(byPrio(301)[0].tunId).toBe(5);
    expect(byPrio(209)[0]).toMatchObject({ table: 'main', suppressPrefixlength: 0 });
    expect(byPrio(212)[0]).toMatchObject({ table: 'local', suppressIfgroup: '3' });
    expect(byPrio(210)[0]).toMatchObject({ fwmark: 5, realms: '3/4', table: '7' });
    expect(byPrio(302)[0].realms).toBe('4');
    expect(byPrio(214)[0]).toMatchObject({ iif: 'lo', table: '2005', protocol: 'static' });
    expect(byPrio(214)[0].iifDetached).toBeUndefined();
    expect(byPrio(304)[0].protocol).toBe('boot');
    expect(byPrio(9)[0].protocol).toBeUndefined(); // proto kernel is not printed without -d
  });

  it('marks: a full mask is no mask, mark 0 prints as 0, table numbers past 255', () => {
    expect(byPrio(213)[0]).toMatchObject({ fwmark: 7, table: '300' });
    expect(byPrio(213)[0].fwmask).toBeUndefined();
    expect(byPrio(303)[0]).toMatchObject({ fwmark: 0, fwmask: 1 });
    expect(byPrio(306)[0].table).toBe('4294967295');
    expect(byPrio(211)[0].table).toBe('default');
  });

  it('-d adds proto to every rule (kernel, unspec …) and nothing else changes', () => {
    const d = parseIpRule(read('ip-d-rule.txt'));
    expect(d.diagnostics).toEqual([]);
    expect(d.records.find((x) => x.priority === 9)!.protocol).toBe('kernel');
    expect(d.records.find((x) => x.priority === 99)!.protocol).toBe('unspec');
    expect(d.records.map((x) => ({ ...strip(x), protocol: undefined }))).toEqual(r.records.map((x) => ({ ...strip(x), protocol: undefined })));
  });
});

describe('ip -j rule on real output', () => {
  it('gives the same records as the text, compact and pretty-printed', () => {
    const text = parseIpRule(read('ip-rule.txt')).records.map(strip);
    for (const f of ['ip-j-rule.json', 'ip-j-p-rule.json']) {
      const j = parseIpRuleJson(read(f));
      expect(j.diagnostics).toEqual([]);
      expect(j.records.map(strip)).toEqual(text);
    }
  });

  it('pretty JSON names the line each rule starts on', () => {
    const j = parseIpRuleJson(read('ip-j-p-rule.json'));
    expect(j.records[0].line).toBe(1);
    expect(j.records[1].line).toBeGreaterThan(1);
  });

  it('IPv6: family from the listing for from-all rules, from the prefix otherwise; text = JSON', () => {
    const t = parseIpRule(read('ip-6-rule.txt'), { family: 6 });
    const j = parseIpRuleJson(read('ip-6-j-rule.json'), { family: 6 });
    expect(t.diagnostics).toEqual([]);
    expect(j.records.map(strip)).toEqual(t.records.map(strip));
    expect(t.records.map((x) => x.family)).toEqual([6, 6, 6, 6, 6, 6]);
    expect(t.records.find((x) => x.priority === 10)).toMatchObject({ from: 'fd00::/64', to: 'fd00:1::1/128' });
    expect(t.records.find((x) => x.priority === 12)!.from).toBe('2001:db8::1/128');
    // `from ::/0` is kept by the kernel as no prefix: `from all`
    expect(t.records.find((x) => x.priority === 11)!.from).toBeUndefined();
    // without the family, an IPv6 prefix still says 6
    expect(parseIpRule('10:\tfrom fd00::/64 lookup 5\n').records[0].family).toBe(6);
  });

  it('keeps keys it does not know, with a warning', () => {
    const j = parseIpRuleJson('[{"priority":5,"src":"all","table":"main","flowlabel":"0x1"}]');
    expect(j.records[0].extra).toEqual(['flowlabel="0x1"']);
    expect(j.diagnostics[0]).toMatchObject({ severity: 'warning', line: 1 });
  });
});

describe('ip rule: bad input names the line and column', () => {
  it('a line without "PRIO:"', () => {
    const r = parseIpRule('0:\tfrom all lookup local\nfrom all lookup main\n');
    expect(r.records).toHaveLength(1);
    expect(r.diagnostics).toEqual([{ line: 2, column: 1, severity: 'error', message: expect.stringMatching(/line 2, column 1: expected "PRIORITY:"/) }]);
  });
  it('a bad priority, prefix, mark or port range', () => {
    // [line, the token the column must point at, message]
    const cases: [string, string, RegExp][] = [
      ['x1:\tfrom all lookup main', 'x1:', /not a rule priority/],
      ['5:\tfrom 10.0.0.0/33 lookup main', '10.0.0.0/33', /not a source/],
      ['5:\tfrom all to 300.1.1.1 lookup main', '300.1.1.1', /not a destination/],
      ['5:\tfrom all fwmark 0xZZ lookup main', '0xZZ', /not a mark/],
      ['5:\tfrom all fwmark 0x1/0x123456789 lookup main', '0x1/', /not a mark/],
      ['5:\tfrom all dport 70000 lookup main', '70000', /expected a port/],
      ['5:\tfrom 10.0.0.0/8 to fd00::1 lookup main', 'fd00::1', /mixes IPv4 and IPv6/],
      ['5:\tfrom all fwmark', 'fwmark', /"fwmark" without a value/],
      ['5:\tfrom all goto x', 'x', /"goto" needs a rule priority/],
    ];
    for (const [line, at, msg] of cases) {
      const column = line.lastIndexOf(at) + 1;
      const r = parseIpRule(`${line}\n`);
      expect(r.records, line).toEqual([]);
      expect(r.diagnostics[0], line).toMatchObject({ line: 1, column, severity: 'error' });
      expect(r.diagnostics[0].message, line).toMatch(msg);
    }
  });
  it('unknown words are kept in extra with a warning, not dropped', () => {
    const r = parseIpRule('5:\tfrom all flowlabel 0x1 lookup main\n');
    expect(r.records[0]).toMatchObject({ table: 'main', extra: ['flowlabel', '0x1'] });
    expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', line: 1 });
  });
  it('JSON: a missing priority, a bad prefix or mark skips that object and names it', () => {
    const r = parseIpRuleJson('[{"src":"all","table":"main"},\n{"priority":1,"src":"10.0.0.0","srclen":40,"table":"main"},\n{"priority":2,"src":"all","fwmark":"zz","table":"main"},\n{"priority":3,"src":"all","table":"main"}]');
    expect(r.records.map((x) => x.priority)).toEqual([3]);
    expect(r.diagnostics.map((d) => [d.line, d.message.slice(0, 16)])).toEqual([
      [1, 'ip -j rule[0]: m'],
      [2, 'ip -j rule[1].sr'],
      [3, 'ip -j rule[2].fw'],
    ]);
  });
});
