// The netfilter model: tables, chains and rules as structured data, shaped like
// the kernel's (generic ipt_entry fields + an ordered list of match extensions
// + one target), so that iptables-save text can be printed exactly as the real
// tool prints it and a packet can be walked through the rules.

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export type Family = 4 | 6;

export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** Built-in chains of each table, in the order iptables-save lists them. */
export const BUILTIN_CHAINS: Record<TableName, readonly Hook[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/**
 * Tables consulted at each hook, in kernel priority order
 * (raw -300, mangle -150, nat DNAT -100, filter 0, security 50, nat SNAT 100).
 */
export const HOOK_TABLES: Record<Hook, readonly TableName[]> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat'],
};

export interface Neg<T> {
  value: T;
  neg: boolean;
}

export interface PortRange {
  from: number;
  to: number;
}

export type StatisticMatch =
  | { kind: 'statistic'; mode: 'random'; /** Kernel value: probability × 2^31, rounded (lround). */ probabilityU32: number; neg: boolean }
  | { kind: 'statistic'; mode: 'nth'; every: number; packet: number; neg: boolean };

export type Match =
  | { kind: 'comment'; comment: string }
  | { kind: 'tcp' | 'udp' | 'sctp'; sport?: Neg<PortRange>; dport?: Neg<PortRange>; extra?: string[] }
  | { kind: 'icmp'; icmpType?: Neg<string> }
  | { kind: 'multiport'; which: 'sports' | 'dports' | 'ports'; ports: PortRange[]; neg: boolean }
  | { kind: 'set'; name: string; flags: ('src' | 'dst')[]; neg: boolean }
  | { kind: 'conntrack'; ctstate?: Neg<string[]>; ctstatus?: Neg<string[]> }
  | { kind: 'state'; states: Neg<string[]> }
  | { kind: 'mark'; value: number; mask: number; neg: boolean }
  | { kind: 'addrtype'; srcType?: Neg<string[]>; dstType?: Neg<string[]>; limitIfaceIn?: boolean; limitIfaceOut?: boolean }
  /**
   * `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]` (raw and
   * mangle PREROUTING): the reverse-path check — a route lookup for the
   * source, answered through the arrival interface (strict) or any interface
   * (--loose), with the packet's mark when --validmark.
   */
  | { kind: 'rpfilter'; loose: boolean; validmark: boolean; acceptLocal: boolean; invert: boolean }
  | StatisticMatch
  | {
      kind: 'recent';
      name: string;
      op: 'set' | 'rcheck' | 'update' | 'remove';
      seconds?: number;
      reap: boolean;
      hitcount?: number;
      rttl: boolean;
      mask: string;
      side: 'rsource' | 'rdest';
      neg: boolean;
    }
  | { kind: 'nfacct'; name: string }
  /** A match extension the model does not interpret; kept verbatim. */
  | { kind: 'opaque'; module: string; args: string[] };

export type Target =
  | { kind: 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE' }
  | { kind: 'jump'; chain: string; goto: boolean }
  | { kind: 'REJECT'; with: string }
  | { kind: 'DNAT'; to: string; random: boolean; persistent: boolean }
  | { kind: 'SNAT'; to: string; random: boolean; randomFully: boolean; persistent: boolean }
  | { kind: 'MASQUERADE'; toPorts?: string; random: boolean; randomFully: boolean }
  /** MARK always reduces to set-xmark: mark = (mark & ~mask) ^ value. */
  | { kind: 'MARK'; value: number; mask: number }
  | { kind: 'REDIRECT'; toPorts?: string; random: boolean }
  | { kind: 'TPROXY'; onPort: number; onIp: string; value: number; mask: number }
  | { kind: 'LOG'; prefix?: string; level?: number }
  /** A target extension the model does not interpret (CT --notrack, CONNMARK…); kept verbatim. */
  | { kind: 'opaque'; name: string; args: string[] };

export interface Rule {
  src?: Neg<string>;
  dst?: Neg<string>;
  inIface?: Neg<string>;
  outIface?: Neg<string>;
  proto?: Neg<string>;
  fragment?: Neg<boolean>;
  matches: Match[];
  /** No target: the rule only counts packets (e.g. the last rule of KUBE-FW-*). */
  target?: Target;
  counters?: [number, number];
  /** The arguments as written to iptables-restore (after `-A CHAIN`), when known. */
  args?: string[];
}

export interface Chain {
  name: string;
  builtin: boolean;
  /** Policy of a built-in chain. */
  policy?: 'ACCEPT' | 'DROP';
  counters: [number, number];
  rules: Rule[];
}

export interface Table {
  name: TableName;
  /** Chains in creation order (built-ins first). */
  chains: Map<string, Chain>;
}

export interface Ruleset {
  family: Family;
  tables: Map<TableName, Table>;
}

export function newTable(name: TableName): Table {
  const chains = new Map<string, Chain>();
  for (const c of BUILTIN_CHAINS[name]) {
    chains.set(c, { name: c, builtin: true, policy: 'ACCEPT', counters: [0, 0], rules: [] });
  }
  return { name, chains };
}

export function newRuleset(family: Family, tables: readonly TableName[] = []): Ruleset {
  const rs: Ruleset = { family, tables: new Map() };
  for (const t of tables) rs.tables.set(t, newTable(t));
  return rs;
}

export function ensureTable(rs: Ruleset, name: TableName): Table {
  let t = rs.tables.get(name);
  if (!t) {
    t = newTable(name);
    rs.tables.set(name, t);
  }
  return t;
}

export function ensureChain(t: Table, name: string): Chain {
  let c = t.chains.get(name);
  if (!c) {
    c = { name, builtin: false, counters: [0, 0], rules: [] };
    t.chains.set(name, c);
  }
  return c;
}

export function isTableName(s: string): s is TableName {
  return (TABLE_NAMES as readonly string[]).includes(s);
}

/** Probability as the kernel holds it (xt_statistic: lround(2^31 × p)). */
export function probabilityToU32(p: number): number {
  return Math.round(0x80000000 * p);
}

export function u32ToProbability(u: number): number {
  return u / 0x80000000;
}

/**
 * `%.11f` of u/2^31, exactly as glibc prints it (exact decimal expansion,
 * round-half-even), which is what `iptables-save` shows for statistic matches.
 */
export function formatProbability11(u: number): string {
  const n = BigInt(u) * 100000000000n;
  let q = n >> 31n;
  const r = n & 0x7fffffffn;
  const half = 0x40000000n;
  if (r > half || (r === half && (q & 1n) === 1n)) q += 1n;
  const s = q.toString().padStart(12, '0');
  return `${s.slice(0, s.length - 11)}.${s.slice(s.length - 11)}`;
}

export const ALL_ONES = 0xffffffff;
