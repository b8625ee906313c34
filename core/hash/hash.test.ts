import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32, base64RawUrl, concatBytes, fnv1_32, fnv1a32, hex, sha1, sha1Hex, sha224, sha256, sha256Hex } from '.';

// FIPS 180-4 known answers (NIST CSRC "Examples with Intermediate Values" and
// the long-message vector), also `printf … | sha1sum / sha224sum / sha256sum`.
const M448 = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq';
const M896 = 'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu';
const MILLION_A = 'a'.repeat(1_000_000);

const VECTORS: { name: string; msg: string; sha1: string; sha224: string; sha256: string }[] = [
  {
    name: '"abc"',
    msg: 'abc',
    sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
    sha224: '23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7',
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  },
  {
    name: 'the empty string',
    msg: '',
    sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    sha224: 'd14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  {
    name: 'the 448-bit message (padding spills into a second block)',
    msg: M448,
    sha1: '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    sha224: '75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525',
    sha256: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  },
  {
    name: 'the 896-bit message',
    msg: M896,
    sha1: 'a49b2446a02c645bf419f995b67091253a04a259',
    sha224: 'c97ca9a559850ce97a04a96def6d99a9e0e0e2ab14e6b8df265fc0b3',
    sha256: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  },
  {
    name: "1,000,000 × 'a'",
    msg: MILLION_A,
    sha1: '34aa973cd4c4daa4f61eeb2bdbad27316534016f',
    sha224: '20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67',
    sha256: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
  },
];

describe('SHA-1 / SHA-224 / SHA-256 known answers', () => {
  it.each(VECTORS)('$name', (v) => {
    expect(hex(sha1(v.msg))).toBe(v.sha1);
    expect(hex(sha224(v.msg))).toBe(v.sha224);
    expect(hex(sha256(v.msg))).toBe(v.sha256);
    expect(sha1Hex(v.msg)).toBe(v.sha1);
    expect(sha256Hex(v.msg)).toBe(v.sha256);
  });

  it('hashes bytes and the same text as a string alike, UTF-8 encoded', () => {
    const s = 'ñandú/名前 🙂';
    const bytes = new TextEncoder().encode(s);
    expect(hex(sha256(bytes))).toBe(hex(sha256(s)));
    expect(hex(sha1(bytes))).toBe(createHash('sha1').update(s, 'utf8').digest('hex'));
  });

  it('digest lengths', () => {
    expect(sha1('x')).toHaveLength(20);
    expect(sha224('x')).toHaveLength(28);
    expect(sha256('x')).toHaveLength(32);
  });
});

describe('against node:crypto', () => {
  const node = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('hex');

  it('every length across the padding boundaries (0–200 bytes)', () => {
    for (let n = 0; n <= 200; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 255);
      expect(hex(sha1(b)), `sha1 of ${n} bytes`).toBe(node('sha1', b));
      expect(hex(sha224(b)), `sha224 of ${n} bytes`).toBe(node('sha224', b));
      expect(hex(sha256(b)), `sha256 of ${n} bytes`).toBe(node('sha256', b));
    }
  });

  it('arbitrary strings and bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 })), (x) => {
        const b = typeof x === 'string' ? new TextEncoder().encode(x) : x;
        expect(hex(sha1(x))).toBe(node('sha1', b));
        expect(hex(sha224(x))).toBe(node('sha224', b));
        expect(hex(sha256(x))).toBe(node('sha256', b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('encodings', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('base32: the RFC 4648 test vectors (Go base32.StdEncoding)', () => {
    const want: [string, string][] = [['', ''], ['f', 'MY======'], ['fo', 'MZXQ===='], ['foo', 'MZXW6==='], ['foob', 'MZXW6YQ='], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI======']];
    for (const [i, o] of want) expect(base32(bytes(i))).toBe(o);
  });

  it('base64RawUrl: the RFC 4648 vectors without padding, URL alphabet', () => {
    const want: [string, string][] = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']];
    for (const [i, o] of want) expect(base64RawUrl(bytes(i))).toBe(o);
    expect(base64RawUrl(Uint8Array.from([0xfb, 0xff, 0xbf]))).toBe('-_-_');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(base64RawUrl(b)).toBe(Buffer.from(b).toString('base64url'));
      }),
      { numRuns: 200 },
    );
  });

  it('hex and concatBytes', () => {
    expect(hex(Uint8Array.from([0, 1, 0x0f, 0x10, 0xab, 0xff]))).toBe('00010f10abff');
    expect(hex(new Uint8Array(0))).toBe('');
    expect([...concatBytes(Uint8Array.from([1, 2]), Uint8Array.from([3]))]).toEqual([1, 2, 3]);
  });

  it("kube-proxy's chain name for default/kubernetes:https (base32(sha256(…))[:16])", () => {
    // servicePortChainName: "KUBE-SVC-" + portProtoHash(servicePortName + protocol)
    expect(`KUBE-SVC-${base32(sha256('default/kubernetes:httpstcp')).slice(0, 16)}`).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
  });
});

describe('fnv1_32 (Go hash/fnv New32)', () => {
  it('the FNV-1 reference values, over UTF-8 bytes (multiply before xor, unlike FNV-1a)', () => {
    expect([fnv1_32(''), fnv1_32('a'), fnv1_32('foobar')]).toEqual([0x811c9dc5, 0x050c5d7e, 0x31f0b262]);
    expect(fnv1_32('é')).not.toBe(fnv1_32('\u00e9'.normalize('NFD')));
    expect(fnv1_32('a')).not.toBe(fnv1a32('a'));
  });
});

describe('fnv1a32', () => {
  it('the FNV reference values', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('agrees with the definition in exact arithmetic (per UTF-16 code unit, modulo 2^32)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
        let h = 0x811c9dc5n;
        for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x01000193n) % 0x100000000n;
        expect(fnv1a32(s)).toBe(Number(h));
      }),
      { numRuns: 300 },
    );
  });
});
