import { type IP, type IPFamily, formatIPv4, formatIPv6, parseIP } from './ip';

const V6_ALL = (1n << 128n) - 1n;

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
function v6Mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (V6_ALL << BigInt(128 - prefix)) & V6_ALL;
}

const parsedCache = new Map<string, Cidr>();

export class CidrError extends Error {}

/**
 * A CIDR prefix. `base` has its host bits cleared; `hostBitsSet` remembers
 * whether the text had them set (`10.0.0.1/8`), which Kubernetes validation
 * treats differently per field.
 */
export class Cidr {
  readonly family: IPFamily;
  readonly prefix: number;
  readonly base: number | bigint;
  readonly hostBitsSet: boolean;
  readonly text: string;

  private constructor(family: IPFamily, base: number | bigint, prefix: number, hostBitsSet: boolean) {
    this.family = family;
    this.base = base;
    this.prefix = prefix;
    this.hostBitsSet = hostBitsSet;
    this.text = `${family === 4 ? formatIPv4(base as number) : formatIPv6(base as bigint)}/${prefix}`;
  }

  static parse(s: string): Cidr {
    const c = Cidr.tryParse(s);
    if (!c) throw new CidrError(`"${s}" is not a CIDR (expected ADDRESS/PREFIX such as 10.244.0.0/16 or fd00::/64)`);
    return c;
  }

  /**
   * Cidr.parse, memoised on the text: for hot paths that meet the same few
   * prefixes again and again (rule matches, policy routing). Throws like parse.
   */
  static cached(s: string): Cidr {
    let c = parsedCache.get(s);
    if (!c) {
      c = Cidr.parse(s);
      if (parsedCache.size > 100000) parsedCache.clear();
      parsedCache.set(s, c);
    }
    return c;
  }

  static tryParse(s: string): Cidr | null {
    if (typeof s !== 'string') return null;
    const slash = s.indexOf('/');
    if (slash < 0) return null;
    const addr = parseIP(s.slice(0, slash));
    const ptext = s.slice(slash + 1);
    if (!addr || !/^\d{1,3}$/.test(ptext)) return null;
    const prefix = Number(ptext);
    return Cidr.fromIP(addr, prefix);
  }

  static fromIP(addr: IP, prefix: number): Cidr | null {
    if (addr.family === 4) {
      if (prefix > 32) return null;
      const base = (addr.value & v4Mask(prefix)) >>> 0;
      return new Cidr(4, base, prefix, base !== addr.value);
    }
    if (prefix > 128) return null;
    const base = addr.value & v6Mask(prefix);
    return new Cidr(6, base, prefix, base !== addr.value);
  }

  /** A single host as /32 or /128. */
  static host(ip: IP): Cidr {
    return Cidr.fromIP(ip, ip.family === 4 ? 32 : 128)!;
  }

  get bits(): number {
    return this.family === 4 ? 32 : 128;
  }

  /** Number of addresses (bigint for IPv6). */
  get size(): bigint {
    return 1n << BigInt(this.bits - this.prefix);
  }

  toString(): string {
    return this.text;
  }

  contains(ip: IP): boolean {
    if (ip.family !== this.family) return false;
    if (ip.family === 4) return ((ip.value & v4Mask(this.prefix)) >>> 0) === this.base;
    return (ip.value & v6Mask(this.prefix)) === this.base;
  }

  /** Fast IPv4 containment for hot paths. */
  containsV4(v: number): boolean {
    return this.family === 4 && ((v & v4Mask(this.prefix)) >>> 0) === this.base;
  }

  containsCidr(other: Cidr): boolean {
    return other.family === this.family && other.prefix >= this.prefix && this.contains(other.first());
  }

  overlaps(other: Cidr): boolean {
    return this.containsCidr(other) || other.containsCidr(this);
  }

  first(): IP {
    return this.family === 4
      ? { family: 4, value: this.base as number }
      : { family: 6, value: this.base as bigint };
  }

  last(): IP {
    if (this.family === 4) return { family: 4, value: ((this.base as number) | ~v4Mask(this.prefix)) >>> 0 };
    return { family: 6, value: (this.base as bigint) | (~v6Mask(this.prefix) & V6_ALL) };
  }

  /** The n-th address of the prefix (0 = network address). Throws when outside. */
  nth(n: number | bigint): IP {
    const big = BigInt(n);
    if (big < 0n || big >= this.size) throw new CidrError(`${this.text} has no address number ${n}`);
    if (this.family === 4) return { family: 4, value: ((this.base as number) + Number(big)) >>> 0 };
    return { family: 6, value: (this.base as bigint) + big };
  }

  /** Offset of an address inside this prefix, or -1n. */
  offsetOf(ip: IP): bigint {
    if (!this.contains(ip)) return -1n;
    return this.family === 4
      ? BigInt((ip.value as number) - (this.base as number))
      : (ip.value as bigint) - (this.base as bigint);
  }

  /** The i-th subnet of the given prefix length inside this prefix. */
  subnet(newPrefix: number, index: number | bigint): Cidr {
    if (newPrefix < this.prefix || newPrefix > this.bits) {
      throw new CidrError(`cannot carve /${newPrefix} subnets from ${this.text}`);
    }
    const count = 1n << BigInt(newPrefix - this.prefix);
    const i = BigInt(index);
    if (i < 0n || i >= count) {
      throw new CidrError(`${this.text} has only ${count} subnets of /${newPrefix} (asked for number ${i})`);
    }
    const step = 1n << BigInt(this.bits - newPrefix);
    if (this.family === 4) {
      return Cidr.fromIP({ family: 4, value: ((this.base as number) + Number(i * step)) >>> 0 }, newPrefix)!;
    }
    return Cidr.fromIP({ family: 6, value: (this.base as bigint) + i * step }, newPrefix)!;
  }

  /** Netmask in dotted form (IPv4 only), e.g. 255.255.255.0. */
  netmask(): string {
    if (this.family !== 4) throw new CidrError('netmask() is IPv4 only');
    return formatIPv4(v4Mask(this.prefix));
  }
}

export function parseCidr(s: string): Cidr {
  return Cidr.parse(s);
}

export function tryParseCidr(s: string): Cidr | null {
  return Cidr.tryParse(s);
}

/** Longest-prefix match over prefixes carrying values (one hash table per prefix length). */
export class PrefixTable<T> {
  private v4 = new Map<number, Map<number, T>>();
  private v6 = new Map<number, Map<bigint, T>>();
  private v4Lens: number[] = [];
  private v6Lens: number[] = [];

  insert(c: Cidr, value: T): void {
    if (c.family === 4) {
      let m = this.v4.get(c.prefix);
      if (!m) {
        m = new Map();
        this.v4.set(c.prefix, m);
        this.v4Lens = [...this.v4.keys()].sort((a, b) => b - a);
      }
      m.set(c.base as number, value);
    } else {
      let m = this.v6.get(c.prefix);
      if (!m) {
        m = new Map();
        this.v6.set(c.prefix, m);
        this.v6Lens = [...this.v6.keys()].sort((a, b) => b - a);
      }
      m.set(c.base as bigint, value);
    }
  }

  /** Exact prefix lookup. */
  get(c: Cidr): T | undefined {
    return c.family === 4 ? this.v4.get(c.prefix)?.get(c.base as number) : this.v6.get(c.prefix)?.get(c.base as bigint);
  }

  lookup(ip: IP): { prefix: number; value: T } | undefined {
    if (ip.family === 4) return this.lookupV4(ip.value);
    for (const len of this.v6Lens) {
      const key = ip.value & v6Mask(len);
      const hit = this.v6.get(len)!.get(key);
      if (hit !== undefined) return { prefix: len, value: hit };
    }
    return undefined;
  }

  lookupV4(v: number): { prefix: number; value: T } | undefined {
    for (const len of this.v4Lens) {
      const key = (v & v4Mask(len)) >>> 0;
      const hit = this.v4.get(len)!.get(key);
      if (hit !== undefined) return { prefix: len, value: hit };
    }
    return undefined;
  }
}
