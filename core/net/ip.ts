// IPv4 / IPv6 addresses and CIDR prefixes.
//
// IPv4 addresses are unsigned 32-bit numbers (fast path for policy and route
// lookups); IPv6 addresses are 128-bit bigints. Formatting follows the
// conventions of the real tools: dotted quad, and RFC 5952 compressed IPv6
// (what inet_ntop prints, and so what `ip`, `conntrack` and `tcpdump` print).

export type IPFamily = 4 | 6;

export type IP =
  | { readonly family: 4; readonly value: number }
  | { readonly family: 6; readonly value: bigint };

/**
 * Parses a dotted-quad IPv4 address; returns null when it is not one (four
 * decimal octets of 1–3 digits, each ≤ 255, no leading zero that would look
 * octal). A character scan, not a regex: the packet walk parses addresses at
 * every step and a regex match allocates.
 */
export function parseIPv4(s: string): number | null {
  const n = s.length;
  if (n < 7 || n > 15) return null;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let lead = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) lead = c;
      else if (lead === 48 || digits === 3) return null; // no octal-looking octets, at most 3 digits
      octet = octet * 10 + (c - 48);
      if (octet > 255) return null;
      digits++;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return (v * 256 + octet) >>> 0;
}

export function formatIPv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses an IPv6 address (with optional embedded IPv4 tail); null when invalid. */
export function parseIPv6(input: string): bigint | null {
  let s = input;
  if (s.length === 0 || s.length > 45) return null;
  const zone = s.indexOf('%');
  if (zone >= 0) return null; // zones are not addresses for our purposes
  let tailV4: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) >= 0) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === null) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  let groups: string[];
  if (dbl >= 0) {
    const head = s.slice(0, dbl);
    const tail = s.slice(dbl + 2);
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const missing = 8 - h.length - t.length;
    if (missing < 1) return null;
    groups = [...h, ...Array<string>(missing).fill('0'), ...t];
  } else {
    groups = s.split(':');
    if (groups.length !== 8) return null;
  }
  let v = 0n;
  for (const g of groups) {
    if (!HEX_GROUP.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== null) v = (v & ~0xffffffffn) | BigInt(tailV4);
  return v;
}

/** RFC 5952 text form: lower case, longest run (>1) of zero groups as `::`. */
export function formatIPv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestLen = j - i;
      bestStart = i;
    }
    i = j;
  }
  // inet_ntop prints IPv4-mapped addresses with a dotted tail.
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(Number(v & 0xffffffffn))}`;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

export function parseIP(s: string): IP | null {
  if (s.includes(':')) {
    const v = parseIPv6(s);
    return v === null ? null : { family: 6, value: v };
  }
  const v = parseIPv4(s);
  return v === null ? null : { family: 4, value: v };
}

export function formatIP(ip: IP): string {
  return ip.family === 4 ? formatIPv4(ip.value) : formatIPv6(ip.value);
}

/** Canonical text of an address string (e.g. compresses IPv6); the input when invalid. */
export function canonicalIP(s: string): string {
  // IPv4: a valid dotted quad is already canonical (parseIPv4 accepts no leading
  // zeros) and an invalid one is returned as given, so no parse is needed.
  if (!s.includes(':')) return s;
  const ip = parseIP(s);
  return ip ? formatIP(ip) : s;
}

export function ipFamily(s: string): IPFamily | null {
  const ip = parseIP(s);
  return ip ? ip.family : null;
}

export function ipEquals(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Compares two addresses numerically (IPv4 sorts before IPv6). */
export function compareIP(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.family === 4) return a.value - (b.value as number);
  const d = a.value - (b.value as bigint);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

/** `ip:port` as net.JoinHostPort writes it: IPv6 in brackets. */
export function joinHostPort(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Adds an offset to an address (wraps are the caller's concern: check with a Cidr). */
export function addToIP(ip: IP, n: number | bigint): IP {
  if (ip.family === 4) return { family: 4, value: (ip.value + Number(n)) >>> 0 };
  return { family: 6, value: (ip.value + BigInt(n)) & ((1n << 128n) - 1n) };
}
