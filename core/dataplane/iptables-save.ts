// Renderers: `iptables-save` as a real node prints it, and the
// iptables-restore input form as kube-proxy writes it.
//
// Save form (iptables 1.8.x, libxtables): generic fields first
// (`-s`/`-d` always with a prefix length, `-i`, `-o`, `-p`, `-f`), then the
// matches in the order they were added, then `-j`/`-g`. Strings go through
// xtables_save_string (bare only if made of [_-0-9A-Za-z]); MARK always saves
// as --set-xmark; statistic prints %.11f of the kernel's u32; recent prints
// `--set|--rcheck [--seconds N] [--reap] --name X --mask M --rsource`.

import {
  type Chain,
  type Match,
  type Neg,
  type PortRange,
  type Rule,
  type Ruleset,
  type TableName,
  type Target,
  formatProbability11,
} from './netfilter';

const NO_QUOTE = /^[_\-0-9A-Za-z]+$/;

/** libxtables xtables_save_string, without the leading space. */
export function saveString(v: string): string {
  if (NO_QUOTE.test(v)) return v;
  return `"${v.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** How kube-proxy spells an argument in its restore input: words with blanks in literal double quotes. */
export function restoreString(v: string): string {
  return /[\s]/.test(v) || v === '' ? `"${v}"` : v;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function port(p: PortRange): string {
  return p.from === p.to ? `${p.from}` : `${p.from}:${p.to}`;
}

const CTSTATE_ORDER = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];
const CTSTATUS_ORDER = ['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'];
const ADDRTYPE_ORDER = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];

function ordered(values: string[], order: string[]): string {
  return [...values].sort((a, b) => order.indexOf(a) - order.indexOf(b)).join(',');
}

const bang = (neg: boolean): string => (neg ? ' !' : '');

function saveMatch(m: Match): string {
  switch (m.kind) {
    case 'comment':
      return ` -m comment --comment ${saveString(m.comment)}`;
    case 'tcp':
    case 'udp':
    case 'sctp': {
      let s = ` -m ${m.kind}`;
      if (m.sport) s += `${bang(m.sport.neg)} --sport ${port(m.sport.value)}`;
      if (m.dport) s += `${bang(m.dport.neg)} --dport ${port(m.dport.value)}`;
      if (m.extra) s += ` ${m.extra.join(' ')}`;
      return s;
    }
    case 'icmp':
      return ` -m icmp${m.icmpType ? `${bang(m.icmpType.neg)} --icmp-type ${m.icmpType.value}` : ''}`;
    case 'multiport':
      return ` -m multiport${bang(m.neg)} --${m.which} ${m.ports.map(port).join(',')}`;
    case 'set':
      return ` -m set${bang(m.neg)} --match-set ${m.name} ${m.flags.join(',')}`;
    case 'conntrack': {
      let s = ' -m conntrack';
      if (m.ctstate) s += `${bang(m.ctstate.neg)} --ctstate ${ordered(m.ctstate.value, CTSTATE_ORDER)}`;
      if (m.ctstatus) s += `${bang(m.ctstatus.neg)} --ctstatus ${ordered(m.ctstatus.value, CTSTATUS_ORDER)}`;
      return s;
    }
    case 'state':
      return ` -m state${bang(m.states.neg)} --state ${ordered(m.states.value, CTSTATE_ORDER)}`;
    case 'mark':
      return ` -m mark${bang(m.neg)} --mark ${hex(m.value)}${m.mask !== 0xffffffff ? `/${hex(m.mask)}` : ''}`;
    case 'addrtype': {
      let s = ' -m addrtype';
      if (m.srcType) s += `${bang(m.srcType.neg)} --src-type ${ordered(m.srcType.value, ADDRTYPE_ORDER)}`;
      if (m.dstType) s += `${bang(m.dstType.neg)} --dst-type ${ordered(m.dstType.value, ADDRTYPE_ORDER)}`;
      if (m.limitIfaceIn) s += ' --limit-iface-in';
      if (m.limitIfaceOut) s += ' --limit-iface-out';
      return s;
    }
    case 'rpfilter':
      // libxt_rpfilter's save order
      return ` -m rpfilter${m.loose ? ' --loose' : ''}${m.validmark ? ' --validmark' : ''}${m.acceptLocal ? ' --accept-local' : ''}${m.invert ? ' --invert' : ''}`;
    case 'statistic':
      if (m.mode === 'random') return ` -m statistic --mode random${bang(m.neg)} --probability ${formatProbability11(m.probabilityU32)}`;
      return ` -m statistic --mode nth${bang(m.neg)} --every ${m.every} --packet ${m.packet}`;
    case 'recent': {
      let s = ` -m recent${bang(m.neg)} --${m.op}`;
      if (m.seconds) s += ` --seconds ${m.seconds}`;
      if (m.reap) s += ' --reap';
      if (m.hitcount) s += ` --hitcount ${m.hitcount}`;
      if (m.rttl) s += ' --rttl';
      s += ` --name ${m.name} --mask ${m.mask} --${m.side}`;
      return s;
    }
    case 'nfacct':
      return ` -m nfacct --nfacct-name ${saveString(m.name)}`;
    case 'opaque':
      return ` -m ${m.module}${m.args.map((a) => ` ${a === '!' || a.startsWith('-') ? a : saveString(a)}`).join('')}`;
  }
}

function saveTarget(t: Target): string {
  switch (t.kind) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'QUEUE':
      return ` -j ${t.kind}`;
    case 'jump':
      return ` ${t.goto ? '-g' : '-j'} ${t.chain}`;
    case 'REJECT':
      return ` -j REJECT --reject-with ${t.with}`;
    case 'DNAT':
      return ` -j DNAT --to-destination ${t.to}${t.random ? ' --random' : ''}${t.persistent ? ' --persistent' : ''}`;
    case 'SNAT':
      return ` -j SNAT --to-source ${t.to}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}${t.persistent ? ' --persistent' : ''}`;
    case 'MASQUERADE':
      return ` -j MASQUERADE${t.toPorts ? ` --to-ports ${t.toPorts}` : ''}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}`;
    case 'MARK':
      return ` -j MARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`;
    case 'REDIRECT':
      return ` -j REDIRECT${t.toPorts ? ` --to-ports ${t.toPorts}` : ''}${t.random ? ' --random' : ''}`;
    case 'TPROXY':
      return ` -j TPROXY --on-port ${t.onPort} --on-ip ${t.onIp} --tproxy-mark ${hex(t.value)}/${hex(t.mask)}`;
    case 'LOG':
      return ` -j LOG${t.prefix !== undefined && t.prefix !== '' ? ` --log-prefix ${saveString(t.prefix)}` : ''}${t.level !== undefined && t.level !== 4 ? ` --log-level ${t.level}` : ''}`;
    case 'opaque':
      return ` -j ${t.name}${t.args.map((a) => ` ${a === '!' || a.startsWith('-') ? a : saveString(a)}`).join('')}`;
  }
}

function generic(flag: string, v: Neg<string> | undefined): string {
  return v ? `${v.neg ? ' !' : ''} ${flag} ${v.value}` : '';
}

/** One rule in iptables-save form, without the `-A CHAIN` prefix and without a leading space. */
export function saveRuleArgs(r: Rule): string {
  let s = generic('-s', r.src) + generic('-d', r.dst) + generic('-i', r.inIface) + generic('-o', r.outIface);
  if (r.proto && r.proto.value !== 'all') s += `${r.proto.neg ? ' !' : ''} -p ${r.proto.value}`;
  if (r.fragment) s += `${r.fragment.neg ? ' !' : ''} -f`;
  for (const m of r.matches) s += saveMatch(m);
  if (r.target) s += saveTarget(r.target);
  return s.slice(1);
}

/** `-A CHAIN …` as iptables-save prints it. */
export function saveRule(chain: string, r: Rule, counters = false): string {
  const args = saveRuleArgs(r);
  const c = counters ? `[${r.counters?.[0] ?? 0}:${r.counters?.[1] ?? 0}] ` : '';
  return `${c}-A ${chain}${args ? ` ${args}` : ''}`;
}

/** The rule as written to iptables-restore (kube-proxy's spelling) when known, else the save form. */
export function restoreRule(chain: string, r: Rule): string {
  if (!r.args) return saveRule(chain, r);
  return `-A ${chain}${r.args.length ? ` ${r.args.map(restoreString).join(' ')}` : ''}`;
}

/**
 * C `ctime()` text without the newline, in UTC: `Mon Mar 17 19:59:10 2003`
 * (day of month right-aligned in 3 columns: `Nov  4`).
 */
export function ctime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/**
 * Table order of iptables-nft-save (enum nft_table_type: mangle, security, raw,
 * filter, nat). iptables-legacy-save follows /proc/net/ip_tables_names instead,
 * which depends on module load order.
 */
export const SAVE_TABLE_ORDER: readonly TableName[] = ['mangle', 'security', 'raw', 'filter', 'nat'];

export interface SaveOptions {
  /** The time printed in the header and footer (the caller's clock; core has none). */
  date: Date;
  /** Program name in the header: iptables-save, iptables-nft-save, ip6tables-save… */
  program?: string;
  version?: string;
  /**
   * The iptables flavour imitated. Rules, chain lines and the table order are
   * iptables 1.8.9's with the nf_tables backend (checked against the real
   * iptables-nft-save by test/live/conformance); `nft` also prints its header,
   * `# Generated by iptables-save v1.8.9 (nf_tables) on …`. Without it the
   * header is iptables-legacy-save's (no suffix); legacy lists the tables in
   * /proc/net/ip_tables_names order (module load order) instead.
   */
  variant?: 'nft' | 'legacy';
  /** `-c`: print `[packets:bytes]` before each rule. */
  counters?: boolean;
}

/**
 * User chains in the order iptables-save lists them: built-ins first in hook
 * order, then user chains sorted by name (libiptc keeps them sorted;
 * iptables-nft ≥ 1.8.5 sorts its cache the same way).
 */
export function chainsInSaveOrder(chains: Iterable<Chain>): Chain[] {
  const all = [...chains];
  const builtins = all.filter((c) => c.builtin);
  const users = all.filter((c) => !c.builtin).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...builtins, ...users];
}

/** The whole `iptables-save` (or `ip6tables-save`) output. */
export function renderIptablesSave(rs: Ruleset, opts: SaveOptions): string {
  const program = opts.program ?? (rs.family === 6 ? 'ip6tables-save' : 'iptables-save');
  const version = opts.version ?? '1.8.9';
  const when = ctime(opts.date);
  const out: string[] = [];
  for (const name of SAVE_TABLE_ORDER) {
    const t = rs.tables.get(name);
    if (!t) continue;
    out.push(`# Generated by ${program} v${version}${opts.variant === 'nft' ? ' (nf_tables)' : ''} on ${when}`);
    out.push(`*${name}`);
    const chains = chainsInSaveOrder(t.chains.values());
    for (const c of chains) {
      const [p, b] = opts.counters || c.builtin ? c.counters : [0, 0];
      out.push(`:${c.name} ${c.builtin ? (c.policy ?? 'ACCEPT') : '-'} [${p}:${b}]`);
    }
    for (const c of chains) for (const r of c.rules) out.push(saveRule(c.name, r, opts.counters));
    out.push('COMMIT');
    out.push(`# Completed on ${when}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * An iptables-restore document for the given tables in kube-proxy's layout:
 * `*table`, the chain lines `:NAME - [0:0]`, the rules as written, `COMMIT`.
 */
export function renderIptablesRestore(rs: Ruleset, tables: readonly TableName[] = ['filter', 'nat'], opts: { skipBuiltins?: boolean } = {}): string {
  const out: string[] = [];
  for (const name of tables) {
    const t = rs.tables.get(name);
    if (!t) continue;
    out.push(`*${name}`);
    const chains = [...t.chains.values()].filter((c) => !(opts.skipBuiltins && c.builtin));
    for (const c of chains) out.push(`:${c.name} ${c.builtin ? (c.policy ?? 'ACCEPT') : '-'} [0:0]`);
    for (const c of chains) for (const r of c.rules) out.push(restoreRule(c.name, r));
    out.push('COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
