// Hostile input for every parser: they must return diagnostics, never throw,
// never hang (the vitest timeout catches a hang), and never pollute prototypes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseBridgeFdb,
  parseBridgeFdbJson,
  parseConntrack,
  parseIpLink,
  parseIpLinkJson,
  parseIpNeigh,
  parseIpNeighJson,
  parseIpRoute,
  parseIpRouteJson,
  parseIpRule,
  parseIpRuleJson,
  parseIpsetList,
  parseTcpdump,
  type ParseResult,
} from './index';

const TEXT_PARSERS: [string, (s: unknown) => ParseResult<unknown>][] = [
  ['ip route', parseIpRoute],
  ['ip rule', parseIpRule],
  ['ip link', parseIpLink],
  ['ip neigh', parseIpNeigh],
  ['bridge fdb', parseBridgeFdb],
  ['ipset', parseIpsetList],
  ['conntrack', parseConntrack],
  ['tcpdump', parseTcpdump],
];
const JSON_PARSERS: [string, (s: unknown) => ParseResult<unknown>][] = [
  ['ip -j route', parseIpRouteJson],
  ['ip -j rule', parseIpRuleJson],
  ['ip -j link', parseIpLinkJson],
  ['ip -j neigh', parseIpNeighJson],
  ['bridge -j fdb', parseBridgeFdbJson],
];
const ALL = [...TEXT_PARSERS, ...JSON_PARSERS];

describe.each(ALL)('%s on hostile input', (_name, parse) => {
  it('rejects non-string input with a message', () => {
    for (const v of [undefined, null, 42, {}, []]) {
      const r = parse(v);
      expect(r.records).toEqual([]);
      expect(r.diagnostics[0].severity).toBe('error');
    }
  });

  it('skips a 1 MB line and binary garbage, naming the line', () => {
    const huge = 'x'.repeat(1024 * 1024);
    const r = parse(`${huge}\n\u0000\u0001\u0002garbage\u00ff\n`);
    expect(r.records).toEqual([]);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics.every((d) => d.line >= 0)).toBe(true);
  });

  it('handles 10 MB of junk without throwing and caps its diagnostics', () => {
    const line = 'the quick brown fox [jumps] over=the lazy dog {"a":1} <x,y> 10.0.0.1/99 ::: \n';
    const big = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
    const r = parse(big);
    expect(r.diagnostics.length).toBeLessThanOrEqual(1001);
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        const r = parse(s);
        expect(Array.isArray(r.records)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on token soup built from the real formats', () => {
    const words = fc.constantFrom(
      'dev', 'via', 'src=', 'dst=', 'sport=', '[ASSURED]', '[UNREPLIED]', 'tcp', '6', 'proto', 'metric', 'nexthop', 'lladdr',
      'Name:', 'Members:', 'Header:', 'inet', 'link/ether', '1:', 'eth0:', '<UP>', 'IP', '>', '10.0.0.1.53:', 'Flags', '[S.],',
      'VXLAN,', 'UDP,', 'length', '17177+', 'A?', '0:', '32766:', 'from', 'all', 'not', 'fwmark', '0x200/0xf00', 'lookup', 'goto',
      '[detached]', '[unresolved]', 'uidrange', '1-', 'sport', 'dport', '[l3mdev-table]', 'realms', '"', '{', '}', '[', ']', ',', ':', '__proto__', 'constructor', '\t', '  ', '\n',
    );
    fc.assert(
      fc.property(fc.array(words, { maxLength: 60 }), (ws) => {
        const r = parse(ws.join(' '));
        expect(Array.isArray(r.diagnostics)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(JSON_PARSERS)('%s on hostile JSON', (_name, parse) => {
  it('reports unbalanced JSON with line and column', () => {
    const r = parse('[{"a":1},\n{"b":[1,2}\n]');
    expect(r.records).toEqual([]);
    expect(r.diagnostics[0]).toMatchObject({ line: 2, severity: 'error' });
    expect(r.diagnostics[0].column).toBeGreaterThan(0);
  });
  it('survives deeply nested arrays', () => {
    const r = parse('['.repeat(200000) + ']'.repeat(200000));
    expect(r.records).toEqual([]);
  });
  it('does not pollute Object.prototype through __proto__ / constructor keys', () => {
    parse('[{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted2":true}}}]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
  });
});

describe('ip rule on hostile input', () => {
  it('a rule line cut anywhere parses or reports an error naming line 1, never throws', () => {
    const line = '200:\tnot from 10.0.0.0/8 to 192.168.1.1 tos 0x10 fwmark 0x200/0xf00 iif eth0 [detached] oif lo uidrange 1-2 ipproto tcp sport 1-2 dport 80 lookup main suppress_prefixlength 0 realms 3/4 proto static';
    for (let n = 0; n <= line.length; n++) {
      const r = parseIpRule(line.slice(0, n));
      for (const d of r.diagnostics) expect(d.line).toBe(1);
      if (r.diagnostics.some((d) => d.severity === 'error')) expect(r.records).toEqual([]);
    }
  });
  it('JSON with wrong value types warns per field and keeps the rule', () => {
    const r = parseIpRuleJson('[{"priority":5,"src":["x"],"fwmark":7,"table":{"a":1},"iif":3}]');
    expect(r.records).toHaveLength(1);
    expect(r.diagnostics.length).toBeGreaterThan(0);
  });
  it('a priority over 2^32, negative or fractional is refused', () => {
    expect(parseIpRule('4294967296:\tfrom all lookup main').records).toEqual([]);
    for (const p of ['-1', '1.5', '4294967296']) expect(parseIpRuleJson(`[{"priority":${p},"src":"all","table":"main"}]`).records).toEqual([]);
  });
});

it('rejects input over the configured size limit up front', () => {
  const r = parseConntrack('x'.repeat(100), { maxInputLength: 10 });
  expect(r.diagnostics[0].message).toMatch(/over the limit of 10; nothing was parsed/);
});
