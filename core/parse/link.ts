// `ip link`, `ip addr`, `ip -s [-s] link` (text) and their `ip -j` forms.
// Records use iproute2's JSON key names (ifindex, ifname, link_type,
// addr_info, stats64 …) so that text and JSON output parse to the same shape.

import {
  Diagnostics,
  type JsonValue,
  JsonFields,
  type ParseOptions,
  type ParseResult,
  dict,
  finish,
  isObject,
  jsonArrayOfObjects,
  quote,
  splitLines,
  tokens,
  uint,
} from './common';

/** `valid_lft forever` is 0xffffffff in iproute2's JSON. */
export const FOREVER = 4294967295;

export interface AddrInfo {
  family: 'inet' | 'inet6' | string;
  local: string;
  prefixlen: number;
  /** Peer address of a point-to-point address (`inet A peer B/32`). */
  address?: string;
  broadcast?: string;
  scope?: string;
  label?: string;
  /** Address flags as words: secondary, dynamic, noprefixroute, tentative, deprecated, nodad … */
  flags: string[];
  valid_life_time?: number;
  preferred_life_time?: number;
}

export type LinkStats = Record<string, number>;

export interface LinkRecord {
  line: number;
  ifindex: number;
  ifname: string;
  /** The `@` part of the name: `if5` for a veth peer in another namespace, a device name, or `NONE`. */
  link?: string;
  /** Peer interface index (from `@ifN` or JSON link_index). */
  link_index?: number;
  flags: string[];
  mtu?: number;
  qdisc?: string;
  master?: string;
  operstate?: string;
  linkmode?: string;
  group?: string;
  txqlen?: number;
  link_type?: string;
  address?: string;
  broadcast?: string;
  permaddr?: string;
  /** `link-netns NAME` (text only; JSON prints link_netnsid). */
  link_netns?: string;
  link_netnsid?: number;
  altnames?: string[];
  addr_info: AddrInfo[];
  stats64?: { rx: LinkStats; tx: LinkStats };
  /** `ip -d` detail lines (e.g. `vxlan id 4096 local 10.0.1.5 dev eth0 … dstport 4789`), verbatim. */
  details?: string[];
  /** `ip -d`: the link kind and its attributes, from the detail line or JSON linkinfo. */
  linkinfo?: { kind: string; data: Record<string, string | number | boolean> };
}

const LINK_KINDS = new Set([
  'vxlan',
  'veth',
  'bridge',
  'bridge_slave',
  'vlan',
  'macvlan',
  'ipvlan',
  'dummy',
  'geneve',
  'ipip',
  'gre',
  'wireguard',
  'tun',
  'bond',
  'vrf',
  'ifb',
  'openvswitch',
]);

const RX_TEXT_KEYS: Record<string, string> = {
  bytes: 'bytes',
  packets: 'packets',
  errors: 'errors',
  dropped: 'dropped',
  missed: 'missed_errors',
  overrun: 'over_errors',
  mcast: 'multicast',
  compressed: 'compressed',
  nohandler: 'nohandler',
  otherhost: 'otherhost_dropped',
  length: 'length_errors',
  crc: 'crc_errors',
  frame: 'frame_errors',
  fifo: 'fifo_errors',
};
const TX_TEXT_KEYS: Record<string, string> = {
  bytes: 'bytes',
  packets: 'packets',
  errors: 'errors',
  dropped: 'dropped',
  carrier: 'carrier_errors',
  collsns: 'collisions',
  compressed: 'compressed',
  aborted: 'aborted_errors',
  fifo: 'fifo_errors',
  window: 'window_errors',
  heartbt: 'heartbeat_errors',
  transns: 'carrier_changes',
};

const ADDR_FLAG_WORDS = new Set([
  'secondary',
  'temporary',
  'nodad',
  'optimistic',
  'dadfailed',
  'home',
  'deprecated',
  'tentative',
  'permanent',
  'dynamic',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'stable-privacy',
]);

function lifetime(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === 'forever') return FOREVER;
  const n = uint(v.endsWith('sec') ? v.slice(0, -3) : v);
  return n ?? undefined;
}

function parseHeader(line: string, no: number, diags: Diagnostics): LinkRecord | null {
  // "3: eth0@if5: <BROADCAST,...> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000"
  const colon = line.indexOf(': ');
  const idx = uint(line.slice(0, colon));
  if (colon < 0 || idx === null) {
    diags.error(no, `ip link: line ${no}: expected "<index>: <name>: <FLAGS> …", got ${quote(line)}; skipped`);
    return null;
  }
  const rest = line.slice(colon + 2);
  const nameEnd = rest.indexOf(': ');
  const lt = rest.indexOf('<');
  if (nameEnd < 0 || lt < 0 || lt < nameEnd) {
    // names can contain ':' (eth0:1 labels don't appear here, but be defensive)
    diags.error(no, `ip link: line ${no}: cannot find the interface name and flags in ${quote(line)}; skipped`);
    return null;
  }
  const fullName = rest.slice(0, nameEnd);
  const at = fullName.indexOf('@');
  const rec: LinkRecord = { line: no, ifindex: idx, ifname: at >= 0 ? fullName.slice(0, at) : fullName, flags: [], addr_info: [] };
  if (at >= 0) {
    rec.link = fullName.slice(at + 1);
    if (rec.link.startsWith('if')) {
      const li = uint(rec.link.slice(2));
      if (li !== null) rec.link_index = li;
    }
  }
  const gt = rest.indexOf('>', lt);
  if (gt < 0) {
    diags.error(no, `ip link: line ${no}: unterminated flag list "<…" (truncated line?); skipped`);
    return null;
  }
  const flagText = rest.slice(lt + 1, gt);
  rec.flags = flagText === '' ? [] : flagText.split(',');
  const t = tokens(rest.slice(gt + 1));
  for (let i = 0; i < t.length; i++) {
    const k = t[i];
    const v = t[i + 1];
    switch (k) {
      case 'mtu':
        rec.mtu = uint(v) ?? undefined;
        i++;
        break;
      case 'qdisc':
        rec.qdisc = v;
        i++;
        break;
      case 'master':
        rec.master = v;
        i++;
        break;
      case 'state':
        rec.operstate = v;
        i++;
        break;
      case 'mode':
        rec.linkmode = v;
        i++;
        break;
      case 'group':
        rec.group = v;
        i++;
        break;
      case 'qlen':
        rec.txqlen = uint(v) ?? undefined;
        i++;
        break;
      default:
        // e.g. "link-netnsid 0" on some versions' header, "portid", "event": keep quiet but note
        if (v !== undefined && k === 'link-netnsid') {
          rec.link_netnsid = uint(v) ?? undefined;
          i++;
        }
    }
  }
  for (const k of Object.keys(rec) as (keyof LinkRecord)[]) if (rec[k] === undefined) delete rec[k];
  return rec;
}

function parseLinkLine(rec: LinkRecord, t: string[]): void {
  // link/ether 52:11:93:17:f2:4c brd ff:ff:ff:ff:ff:ff link-netns nl-n-node-1
  rec.link_type = t[0].slice(5);
  let i = 1;
  if (t[1] !== undefined && t[1] !== 'brd' && !t[1].startsWith('link-') && t[1] !== 'promiscuity' && t[1] !== 'permaddr') {
    rec.address = t[1];
    i = 2;
  }
  const rest: string[] = [];
  for (; i < t.length; i++) {
    const k = t[i];
    const v = t[i + 1];
    if (k === 'brd' && v !== undefined) {
      rec.broadcast = v;
      i++;
    } else if (k === 'link-netns' && v !== undefined) {
      rec.link_netns = v;
      i++;
    } else if (k === 'link-netnsid' && v !== undefined) {
      const n = uint(v);
      if (n !== null) rec.link_netnsid = n;
      i++;
    } else if (k === 'permaddr' && v !== undefined) {
      rec.permaddr = v;
      i++;
    } else rest.push(k);
  }
  if (rest.length) (rec.details ??= []).push(rest.join(' '));
}

function parseAddrLine(t: string[], no: number, ifname: string, diags: Diagnostics): AddrInfo | null {
  const family = t[0];
  const a = t[1];
  if (a === undefined) {
    diags.error(no, `ip addr: line ${no}: "${family}" without an address; skipped`);
    return null;
  }
  const slash = a.indexOf('/');
  const info: AddrInfo = { family, local: slash >= 0 ? a.slice(0, slash) : a, prefixlen: family === 'inet6' ? 128 : 32, flags: [] };
  if (slash >= 0) {
    const p = uint(a.slice(slash + 1));
    if (p === null) {
      diags.error(no, `ip addr: line ${no}: bad prefix length in ${quote(a)}; skipped`);
      return null;
    }
    info.prefixlen = p;
  }
  for (let i = 2; i < t.length; i++) {
    const k = t[i];
    const v = t[i + 1];
    if (k === 'peer' && v !== undefined) {
      const s = v.indexOf('/');
      info.address = s >= 0 ? v.slice(0, s) : v;
      if (s >= 0) {
        const p = uint(v.slice(s + 1));
        if (p !== null) info.prefixlen = p;
      }
      i++;
    } else if (k === 'brd' && v !== undefined) {
      info.broadcast = v;
      i++;
    } else if (k === 'scope' && v !== undefined) {
      info.scope = v;
      i++;
    } else if (ADDR_FLAG_WORDS.has(k)) {
      info.flags.push(k);
    } else if (i === t.length - 1 && family === 'inet') {
      info.label = k; // the label ends an inet line (eth0, eth0:1)
    } else {
      diags.warning(no, `ip addr: line ${no}: unknown word ${quote(k, 20)} ignored`);
    }
  }
  if (info.label === undefined && family === 'inet') info.label = ifname;
  return info;
}

/** Parses `ip link`, `ip addr`, `ip -s link`, `ip -d link` text. */
export function parseIpLink(text: unknown, opts: ParseOptions = {}): ParseResult<LinkRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'ip link', opts);
  const records: LinkRecord[] = [];
  if (!lines) return finish(records, diags);
  let cur: LinkRecord | null = null;
  let lastAddr: AddrInfo | null = null;
  /** pending counter header: which block and column names */
  let pending: { dir: 'rx' | 'tx'; keys: string[] } | null = null;
  for (const { no, text: line } of lines) {
    if (line.trim() === '') continue;
    const indented = line[0] === ' ' || line[0] === '\t';
    if (!indented) {
      pending = null;
      lastAddr = null;
      cur = parseHeader(line, no, diags);
      if (cur) records.push(cur);
      continue;
    }
    if (!cur) {
      diags.error(no, `ip link: line ${no}: indented line without an interface line above it; skipped`);
      continue;
    }
    const t = tokens(line);
    const first = t[0];
    if (pending) {
      const p = pending;
      pending = null;
      if (t.every((x) => uint(x) !== null)) {
        const st = (cur.stats64 ??= { rx: dict<number>(), tx: dict<number>() });
        const map = p.dir === 'rx' ? RX_TEXT_KEYS : TX_TEXT_KEYS;
        p.keys.forEach((k, i) => {
          const v = uint(t[i]);
          const key = map[k] ?? k;
          if (v !== null && key !== '__proto__' && key !== 'constructor' && key !== 'prototype') st[p.dir][key] = v;
        });
        if (t.length !== p.keys.length) diags.warning(no, `ip -s link: line ${no}: ${t.length} counters under ${p.keys.length} column names`);
        continue;
      }
      diags.error(no, `ip -s link: line ${no}: expected counter values under the ${p.dir.toUpperCase()} header, got ${quote(line)}`);
    }
    if (first === 'RX:' || first === 'TX:') {
      pending = { dir: first === 'RX:' ? 'rx' : 'tx', keys: t.slice(1) };
      continue;
    }
    if ((first === 'RX' || first === 'TX') && t[1] === 'errors:') {
      pending = { dir: first === 'RX' ? 'rx' : 'tx', keys: t.slice(2) };
      continue;
    }
    if (first.startsWith('link/')) {
      parseLinkLine(cur, t);
      continue;
    }
    if (first === 'inet' || first === 'inet6') {
      lastAddr = parseAddrLine(t, no, cur.ifname, diags);
      if (lastAddr) cur.addr_info.push(lastAddr);
      continue;
    }
    if (first === 'valid_lft') {
      if (!lastAddr) {
        diags.warning(no, `ip addr: line ${no}: lifetimes without an address above them; ignored`);
        continue;
      }
      lastAddr.valid_life_time = lifetime(t[1]);
      if (t[2] === 'preferred_lft') lastAddr.preferred_life_time = lifetime(t[3]);
      continue;
    }
    if (first === 'altname' && t[1] !== undefined) {
      (cur.altnames ??= []).push(t[1]);
      continue;
    }
    if (LINK_KINDS.has(first)) {
      const data: Record<string, string | number | boolean> = dict();
      for (let i = 1; i < t.length; i++) {
        const k = t[i];
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
        const v = t[i + 1];
        if (k === 'srcport' && v !== undefined && t[i + 2] !== undefined) {
          data[k] = `${v} ${t[i + 2]}`;
          i += 2;
        } else if (v !== undefined && !/^[a-z_]+$/.test(v)) {
          const n = uint(v);
          data[k] = n ?? v;
          i++;
        } else if (v !== undefined && (k === 'dev' || k === 'state' || k === 'mode' || k === 'ttl' || k === 'tos' || k === 'df')) {
          data[k] = v;
          i++;
        } else data[k] = true;
      }
      if (!cur.linkinfo) cur.linkinfo = { kind: first, data };
    }
    (cur.details ??= []).push(t.join(' '));
  }
  return finish(records, diags);
}

/** The same parser: `ip addr` output is `ip link` output plus address lines. */
export const parseIpAddr = parseIpLink;

function statsFromJson(v: JsonValue | undefined): LinkStats | undefined {
  if (!isObject(v)) return undefined;
  const out = dict<number>();
  for (const [k, n] of Object.entries(v)) {
    if (typeof n === 'number' && k !== '__proto__' && k !== 'constructor' && k !== 'prototype') out[k] = n;
  }
  return out;
}

/** Parses `ip -j link`, `ip -j addr`, `ip -j -s link`, `ip -j -d link`. */
export function parseIpLinkJson(text: unknown, opts: ParseOptions = {}): ParseResult<LinkRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const records: LinkRecord[] = [];
  for (const { obj, line, index } of jsonArrayOfObjects(text, diags, 'ip -j link', opts)) {
    const where = `ip -j link[${index}]`;
    const f = new JsonFields(obj, diags, where, line);
    if (f.checkKeys()) continue;
    const ifindex = f.num('ifindex');
    const ifname = f.str('ifname');
    if (ifindex === undefined || ifname === undefined) {
      // `ip -j addr` prints {} for interfaces filtered out by address family
      if (Object.keys(obj).length === 0) continue;
      diags.error(line, `${where}: missing ifindex or ifname; skipped`);
      continue;
    }
    const r: LinkRecord = { line, ifindex, ifname, flags: f.strArray('flags') ?? [], addr_info: [] };
    const set = <K extends keyof LinkRecord>(k: K, v: LinkRecord[K] | undefined) => {
      if (v !== undefined) r[k] = v;
    };
    set('link', f.str('link'));
    set('link_index', f.num('link_index'));
    set('mtu', f.num('mtu'));
    set('qdisc', f.str('qdisc'));
    set('master', f.str('master'));
    set('operstate', f.str('operstate'));
    set('linkmode', f.str('linkmode'));
    set('group', f.str('group'));
    set('txqlen', f.num('txqlen'));
    set('link_type', f.str('link_type'));
    set('address', f.str('address'));
    set('broadcast', f.str('broadcast'));
    set('permaddr', f.str('permaddr'));
    set('link_netnsid', f.num('link_netnsid'));
    set('altnames', f.strArray('altnames'));
    if (r.link === undefined && r.link_index !== undefined) r.link = `if${r.link_index}`;
    const ai = f.raw('addr_info');
    if (Array.isArray(ai)) {
      ai.forEach((a, j) => {
        if (!isObject(a)) return;
        const af = new JsonFields(a, diags, `${where}.addr_info[${j}]`, line);
        if (af.checkKeys()) return;
        const local = af.str('local');
        const prefixlen = af.num('prefixlen');
        const family = af.str('family');
        if (local === undefined || prefixlen === undefined || family === undefined) {
          diags.error(line, `${where}.addr_info[${j}]: missing family, local or prefixlen; skipped`);
          return;
        }
        const info: AddrInfo = { family, local, prefixlen, flags: [] };
        const address = af.str('address');
        if (address !== undefined) info.address = address;
        const broadcast = af.str('broadcast');
        if (broadcast !== undefined) info.broadcast = broadcast;
        const scope = af.str('scope');
        if (scope !== undefined) info.scope = scope;
        const label = af.str('label');
        if (label !== undefined) info.label = label;
        for (const w of ADDR_FLAG_WORDS) if (a[w] === true) info.flags.push(w);
        const vl = af.num('valid_life_time');
        if (vl !== undefined) info.valid_life_time = vl;
        const pl = af.num('preferred_life_time');
        if (pl !== undefined) info.preferred_life_time = pl;
        r.addr_info.push(info);
      });
    }
    const s = f.raw('stats64') ?? f.raw('stats');
    if (isObject(s)) {
      const rx = statsFromJson(s.rx);
      const tx = statsFromJson(s.tx);
      if (rx && tx) r.stats64 = { rx, tx };
    }
    const li = f.raw('linkinfo');
    if (isObject(li) && typeof li.info_kind === 'string') {
      const data: Record<string, string | number | boolean> = dict();
      if (isObject(li.info_data)) {
        for (const [k, v] of Object.entries(li.info_data)) {
          if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') data[k] = v;
        }
      }
      r.linkinfo = { kind: li.info_kind, data };
    }
    records.push(r);
  }
  return finish(records, diags);
}

export const parseIpAddrJson = parseIpLinkJson;
