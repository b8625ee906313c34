// Synchronous SHA-1, SHA-224 and SHA-256 (FIPS 180-4) over bytes or a
// string's UTF-8 encoding.
//
// Real components derive names from these digests: kube-proxy's chain names
// (base32(sha256(…))[:16]), Calico's interface and felix rule/chain names
// (sha1, sha224, sha256), Cilium's and Antrea's interface names, ipset names.
// The model builds them synchronously in the browser, a worker and Node alike;
// core/ must stay free of node:crypto and WebCrypto's digest is asynchronous,
// hence this one small implementation (known-answer tests in hash.test.ts).

import { hex } from './encode';

const encoder = new TextEncoder();

// Short messages (names, ids) are padded in one reused buffer: no allocation per digest.
const SCRATCH = new Uint8Array(1024);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/**
 * The message (a string UTF-8 encoded), 0x80, zeros and its 64-bit
 * big-endian bit length, to a multiple of 64 bytes: `total` bytes of `bytes`.
 */
function pad(input: string | Uint8Array): { bytes: Uint8Array; view: DataView; total: number } {
  let bytes: Uint8Array;
  let view: DataView;
  let len: number;
  if (typeof input === 'string' && input.length * 3 + 72 <= SCRATCH.length) {
    len = encoder.encodeInto(input, SCRATCH).written;
    bytes = SCRATCH;
    view = SCRATCH_VIEW;
  } else if (typeof input !== 'string' && input.length + 72 <= SCRATCH.length) {
    SCRATCH.set(input);
    len = input.length;
    bytes = SCRATCH;
    view = SCRATCH_VIEW;
  } else {
    const msg = typeof input === 'string' ? encoder.encode(input) : input;
    len = msg.length;
    bytes = new Uint8Array(((len + 9 + 63) >> 6) << 6);
    bytes.set(msg);
    view = new DataView(bytes.buffer);
  }
  const total = ((len + 9 + 63) >> 6) << 6;
  bytes[len] = 0x80;
  bytes.fill(0, len + 1, total - 8);
  const bits = len * 8;
  view.setUint32(total - 8, Math.floor(bits / 0x100000000));
  view.setUint32(total - 4, bits >>> 0);
  return { bytes, view, total };
}

function words(h: ArrayLike<number>, n: number): Uint8Array {
  const out = new Uint8Array(n * 4);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < n; i++) ov.setUint32(i * 4, h[i] >>> 0);
  return out;
}

// message schedules, reused (the functions are synchronous and not re-entrant)
const W1 = new Int32Array(80);
const W2 = new Int32Array(64);

/** SHA-1 digest (20 bytes). */
export function sha1(input: string | Uint8Array): Uint8Array {
  const { view, total } = pad(input);
  const w = W1;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(off + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return words([h0, h1, h2, h3, h4], 5);
}

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV256 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const IV224 = [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4];

/** The SHA-256 compression over the padded message, from `iv`; the first `outWords` words of the state. */
function sha2(input: string | Uint8Array, iv: readonly number[], outWords: number): Uint8Array {
  const { view, total } = pad(input);
  const w = W2;
  let h0 = iv[0] | 0;
  let h1 = iv[1] | 0;
  let h2 = iv[2] | 0;
  let h3 = iv[3] | 0;
  let h4 = iv[4] | 0;
  let h5 = iv[5] | 0;
  let h6 = iv[6] | 0;
  let h7 = iv[7] | 0;
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let f = h5;
    let g = h6;
    let h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K256[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  return words([h0, h1, h2, h3, h4, h5, h6, h7], outWords);
}

/** SHA-256 digest (32 bytes). */
export function sha256(input: string | Uint8Array): Uint8Array {
  return sha2(input, IV256, 8);
}

/** SHA-224 digest (28 bytes): SHA-256 from another initial state, truncated. */
export function sha224(input: string | Uint8Array): Uint8Array {
  return sha2(input, IV224, 7);
}

/** SHA-1 of the UTF-8 bytes of `text`, as 40 lower-case hex digits. */
export function sha1Hex(text: string | Uint8Array): string {
  return hex(sha1(text));
}

/** SHA-256 of the UTF-8 bytes of `text`, as 64 lower-case hex digits. */
export function sha256Hex(text: string | Uint8Array): string {
  return hex(sha256(text));
}
