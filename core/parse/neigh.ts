// `ip neigh` / `ip -j neigh` and `bridge fdb` / `bridge -j fdb`.
// Field names follow the iproute2 JSON output (ip/ipneigh.c, bridge/fdb.c).

import {
  Diagnostics,
  type ParseOptions,
  type ParseResult,
  finish,
  jsonRecords,
  quote,
  splitLines,
  tokens,
  uint,
} from './common';

export const NEIGH_STATES: ReadonlySet<string> = new Set([
  'INCOMPLETE',
  'REACHABLE',
  'STALE',
  'DELAY',
  'PROBE',
  'FAILED',
  'NOARP',
  'PERMANENT',
  'NONE',
]);

const NEIGH_FLAGS = new Set(['router', 'proxy', 'extern_learn', 'offload', 'managed', 'extern_valid']);

export interface NeighRecord {
  line: number;
  dst: string;
  dev?: string;
  lladdr?: string;
  /** Flags present on the entry: router, proxy, extern_learn, offload, managed. */
  flags: string[];
  /** NUD states (one normally; `ip` prints all bits that are set). */
  state: string[];
  /** `ip -s neigh` counters. */
  refcnt?: number;
  used?: string;
  probes?: number;
}

function isMacLike(s: string): boolean {
  return s.length <= 64 && /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$/.test(s);
}

export function parseIpNeigh(text: unknown, opts: ParseOptions = {}): ParseResult<NeighRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'ip neigh', opts);
  const records: NeighRecord[] = [];
  if (!lines) return finish(records, diags);
  for (const { no, text: line } of lines) {
    const t = tokens(line);
    if (t.length === 0) continue;
    let i = 0;
    if (t[0] === 'miss' || t[0] === 'delete') i = 1; // `ip monitor neigh` prefixes
    const dst = t[i];
    if (dst === undefined || !(dst.includes('.') || dst.includes(':'))) {
      diags.error(no, `ip neigh: line ${no}: ${quote(dst ?? '')} is not a neighbour address; skipped`, 1);
      continue;
    }
    const r: NeighRecord = { line: no, dst, flags: [], state: [] };
    let bad = false;
    for (i = i + 1; i < t.length; i++) {
      const k = t[i];
      const v = t[i + 1];
      if (k === 'dev' && v !== undefined) {
        r.dev = v;
        i++;
      } else if (k === 'lladdr' && v !== undefined) {
        if (!isMacLike(v)) diags.warning(no, `ip neigh: line ${no}: lladdr ${quote(v)} does not look like a link-layer address`);
        r.lladdr = v;
        i++;
      } else if (k === 'ref' && v !== undefined) {
        r.refcnt = uint(v) ?? undefined;
        i++;
      } else if (k === 'used' && v !== undefined) {
        r.used = v;
        i++;
      } else if (k === 'probes' && v !== undefined) {
        r.probes = uint(v) ?? undefined;
        i++;
      } else if (NEIGH_FLAGS.has(k)) r.flags.push(k);
      else if (NEIGH_STATES.has(k)) r.state.push(k);
      else if (k === 'dev' || k === 'lladdr') {
        diags.error(no, `ip neigh: line ${no}: "${k}" without a value (truncated line?)`);
        bad = true;
      } else diags.warning(no, `ip neigh: line ${no}: unknown word ${quote(k, 20)} ignored`);
    }
    if (bad && !r.dev) continue;
    for (const k of ['refcnt', 'probes'] as const) if (r[k] === undefined) delete r[k];
    records.push(r);
  }
  return finish(records, diags);
}

export function parseIpNeighJson(text: unknown, opts: ParseOptions = {}): ParseResult<NeighRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const records: NeighRecord[] = [];
  for (const { f, line, key: dst } of jsonRecords(text, diags, 'ip -j neigh', 'dst', opts)) {
    const r: NeighRecord = { line, dst, flags: [], state: f.strArray('state') ?? [] };
    const dev = f.str('dev');
    if (dev !== undefined) r.dev = dev;
    const ll = f.str('lladdr');
    if (ll !== undefined) r.lladdr = ll;
    for (const w of NEIGH_FLAGS) if (f.has(w)) r.flags.push(w);
    const ref = f.num('refcnt');
    if (ref !== undefined) r.refcnt = ref;
    const probes = f.num('probes');
    if (probes !== undefined) r.probes = probes;
    records.push(r);
  }
  return finish(records, diags);
}

// ---------------------------------------------------------------------------

export interface FdbRecord {
  line: number;
  mac: string;
  ifname?: string;
  link_netnsid?: number;
  vlan?: number;
  /** VXLAN remote (tunnel endpoint). */
  dst?: string;
  port?: number;
  vni?: number;
  src_vni?: number;
  via_if?: string;
  nhid?: number;
  /** self, master, router, extern_learn, offload, sticky. */
  flags: string[];
  master?: string;
  /** permanent, static, stale; absent for dynamically learnt entries. */
  state?: string;
  used?: number;
  updated?: number;
}

const FDB_FLAGS = new Set(['self', 'router', 'extern_learn', 'offload', 'sticky', 'master']);
const FDB_STATES = new Set(['permanent', 'static', 'stale', 'dynamic']);

export function parseBridgeFdb(text: unknown, opts: ParseOptions = {}): ParseResult<FdbRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const lines = splitLines(text, diags, 'bridge fdb', opts);
  const records: FdbRecord[] = [];
  if (!lines) return finish(records, diags);
  for (const { no, text: line } of lines) {
    const t = tokens(line);
    if (t.length === 0) continue;
    const mac = t[0];
    if (!isMacLike(mac)) {
      diags.error(no, `bridge fdb: line ${no}: ${quote(mac)} is not a MAC address; skipped`, 1);
      continue;
    }
    const r: FdbRecord = { line: no, mac, flags: [] };
    for (let i = 1; i < t.length; i++) {
      const k = t[i];
      const v = t[i + 1];
      const num = (): number | undefined => {
        i++;
        const n = uint(v);
        if (n === null) diags.warning(no, `bridge fdb: line ${no}: ${k} ${quote(v ?? '')} is not a number`);
        return n ?? undefined;
      };
      switch (k) {
        case 'dev':
          r.ifname = v;
          i++;
          break;
        case 'link-netnsid':
          r.link_netnsid = num();
          break;
        case 'vlan':
          r.vlan = num();
          break;
        case 'dst':
          r.dst = v;
          i++;
          break;
        case 'port':
          r.port = num();
          break;
        case 'vni':
          r.vni = num();
          break;
        case 'src_vni':
          r.src_vni = num();
          break;
        case 'via':
          r.via_if = v;
          i++;
          break;
        case 'nhid':
          r.nhid = num();
          break;
        case 'master':
          if (v !== undefined && !FDB_FLAGS.has(v) && !FDB_STATES.has(v)) {
            r.master = v;
            i++;
          }
          r.flags.push('master');
          break;
        case 'used':
        case 'updated': {
          // -s: "used 12/34" (seconds since used / updated)
          i++;
          if (v !== undefined) {
            const [a, b] = v.split('/');
            const ua = uint(a);
            if (ua !== null) r.used = ua;
            const ub = uint(b);
            if (ub !== null) r.updated = ub;
          }
          break;
        }
        default:
          if (FDB_FLAGS.has(k)) r.flags.push(k);
          else if (FDB_STATES.has(k)) r.state = k;
          else diags.warning(no, `bridge fdb: line ${no}: unknown word ${quote(k, 20)} ignored`);
      }
    }
    for (const k of Object.keys(r) as (keyof FdbRecord)[]) if (r[k] === undefined) delete r[k];
    records.push(r);
  }
  return finish(records, diags);
}

export function parseBridgeFdbJson(text: unknown, opts: ParseOptions = {}): ParseResult<FdbRecord> {
  const diags = new Diagnostics(opts.maxDiagnostics);
  const records: FdbRecord[] = [];
  for (const { f, line, key: mac } of jsonRecords(text, diags, 'bridge -j fdb', 'mac', opts)) {
    const r: FdbRecord = { line, mac, flags: f.strArray('flags') ?? [] };
    const s = <K extends 'ifname' | 'dst' | 'via_if' | 'master' | 'state'>(k: K) => {
      const v = f.str(k);
      if (v !== undefined && v !== '') r[k] = v;
    };
    const n = <K extends 'link_netnsid' | 'vlan' | 'port' | 'vni' | 'src_vni' | 'nhid' | 'used' | 'updated'>(k: K) => {
      const v = f.num(k);
      if (v !== undefined) r[k] = v;
    };
    s('ifname');
    s('dst');
    s('via_if');
    s('master');
    s('state');
    n('link_netnsid');
    n('vlan');
    n('port');
    n('vni');
    n('src_vni');
    n('nhid');
    n('used');
    n('updated');
    if (r.master !== undefined && !r.flags.includes('master')) r.flags.push('master');
    records.push(r);
  }
  return finish(records, diags);
}
