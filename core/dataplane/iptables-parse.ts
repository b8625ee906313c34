// Parser for iptables-save output and iptables-restore input (the same
// grammar), into the netfilter model. It follows iptables' own argument rules:
// `-p/-s/-d/-i/-o` are generic wherever they appear, `--opt` belongs to a
// loaded match (or the target), a protocol match is loaded implicitly for
// `-p tcp --dport N`, `!` negates the next option. Unknown match and target
// extensions are kept verbatim (opaque), so real nodes' rules still parse.

import { Cidr } from '../net';
import {
  type Chain,
  type Family,
  type Match,
  type Neg,
  type PortRange,
  type Rule,
  type Ruleset,
  type Table,
  type TableName,
  type Target,
  BUILTIN_CHAINS,
  ensureChain,
  isTableName,
  newTable,
  probabilityToU32,
} from './netfilter';

export class IptablesParseError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(line: number, column: number, message: string) {
    super(`line ${line}${column > 0 ? `, column ${column}` : ''}: ${message}`);
    this.name = 'IptablesParseError';
    this.line = line;
    this.column = column;
  }
}

/** Thrown by rule-argument parsing; `token` indexes the offending argument. */
export class RuleArgsError extends Error {
  readonly token: number;
  constructor(token: number, message: string) {
    super(message);
    this.token = token;
  }
}

interface Token {
  text: string;
  column: number;
}

/**
 * Splits a rule line the way iptables-restore does: whitespace separates
 * arguments; double quotes group, and inside quotes a backslash escapes the
 * next character.
 */
export function tokenizeRuleLine(line: string, lineNo = 0): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    const start = i;
    let text = '';
    let quoted = false;
    while (i < n) {
      const c = line[i];
      if (quoted) {
        if (c === '\\' && i + 1 < n) {
          text += line[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          quoted = false;
          i++;
          continue;
        }
        text += c;
        i++;
      } else {
        if (c === ' ' || c === '\t') break;
        if (c === '"') {
          quoted = true;
          i++;
          continue;
        }
        text += c;
        i++;
      }
    }
    if (quoted) throw new IptablesParseError(lineNo, start + 1, 'unterminated double quote');
    out.push({ text, column: start + 1 });
  }
  return out;
}

const PROTO_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp', '0': 'all' };
// ipencap (IP-in-IP, 4) is how iptables-save prints Calico's `-p 4` rules (names from /etc/protocols)
const PROTO_NAMES = new Set(['tcp', 'udp', 'sctp', 'icmp', 'ipv6-icmp', 'icmpv6', 'all', 'esp', 'ah', 'gre', 'udplite', 'dccp', 'ipip', 'mh', 'ipencap', 'igmp', 'pim', 'vrrp', 'ospf', 'rsvp', 'l2tp']);

/** Target extensions kept verbatim when seen (the model does not act on them). */
const OPAQUE_TARGETS = new Set([
  'CT', 'NOTRACK', 'CONNMARK', 'CHECKSUM', 'NFLOG', 'NFQUEUE', 'SET', 'TCPMSS', 'TRACE', 'AUDIT', 'CLASSIFY',
  'DSCP', 'TOS', 'TTL', 'HL', 'ULOG', 'CONNSECMARK', 'SECMARK', 'NETMAP', 'CLUSTERIP', 'IDLETIMER', 'LED',
  'RATEEST', 'SYNPROXY', 'TEE', 'HMARK', 'MIRROR',
]);

const KNOWN_MATCHES = new Set(['comment', 'tcp', 'udp', 'sctp', 'icmp', 'multiport', 'set', 'conntrack', 'state', 'mark', 'addrtype', 'rpfilter', 'statistic', 'recent', 'nfacct']);

function parseNumber(s: string, what: string, tok: number, max = 0xffffffff): number {
  const v = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new RuleArgsError(tok, `${what} "${s}" is not a number in 0..${max}`);
  return v;
}

function parseValueMask(s: string, tok: number, what: string): { value: number; mask: number; hasMask: boolean } {
  const slash = s.indexOf('/');
  if (slash < 0) return { value: parseNumber(s, what, tok), mask: 0xffffffff, hasMask: false };
  return { value: parseNumber(s.slice(0, slash), what, tok), mask: parseNumber(s.slice(slash + 1), `${what} mask`, tok), hasMask: true };
}

function parsePortRange(s: string, tok: number): PortRange {
  const m = /^(\d+)(?::(\d+))?$/.exec(s);
  if (!m) throw new RuleArgsError(tok, `"${s}" is not a port or port range (N or N:M)`);
  const from = Number(m[1]);
  const to = m[2] !== undefined ? Number(m[2]) : from;
  if (from > 65535 || to > 65535 || from > to) throw new RuleArgsError(tok, `port range "${s}" is out of order or above 65535`);
  return { from, to };
}

function parseAddress(s: string, family: Family, tok: number): string {
  if (s.includes(',')) throw new RuleArgsError(tok, `address lists ("${s}") expand to several rules; write one address per rule`);
  const withPrefix = s.includes('/') ? s : `${s}/${family === 4 ? 32 : 128}`;
  let c = Cidr.tryParse(withPrefix);
  if (!c && family === 4 && /^[\d.]+\/[\d.]+$/.test(withPrefix)) {
    // dotted netmask form: 10.0.0.0/255.0.0.0
    const [a, m] = withPrefix.split('/');
    const mask = Cidr.tryParse(`${m}/32`);
    if (mask) {
      const bits = (mask.base as number).toString(2).replace(/0+$/, '');
      if (!bits.includes('0')) c = Cidr.tryParse(`${a}/${bits.length}`);
    }
  }
  if (!c) throw new RuleArgsError(tok, `"${s}" is not an IPv${family} address or prefix`);
  if (c.family !== family) throw new RuleArgsError(tok, `"${s}" is an IPv${c.family} address in an IPv${family} rule set`);
  return c.text;
}

type Consumer = (opt: string, args: string[], i: number, neg: boolean) => number;

interface ParsingMatch {
  match: Match;
  consumed: string[];
}

/** Parses the arguments of one rule (everything after `-A CHAIN`). */
export function parseRuleArgs(args: string[], family: Family, chainExists: (name: string) => boolean = () => true): Rule {
  const rule: Rule = { matches: [], args: [...args] };
  const pms: ParsingMatch[] = [];
  let targetConsumed: string[] = [];
  let neg = false;
  let negTok = -1;

  const need = (i: number, n: number, opt: string): void => {
    if (i + n >= args.length) throw new RuleArgsError(i, `option "${opt}" needs ${n === 1 ? 'a value' : `${n} values`}`);
  };
  const takeNeg = (): boolean => {
    const v = neg;
    neg = false;
    return v;
  };

  const loadMatch = (name: string): ParsingMatch => {
    let m: Match;
    switch (name) {
      case 'comment':
        m = { kind: 'comment', comment: '' };
        break;
      case 'tcp':
      case 'udp':
      case 'sctp':
        m = { kind: name };
        break;
      case 'icmp':
        m = { kind: 'icmp' };
        break;
      case 'multiport':
        m = { kind: 'multiport', which: 'dports', ports: [], neg: false };
        break;
      case 'set':
        m = { kind: 'set', name: '', flags: [], neg: false };
        break;
      case 'conntrack':
        m = { kind: 'conntrack' };
        break;
      case 'state':
        m = { kind: 'state', states: { value: [], neg: false } };
        break;
      case 'mark':
        m = { kind: 'mark', value: 0, mask: 0xffffffff, neg: false };
        break;
      case 'addrtype':
        m = { kind: 'addrtype' };
        break;
      case 'rpfilter':
        m = { kind: 'rpfilter', loose: false, validmark: false, acceptLocal: false, invert: false };
        break;
      case 'statistic':
        m = { kind: 'statistic', mode: 'random', probabilityU32: 0, neg: false };
        break;
      case 'recent':
        m = { kind: 'recent', name: 'DEFAULT', op: 'set', reap: false, rttl: false, mask: family === 4 ? '255.255.255.255' : 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', side: 'rsource', neg: false };
        break;
      case 'nfacct':
        m = { kind: 'nfacct', name: '' };
        break;
      default:
        m = { kind: 'opaque', module: name, args: [] };
    }
    const pm = { match: m, consumed: [] };
    pms.push(pm);
    rule.matches.push(m);
    return pm;
  };

  // Option consumers per match kind: return the number of values consumed, or -1 if not ours.
  const matchConsumer = (pm: ParsingMatch): Consumer => (opt, a, i, ng) => {
    const m = pm.match;
    switch (m.kind) {
      case 'comment':
        if (opt !== '--comment') return -1;
        need(i, 1, opt);
        m.comment = a[i + 1];
        return 1;
      case 'tcp':
      case 'udp':
      case 'sctp':
        if (opt === '--sport' || opt === '--source-port' || opt === '--dport' || opt === '--destination-port') {
          need(i, 1, opt);
          const v = { value: parsePortRange(a[i + 1], i + 1), neg: ng };
          if (opt === '--sport' || opt === '--source-port') m.sport = v;
          else m.dport = v;
          return 1;
        }
        if (m.kind === 'tcp' && opt === '--tcp-flags') {
          need(i, 2, opt);
          m.extra = [...(m.extra ?? []), ...(ng ? ['!'] : []), opt, a[i + 1], a[i + 2]];
          return 2;
        }
        if (m.kind === 'tcp' && opt === '--syn') {
          m.extra = [...(m.extra ?? []), ...(ng ? ['!'] : []), '--tcp-flags', 'FIN,SYN,RST,ACK', 'SYN'];
          return 0;
        }
        return -1;
      case 'icmp':
        if (opt !== '--icmp-type') return -1;
        need(i, 1, opt);
        m.icmpType = { value: a[i + 1], neg: ng };
        return 1;
      case 'multiport': {
        const which = opt === '--dports' || opt === '--destination-ports' ? 'dports' : opt === '--sports' || opt === '--source-ports' ? 'sports' : opt === '--ports' ? 'ports' : null;
        if (!which) return -1;
        need(i, 1, opt);
        m.which = which;
        m.ports = a[i + 1].split(',').map((p) => parsePortRange(p, i + 1));
        m.neg = ng;
        return 1;
      }
      case 'set':
        if (opt !== '--match-set' && opt !== '--set') return -1;
        need(i, 2, opt);
        m.name = a[i + 1];
        m.flags = a[i + 2].split(',').map((f) => {
          if (f !== 'src' && f !== 'dst') throw new RuleArgsError(i + 2, `set flag "${f}" must be src or dst`);
          return f;
        });
        m.neg = ng;
        return 2;
      case 'conntrack':
        if (opt === '--ctstate' || opt === '--ctstatus') {
          need(i, 1, opt);
          const v = { value: a[i + 1].split(',').map((s) => s.toUpperCase()), neg: ng };
          if (opt === '--ctstate') m.ctstate = v;
          else m.ctstatus = v;
          return 1;
        }
        return -1;
      case 'state':
        if (opt !== '--state') return -1;
        need(i, 1, opt);
        m.states = { value: a[i + 1].split(',').map((s) => s.toUpperCase()), neg: ng };
        return 1;
      case 'mark': {
        if (opt !== '--mark') return -1;
        need(i, 1, opt);
        const vm = parseValueMask(a[i + 1], i + 1, 'mark');
        m.value = vm.value;
        m.mask = vm.mask;
        m.neg = ng;
        return 1;
      }
      case 'addrtype':
        if (opt === '--src-type' || opt === '--dst-type') {
          need(i, 1, opt);
          const v = { value: a[i + 1].split(',').map((s) => s.toUpperCase()), neg: ng };
          if (opt === '--src-type') m.srcType = v;
          else m.dstType = v;
          return 1;
        }
        if (opt === '--limit-iface-in') {
          m.limitIfaceIn = true;
          return 0;
        }
        if (opt === '--limit-iface-out') {
          m.limitIfaceOut = true;
          return 0;
        }
        return -1;
      case 'rpfilter':
        if (ng) throw new RuleArgsError(i, `rpfilter takes no "!": negate it with --invert`);
        if (opt === '--loose') m.loose = true;
        else if (opt === '--validmark') m.validmark = true;
        else if (opt === '--accept-local') m.acceptLocal = true;
        else if (opt === '--invert') m.invert = true;
        else return -1;
        return 0;
      case 'statistic':
        if (opt === '--mode') {
          need(i, 1, opt);
          const mode = a[i + 1];
          if (mode !== 'random' && mode !== 'nth') throw new RuleArgsError(i + 1, `statistic mode "${mode}" must be random or nth`);
          if (mode === 'nth' && m.mode === 'random') Object.assign(m, { mode: 'nth', every: 1, packet: 0 });
          if (ng) m.neg = true;
          return 1;
        }
        if (opt === '--probability' && m.mode === 'random') {
          need(i, 1, opt);
          const p = Number(a[i + 1]);
          if (!/^\d*\.?\d+$/.test(a[i + 1]) || !(p >= 0 && p <= 1)) throw new RuleArgsError(i + 1, `probability "${a[i + 1]}" must be a number between 0 and 1`);
          m.probabilityU32 = probabilityToU32(p);
          if (ng) m.neg = true;
          return 1;
        }
        if ((opt === '--every' || opt === '--packet') && m.mode === 'nth') {
          need(i, 1, opt);
          const v = parseNumber(a[i + 1], opt, i + 1);
          if (opt === '--every') m.every = v;
          else m.packet = v;
          if (ng) m.neg = true;
          return 1;
        }
        return -1;
      case 'recent':
        switch (opt) {
          case '--name':
            need(i, 1, opt);
            m.name = a[i + 1];
            return 1;
          case '--set':
          case '--rcheck':
          case '--update':
          case '--remove':
            m.op = opt.slice(2) as 'set' | 'rcheck' | 'update' | 'remove';
            if (ng) m.neg = true;
            return 0;
          case '--seconds':
            need(i, 1, opt);
            m.seconds = parseNumber(a[i + 1], opt, i + 1);
            return 1;
          case '--hitcount':
            need(i, 1, opt);
            m.hitcount = parseNumber(a[i + 1], opt, i + 1);
            return 1;
          case '--reap':
            m.reap = true;
            return 0;
          case '--rttl':
            m.rttl = true;
            return 0;
          case '--rsource':
            m.side = 'rsource';
            return 0;
          case '--rdest':
            m.side = 'rdest';
            return 0;
          case '--mask':
            need(i, 1, opt);
            m.mask = a[i + 1];
            return 1;
        }
        return -1;
      case 'nfacct':
        if (opt !== '--nfacct-name') return -1;
        need(i, 1, opt);
        m.name = a[i + 1];
        return 1;
      case 'opaque':
        return -1;
    }
  };

  const targetConsumer = (opt: string, a: string[], i: number): number => {
    const t = rule.target;
    if (!t) return -1;
    const one = (): string => {
      need(i, 1, opt);
      return a[i + 1];
    };
    switch (t.kind) {
      case 'REJECT':
        if (opt !== '--reject-with') return -1;
        t.with = one();
        return 1;
      case 'DNAT':
        if (opt === '--to-destination' || opt === '--to') {
          t.to = one();
          return 1;
        }
        if (opt === '--random') return (t.random = true), 0;
        if (opt === '--persistent') return (t.persistent = true), 0;
        return -1;
      case 'SNAT':
        if (opt === '--to-source' || opt === '--to') {
          t.to = one();
          return 1;
        }
        if (opt === '--random') return (t.random = true), 0;
        if (opt === '--random-fully') return (t.randomFully = true), 0;
        if (opt === '--persistent') return (t.persistent = true), 0;
        return -1;
      case 'MASQUERADE':
        if (opt === '--to-ports') {
          t.toPorts = one();
          return 1;
        }
        if (opt === '--random') return (t.random = true), 0;
        if (opt === '--random-fully') return (t.randomFully = true), 0;
        return -1;
      case 'REDIRECT':
        if (opt === '--to-ports') {
          t.toPorts = one();
          return 1;
        }
        if (opt === '--random') return (t.random = true), 0;
        return -1;
      case 'MARK': {
        if (!['--set-xmark', '--set-mark', '--or-mark', '--and-mark', '--xor-mark'].includes(opt)) return -1;
        const vm = parseValueMask(one(), i + 1, 'mark');
        switch (opt) {
          case '--set-xmark':
            t.value = vm.value;
            t.mask = vm.mask;
            break;
          case '--set-mark':
            t.value = vm.value;
            t.mask = vm.hasMask ? vm.mask : 0xffffffff;
            break;
          case '--or-mark':
            t.value = vm.value;
            t.mask = vm.value;
            break;
          case '--and-mark':
            t.value = 0;
            t.mask = ~vm.value >>> 0;
            break;
          case '--xor-mark':
            t.value = vm.value;
            t.mask = 0;
            break;
        }
        return 1;
      }
      case 'TPROXY':
        if (opt === '--on-port') {
          t.onPort = parseNumber(one(), opt, i + 1, 65535);
          return 1;
        }
        if (opt === '--on-ip') {
          t.onIp = one();
          return 1;
        }
        if (opt === '--tproxy-mark') {
          const vm = parseValueMask(one(), i + 1, 'mark');
          t.value = vm.value;
          t.mask = vm.mask;
          return 1;
        }
        return -1;
      case 'LOG':
        if (opt === '--log-prefix') {
          t.prefix = one();
          return 1;
        }
        if (opt === '--log-level') {
          const v = one();
          const levels = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
          t.level = levels.includes(v) ? levels.indexOf(v) : parseNumber(v, opt, i + 1, 7);
          return 1;
        }
        return -1;
      default:
        return -1;
    }
  };

  const setTarget = (name: string, goto: boolean, i: number): void => {
    if (rule.target) throw new RuleArgsError(i, 'a rule can have only one -j/-g target');
    let t: Target;
    if (goto) {
      t = { kind: 'jump', chain: name, goto: true };
    } else {
      switch (name) {
        case 'ACCEPT':
        case 'DROP':
        case 'RETURN':
        case 'QUEUE':
          t = { kind: name };
          break;
        case 'REJECT':
          t = { kind: 'REJECT', with: family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable' };
          break;
        case 'DNAT':
          t = { kind: 'DNAT', to: '', random: false, persistent: false };
          break;
        case 'SNAT':
          t = { kind: 'SNAT', to: '', random: false, randomFully: false, persistent: false };
          break;
        case 'MASQUERADE':
          t = { kind: 'MASQUERADE', random: false, randomFully: false };
          break;
        case 'MARK':
          t = { kind: 'MARK', value: 0, mask: 0xffffffff };
          break;
        case 'REDIRECT':
          t = { kind: 'REDIRECT', random: false };
          break;
        case 'TPROXY':
          t = { kind: 'TPROXY', onPort: 0, onIp: family === 4 ? '0.0.0.0' : '::', value: 0, mask: 0 };
          break;
        case 'LOG':
          t = { kind: 'LOG' };
          break;
        default:
          if (OPAQUE_TARGETS.has(name)) t = { kind: 'opaque', name, args: [] };
          else if (chainExists(name)) t = { kind: 'jump', chain: name, goto: false };
          else throw new RuleArgsError(i, `no chain or target named "${name}" (declare the chain with ":${name} - [0:0]" before using it)`);
      }
    }
    if (goto && !chainExists(name)) throw new RuleArgsError(i, `no chain named "${name}" to goto`);
    rule.target = t;
    targetConsumed = [];
  };

  /** Re-reads a known match as opaque when it meets an option the model does not know. */
  const demoteMatch = (pm: ParsingMatch): void => {
    const idx = rule.matches.indexOf(pm.match);
    const module = pm.match.kind === 'opaque' ? pm.match.module : pm.match.kind;
    const m: Match = { kind: 'opaque', module, args: [...pm.consumed] };
    rule.matches[idx] = m;
    pm.match = m;
  };

  let i = 0;
  while (i < args.length) {
    const a = args[i];
    if (a === '!') {
      if (neg) throw new RuleArgsError(i, 'double negation "! !"');
      neg = true;
      negTok = i;
      i++;
      continue;
    }
    const generic = (): string => {
      need(i, 1, a);
      return args[i + 1];
    };
    switch (a) {
      case '-s':
      case '--source':
      case '--src':
        rule.src = { value: parseAddress(generic(), family, i + 1), neg: takeNeg() };
        i += 2;
        continue;
      case '-d':
      case '--destination':
      case '--dst':
        rule.dst = { value: parseAddress(generic(), family, i + 1), neg: takeNeg() };
        i += 2;
        continue;
      case '-i':
      case '--in-interface':
        rule.inIface = { value: generic(), neg: takeNeg() };
        i += 2;
        continue;
      case '-o':
      case '--out-interface':
        rule.outIface = { value: generic(), neg: takeNeg() };
        i += 2;
        continue;
      case '-p':
      case '--protocol': {
        let p = generic().toLowerCase();
        p = PROTO_NUMBERS[p] ?? p;
        if (!PROTO_NAMES.has(p)) throw new RuleArgsError(i + 1, `unknown protocol "${p}"`);
        rule.proto = { value: p, neg: takeNeg() };
        i += 2;
        continue;
      }
      case '-f':
      case '--fragment':
        rule.fragment = { value: true, neg: takeNeg() };
        i += 1;
        continue;
      case '-m':
      case '--match': {
        if (neg) throw new RuleArgsError(negTok, '"!" cannot negate -m');
        const name = generic();
        loadMatch(name);
        i += 2;
        continue;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        if (neg) throw new RuleArgsError(negTok, '"!" cannot negate a target');
        setTarget(generic(), a === '-g' || a === '--goto', i + 1);
        i += 2;
        continue;
      }
      case '-c':
      case '--set-counters': {
        need(i, 2, a);
        rule.counters = [parseNumber(args[i + 1], 'packet counter', i + 1, Number.MAX_SAFE_INTEGER), parseNumber(args[i + 2], 'byte counter', i + 2, Number.MAX_SAFE_INTEGER)];
        i += 3;
        continue;
      }
    }
    if (!a.startsWith('--')) {
      // A value with no option: belongs to an opaque extension if one is open.
      const last = pms[pms.length - 1];
      if (rule.target?.kind === 'opaque') {
        rule.target.args.push(a);
      } else if (last && last.match.kind === 'opaque' && !rule.target) {
        last.match.args.push(a);
      } else {
        throw new RuleArgsError(i, `unexpected argument "${a}"`);
      }
      i++;
      continue;
    }
    const ng = takeNeg();
    const negPrefix = ng ? ['!'] : [];
    // 1. the target
    if (rule.target && rule.target.kind !== 'opaque') {
      const n = targetConsumer(a, args, i);
      if (n >= 0) {
        if (ng) throw new RuleArgsError(negTok, `"!" cannot negate target option ${a}`);
        targetConsumed.push(...args.slice(i, i + 1 + n));
        i += 1 + n;
        continue;
      }
    }
    if (rule.target?.kind === 'opaque') {
      rule.target.args.push(...negPrefix, a);
      i++;
      continue;
    }
    // 2. loaded matches (latest first)
    let done = false;
    for (let k = pms.length - 1; k >= 0 && !done; k--) {
      const pm = pms[k];
      if (pm.match.kind === 'opaque') continue;
      const n = matchConsumer(pm)(a, args, i, ng);
      if (n >= 0) {
        pm.consumed.push(...negPrefix, ...args.slice(i, i + 1 + n));
        i += 1 + n;
        done = true;
      }
    }
    if (done) continue;
    // 3. implicit protocol match (`-p tcp --dport 80` loads -m tcp)
    const proto = rule.proto?.value;
    if (proto && ['tcp', 'udp', 'sctp', 'icmp'].includes(proto) && !pms.some((p) => p.match.kind === proto)) {
      const pm = loadMatch(proto);
      const n = matchConsumer(pm)(a, args, i, ng);
      if (n >= 0) {
        pm.consumed.push(...negPrefix, ...args.slice(i, i + 1 + n));
        i += 1 + n;
        continue;
      }
      rule.matches.pop();
      pms.pop();
    }
    // 4. an open opaque match, or a known match with an option the model does not know
    const last = pms[pms.length - 1];
    if (last && !rule.target) {
      if (last.match.kind !== 'opaque' && KNOWN_MATCHES.has(last.match.kind)) demoteMatch(last);
      const lm: Match = last.match;
      if (lm.kind === 'opaque') {
        lm.args.push(...negPrefix, a);
        i++;
        continue;
      }
    }
    if (rule.target && rule.target.kind !== 'jump') {
      // unknown option of a known target: keep the target verbatim
      const name = rule.target.kind;
      rule.target = { kind: 'opaque', name, args: [...targetConsumed, ...negPrefix, a] };
      i++;
      continue;
    }
    throw new RuleArgsError(i, `unknown option "${a}"${pms.length ? ` for match "${pms[pms.length - 1].match.kind}"` : ''}`);
  }
  if (neg) throw new RuleArgsError(negTok, '"!" at the end of the rule negates nothing');
  // Required values.
  for (const m of rule.matches) {
    if (m.kind === 'set' && !m.name) throw new RuleArgsError(args.length - 1, 'match "set" needs --match-set NAME src|dst');
    if (m.kind === 'comment' && m.comment === '' && !args.includes('--comment')) throw new RuleArgsError(args.length - 1, 'match "comment" needs --comment TEXT');
  }
  const t = rule.target;
  if (t && (t.kind === 'DNAT' || t.kind === 'SNAT') && !t.to) {
    throw new RuleArgsError(args.length - 1, `target ${t.kind} needs ${t.kind === 'DNAT' ? '--to-destination' : '--to-source'}`);
  }
  return rule;
}

export interface ParseOptions {
  /** Address family; detected from an `ip6tables-save` header when absent, else 4. */
  family?: Family;
}

/**
 * Parses iptables-save output (or iptables-restore input) into a Ruleset.
 * Rejects malformed input with the line (and column) of the problem.
 */
export function parseIptablesSave(text: string, opts: ParseOptions = {}): Ruleset {
  let family: Family = opts.family ?? 4;
  if (!opts.family && /^# Generated by ip6tables/m.test(text)) family = 6;
  const rs: Ruleset = { family, tables: new Map() };
  return restoreInto(rs, text, false);
}

/**
 * Applies an iptables-restore document to a ruleset, as `iptables-restore
 * --noflush` does when `noflush` is set (tables kept; a declared user chain is
 * created or flushed) — kube-proxy restores this way. Without `noflush` each
 * `*table` starts from an empty table.
 */
export function restoreInto(rs: Ruleset, text: string, noflush = true): Ruleset {
  const lines = text.split('\n');
  const family = rs.family;
  let table: Table | null = null;
  let tableLine = 0;
  let declared = new Set<string>();

  for (let ln = 0; ln < lines.length; ln++) {
    const lineNo = ln + 1;
    const line = lines[ln].replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed.startsWith('*')) {
      if (table) throw new IptablesParseError(lineNo, 1, `table "${table.name}" (line ${tableLine}) was not closed with COMMIT before "${trimmed}"`);
      const name = trimmed.slice(1);
      if (!isTableName(name)) throw new IptablesParseError(lineNo, 2, `unknown table "${name}" (expected raw, mangle, nat, filter or security)`);
      table = (noflush ? rs.tables.get(name) : undefined) ?? newTable(name);
      rs.tables.set(name, table);
      tableLine = lineNo;
      declared = new Set(table.chains.keys());
      continue;
    }
    if (!table) throw new IptablesParseError(lineNo, 1, `"${trimmed.slice(0, 40)}" appears outside a table (start one with a line like "*filter")`);
    if (trimmed === 'COMMIT') {
      table = null;
      continue;
    }
    if (trimmed.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/.exec(trimmed);
      if (!m) throw new IptablesParseError(lineNo, 1, `bad chain line "${trimmed}" (expected ":CHAIN POLICY [packets:bytes]")`);
      const [, name, policy, p, b] = m;
      if (name.length > 28) throw new IptablesParseError(lineNo, 2, `chain name "${name}" is longer than 28 characters`);
      const builtin = (BUILTIN_CHAINS[table.name] as readonly string[]).includes(name);
      if (builtin) {
        if (policy !== 'ACCEPT' && policy !== 'DROP') throw new IptablesParseError(lineNo, name.length + 3, `built-in chain ${name} needs policy ACCEPT or DROP, not "${policy}"`);
      } else if (policy !== '-') {
        throw new IptablesParseError(lineNo, name.length + 3, `user chain ${name} cannot have a policy ("${policy}"); write "-"`);
      }
      const existed = table.chains.has(name);
      const c: Chain = ensureChain(table, name);
      if (existed && !builtin) c.rules = [];
      if (builtin) c.policy = policy as 'ACCEPT' | 'DROP';
      c.counters = [p ? Number(p) : 0, b ? Number(b) : 0];
      declared.add(name);
      continue;
    }
    let toks = tokenizeRuleLine(line, lineNo);
    let counters: [number, number] | undefined;
    const cm = /^\[(\d+):(\d+)\]$/.exec(toks[0].text);
    if (cm) {
      counters = [Number(cm[1]), Number(cm[2])];
      toks = toks.slice(1);
    }
    if (toks.length === 0) throw new IptablesParseError(lineNo, 1, 'counters with no rule');
    const cmd = toks[0].text;
    const chainName = toks[1]?.text;
    const t = table;
    const getChain = (): Chain => {
      if (!chainName) throw new IptablesParseError(lineNo, toks[0].column, `${cmd} needs a chain name`);
      const c = t.chains.get(chainName);
      if (!c) throw new IptablesParseError(lineNo, toks[1].column, `chain "${chainName}" does not exist in table ${t.name} (declare it with ":${chainName} - [0:0]")`);
      return c;
    };
    switch (cmd) {
      case '-A':
      case '--append':
      case '-I':
      case '--insert': {
        const chain = getChain();
        let argStart = 2;
        let pos = cmd === '-A' || cmd === '--append' ? chain.rules.length : 0;
        if ((cmd === '-I' || cmd === '--insert') && toks[2] && /^\d+$/.test(toks[2].text)) {
          pos = Number(toks[2].text) - 1;
          argStart = 3;
          if (pos < 0 || pos > chain.rules.length) throw new IptablesParseError(lineNo, toks[2].column, `rule number ${pos + 1} is past the end of ${chain.name}`);
        }
        const argToks = toks.slice(argStart);
        let rule: Rule;
        try {
          rule = parseRuleArgs(argToks.map((x) => x.text), family, (n) => declared.has(n) && !(BUILTIN_CHAINS[t.name] as readonly string[]).includes(n));
        } catch (e) {
          if (e instanceof RuleArgsError) {
            const tok = argToks[Math.min(e.token, argToks.length - 1)];
            throw new IptablesParseError(lineNo, tok ? tok.column : 1, e.message);
          }
          throw e;
        }
        if (counters) rule.counters = counters;
        chain.rules.splice(pos, 0, rule);
        continue;
      }
      case '-N':
      case '--new-chain':
        if (!chainName) throw new IptablesParseError(lineNo, 1, '-N needs a chain name');
        ensureChain(t, chainName);
        declared.add(chainName);
        continue;
      case '-X':
      case '--delete-chain':
        if (chainName) {
          const c = getChain();
          if (c.builtin) throw new IptablesParseError(lineNo, toks[1].column, `cannot delete built-in chain ${c.name}`);
          t.chains.delete(c.name);
          declared.delete(c.name);
        } else {
          for (const c of [...t.chains.values()]) if (!c.builtin) t.chains.delete(c.name);
        }
        continue;
      case '-F':
      case '--flush':
        if (chainName) getChain().rules = [];
        else for (const c of t.chains.values()) c.rules = [];
        continue;
      case '-P':
      case '--policy': {
        const c = getChain();
        const pol = toks[2]?.text;
        if (!c.builtin || (pol !== 'ACCEPT' && pol !== 'DROP')) throw new IptablesParseError(lineNo, toks[1].column, `-P needs a built-in chain and ACCEPT or DROP`);
        c.policy = pol;
        continue;
      }
      default:
        throw new IptablesParseError(lineNo, toks[0].column, `unexpected "${cmd}" (expected -A, -I, -N, -X, -F, -P, a chain line, or COMMIT)`);
    }
  }
  if (table) throw new IptablesParseError(tableLine, 1, `table "${table.name}" has no COMMIT`);
  return rs;
}

export type { Neg, TableName };
