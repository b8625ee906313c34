// `tcpdump -n` text lines (tcpdump 4.9x print-*.c formats).
//
//   [<num>  ][<timestamp> ][<if> <In|Out|…> ][<mac> > <mac>, ethertype …, length N: ]IP src[.port] > dst[.port]: <summary>
//
// Timestamps: default `HH:MM:SS.ffffff`, `-tttt` `YYYY-MM-DD HH:MM:SS.ffffff`,
// `-tt` `1590000000.123456`, `-ttt`/`-ttttt` deltas, `-t` none. The summary
// is decoded for TCP (flags, seq, ack, win, options, length), UDP, DNS (query
// and response forms of print-domain.c), ICMP / ICMP6, ARP and VXLAN (whose
// inner packet tcpdump prints on the next line, without a timestamp).
// Released tcpdump (up to 4.99.x) decodes UDP port 8472 — the Linux VXLAN
// default that flannel.1 and cilium_vxlan use — as OTV (print-otv.c:
// `OTV, flags [I] (0x08), overlay 0, instance 1`, the inner frame on the
// next line); the OTV header has VXLAN's layout (flags, 24 reserved bits read
// as the overlay, the VNI read as the instance), so such packets are VXLAN
// with `vxlan.printedAs` 'OTV'. tcpdump's development branch dropped OTV in
// 2025 (tcpdump PR #1369) and prints VXLAN for 8472.

import { Diagnostics, type ParseOptions, type ParseResult, quote, splitLines, tokens, uint } from './common';

export interface DnsAnswer {
  /** Owner name (only printed with -vv). */
  name?: string;
  type: string;
  data: string;
}

export interface DnsSummary {
  id: number;
  /** true for a query, false for a response. */
  query: boolean;
  /** Flag characters as printed: `+` RD (query), `*` AA, `-` no RA, `|` TC, `$` AD, `%` CD. */
  flags: string;
  opcode?: string;
  /** Response code word when not NoError: NXDomain, ServFail, Refused, FormErr, NotImp … */
  rcode?: string;
  /** Bracketed counts such as `[1au]` (EDNS OPT record in the additional section). */
  brackets: string[];
  /** Query: the question. */
  qtype?: string;
  qclass?: string;
  qname?: string;
  /** Response: answer/authority/additional counts. */
  an?: number;
  ns?: number;
  ar?: number;
  answers: DnsAnswer[];
  /** DNS message length in parentheses at the end. */
  length?: number;
  truncated: boolean;
}

export interface TcpInfo {
  /** Flag letters inside `Flags [...]`: S, S., P., F., R., `.` … */
  flags: string;
  /** As printed: `603899916` or a relative range `1:59`. */
  seq?: string;
  ack?: number;
  win?: number;
  options?: string;
  length?: number;
}

export interface TcpdumpPacket {
  line: number;
  /** `-#` packet number. */
  number?: number;
  timestamp?: string;
  /** `-i any`: capture interface and direction (In, Out, B, M, P). */
  interface?: string;
  direction?: string;
  /** `-i any -e` (Linux cooked capture v2): the interface index. */
  ifindex?: number;
  /** `-e` link-level header. */
  /** `-e` link-level header (`dst` is empty for `-i any` cooked captures, which show the source only). */
  link?: { src: string; dst: string; ethertype?: string; length?: number };
  /** `IP`, `IP6`, `ARP` or the word tcpdump printed. */
  protocol: string;
  /** `-v` IP header fields, verbatim: `tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 60`. */
  ipHeader?: string;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  transport?: 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'arp' | 'other';
  tcp?: TcpInfo;
  udp?: { length?: number };
  icmp?: { kind: string; id?: number; seq?: number; length?: number };
  arp?: { op: string; target?: string; sender?: string; mac?: string; length?: number };
  dns?: DnsSummary;
  /** Application summary printed after a TCP length (`HTTP: GET / HTTP/1.1`). */
  app?: string;
  /** A VXLAN packet: printed as `VXLAN, … vni N`, or on UDP 8472 by tcpdump ≤ 4.99 as `OTV, … overlay 0, instance N` (printedAs 'OTV'). */
  vxlan?: { flags: string; flagsHex: string; vni: number; inner?: TcpdumpPacket; printedAs?: 'OTV' };
  /** Everything after `src > dst: `, verbatim. */
  summary: string;
  /** Indented `-v` continuation lines. */
  verbose?: string[];
}

export interface TcpdumpResult extends ParseResult<TcpdumpPacket> {
  /** Lines tcpdump prints about itself (listening on …, N packets captured …). */
  meta: string[];
}

const DIRECTIONS = new Set(['In', 'Out', 'B', 'M', 'P', 'U']);
const RCODES = new Set([
  'FormErr',
  'ServFail',
  'NXDomain',
  'NotImp',
  'Refused',
  'YXDomain',
  'YXRRSet',
  'NXRRSet',
  'NotAuth',
  'NotZone',
  'BadVers',
  'BadKey',
  'BadTime',
  'BadMode',
  'BadName',
  'BadAlg',
  'BadTrunc',
  'NoChange',
]);
const OPCODES = new Set(['inv_q', 'stat', 'op3', 'notify', 'update', 'op6', 'op7', 'op8', 'updateA', 'updateD', 'updateDA', 'updateM', 'updateMA', 'zoneInit', 'zoneRef']);
const DNS_PORTS = new Set([53, 5353]);
const VXLAN_PORTS = new Set([4789, 8472]);
/** print-otv.c's port (udp.h OTV_PORT), the Linux kernel's VXLAN default. */
const OTV_PORT = 8472;

/**
 * The summary released tcpdump (≤ 4.99) prints for a VXLAN header in a UDP
 * datagram with these ports: print-udp.c tries OTV's port (8472) before
 * VXLAN's, on either end, so flannel.1 / cilium_vxlan traffic reads
 * `OTV, flags [I] (0x08), overlay 0, instance <VNI>`; 4789 reads
 * `VXLAN, flags [I] (0x08), vni <VNI>`.
 */
export function vxlanSummary(flags: number, vni: number, ports: readonly (number | undefined)[]): string {
  const f = `flags [I] (0x${flags.toString(16).padStart(2, '0')})`;
  return ports.includes(OTV_PORT) ? `OTV, ${f}, overlay 0, instance ${vni}` : `VXLAN, ${f}, vni ${vni}`;
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 20) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** HH:MM:SS.ffffff (also deltas like 00:00:00.000123). */
function isClock(s: string): boolean {
  return s.length >= 8 && s.length <= 20 && /^\d{1,4}:\d\d:\d\d(\.\d{1,9})?$/.test(s);
}
function isDate(s: string): boolean {
  return s.length === 10 && /^\d{4}-\d\d-\d\d$/.test(s);
}
function isEpoch(s: string): boolean {
  return s.length <= 25 && /^\d{6,12}\.\d{1,9}$/.test(s);
}
function isMac(s: string): boolean {
  return s.length === 17 && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s);
}

/** Splits `10.0.1.5.35182` / `fe80::1.546` / `10.0.1.5` into address and port. */
export function splitHostPort(s: string, protocol: string): { addr: string; port?: number } {
  if (protocol === 'IP6' || s.includes(':')) {
    // the port follows the last '.', but an embedded IPv4 tail (::ffff:1.2.3.4) has three dots itself
    const tail = s.slice(s.lastIndexOf(':') + 1);
    const dots = tail.split('.').length - 1;
    const dot = s.lastIndexOf('.');
    if ((dots === 1 || dots === 4) && isDigits(s.slice(dot + 1))) return { addr: s.slice(0, dot), port: Number(s.slice(dot + 1)) };
    return { addr: s };
  }
  const parts = s.split('.');
  if (parts.length === 5 && isDigits(parts[4])) return { addr: parts.slice(0, 4).join('.'), port: Number(parts[4]) };
  return { addr: s };
}

/** Parses a DNS decoder summary; returns null when the text is not one. */
export function parseDnsSummary(text: string): DnsSummary | null {
  const t = tokens(text);
  if (t.length === 0) return null;
  const head = t[0];
  let j = 0;
  while (j < head.length && head.charCodeAt(j) >= 48 && head.charCodeAt(j) <= 57) j++;
  if (j === 0 || j > 5) return null;
  const id = Number(head.slice(0, j));
  let flags = head.slice(j);
  if (!/^[+*\-|$%]*$/.test(flags)) return null;
  const d: DnsSummary = { id, query: true, flags, brackets: [], answers: [], truncated: text.includes('[|domain]') };
  let i = 1;
  if (OPCODES.has(t[i])) d.opcode = t[i++];
  // rcode with flag characters glued on: NXDomain*-
  if (t[i] !== undefined) {
    let k = 0;
    const w = t[i];
    while (k < w.length && /[A-Za-z0-9]/.test(w[k])) k++;
    if (RCODES.has(w.slice(0, k)) && /^[*\-|$%]*$/.test(w.slice(k))) {
      d.rcode = w.slice(0, k);
      flags += w.slice(k);
      d.flags = flags;
      d.query = false;
      i++;
    }
  }
  while (t[i] !== undefined && t[i].startsWith('[') && t[i].endsWith(']') && t[i] !== '[|domain]') d.brackets.push(t[i++]);
  // response: an/ns/ar
  const counts = t[i] !== undefined ? /^(\d+)\/(\d+)\/(\d+)$/.exec(t[i]) : null;
  // trailing "(len)"
  let end = t.length;
  const last = t[t.length - 1];
  if (last && last.startsWith('(') && last.endsWith(')') && isDigits(last.slice(1, -1))) {
    d.length = Number(last.slice(1, -1));
    end--;
  }
  if (counts) {
    d.query = false;
    d.an = Number(counts[1]);
    d.ns = Number(counts[2]);
    d.ar = Number(counts[3]);
    i++;
    const rest = t.slice(i, end).filter((x) => x !== '[|domain]').join(' ');
    if (rest.startsWith('q: ')) {
      // -vv question section: "q: A? name."
    }
    if (rest.length) {
      for (const part of rest.split(', ')) {
        const p = tokens(part);
        if (p.length === 0) continue;
        if (p[0] === 'q:' || p[0] === 'ns:' || p[0] === 'ar:') continue;
        // -vv prints the owner name first: "name. A 1.2.3.4"
        if (p.length >= 3 && p[0].endsWith('.') && /^[A-Z][A-Z0-9]*$/.test(p[1])) d.answers.push({ name: p[0], type: p[1], data: p.slice(2).join(' ') });
        else d.answers.push({ type: p[0], data: p.slice(1).join(' ') });
      }
    }
    return d;
  }
  // query: [class] TYPE? name.
  const q = t[i];
  if (q !== undefined && q.endsWith('?')) {
    d.qtype = q.slice(0, -1);
    d.qname = t[i + 1];
    return d;
  }
  if (q !== undefined && t[i + 1] !== undefined && t[i + 1].endsWith('?')) {
    d.qclass = q;
    d.qtype = t[i + 1].slice(0, -1);
    d.qname = t[i + 2];
    return d;
  }
  if (d.rcode && d.length !== undefined) {
    d.query = false;
    return d;
  }
  return null;
}

function parseTcp(summary: string, p: TcpdumpPacket): void {
  // Flags [P.], seq 1:59, ack 1, win 64240, options [nop,nop,TS val 1 ecr 2], length 58[: app]
  const close = summary.indexOf(']');
  const tcp: TcpInfo = { flags: summary.slice(7, close) };
  let rest = summary.slice(close + 1);
  const opt = rest.indexOf('options [');
  if (opt >= 0) {
    const oc = rest.indexOf(']', opt);
    if (oc > 0) {
      tcp.options = rest.slice(opt + 9, oc);
      rest = rest.slice(0, opt) + rest.slice(oc + 1);
    }
  }
  const lenAt = rest.indexOf('length ');
  let after = '';
  if (lenAt >= 0) {
    const t = rest.slice(lenAt + 7);
    let k = 0;
    while (k < t.length && t.charCodeAt(k) >= 48 && t.charCodeAt(k) <= 57) k++;
    if (k > 0) tcp.length = Number(t.slice(0, k));
    after = t.slice(k);
    rest = rest.slice(0, lenAt);
  }
  for (const part of rest.split(',')) {
    const w = tokens(part);
    if (w[0] === 'seq' && w[1]) tcp.seq = w[1];
    else if (w[0] === 'ack' && w[1]) tcp.ack = uint(w[1]) ?? undefined;
    else if (w[0] === 'win' && w[1]) tcp.win = uint(w[1]) ?? undefined;
  }
  for (const k of ['ack', 'win'] as const) if (tcp[k] === undefined) delete tcp[k];
  p.tcp = tcp;
  const app = after.replace(/^:?\s+/, '');
  if (app.length) {
    if ((p.sport !== undefined && DNS_PORTS.has(p.sport)) || (p.dport !== undefined && DNS_PORTS.has(p.dport))) {
      const dns = parseDnsSummary(app);
      if (dns) p.dns = dns;
      else p.app = app;
    } else p.app = app;
  }
}

function parseIcmp(summary: string, p: TcpdumpPacket, six: boolean): void {
  // ICMP echo request, id 6901, seq 0, length 64 / ICMP6, echo request, id 1, seq 1, length 64
  let s = summary.slice(six ? 6 : 4).replace(/^,?\s*/, '');
  const icmp: { kind: string; id?: number; seq?: number; length?: number } = { kind: '' };
  const lenAt = s.lastIndexOf(', length ');
  if (lenAt >= 0) {
    icmp.length = uint(s.slice(lenAt + 9)) ?? undefined;
    s = s.slice(0, lenAt);
  }
  const parts = s.split(', ');
  icmp.kind = parts[0];
  for (const part of parts.slice(1)) {
    const w = tokens(part);
    if (w[0] === 'id') icmp.id = uint(w[1]) ?? undefined;
    else if (w[0] === 'seq') icmp.seq = uint(w[1]) ?? undefined;
  }
  for (const k of ['id', 'seq', 'length'] as const) if (icmp[k] === undefined) delete icmp[k];
  p.icmp = icmp;
}

/** Parses the part after the link header: `IP a > b: …` (or `a > b: …` after `-e`). */
function parseNetwork(words: string[], text: string, p: TcpdumpPacket, diags: Diagnostics, no: number): boolean {
  let w = words;
  let proto = w[0];
  if (proto === undefined) return false;
  if (proto.endsWith(',')) proto = proto.slice(0, -1);
  if (proto === 'ARP') {
    p.protocol = 'ARP';
    p.transport = 'arp';
    const s = text.slice(text.indexOf('ARP') + 4).replace(/^,?\s*/, '');
    p.summary = s;
    const arp: { op: string; target?: string; sender?: string; mac?: string; length?: number } = { op: '' };
    const parts = s.split(', ');
    const head = tokens(parts[0] ?? '');
    arp.op = (head[0] ?? '').toLowerCase();
    const body = head.slice(1);
    if (body[0] === 'who-has') {
      arp.target = body[1];
      const tell = body.indexOf('tell');
      if (tell >= 0) arp.sender = body[tell + 1];
    } else if (body[1] === 'is-at') {
      arp.target = body[0];
      arp.mac = body[2];
    }
    const len = parts.find((x) => x.startsWith('length '));
    if (len) arp.length = uint(len.slice(7)) ?? undefined;
    for (const k of ['target', 'sender', 'mac', 'length'] as const) if (arp[k] === undefined) delete arp[k];
    p.arp = arp;
    return true;
  }
  let addrStart = 1;
  if (proto !== 'IP' && proto !== 'IP6') {
    // after -e the line reads "a.b.c.d.port > …" without the IP word
    if (w[1] === '>') {
      proto = w[0].includes(':') ? 'IP6' : 'IP';
      addrStart = 0;
    } else {
      p.protocol = proto;
      p.transport = 'other';
      p.summary = text.slice(text.indexOf(w[0]) + w[0].length).trim();
      return true;
    }
  }
  p.protocol = proto;
  // -v: "IP (tos 0x0, ttl 64, …, length 60)" then the addresses on the next line (or the same)
  if (w[addrStart] !== undefined && w[addrStart].startsWith('(')) {
    const open = text.indexOf('(');
    const close = text.indexOf(')', open);
    if (close < 0) {
      diags.error(no, `tcpdump: line ${no}: unterminated "(" in the IP header; skipped`);
      return false;
    }
    // nested parentheses: "proto TCP (6), length 60)"
    let depth = 0;
    let end = -1;
    for (let k = open; k < text.length; k++) {
      if (text[k] === '(') depth++;
      else if (text[k] === ')' && --depth === 0) {
        end = k;
        break;
      }
    }
    if (end < 0) end = close;
    p.ipHeader = text.slice(open + 1, end);
    const tail = text.slice(end + 1).trim();
    if (tail === '') {
      p.summary = '';
      return true; // addresses follow on the continuation line
    }
    w = tokens(tail);
    addrStart = 0;
    text = tail;
  }
  return parseAddresses(w.slice(addrStart), text, p, diags, no);
}

function parseAddresses(w: string[], text: string, p: TcpdumpPacket, diags: Diagnostics, no: number): boolean {
  if (w.length < 3 || w[1] !== '>' || !w[2].endsWith(':')) {
    diags.error(no, `tcpdump: line ${no}: expected "<src> > <dst>: …" after ${p.protocol}, got ${quote(w.slice(0, 4).join(' '))}; skipped`);
    return false;
  }
  const s = splitHostPort(w[0], p.protocol);
  const d = splitHostPort(w[2].slice(0, -1), p.protocol);
  p.src = s.addr;
  p.dst = d.addr;
  if (s.port !== undefined) p.sport = s.port;
  if (d.port !== undefined) p.dport = d.port;
  const marker = `${w[2]} `;
  const at = text.indexOf(marker);
  const summary = at >= 0 ? text.slice(at + marker.length) : text.endsWith(w[2]) ? '' : w.slice(3).join(' ');
  p.summary = summary;
  if (summary.startsWith('Flags [')) {
    p.transport = 'tcp';
    parseTcp(summary, p);
  } else if (summary.startsWith('UDP, length ') || summary.startsWith('UDP, bad length')) {
    p.transport = 'udp';
    p.udp = { length: uint(summary.slice(12)) ?? undefined };
    if (p.udp.length === undefined) delete p.udp.length;
  } else if (summary.startsWith('VXLAN, ')) {
    p.transport = 'udp';
    const m = /^VXLAN, flags \[([^\]]*)\] \((0x[0-9a-f]+)\), vni (\d+)/.exec(summary);
    if (m) p.vxlan = { flags: m[1], flagsHex: m[2], vni: Number(m[3]) };
    else diags.warning(no, `tcpdump: line ${no}: VXLAN summary not understood: ${quote(summary)}`);
  } else if (summary.startsWith('OTV, ') && (p.sport === OTV_PORT || p.dport === OTV_PORT)) {
    p.transport = 'udp';
    const m = /^OTV, flags \[([^\]]*)\] \((0x[0-9a-f]+)\), overlay (\d+), instance (\d+)/.exec(summary);
    if (m) p.vxlan = { flags: m[1], flagsHex: m[2], vni: Number(m[4]), printedAs: 'OTV' };
    else diags.warning(no, `tcpdump: line ${no}: OTV (VXLAN on UDP 8472) summary not understood: ${quote(summary)}`);
  } else if (summary.startsWith('ICMP6')) {
    p.transport = 'icmp6';
    parseIcmp(summary, p, true);
  } else if (summary.startsWith('ICMP ')) {
    p.transport = 'icmp';
    parseIcmp(summary, p, false);
  } else if ((p.sport !== undefined && DNS_PORTS.has(p.sport)) || (p.dport !== undefined && DNS_PORTS.has(p.dport))) {
    const dns = parseDnsSummary(summary);
    if (dns) {
      p.transport = 'udp';
      p.dns = dns;
    } else p.transport = 'other';
  } else {
    p.transport = 'other';
  }
  return true;
}

const META_PREFIXES = ['tcpdump: ', 'listening on ', 'reading from file ', 'dropped privs'];
function isMeta(line: string): boolean {
  if (META_PREFIXES.some((m) => line.startsWith(m))) return true;
  return /^\d+ packets? (captured|received by filter|dropped by kernel|dropped by interface)$/.test(line);
}

/** Parses the prefix (number, timestamp, interface) and the packet itself. */
function parsePacketLine(line: string, no: number, diags: Diagnostics): TcpdumpPacket | null {
  const w = tokens(line);
  let i = 0;
  const p: TcpdumpPacket = { line: no, protocol: '', summary: '' };
  if (isDigits(w[0]) && w[1] !== undefined && (isClock(w[1]) || isDate(w[1]) || isEpoch(w[1]) || w[1] === 'IP' || w[1] === 'IP6' || w[1] === 'ARP,')) {
    p.number = Number(w[0]);
    i = 1;
  }
  if (isDate(w[i]) && isClock(w[i + 1] ?? '')) {
    p.timestamp = `${w[i]} ${w[i + 1]}`;
    i += 2;
  } else if (isClock(w[i]) || isEpoch(w[i])) {
    p.timestamp = w[i];
    i += 1;
  }
  if (w[i + 1] !== undefined && DIRECTIONS.has(w[i + 1]) && w[i] !== 'IP' && w[i] !== 'IP6') {
    p.interface = w[i];
    p.direction = w[i + 1];
    i += 2;
  }
  if (w[i] === 'ifindex' && isDigits(w[i + 1] ?? '')) {
    p.ifindex = Number(w[i + 1]);
    i += 2;
  }
  let rest = w.slice(i);
  // find where this part begins in the line so summaries stay verbatim
  let text = line;
  if (i > 0 && rest.length > 0) {
    let pos = 0;
    for (let k = 0; k < i; k++) pos = line.indexOf(w[k], pos) + w[k].length;
    text = line.slice(pos).trimStart();
  }
  if (rest.length === 0) {
    diags.error(no, `tcpdump: line ${no}: only a timestamp, no packet (truncated line?); skipped`);
    return null;
  }
  const twoMacs = isMac(rest[0]) && rest[1] === '>' && rest[2] !== undefined && isMac(rest[2].replace(/,$/, ''));
  // -i any -e (cooked capture): only the source address, then the ethertype
  const cooked = isMac(rest[0]) && rest[1] === 'ethertype';
  if (twoMacs || cooked) {
    // -e: "aa:.. > bb:.., ethertype IPv4 (0x0800), length 98: …"
    const colon = text.indexOf(': ');
    if (colon < 0) {
      diags.error(no, `tcpdump: line ${no}: link-level header without ": " (truncated line?); skipped`);
      return null;
    }
    const hdr = text.slice(0, colon);
    const link: { src: string; dst: string; ethertype?: string; length?: number } = { src: rest[0], dst: twoMacs ? rest[2].replace(/,$/, '') : '' };
    const et = /ethertype (\S+)/.exec(hdr);
    if (et) link.ethertype = et[1];
    const len = /length (\d+)$/.exec(hdr);
    if (len) link.length = Number(len[1]);
    p.link = link;
    text = text.slice(colon + 2);
    rest = tokens(text);
    if (rest[0] === 'ARP,' || rest[0] === 'IP' || rest[0] === 'IP6') {
      /* protocol word present */
    } else if (rest[1] === '>') {
      rest = [link.ethertype === 'IPv6' ? 'IP6' : 'IP', ...rest];
      text = `${rest[0]} ${text}`;
    }
  }
  if (!parseNetwork(rest, text, p, diags, no)) return null;
  return p;
}

export function parseTcpdump(text: unknown, opts: ParseOptions = {}): TcpdumpResult {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'tcpdump', opts);
  const records: TcpdumpPacket[] = [];
  const meta: string[] = [];
  if (!lines) return { records, diagnostics: diags.finish(), meta };
  let awaitingInner: TcpdumpPacket | null = null;
  let last: TcpdumpPacket | null = null;
  for (const { no, text: line } of lines) {
    if (line.trim() === '') continue;
    if (isMeta(line)) {
      meta.push(line);
      continue;
    }
    const indented = line[0] === ' ' || line[0] === '\t';
    const first = tokens(line)[0];
    const startsWithStamp = isClock(first) || isDate(first) || isEpoch(first) || (isDigits(first) && indented);
    if (indented && !startsWithStamp) {
      if (!last) {
        diags.error(no, `tcpdump: line ${no}: continuation line without a packet above it; skipped`);
        continue;
      }
      if (last.src === undefined && last.ipHeader !== undefined) {
        // -v: addresses on the continuation line
        parseAddresses(tokens(line), line.trim(), last, diags, no);
      } else (last.verbose ??= []).push(line.trim());
      continue;
    }
    if (awaitingInner && !startsWithStamp) {
      const inner = parsePacketLine(line, no, diags);
      if (inner) awaitingInner.vxlan!.inner = inner;
      awaitingInner = null;
      continue;
    }
    awaitingInner = null;
    const p = parsePacketLine(line, no, diags);
    if (!p) continue;
    records.push(p);
    last = p;
    if (p.vxlan || (p.transport === 'udp' && p.dport !== undefined && VXLAN_PORTS.has(p.dport) && p.summary.startsWith('VXLAN'))) {
      if (p.vxlan) awaitingInner = p;
    }
  }
  return { records, diagnostics: diags.finish(), meta };
}
