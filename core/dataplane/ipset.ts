// ipset model: the set types kube-proxy (IPVS mode), Calico and NetworkPolicy
// compilers use, with membership tests as `-m set --match-set NAME flags`
// performs them (flags pick packet fields in the order of the set's dimensions).

import { Cidr, canonicalIP, parseIP } from '../net';
import { hex as toHex, sha256 } from '../hash';

export type IpsetType = 'hash:ip' | 'hash:net' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export const IPSET_TYPES: readonly IpsetType[] = ['hash:ip', 'hash:net', 'hash:ip,port', 'hash:ip,port,ip', 'hash:ip,port,net', 'bitmap:port'];

export class IpsetError extends Error {}

/** The packet fields a set match can look at. */
export interface IpsetPacket {
  src: string;
  dst: string;
  proto: string;
  sport?: number;
  dport?: number;
}

function dims(type: IpsetType): number {
  return type.split(':')[1].split(',').length;
}

function normPort(s: string, where: string): string {
  // "tcp:80", "80" (tcp), "udp:53", "sctp:…"
  const m = /^(?:(tcp|udp|sctp|udplite|icmp|icmpv6):)?(\d+)$/.exec(s);
  if (!m) throw new IpsetError(`${where}: "${s}" is not a PROTO:PORT element`);
  const port = Number(m[2]);
  if (port > 65535) throw new IpsetError(`${where}: port ${port} is above 65535`);
  return `${m[1] ?? 'tcp'}:${port}`;
}

function normIP(s: string, where: string, family: 4 | 6): string {
  const ip = parseIP(s);
  if (!ip || ip.family !== family) throw new IpsetError(`${where}: "${s}" is not an IPv${family} address`);
  return canonicalIP(s);
}

function normNet(s: string, where: string, family: 4 | 6): Cidr {
  const c = Cidr.tryParse(s.includes('/') ? s : `${s}/${family === 4 ? 32 : 128}`);
  if (!c || c.family !== family) throw new IpsetError(`${where}: "${s}" is not an IPv${family} network`);
  return c;
}

export class IpSet {
  readonly name: string;
  readonly type: IpsetType;
  readonly family: 4 | 6;
  comment?: string;
  /** Canonical element strings in insertion order. */
  private readonly elems = new Set<string>();
  private readonly nets: Cidr[] = [];
  private readonly netTail = new Map<string, Cidr[]>();

  constructor(name: string, type: IpsetType, family: 4 | 6 = 4, comment?: string) {
    if (!name || name.length > 31) throw new IpsetError(`ipset name "${name}" must have 1 to 31 characters`);
    this.name = name;
    this.type = type;
    this.family = family;
    this.comment = comment;
  }

  /** Canonical text of an element, or an IpsetError saying what is wrong with it. */
  normalize(entry: string): string {
    const where = `ipset ${this.name} (${this.type})`;
    const parts = entry.split(',');
    if (parts.length !== dims(this.type)) throw new IpsetError(`${where}: element "${entry}" needs ${dims(this.type)} comma-separated parts`);
    switch (this.type) {
      case 'hash:ip':
        return normIP(parts[0], where, this.family);
      case 'hash:net':
        return normNet(parts[0], where, this.family).text;
      case 'hash:ip,port':
        return `${normIP(parts[0], where, this.family)},${normPort(parts[1], where)}`;
      case 'hash:ip,port,ip':
        return `${normIP(parts[0], where, this.family)},${normPort(parts[1], where)},${normIP(parts[2], where, this.family)}`;
      case 'hash:ip,port,net':
        return `${normIP(parts[0], where, this.family)},${normPort(parts[1], where)},${normNet(parts[2], where, this.family).text}`;
      case 'bitmap:port': {
        const p = /^\d+$/.test(parts[0]) ? Number(parts[0]) : NaN;
        if (!(p >= 0 && p <= 65535)) throw new IpsetError(`${where}: "${entry}" is not a port`);
        return String(p);
      }
    }
  }

  add(entry: string): this {
    const e = this.normalize(entry);
    if (this.elems.has(e)) return this;
    this.elems.add(e);
    if (this.type === 'hash:net') this.nets.push(Cidr.parse(e));
    if (this.type === 'hash:ip,port,net') {
      const i = e.lastIndexOf(',');
      const head = e.slice(0, i);
      const list = this.netTail.get(head) ?? [];
      list.push(Cidr.parse(e.slice(i + 1)));
      this.netTail.set(head, list);
    }
    return this;
  }

  has(entry: string): boolean {
    return this.elems.has(this.normalize(entry));
  }

  get size(): number {
    return this.elems.size;
  }

  entries(): string[] {
    return [...this.elems];
  }

  /** `-m set --match-set NAME flags`: pick packet fields per flag and test membership. */
  test(pkt: IpsetPacket, flags: readonly ('src' | 'dst')[]): boolean {
    const ipOf = (f: 'src' | 'dst' | undefined): string => (f === 'src' ? pkt.src : pkt.dst);
    const portOf = (f: 'src' | 'dst' | undefined): number | undefined => (f === 'src' ? pkt.sport : pkt.dport);
    const proto = pkt.proto === 'ipv6-icmp' ? 'icmpv6' : pkt.proto;
    const f0 = flags[0];
    const f1 = flags[1] ?? f0;
    const f2 = flags[2] ?? f1;
    switch (this.type) {
      case 'hash:ip':
        return this.elems.has(canonicalIP(ipOf(f0)));
      case 'hash:net': {
        const ip = parseIP(ipOf(f0));
        return !!ip && this.nets.some((c) => c.contains(ip));
      }
      case 'bitmap:port': {
        const p = portOf(f0);
        return p !== undefined && this.elems.has(String(p));
      }
      case 'hash:ip,port':
      case 'hash:ip,port,ip':
      case 'hash:ip,port,net': {
        const p = portOf(f1);
        if (p === undefined) return false;
        const head = `${canonicalIP(ipOf(f0))},${proto}:${p}`;
        if (this.type === 'hash:ip,port') return this.elems.has(head);
        if (this.type === 'hash:ip,port,ip') return this.elems.has(`${head},${canonicalIP(ipOf(f2))}`);
        const ip = parseIP(ipOf(f2));
        return !!ip && (this.netTail.get(head) ?? []).some((c) => c.contains(ip));
      }
    }
  }
}

/** The ipsets of one node. */
export class IpsetStore {
  readonly sets = new Map<string, IpSet>();

  create(name: string, type: IpsetType, family: 4 | 6 = 4, comment?: string): IpSet {
    const s = new IpSet(name, type, family, comment);
    this.sets.set(name, s);
    return s;
  }

  get(name: string): IpSet | undefined {
    return this.sets.get(name);
  }

  /** Membership test; undefined when the set does not exist (iptables would refuse the rule). */
  test(name: string, pkt: IpsetPacket, flags: readonly ('src' | 'dst')[]): boolean | undefined {
    return this.sets.get(name)?.test(pkt, flags);
  }
}

/**
 * `ipset save` text (create lines, then add lines), as ipset 7.17 prints it:
 * since ipset 7.11 (kernel ≥ 5.11) hash types also show `bucketsize 12` and
 * the set's random hash seed `initval 0x…`, here a stand-in derived from the
 * name (checked against the real ipset by test/live/conformance).
 */
export function renderIpsetSave(store: IpsetStore): string {
  const out: string[] = [];
  for (const s of store.sets.values()) {
    const initval = toHex(sha256(`initval:${s.name}`)).slice(0, 8);
    const fam = s.type === 'bitmap:port' ? ' range 0-65535' : ` family ${s.family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 65536 bucketsize 12 initval 0x${initval}`;
    out.push(`create ${s.name} ${s.type}${fam}`);
    for (const e of s.entries()) out.push(`add ${s.name} ${e}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
