// Command lines sent to nodes: split without a shell, classify as read-only,
// probe (sends test traffic, changes no configuration) or write, and quote
// back for the remote shell.
//
// Allow-listed commands are parsed into an argv here and re-quoted word by
// word before they reach a shell, so nothing in them is ever interpreted by
// one: an unquoted `;`, `&&`, `|`, backtick, `$(`, `<`/`>`, glob or newline is
// rejected with the column it is at, and `$`/backticks inside double quotes
// too (a shell would expand them there).

export class CommandLineError extends Error {
  readonly column: number;
  readonly hint: string;
  constructor(message: string, column: number, hint: string) {
    super(message);
    this.name = 'CommandLineError';
    this.column = column;
    this.hint = hint;
  }
}

const META_HINT =
  'commands are run one at a time without a shell: no ;, &&, ||, |, backticks, $(…), <, > or globs. Quote arguments that need such characters (e.g. a tcpdump filter in single quotes).';

const UNQUOTED_META: Record<string, string> = {
  ';': 'a command separator',
  '&': 'a background/AND operator',
  '|': 'a pipe',
  '`': 'a command substitution',
  $: 'a variable or command substitution',
  '<': 'a redirection',
  '>': 'a redirection',
  '(': 'a subshell',
  ')': 'a subshell',
  '*': 'a glob',
  '?': 'a glob',
  '[': 'a glob',
  ']': 'a glob',
  '{': 'a brace expansion',
  '}': 'a brace expansion',
  '\n': 'a newline (a second command)',
  '\r': 'a carriage return',
};

/**
 * Splits a command line into words: blanks separate, '…' is literal, "…" is
 * literal except \" and \\, a backslash outside quotes escapes the next
 * character. Throws CommandLineError for shell metacharacters.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandLineError(`unterminated single quote at column ${i + 1}`, i + 1, 'close the quote');
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new CommandLineError(`unterminated double quote at column ${i + 1}`, i + 1, 'close the quote');
        const d = line[j];
        if (d === '"') break;
        if (d === '$' || d === '`') {
          throw new CommandLineError(`"${d}" at column ${j + 1} inside double quotes would be expanded by a shell`, j + 1, 'use single quotes for a literal $ or backtick');
        }
        if (d === '\\' && j + 1 < n && (line[j + 1] === '"' || line[j + 1] === '\\')) {
          cur += line[j + 1];
          j += 2;
          continue;
        }
        if (d === '\n' || d === '\r') throw new CommandLineError(`a line break at column ${j + 1}`, j + 1, 'give one command on one line');
        cur += d;
        j++;
      }
      inWord = true;
      i = j + 1;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= n) throw new CommandLineError(`a trailing backslash at column ${i + 1}`, i + 1, 'remove it');
      const d = line[i + 1];
      if (d === '\n' || d === '\r') throw new CommandLineError(`a line continuation at column ${i + 1}`, i + 1, 'give one command on one line');
      cur += d;
      inWord = true;
      i += 2;
      continue;
    }
    const meta = UNQUOTED_META[c];
    if (meta) {
      const shown = c === '\n' ? '\\n' : c === '\r' ? '\\r' : c;
      throw new CommandLineError(`"${shown}" at column ${i + 1} is ${meta}`, i + 1, META_HINT);
    }
    if ((c === '#' || c === '~') && !inWord) {
      throw new CommandLineError(`"${c}" at column ${i + 1} starts a ${c === '#' ? 'comment' : 'home-directory expansion'} in a shell`, i + 1, META_HINT);
    }
    if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) {
      throw new CommandLineError(`control character ${c.charCodeAt(0)} at column ${i + 1}`, i + 1, 'remove it');
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (inWord) words.push(cur);
  if (words.length === 0) throw new CommandLineError('empty command', 1, 'give a command, e.g. ip -j route');
  return words;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell: bare when safe, else single-quoted. */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function quoteArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

// ---------------------------------------------------------------------------
// Classification

export type CommandClass = 'read' | 'probe' | 'write';

export interface Classification {
  class: CommandClass;
  /** Why: names the rule that allowed it, or what makes it a write. */
  reason: string;
}

const read = (reason: string): Classification => ({ class: 'read', reason });
const probe = (reason: string): Classification => ({ class: 'probe', reason });
const write = (reason: string): Classification => ({ class: 'write', reason });

function baseName(cmd: string): string {
  const i = cmd.lastIndexOf('/');
  return i >= 0 ? cmd.slice(i + 1) : cmd;
}

/** Parses single-letter option clusters; returns null when an option is not allowed. */
function scanOptions(
  args: readonly string[],
  spec: { flags: string; valued: string; long?: Record<string, boolean> },
): { options: Map<string, string[]>; operands: string[]; bad?: string } {
  const options = new Map<string, string[]>();
  const operands: string[] = [];
  const add = (k: string, v: string): void => {
    const l = options.get(k);
    if (l) l.push(v);
    else options.set(k, [v]);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(0, eq) : a;
      const takesValue = spec.long?.[name];
      if (takesValue === undefined) return { options, operands, bad: a };
      if (takesValue) {
        if (eq >= 0) add(name, a.slice(eq + 1));
        else {
          if (i + 1 >= args.length) return { options, operands, bad: `${a} (missing value)` };
          add(name, args[++i]);
        }
      } else {
        if (eq >= 0) return { options, operands, bad: a };
        add(name, '');
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j];
        if (spec.valued.includes(f)) {
          const rest = a.slice(j + 1);
          if (rest) add(`-${f}`, rest);
          else {
            if (i + 1 >= args.length) return { options, operands, bad: `-${f} (missing value)` };
            add(`-${f}`, args[++i]);
          }
          break;
        }
        if (!spec.flags.includes(f)) return { options, operands, bad: `-${f}` };
        add(`-${f}`, '');
      }
      continue;
    }
    operands.push(a);
  }
  return { options, operands };
}

const IP_OBJECTS: Record<string, string> = {
  route: 'route',
  r: 'route',
  ro: 'route',
  rou: 'route',
  rout: 'route',
  address: 'address',
  addr: 'address',
  a: 'address',
  link: 'link',
  l: 'link',
  neigh: 'neigh',
  neighbour: 'neigh',
  neighbor: 'neigh',
  n: 'neigh',
  rule: 'rule',
  ru: 'rule',
  netns: 'netns',
};
const IP_SHOW_VERBS = new Set(['show', 'list', 'lst']);
const IP_GLOBAL_FLAGS = new Set([
  '-j', '-json', '-d', '-details', '-s', '-stats', '-statistics', '-4', '-6', '-p', '-pretty', '-o', '-oneline',
  '-br', '-brief', '-N', '-Numeric', '-h', '-human', '-human-readable', '-c', '-color', '-r', '-resolve',
]);

function classifyIp(argv: readonly string[]): Classification {
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) break;
    if (a === '-n' || a === '-netns') {
      if (i + 1 >= argv.length) return write(`ip ${a} needs a namespace name`);
      i++;
      continue;
    }
    if (a.startsWith('-c=') || a.startsWith('-color=')) continue;
    if (!IP_GLOBAL_FLAGS.has(a)) return write(`ip option ${a} is not on the read-only list (e.g. -batch runs commands from a file, -force ignores errors)`);
  }
  const objWord = argv[i];
  if (objWord === undefined) return write('ip without an object');
  const obj = IP_OBJECTS[objWord];
  if (!obj) return write(`"ip ${objWord}" is not on the read-only list (route, addr, link, neigh, rule, netns list)`);
  const verb = argv[i + 1];
  if (obj === 'netns') {
    if (verb === undefined || verb === 'list' || verb === 'show' || verb === 'ls') return read('ip netns list only reads');
    if (verb === 'exec' && argv.length > i + 3) {
      const inner = classifyArgv(argv.slice(i + 3));
      const where = `inside network namespace ${argv[i + 2]}`;
      return { class: inner.class, reason: `${inner.reason} (${where})` };
    }
    return write(`"ip netns ${verb}" changes namespaces (only list/show and exec of an allowed command are permitted)`);
  }
  if (verb === undefined || verb.startsWith('-') || IP_SHOW_VERBS.has(verb)) return read(`ip ${obj} ${verb && IP_SHOW_VERBS.has(verb) ? verb : 'show'} only reads`);
  if (verb === 'get' && (obj === 'route' || obj === 'neigh')) return read(`ip ${obj} get only looks up`);
  // `ip route 10.0.0.0/8` is not valid iproute2 syntax; any other verb (add, del, flush, replace, change…) writes
  return write(`"ip ${obj} ${verb}" changes the node: verb "${verb}" is not show, list or get`);
}

function classifyBridge(argv: readonly string[]): Classification {
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) break;
    if (a === '-n' || a === '-netns') {
      i++;
      continue;
    }
    if (!['-j', '-json', '-d', '-details', '-s', '-stats', '-p', '-pretty', '-c', '-color', '-o', '-oneline', '-4', '-6'].includes(a)) {
      return write(`bridge option ${a} is not on the read-only list`);
    }
  }
  const obj = argv[i];
  const verb = argv[i + 1];
  if (!obj || !['fdb', 'link', 'vlan', 'mdb'].includes(obj)) return write(`"bridge ${obj ?? ''}" is not on the read-only list (fdb, link, vlan, mdb)`);
  if (verb === undefined || verb.startsWith('-') || verb === 'show' || verb === 'list' || verb === 'dev' || verb === 'br' || verb === 'brport') {
    return read(`bridge ${obj} show only reads`);
  }
  return write(`"bridge ${obj} ${verb}" changes the node`);
}

function classifySave(argv: readonly string[]): Classification {
  const r = scanOptions(argv.slice(1), { flags: 'c', valued: 't', long: { '--counters': false, '--table': true } });
  if (r.bad) return write(`${argv[0]} option ${r.bad} is not on the read-only list (-M would run a program)`);
  if (r.operands.length) return write(`${argv[0]} takes no operands (got ${r.operands[0]})`);
  return read(`${baseName(argv[0])} only prints the rules`);
}

function classifyIpset(argv: readonly string[]): Classification {
  const rest = argv.slice(1).filter((a) => !['-t', '-terse', '-n', '-name', '-s', '-sorted', '-r', '-resolve', '-q', '-quiet'].includes(a));
  const cmd = rest[0];
  if (cmd === 'list' || cmd === '-L' || cmd === '-list' || cmd === '--list' || cmd === 'save' || cmd === '-S' || cmd === '-save') {
    const ops = rest.slice(1);
    for (let k = 0; k < ops.length; k++) {
      const o = ops[k];
      if (o === '-o' || o === '-output') {
        if (!['plain', 'save', 'xml', 'json'].includes(ops[k + 1] ?? '')) return write(`ipset ${o} needs plain, save, xml or json`);
        k++;
        continue;
      }
      if (o.startsWith('-')) return write(`ipset option ${o} is not on the read-only list`);
    }
    if (ops.filter((o, k) => !o.startsWith('-') && ops[k - 1] !== '-o' && ops[k - 1] !== '-output').length > 1) return write('ipset list takes at most one set name');
    return read('ipset list only prints sets');
  }
  return write(`"ipset ${cmd ?? ''}" changes sets (only list/save are read-only)`);
}

const CONNTRACK_LONG: Record<string, boolean> = {
  '--dump': false,
  '--count': false,
  '--stats': false,
  '--proto': true,
  '--src': true,
  '--dst': true,
  '--orig-src': true,
  '--orig-dst': true,
  '--reply-src': true,
  '--reply-dst': true,
  '--sport': true,
  '--dport': true,
  '--orig-port-src': true,
  '--orig-port-dst': true,
  '--reply-port-src': true,
  '--reply-port-dst': true,
  '--output': true,
  '--src-nat': false,
  '--dst-nat': false,
  '--mark': true,
  '--family': true,
  '--status': true,
  '--state': true,
  '--zone': true,
  '--orig-zone': true,
  '--reply-zone': true,
  '--buffer-size': true,
};

function classifyConntrack(argv: readonly string[]): Classification {
  const r = scanOptions(argv.slice(1), { flags: 'LSCng', valued: 'psdrqomfuwb', long: CONNTRACK_LONG });
  if (r.bad) return write(`conntrack option ${r.bad} is not read-only (-D deletes, -F flushes, -U/-I change entries, -z zeroes counters, -E never ends)`);
  const cmds = ['-L', '-S', '-C', '--dump', '--stats', '--count'].filter((c) => r.options.has(c));
  if (cmds.length !== 1) return write('conntrack needs exactly one of -L, -S or -C to be read-only');
  if (r.operands.some((o) => o !== 'conntrack' && o !== 'expect')) return write(`conntrack operand ${r.operands.find((o) => o !== 'conntrack' && o !== 'expect')} is not a table name`);
  return read('conntrack -L only lists entries');
}

const TCPDUMP_FLAGS = 'nNeqvlStuxXAKpU#dDLO';
const TCPDUMP_VALUED = 'icsQyBjTE';
const TCPDUMP_LONG: Record<string, boolean> = {
  '--immediate-mode': false,
  '--number': false,
  '--print': false,
  '--interface': true,
  '--time-stamp-precision': true,
  '--direction': true,
  '--snapshot-length': true,
  '--linktype': true,
};

/** `timeout [-s SIG] [-k D] DURATION tcpdump -n … -c N …` */
function classifyTimeout(argv: readonly string[]): Classification {
  let i = 1;
  while (i < argv.length && argv[i].startsWith('-')) {
    const a = argv[i];
    if (a === '-s' || a === '--signal' || a === '-k' || a === '--kill-after') i += 2;
    else if (a.startsWith('--signal=') || a.startsWith('--kill-after=') || a === '--preserve-status' || a === '--foreground') i += 1;
    else return write(`timeout option ${a} is not on the list`);
  }
  const dur = argv[i];
  if (!dur || !/^\d+(\.\d+)?[smh]?$/.test(dur)) return write('timeout needs a duration (e.g. timeout 10 tcpdump …)');
  const secs = Number(dur.replace(/[smh]$/, '')) * (dur.endsWith('m') ? 60 : dur.endsWith('h') ? 3600 : 1);
  if (secs <= 0 || secs > 3600) return write(`timeout ${dur} is outside 0 < t ≤ 1 h`);
  const inner = argv.slice(i + 1);
  if (inner.length === 0) return write('timeout without a command');
  if (baseName(inner[0]) === 'tcpdump') return classifyTcpdump(inner, true);
  const c = classifyArgv(inner);
  return { class: c.class, reason: `${c.reason} (under timeout ${dur})` };
}

function classifyTcpdump(argv: readonly string[], underTimeout: boolean): Classification {
  const r = scanOptions(argv.slice(1), { flags: TCPDUMP_FLAGS, valued: TCPDUMP_VALUED, long: TCPDUMP_LONG });
  if (r.bad) return write(`tcpdump option ${r.bad} is not on the read-only list (-w/-C/-G/-W write files, -z runs a command, -r/-F/-V read files, -Z changes user)`);
  if (!underTimeout) return write('tcpdump must be wrapped in timeout (e.g. timeout 10 tcpdump -n -c 20 …) so it always ends');
  const count = r.options.get('-c');
  if (!count || count.length !== 1 || !/^[1-9]\d{0,5}$/.test(count[0])) return write('tcpdump needs a packet count -c N (1 ≤ N ≤ 999999)');
  if (!r.options.has('-n')) return write('tcpdump needs -n (no name resolution: lookups would send traffic and slow the capture)');
  if (r.operands.some((o) => o.startsWith('-'))) return write('tcpdump filter words cannot start with "-"');
  return read(`tcpdump -n -c ${count[0]} under timeout only captures`);
}

/** Files `cat` may read: the resolver config and CNI results (libcni's cache, the test-bed's copies). */
const CAT_FILES: RegExp[] = [/^\/etc\/resolv\.conf$/, /^\/var\/lib\/cni\/results\/[A-Za-z0-9_.-]+$/, /^\/run\/netlab\/cni\/results\/[A-Za-z0-9_.-]+\.json$/];

function classifyCat(argv: readonly string[]): Classification {
  if (argv.length === 2 && !argv[1].includes('..') && CAT_FILES.some((re) => re.test(argv[1]))) return read(`cat ${argv[1]} only reads`);
  return write('cat is allowed only for /etc/resolv.conf and CNI result files (/var/lib/cni/results/*, /run/netlab/cni/results/*.json)');
}

function classifyLs(argv: readonly string[]): Classification {
  if (argv.length === 2 && argv[1] === '/var/lib/cni/results') return read('ls /var/lib/cni/results only lists');
  return write('ls is allowed only for /var/lib/cni/results');
}

function classifyIpvsadm(argv: readonly string[]): Classification {
  const r = scanOptions(argv.slice(1), { flags: 'LlncZ', valued: 'tuf', long: { '--list': false, '--numeric': false, '--stats': false, '--rate': false, '--exact': false, '--connection': false, '--thresholds': false, '--persistent-conn': false, '--sort': false, '--tcp-service': true, '--udp-service': true, '--fwmark-service': true } });
  if (r.bad) return write(`ipvsadm option ${r.bad} is not read-only`);
  if (r.options.has('-Z')) return write('ipvsadm -Z zeroes counters');
  if (!r.options.has('-L') && !r.options.has('-l') && !r.options.has('--list')) return write('ipvsadm is read-only only with -L (list)');
  if (r.operands.length) return write(`ipvsadm operand ${r.operands[0]} is not allowed`);
  return read('ipvsadm -L only lists virtual servers');
}

const CURL_FLAGS = 'sSfIv46kL';
const CURL_VALUED = 'mwoH';
const CURL_LONG: Record<string, boolean> = {
  '--silent': false,
  '--show-error': false,
  '--fail': false,
  '--head': false,
  '--verbose': false,
  '--insecure': false,
  '--ipv4': false,
  '--ipv6': false,
  '--max-time': true,
  '--connect-timeout': true,
  '--write-out': true,
  '--output': true,
  '--header': true,
  '--resolve': true,
  '--noproxy': true,
  '--http1.1': false,
  '--retry': true,
};

function classifyCurl(argv: readonly string[]): Classification {
  const r = scanOptions(argv.slice(1), { flags: CURL_FLAGS, valued: CURL_VALUED, long: CURL_LONG });
  if (r.bad) return write(`curl option ${r.bad} is not on the probe list (uploads, cookies jars, config files and output files change things)`);
  const out = [...(r.options.get('-o') ?? []), ...(r.options.get('--output') ?? [])];
  if (out.some((o) => o !== '/dev/null')) return write('curl may only write its output to /dev/null');
  const wo = [...(r.options.get('-w') ?? []), ...(r.options.get('--write-out') ?? [])];
  if (wo.some((w) => w.includes('@'))) return write('curl --write-out may not read a file (@)');
  if (!r.options.has('-m') && !r.options.has('--max-time')) return write('curl needs --max-time/-m so the probe always ends');
  if (r.operands.length !== 1 || !/^https?:\/\/[^\s]+$/.test(r.operands[0])) return write('curl needs exactly one http:// or https:// URL');
  return probe(`curl ${r.operands[0]} sends one HTTP request`);
}

function classifyNc(argv: readonly string[]): Classification {
  const r = scanOptions(argv.slice(1), { flags: 'zvnu46', valued: 'w', long: {} });
  if (r.bad) return write(`nc option ${r.bad} is not on the probe list (only -z -v -n -u -4 -6 -w N)`);
  if (!r.options.has('-z')) return write('nc is a probe only with -z (connect, send nothing)');
  const w = r.options.get('-w');
  if (!w || !/^\d{1,3}$/.test(w[0])) return write('nc needs -w SECONDS so the probe always ends');
  if (r.operands.length !== 2 || !/^\d{1,5}(-\d{1,5})?$/.test(r.operands[1])) return write('nc -z needs HOST PORT');
  return probe(`nc -z connects to ${r.operands[0]} port ${r.operands[1]} and closes`);
}

function classifyGetent(argv: readonly string[]): Classification {
  if (argv.length === 3 && ['hosts', 'ahosts', 'ahostsv4', 'ahostsv6'].includes(argv[1]) && !argv[2].startsWith('-')) return probe(`getent ${argv[1]} resolves one name (sends DNS queries)`);
  return write('getent is allowed only as getent hosts|ahosts|ahostsv4|ahostsv6 NAME');
}

function classifyPing(argv: readonly string[]): Classification {
  const r = scanOptions(argv.slice(1), { flags: 'n46qD', valued: 'cWwsI', long: {} });
  if (r.bad) return write(`ping option ${r.bad} is not on the probe list`);
  const c = r.options.get('-c');
  if (!c || !/^[1-9]\d?$/.test(c[0])) return write('ping needs -c N (1-99)');
  if (r.operands.length !== 1) return write('ping needs one destination');
  return probe(`ping -c ${c[0]} sends ICMP echo requests`);
}

/** Classifies an argv (argv[0] may be a path such as /usr/sbin/ip). */
export function classifyArgv(argv: readonly string[]): Classification {
  if (argv.length === 0) return write('empty command');
  const cmd = baseName(argv[0]);
  switch (cmd) {
    case 'ip':
      return classifyIp(argv);
    case 'bridge':
      return classifyBridge(argv);
    case 'iptables-save':
    case 'ip6tables-save':
    case 'iptables-nft-save':
    case 'ip6tables-nft-save':
    case 'iptables-legacy-save':
    case 'ip6tables-legacy-save':
      return classifySave(argv);
    case 'ipset':
      return classifyIpset(argv);
    case 'conntrack':
      return classifyConntrack(argv);
    case 'timeout':
      return classifyTimeout(argv);
    case 'tcpdump':
      return classifyTcpdump(argv, false);
    case 'cat':
      return classifyCat(argv);
    case 'ls':
      return classifyLs(argv);
    case 'ipvsadm':
      return classifyIpvsadm(argv);
    case 'curl':
      return classifyCurl(argv);
    case 'nc':
    case 'ncat':
    case 'netcat':
      return classifyNc(argv);
    case 'getent':
      return classifyGetent(argv);
    case 'ping':
      return classifyPing(argv);
    default:
      return write(`"${cmd}" is not on the read-only list (ip route|addr|link|neigh show, bridge fdb, iptables-save, ipset list, conntrack -L, timeout … tcpdump -n -c N, cat /etc/resolv.conf or a CNI result, ipvsadm -Ln)`);
  }
}

export interface Permissions {
  /** Allow commands that may change the node (CLI --yes-modify). Implies allowProbe. */
  allowWrite?: boolean;
  /** Allow probes: curl/nc/ping/getent that send test traffic and change no configuration. */
  allowProbe?: boolean;
}

export class CommandRejected extends Error {
  readonly code = 'command-rejected';
  readonly hint: string;
  readonly classification?: Classification;
  readonly column?: number;
  constructor(message: string, hint: string, extra: { classification?: Classification; column?: number } = {}) {
    super(message);
    this.name = 'CommandRejected';
    this.hint = hint;
    this.classification = extra.classification;
    this.column = extra.column;
  }
}

/** What a runner executes: an argv (quoted word by word for a shell) or, only with allowWrite, a raw shell line. */
export type PreparedCommand = { argv: string[]; shell?: undefined; classification: Classification } | { argv?: undefined; shell: string; classification: Classification };

/**
 * Checks a command against the permissions. Strings are split without a
 * shell; with allowWrite a line the splitter rejects (pipes…) is passed to the
 * shell as written, because the user confirmed it.
 */
export function prepareCommand(cmd: string | readonly string[], perms: Permissions = {}): PreparedCommand {
  let argv: string[];
  if (typeof cmd === 'string') {
    try {
      argv = splitCommandLine(cmd);
    } catch (e) {
      if (!(e instanceof CommandLineError)) throw e;
      if (perms.allowWrite) return { shell: cmd, classification: write(`shell line (${e.message})`) };
      throw new CommandRejected(`refused "${cmd}": ${e.message}`, e.hint, { column: e.column });
    }
  } else {
    if (cmd.length === 0) throw new CommandRejected('refused an empty command', 'give a command, e.g. ["ip", "-j", "route"]');
    argv = [...cmd];
  }
  const c = classifyArgv(argv);
  const shown = quoteArgv(argv);
  if (c.class === 'read') return { argv, classification: c };
  if (c.class === 'probe') {
    if (perms.allowProbe || perms.allowWrite) return { argv, classification: c };
    throw new CommandRejected(`refused "${shown}": it sends test traffic (${c.reason})`, 'allow probes (allowProbe: true, CLI --probe) or writes (allowWrite: true, CLI --yes-modify) if you mean it', { classification: c });
  }
  if (perms.allowWrite) return { argv, classification: c };
  throw new CommandRejected(`refused "${shown}": not read-only — ${c.reason}`, 'commands that may change a node need explicit confirmation: allowWrite: true (CLI --yes-modify)', { classification: c });
}

/** The line a POSIX shell on the node receives. */
export function shellLine(p: PreparedCommand): string {
  return p.argv ? quoteArgv(p.argv) : p.shell;
}
