import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a32, sha1Hex, sha256Hex, syntheticMac, syntheticUuid } from './hash';
import { calicoVethName } from './calico';

const nodeHash = (alg: string, s: string) => createHash(alg).update(Buffer.from(s, 'utf8')).digest('hex');

describe('sha1Hex / sha256Hex', () => {
  // Padding boundaries: 55/56/63/64/65 bytes, empty input, multi-byte UTF-8.
  const samples = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(65), 'a'.repeat(200), 'default.pod-a', 'ñandú/名前'];
  it.each(samples)('match node:crypto for %j', (s) => {
    expect(sha1Hex(s)).toBe(nodeHash('sha1', s));
    expect(sha256Hex(s)).toBe(nodeHash('sha256', s));
  });

  it('match node:crypto for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(sha1Hex(s)).toBe(nodeHash('sha1', s));
        expect(sha256Hex(s)).toBe(nodeHash('sha256', s));
      }),
      { numRuns: 200 },
    );
  });
});

describe('derived names and MACs', () => {
  it('names Calico host veths like libcalico-go: cali + sha1("<ns>.<pod>")[:11]', () => {
    // echo -n default.pod-a | sha1sum → 5e1c4d6c68c9402db77e1629afb8d4205af0bfa0
    expect(calicoVethName('default', 'pod-a')).toBe('cali5e1c4d6c68c');
    expect(calicoVethName('kube-system', 'coredns-5d78c9869d-abcde')).toBe(`cali${nodeHash('sha1', 'kube-system.coredns-5d78c9869d-abcde').slice(0, 11)}`);
    expect(calicoVethName('default', 'pod-a')).toHaveLength(15); // IFNAMSIZ - 1
  });

  it('makes locally administered unicast MACs, stable per seed', () => {
    fc.assert(
      fc.property(fc.string(), (seed) => {
        const mac = syntheticMac(seed);
        expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        const first = parseInt(mac.slice(0, 2), 16);
        expect(first & 0x01).toBe(0); // unicast
        expect(first & 0x02).toBe(2); // locally administered
        expect(syntheticMac(seed)).toBe(mac);
      }),
    );
  });

  it('formats UUIDs and FNV hashes', () => {
    expect(syntheticUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // FNV-1a 32 reference values
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});
