import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Cidr,
  PrefixTable,
  canonicalIP,
  compareIP,
  formatIP,
  formatIPv4,
  formatIPv6,
  joinHostPort,
  parseIP,
  parseIPv4,
  parseIPv6,
  tryParseCidr,
  type IP,
} from '.';

const v6 = (s: string) => {
  const v = parseIPv6(s);
  if (v === null) throw new Error(`bad test address ${s}`);
  return v;
};

describe('IPv4', () => {
  it('parses and formats dotted quads', () => {
    expect(parseIPv4('10.244.1.5')).toBe(0x0af40105);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(formatIPv4(0x0af40105)).toBe('10.244.1.5');
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
  });

  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.256', '01.2.3.4', '1.2.3.04', '1.2.3.-4', '', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '1.2.3.4/32'])(
    'rejects %j',
    (s) => {
      expect(parseIPv4(s)).toBeNull();
      expect(parseIP(s)).toBeNull();
    },
  );
});

describe('IPv4 parser against the dotted-quad grammar', () => {
  // The grammar parseIPv4 implements by a character scan, written as a regex.
  const reference = (s: string): number | null => {
    const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) return null;
    return m.slice(1).reduce((v, o) => v * 256 + Number(o), 0) >>> 0;
  };
  it.each(['0.0.0.00', '1.2.3.4.', '.1.2.3', '1.2.3.', '00.1.1.1', '1.2.3.0', '9.99.199.255', '1.2.3.2550', '300.0.0.0', '1.2.3.4\n'])('%j as the grammar says', (s) => {
    expect(parseIPv4(s)).toBe(reference(s));
  });
  it('agrees with the grammar on random dotted strings', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.stringMatching(/^[0-9]{1,4}$/), fc.constantFrom('', '-1', 'x', ' 1'));
    fc.assert(
      fc.property(fc.array(octet, { minLength: 1, maxLength: 6 }), (parts) => {
        const s = parts.join('.');
        expect(parseIPv4(s)).toBe(reference(s));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IPv6 RFC 5952 text form', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // 4.2.1 shorten as much as possible
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'], // 4.1 no leading zeros
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 a single 16-bit 0 is not shortened
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 the longest run is shortened
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 equal runs: the first
    ['2001:DB8::1', '2001:db8::1'], // 4.3 lower case
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['fd00:10:244:1::', 'fd00:10:244:1::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // 5: IPv4-mapped keeps the dotted tail
    ['::ffff:c000:201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'], // not mapped: hex
  ])('%s → %s', (input, out) => {
    expect(formatIPv6(v6(input))).toBe(out);
    expect(canonicalIP(input)).toBe(out);
  });

  it.each(['', ':', ':::', '::1::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '1:2:3:4:5:6:7:8::', ':1::2', 'fe80::1%eth0', '::ffff:256.0.0.1', '::1.2.3', '1:2:3:4:5:6:7::8'])(
    'rejects %j',
    (s) => {
      expect(parseIPv6(s)).toBeNull();
      expect(parseIP(s)).toBeNull();
    },
  );

  it('round-trips random addresses through text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        const text = formatIPv6(v);
        expect(parseIPv6(text)).toBe(v);
        expect(text).toBe(text.toLowerCase());
        expect(text.split('::').length).toBeLessThanOrEqual(2);
      }),
    );
  });
});

describe('address helpers', () => {
  it('compares, joins host and port', () => {
    const a = parseIP('10.0.1.10')!;
    const b = parseIP('10.0.1.2')!;
    expect(compareIP(a, b)).toBeGreaterThan(0);
    expect(compareIP(b, parseIP('::1')!)).toBeLessThan(0);
    expect(joinHostPort('10.244.1.5', 80)).toBe('10.244.1.5:80');
    expect(joinHostPort('fd00::1', 80)).toBe('[fd00::1]:80');
    expect(formatIP(parseIP('FD00:0::1')!)).toBe('fd00::1');
  });
});

describe('Cidr', () => {
  it('parses, canonicalises and remembers host bits', () => {
    const c = Cidr.parse('10.244.0.0/16');
    expect(c.text).toBe('10.244.0.0/16');
    expect(c.hostBitsSet).toBe(false);
    expect(c.size).toBe(65536n);
    const h = Cidr.parse('10.0.0.1/8');
    expect(h.text).toBe('10.0.0.0/8');
    expect(h.hostBitsSet).toBe(true);
    expect(Cidr.parse('FD00:10:244::/56').text).toBe('fd00:10:244::/56');
    expect(Cidr.parse('10.96.0.0/12').netmask()).toBe('255.240.0.0');
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '/8', '10.0.0/8', 'fd00::/129', 'fd00::/1000', 'x/8', '10.0.0.0/8/8'])('rejects %j', (s) => {
    expect(tryParseCidr(s)).toBeNull();
    expect(() => Cidr.parse(s)).toThrow(/is not a CIDR/);
  });

  it('contains and overlaps, per family', () => {
    const c = Cidr.parse('10.244.0.0/16');
    expect(c.contains(parseIP('10.244.1.5')!)).toBe(true);
    expect(c.contains(parseIP('10.244.255.255')!)).toBe(true);
    expect(c.contains(parseIP('10.245.0.0')!)).toBe(false);
    expect(c.contains(parseIP('::ffff:10.244.1.5')!)).toBe(false); // other family
    expect(c.containsV4(parseIPv4('10.244.3.9')!)).toBe(true);
    expect(c.containsCidr(Cidr.parse('10.244.1.0/24'))).toBe(true);
    expect(c.containsCidr(Cidr.parse('10.0.0.0/8'))).toBe(false);
    expect(Cidr.parse('10.0.0.0/8').overlaps(c)).toBe(true);
    expect(c.overlaps(Cidr.parse('10.0.0.0/8'))).toBe(true);
    expect(c.overlaps(Cidr.parse('10.96.0.0/12'))).toBe(false);
    expect(Cidr.parse('10.96.0.0/12').overlaps(Cidr.parse('10.100.0.0/16'))).toBe(true);
    const v6c = Cidr.parse('fd00:10:244::/56');
    expect(v6c.contains(parseIP('fd00:10:244:ff::1')!)).toBe(true);
    expect(v6c.contains(parseIP('fd00:10:245::1')!)).toBe(false);
    expect(v6c.overlaps(Cidr.parse('10.244.0.0/16'))).toBe(false);
  });

  it('first, last, nth, offsetOf', () => {
    const c = Cidr.parse('10.244.1.0/24');
    expect(formatIP(c.first())).toBe('10.244.1.0');
    expect(formatIP(c.last())).toBe('10.244.1.255');
    expect(formatIP(c.nth(5))).toBe('10.244.1.5');
    expect(c.offsetOf(parseIP('10.244.1.7')!)).toBe(7n);
    expect(c.offsetOf(parseIP('10.244.2.7')!)).toBe(-1n);
    expect(() => c.nth(256)).toThrow(/has no address number 256/);
    const z = Cidr.parse('0.0.0.0/0');
    expect(formatIP(z.last())).toBe('255.255.255.255');
    const s = Cidr.parse('fd00:10:96::/112');
    expect(formatIP(s.nth(10))).toBe('fd00:10:96::a');
    expect(formatIP(s.last())).toBe('fd00:10:96::ffff');
  });

  it('carves subnets', () => {
    const c = Cidr.parse('10.244.0.0/16');
    expect(c.subnet(24, 0).text).toBe('10.244.0.0/24');
    expect(c.subnet(24, 1).text).toBe('10.244.1.0/24');
    expect(c.subnet(24, 255).text).toBe('10.244.255.0/24');
    expect(() => c.subnet(24, 256)).toThrow(/has only 256 subnets of \/24/);
    expect(() => c.subnet(15, 0)).toThrow(/cannot carve/);
    expect(Cidr.parse('10.244.1.0/24').subnet(26, 3).text).toBe('10.244.1.192/26');
    expect(Cidr.parse('fd00:10:244::/56').subnet(64, 1).text).toBe('fd00:10:244:1::/64');
    expect(Cidr.parse('fd00:10:244::/56').subnet(64, 255).text).toBe('fd00:10:244:ff::/64');
  });
});

describe('PrefixTable longest-prefix match', () => {
  it('picks the longest matching prefix', () => {
    const t = new PrefixTable<string>();
    t.insert(Cidr.parse('0.0.0.0/0'), 'default');
    t.insert(Cidr.parse('10.0.0.0/8'), 'ten');
    t.insert(Cidr.parse('10.244.0.0/16'), 'cluster');
    t.insert(Cidr.parse('10.244.1.0/24'), 'node-1');
    t.insert(Cidr.parse('10.244.1.5/32'), 'pod-a');
    const at = (s: string) => t.lookup(parseIP(s)!);
    expect(at('10.244.1.5')).toEqual({ prefix: 32, value: 'pod-a' });
    expect(at('10.244.1.6')).toEqual({ prefix: 24, value: 'node-1' });
    expect(at('10.244.2.8')).toEqual({ prefix: 16, value: 'cluster' });
    expect(at('10.1.2.3')).toEqual({ prefix: 8, value: 'ten' });
    expect(at('8.8.8.8')).toEqual({ prefix: 0, value: 'default' });
    expect(t.get(Cidr.parse('10.244.0.0/16'))).toBe('cluster');
    expect(t.get(Cidr.parse('10.244.0.0/17'))).toBeUndefined();
    expect(at('fd00::1')).toBeUndefined();
  });

  it('IPv6 and replacing a prefix', () => {
    const t = new PrefixTable<number>();
    t.insert(Cidr.parse('fd00:10:244::/56'), 1);
    t.insert(Cidr.parse('fd00:10:244:1::/64'), 2);
    expect(t.lookup(parseIP('fd00:10:244:1::5')!)).toEqual({ prefix: 64, value: 2 });
    expect(t.lookup(parseIP('fd00:10:244:2::5')!)).toEqual({ prefix: 56, value: 1 });
    expect(t.lookup(parseIP('fd00:11::1')!)).toBeUndefined();
    t.insert(Cidr.parse('fd00:10:244:1::/64'), 3);
    expect(t.lookup(parseIP('fd00:10:244:1::5')!)?.value).toBe(3);
  });

  it('agrees with a linear scan on random tables', () => {
    const prefixArb = fc.record({ addr: fc.integer({ min: 0, max: 0xffffffff }), len: fc.integer({ min: 0, max: 32 }) });
    fc.assert(
      fc.property(fc.array(prefixArb, { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 20 }), (prefixes, probes) => {
        const t = new PrefixTable<string>();
        const list: Cidr[] = [];
        for (const p of prefixes) {
          const c = Cidr.fromIP({ family: 4, value: p.addr >>> 0 }, p.len)!;
          t.insert(c, c.text);
          list.push(c);
        }
        for (const v of probes) {
          const ip: IP = { family: 4, value: v >>> 0 };
          let best: Cidr | undefined;
          for (const c of list) if (c.contains(ip) && (!best || c.prefix > best.prefix)) best = c;
          const got = t.lookup(ip);
          expect(got?.value).toBe(best?.text);
        }
      }),
    );
  });
});
