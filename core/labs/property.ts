// The property language of build and fix checks: small boolean expressions
// over the student's state, evaluated with the core models.
//
//   reachable(production/{tier=frontend}, production/{tier=backend}, 8080/TCP)
//   only(production/{tier=backend}) -> production/{tier=database} on 5432/TCP
//   denied(tenant-a/*, tenant-b/*, 80) and isolated(tenant-b/*, ingress)
//   endpoints(production/backend) == 2
//   http(default/frontend, default/api, 80/TCP, "GET /api/v1/admin") == 403
//   route(node:node-1, 10.244.3.9) == reference
//   setting(kubeProxy.mode) == ipvs        encap(node-1, node-2) in [vxlan, geneve]
//
// Grammar: expr := or; or := and ('or' and)*; and := not ('and' not)*;
// not := 'not' not | primary; primary := '(' expr ')' | call [CMP value];
// call := NAME '(' [arg (',' arg)*] ')' [ '->' arg 'on' arg ];
// CMP := == != >= <= > < in; value := number | string | word | '[' value,… ']' | reference.
// Arguments are words (anything but spaces, commas and parentheses; braces
// group label terms) or double-quoted strings.

import { encapsulate, routeLookup } from '../cni';
import { parseIP } from '../net';
import { resolveName } from '../dns';
import { topologyHasMesh, trace, type TraceRequest } from '../trace';
import { effectiveTypes, policySelectsPod } from '../policy';
import type { ClusterSettings } from '../model/types';
import { LabError, type FieldDiff } from './types';
import { LabWorld, parsePort, portText, stablePodKey, type EndpointRef } from './world';

export type Value = boolean | number | string | Value[];

// ---------------------------------------------------------------------------
// Syntax

export type Node =
  | { t: 'or' | 'and'; args: Node[]; pos: number }
  | { t: 'not'; arg: Node; pos: number }
  | { t: 'call'; name: string; args: Arg[]; arrow?: { to: Arg; on: Arg }; pos: number }
  | { t: 'cmp'; op: CmpOp; left: Node; right: Literal; pos: number };

export type CmpOp = '==' | '!=' | '>=' | '<=' | '>' | '<' | 'in';
export interface Arg {
  text: string;
  quoted: boolean;
  pos: number;
}
export type Literal = { t: 'lit'; value: Value; pos: number } | { t: 'ref'; pos: number };

export class PropertySyntaxError extends LabError {
  constructor(
    message: string,
    /** 0-based offset in the expression. */
    readonly offset: number,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'PropertySyntaxError';
  }
}

interface Tok {
  k: 'word' | 'str' | 'num' | 'op' | 'punct' | 'end';
  v: string;
  pos: number;
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\' && i + 1 < src.length) i++;
        s += src[i++];
      }
      if (i >= src.length) throw new PropertySyntaxError('unterminated string', start, `close it with ${c}`);
      i++;
      out.push({ k: 'str', v: s, pos: start });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '>=', '<=', '->'].includes(two)) {
      out.push({ k: two === '->' ? 'punct' : 'op', v: two, pos: start });
      i += 2;
      continue;
    }
    if (c === '>' || c === '<') {
      out.push({ k: 'op', v: c, pos: start });
      i++;
      continue;
    }
    if ('(),[]'.includes(c)) {
      out.push({ k: 'punct', v: c, pos: start });
      i++;
      continue;
    }
    if (c === '→') {
      out.push({ k: 'punct', v: '->', pos: start });
      i++;
      continue;
    }
    let w = '';
    let depth = 0;
    while (i < src.length) {
      const ch = src[i];
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      if (depth <= 0 && (/\s/.test(ch) || '(),[]'.includes(ch) || ch === '→' || src.slice(i, i + 2) === '->' || src.slice(i, i + 2) === '==' || src.slice(i, i + 2) === '!=' || (ch === '>' && w !== '') || (ch === '<' && w !== '')))
        break;
      w += ch;
      i++;
    }
    if (depth > 0) throw new PropertySyntaxError(`unclosed { in "${w}"`, start, 'write NS/{key=value}');
    out.push({ k: /^-?\d+(\.\d+)?$/.test(w) ? 'num' : 'word', v: w, pos: start });
  }
  out.push({ k: 'end', v: '', pos: src.length });
  return out;
}

export const FUNCTIONS: Record<string, { args: string; returns: 'bool' | 'number' | 'string' | 'any'; summary: string }> = {
  reachable: { args: 'FROM, TO, PORT/PROTO', returns: 'bool', summary: 'every FROM endpoint can open a connection to every TO endpoint' },
  denied: { args: 'FROM, TO, PORT/PROTO', returns: 'bool', summary: 'no FROM endpoint can reach any TO endpoint' },
  only: { args: 'FROM) -> TO on PORT/PROTO', returns: 'bool', summary: 'TO is reachable on the port from FROM and from no other pod (nor the listed outside addresses)' },
  isolated: { args: 'PODS, ingress|egress', returns: 'bool', summary: 'every pod is selected by a NetworkPolicy for that direction (default deny applies)' },
  endpoints: { args: 'NS/SERVICE', returns: 'number', summary: 'ready endpoint addresses of the Service' },
  serves: { args: 'NS/SERVICE', returns: 'bool', summary: 'the Service has ready endpoints and each endpoint port is a port its pod declares' },
  resolves: { args: 'PODS, NAME', returns: 'bool', summary: 'every selected pod may send DNS to kube-dns (UDP 53) and the name resolves from it' },
  http: { args: 'FROM, TO, PORT, "METHOD /path" [, "Header: value"]…', returns: 'number', summary: 'HTTP status through Cilium L7 policy: 200, 403, or 0 when the connection is dropped' },
  setting: { args: 'KEY', returns: 'any', summary: 'a cluster setting (cni, cni.mtu, kubeProxy.mode, ndots, nodeLocalDNS, blockSize.v4…)' },
  cni: { args: '', returns: 'string', summary: 'the CNI as plugin-mode (calico-vxlan)' },
  podMtu: { args: '', returns: 'number', summary: 'the MTU the CNI gives pods' },
  encap: { args: 'NODE, NODE', returns: 'string', summary: 'the encapsulation between two nodes (none, vxlan, ipip, geneve, wireguard…)' },
  fits: { args: 'FROM_POD, TO_POD, BYTES|mtu', returns: 'bool', summary: 'an IP packet of BYTES (or of the sending pod\'s MTU) with DF set leaves FROM and reaches TO without fragmentation or an ICMP error' },
  route: { args: 'NAMESPACE, DESTINATION', returns: 'string', summary: 'the route lookup result: "via GW dev DEV", "dev DEV", "local", "blackhole", "unreachable" or "none"' },
  count: { args: 'PODS', returns: 'number', summary: 'how many pods the selector matches' },
  dnsQueries: { args: 'POD, NAME', returns: 'number', summary: 'how many DNS queries glibc sends from the pod to resolve NAME (search list, ndots, A+AAAA)' },
};

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}

  private peek(): Tok {
    return this.toks[this.i];
  }
  private next(): Tok {
    return this.toks[this.i++];
  }
  private expect(v: string, hint?: string): Tok {
    const t = this.next();
    if (t.v !== v || (t.k !== 'punct' && t.k !== 'op' && t.k !== 'word')) throw new PropertySyntaxError(`expected "${v}" but found ${t.k === 'end' ? 'the end' : `"${t.v}"`}`, t.pos, hint);
    return t;
  }

  parse(): Node {
    const n = this.or();
    const t = this.peek();
    if (t.k !== 'end') throw new PropertySyntaxError(`unexpected "${t.v}"`, t.pos, 'join conditions with and / or');
    return n;
  }

  private or(): Node {
    const first = this.and();
    const args = [first];
    while (this.peek().k === 'word' && this.peek().v === 'or') {
      this.next();
      args.push(this.and());
    }
    return args.length === 1 ? first : { t: 'or', args, pos: first.pos };
  }

  private and(): Node {
    const first = this.not();
    const args = [first];
    while (this.peek().k === 'word' && this.peek().v === 'and') {
      this.next();
      args.push(this.not());
    }
    return args.length === 1 ? first : { t: 'and', args, pos: first.pos };
  }

  private not(): Node {
    const t = this.peek();
    if ((t.k === 'word' && t.v === 'not') || (t.k === 'word' && t.v === '!')) {
      this.next();
      return { t: 'not', arg: this.not(), pos: t.pos };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.peek();
    if (t.k === 'punct' && t.v === '(') {
      this.next();
      const n = this.or();
      this.expect(')', 'close the parenthesis');
      return this.maybeCmp(n);
    }
    if (t.k !== 'word') throw new PropertySyntaxError(`expected a function such as reachable(…) but found ${t.k === 'end' ? 'the end' : `"${t.v}"`}`, t.pos, `functions: ${Object.keys(FUNCTIONS).join(', ')}`);
    this.next();
    if (!FUNCTIONS[t.v]) throw new PropertySyntaxError(`unknown function "${t.v}"`, t.pos, `functions: ${Object.keys(FUNCTIONS).join(', ')}`);
    this.expect('(', `write ${t.v}(${FUNCTIONS[t.v].args}`);
    const args: Arg[] = [];
    if (!(this.peek().k === 'punct' && this.peek().v === ')')) {
      for (;;) {
        const a = this.next();
        if (a.k !== 'word' && a.k !== 'str' && a.k !== 'num') throw new PropertySyntaxError(`expected an argument but found ${a.k === 'end' ? 'the end' : `"${a.v}"`}`, a.pos, `write ${t.v}(${FUNCTIONS[t.v].args})`);
        args.push({ text: a.v, quoted: a.k === 'str', pos: a.pos });
        const sep = this.peek();
        if (sep.k === 'punct' && sep.v === ',') {
          this.next();
          continue;
        }
        break;
      }
    }
    this.expect(')', `write ${t.v}(${FUNCTIONS[t.v].args})`);
    const call: Node = { t: 'call', name: t.v, args, pos: t.pos };
    if (this.peek().k === 'punct' && this.peek().v === '->') {
      this.next();
      const to = this.next();
      if (to.k !== 'word' && to.k !== 'str') throw new PropertySyntaxError('expected the destination after ->', to.pos, 'only(FROM) -> TO on PORT/PROTO');
      this.expect('on', 'only(FROM) -> TO on PORT/PROTO');
      const on = this.next();
      if (on.k !== 'word' && on.k !== 'num') throw new PropertySyntaxError('expected PORT/PROTO after on', on.pos, 'e.g. 5432/TCP');
      call.arrow = { to: { text: to.v, quoted: to.k === 'str', pos: to.pos }, on: { text: on.v, quoted: false, pos: on.pos } };
    }
    checkArity(call);
    return this.maybeCmp(call);
  }

  private maybeCmp(left: Node): Node {
    const t = this.peek();
    if ((t.k === 'op' && ['==', '!=', '>=', '<=', '>', '<'].includes(t.v)) || (t.k === 'word' && t.v === 'in')) {
      this.next();
      return { t: 'cmp', op: t.v as CmpOp, left, right: this.literal(), pos: t.pos };
    }
    return left;
  }

  private literal(): Literal {
    const t = this.next();
    if (t.k === 'num') return { t: 'lit', value: Number(t.v), pos: t.pos };
    if (t.k === 'str') return { t: 'lit', value: t.v, pos: t.pos };
    if (t.k === 'word') {
      if (t.v === 'reference') return { t: 'ref', pos: t.pos };
      if (t.v === 'true' || t.v === 'false') return { t: 'lit', value: t.v === 'true', pos: t.pos };
      return { t: 'lit', value: t.v, pos: t.pos };
    }
    if (t.k === 'punct' && t.v === '[') {
      const items: Value[] = [];
      if (!(this.peek().k === 'punct' && this.peek().v === ']')) {
        for (;;) {
          const l = this.literal();
          if (l.t === 'ref') throw new PropertySyntaxError('reference cannot be inside a list', l.pos);
          items.push(l.value);
          if (this.peek().k === 'punct' && this.peek().v === ',') {
            this.next();
            continue;
          }
          break;
        }
      }
      this.expect(']', 'close the list with ]');
      return { t: 'lit', value: items, pos: t.pos };
    }
    throw new PropertySyntaxError(`expected a value but found ${t.k === 'end' ? 'the end' : `"${t.v}"`}`, t.pos, 'a number, a word, a "string", a [list] or reference');
  }

  get source(): string {
    return this.src;
  }
}

const ARITY: Record<string, [number, number]> = {
  reachable: [3, 3],
  denied: [3, 3],
  only: [1, 3],
  isolated: [2, 2],
  endpoints: [1, 1],
  serves: [1, 1],
  resolves: [2, 2],
  http: [4, 12],
  setting: [1, 1],
  cni: [0, 0],
  podMtu: [0, 0],
  encap: [2, 2],
  fits: [3, 3],
  route: [2, 2],
  count: [1, 1],
  dnsQueries: [2, 2],
};

function checkArity(c: Extract<Node, { t: 'call' }>): void {
  const [lo, hi] = ARITY[c.name];
  const n = c.args.length;
  if (c.name === 'only') {
    if (c.arrow ? n !== 1 : n !== 3) throw new PropertySyntaxError('only takes only(FROM) -> TO on PORT/PROTO (or only(FROM, TO, PORT/PROTO))', c.pos);
    return;
  }
  if (c.arrow) throw new PropertySyntaxError(`-> only follows only(FROM)`, c.pos);
  if (n < lo || n > hi) throw new PropertySyntaxError(`${c.name} takes ${lo === hi ? lo : `${lo} to ${hi}`} argument${hi === 1 ? '' : 's'} (${FUNCTIONS[c.name].args}), not ${n}`, c.pos);
}

/** Parses an expression; throws PropertySyntaxError with the offset. */
export function parseProperty(src: string): Node {
  return new Parser(lex(src), src).parse();
}

// ---------------------------------------------------------------------------
// Evaluation

export interface EvalResult {
  value: Value;
  /** Why the expression is false (when false) — what the student must change, said without the fix. */
  whyFalse?: string;
  /** Why it is true (when true) — used when a `not` makes true wrong. */
  whyTrue?: string;
  diffs?: FieldDiff[];
}

export interface PropertyEnv {
  world: LabWorld;
  /** The answer's world, for `== reference`. */
  reference?: LabWorld;
}

function fmt(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  return String(v);
}

function ports(a: Arg): ReturnType<typeof parsePort> {
  return parsePort(a.text);
}

interface PairOutcome {
  from: EndpointRef;
  to: EndpointRef;
  allowed: boolean;
}

function pairs(w: LabWorld, fromSel: string, toSel: string, p: ReturnType<typeof parsePort>): PairOutcome[] {
  const froms = w.select(fromSel);
  const tos = w.select(toSel);
  if (froms.length === 0) throw new LabError(`"${fromSel}" selects nothing in this topology`, 'check the namespace and labels');
  if (tos.length === 0) throw new LabError(`"${toSel}" selects nothing in this topology`, 'check the namespace and labels');
  const out: PairOutcome[] = [];
  for (const f of froms) for (const t of tos) if (f.ref !== t.ref) out.push({ from: f, to: t, allowed: w.allowed(f, t, p) });
  return out;
}

function conn(o: PairOutcome, p: ReturnType<typeof parsePort>): string {
  return `${o.from.label} → ${o.to.label} on ${portText(p)}`;
}

function settingValue(s: ClusterSettings, key: string): Value {
  const map: Record<string, () => Value> = {
    cni: () => `${s.cni.plugin}-${s.cni.mode}`,
    'cni.plugin': () => s.cni.plugin,
    'cni.mode': () => s.cni.mode,
    'cni.mtu': () => s.cni.mtu ?? 0,
    'cni.natOutgoing': () => s.cni.natOutgoing,
    'cni.encryption': () => s.cni.encryption,
    'cni.l7Proxy': () => s.cni.l7Proxy ?? true,
    clusterCIDR: () => s.clusterCIDRs.join(','),
    serviceCIDR: () => s.serviceCIDRs.join(','),
    nodeCIDR: () => s.nodeCIDRs.join(','),
    nodeCIDRMaskSize: () => s.nodeCIDRMaskSize.v4,
    'nodeCIDRMaskSize.v4': () => s.nodeCIDRMaskSize.v4,
    'nodeCIDRMaskSize.v6': () => s.nodeCIDRMaskSize.v6,
    blockSize: () => s.blockSize.v4,
    'blockSize.v4': () => s.blockSize.v4,
    'blockSize.v6': () => s.blockSize.v6,
    nodeMTU: () => s.nodeMTU,
    kubeProxy: () => s.kubeProxy.mode,
    'kubeProxy.mode': () => s.kubeProxy.mode,
    'kubeProxy.scheduler': () => s.kubeProxy.ipvsScheduler,
    'kubeProxy.masqueradeAll': () => s.kubeProxy.masqueradeAll,
    clusterDomain: () => s.dns.clusterDomain,
    ndots: () => s.dns.ndots,
    nodeLocalDNS: () => s.dns.nodeLocalDNS,
    nodeLocalIP: () => s.dns.nodeLocalIP,
    dnsTTL: () => s.dns.ttl,
    mesh: () => s.mesh.enabled,
    conntrackMax: () => s.conntrack.max,
  };
  const f = map[key];
  if (!f) throw new LabError(`setting(${key}): no such setting`, `settings: ${Object.keys(map).join(', ')}`);
  return f();
}

function kubeDnsEndpoints(w: LabWorld): EndpointRef[] {
  const svc = w.topology.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  if (!svc) return [];
  return w.selectPods('svc:kube-system/kube-dns').map((p) => w.podEndpoint(p));
}

/** Evaluates a call to its value. */
function call(env: PropertyEnv, c: Extract<Node, { t: 'call' }>, w: LabWorld): EvalResult {
  const a = c.args;
  switch (c.name) {
    case 'reachable':
    case 'denied': {
      const p = ports(a[2]);
      const ps = pairs(w, a[0].text, a[1].text, p);
      const want = c.name === 'reachable';
      const bad = ps.find((o) => o.allowed !== want);
      if (bad) return { value: false, whyFalse: `${conn(bad, p)} is ${bad.allowed ? 'allowed' : 'denied'} but should be ${want ? 'allowed' : 'denied'}` };
      const any = ps[0];
      return { value: true, whyTrue: any ? `${conn(any, p)} is ${want ? 'allowed' : 'denied'} but should be ${want ? 'denied' : 'allowed'}` : 'no connection to judge' };
    }
    case 'only': {
      const fromSel = a[0].text;
      const toSel = c.arrow ? c.arrow.to.text : a[1].text;
      const p = parsePort(c.arrow ? c.arrow.on.text : a[2].text);
      const allowedFrom = new Set(w.select(fromSel).map((e) => e.ref));
      const tos = w.select(toSel);
      if (tos.length === 0) throw new LabError(`"${toSel}" selects nothing in this topology`, 'check the namespace and labels');
      if (allowedFrom.size === 0) throw new LabError(`"${fromSel}" selects nothing in this topology`, 'check the namespace and labels');
      const froms = [...w.topology.pods.map((x) => w.podEndpoint(x)), ...w.select(fromSel).filter((e) => !e.pod)];
      for (const t of tos) {
        for (const f of froms) {
          if (f.ref === t.ref) continue;
          const should = allowedFrom.has(f.ref);
          const got = w.allowed(f, t, p);
          if (got !== should) return { value: false, whyFalse: `${f.label} → ${t.label} on ${portText(p)} is ${got ? 'allowed' : 'denied'} but should be ${should ? 'allowed' : 'denied'}` };
        }
      }
      return { value: true, whyTrue: `only ${fromSel} reaches ${toSel} on ${portText(p)}` };
    }
    case 'isolated': {
      const dir = a[1].text.toLowerCase();
      if (dir !== 'ingress' && dir !== 'egress') throw new LabError(`isolated(…, ${a[1].text}): the direction is ingress or egress`, 'write isolated(NS/*, ingress)');
      const D = dir === 'ingress' ? 'Ingress' : 'Egress';
      const pods = w.selectPods(a[0].text);
      if (pods.length === 0) throw new LabError(`"${a[0].text}" selects no pod`, 'check the namespace and labels');
      for (const p of pods) {
        const iso = w.topology.networkPolicies.some((np) => effectiveTypes(np)[D === 'Ingress' ? 'ingress' : 'egress'] && policySelectsPod(np, p));
        if (!iso) return { value: false, whyFalse: `${stablePodKey(p)} is not isolated for ${dir}: no NetworkPolicy selects it for ${D}` };
      }
      return { value: true, whyTrue: `every pod of ${a[0].text} is isolated for ${dir}` };
    }
    case 'endpoints': {
      const s = w.service(a[0].text);
      const slices = w.topology.endpointSlices.filter((x) => x.namespace === s.namespace && x.serviceName === s.name);
      const ready = new Set<string>();
      for (const sl of slices) for (const e of sl.endpoints) if (e.conditions.ready !== false) for (const ip of e.addresses) ready.add(ip);
      return { value: ready.size };
    }
    case 'serves': {
      const s = w.service(a[0].text);
      const slices = w.topology.endpointSlices.filter((x) => x.namespace === s.namespace && x.serviceName === s.name);
      let n = 0;
      for (const sl of slices) {
        for (const e of sl.endpoints) {
          if (e.conditions.ready === false) continue;
          n++;
          const pod = e.targetRef ? w.topology.pods.find((p) => p.namespace === e.targetRef!.namespace && p.name === e.targetRef!.name) : undefined;
          if (!pod) continue;
          for (const port of sl.ports) {
            if (!pod.ports.some((cp) => cp.containerPort === port.port && cp.protocol === port.protocol)) {
              return { value: false, whyFalse: `${s.namespace}/${s.name} sends ${port.protocol} port ${port.port} to ${stablePodKey(pod)}, which does not listen there (connection refused)` };
            }
          }
        }
      }
      if (n === 0) return { value: false, whyFalse: `${s.namespace}/${s.name} has no ready endpoints (connections are rejected)` };
      return { value: true, whyTrue: `${s.namespace}/${s.name} has ${n} ready endpoint(s) on declared ports` };
    }
    case 'resolves': {
      const pods = w.selectPods(a[0].text).filter((p) => !p.hostNetwork);
      if (!pods.length) throw new LabError(`"${a[0].text}" selects no pod`, 'check the namespace and labels');
      const dns = kubeDnsEndpoints(w);
      if (dns.length === 0) return { value: false, whyFalse: 'kube-system/kube-dns has no pods behind it' };
      const p = { port: 53, protocol: 'UDP' as const };
      for (const pod of pods) {
        const src = w.podEndpoint(pod);
        const ok = dns.some((d) => w.allowed(src, d, p));
        if (!ok) return { value: false, whyFalse: `${stablePodKey(pod)} cannot send DNS queries to kube-dns (${dns.map((d) => d.label).join(', ')}) on 53/UDP: lookups of ${a[1].text} time out` };
        const r = resolveName(w.topology, pod, a[1].text);
        if (r.outcome === 'nxdomain') return { value: false, whyFalse: `${a[1].text} does not resolve from ${stablePodKey(pod)} (NXDOMAIN for every search candidate)` };
      }
      return { value: true, whyTrue: `${a[1].text} resolves from ${a[0].text}` };
    }
    case 'http': {
      const from = w.select(a[0].text);
      const p = ports(a[2]);
      const m = /^\s*([A-Z]+)\s+(\S+)\s*$/.exec(a[3].text);
      if (!m) throw new LabError(`http(…, "${a[3].text}"): write "METHOD /path"`, 'e.g. "GET /api/v1/users"');
      const headers: Record<string, string> = {};
      for (const h of a.slice(4)) {
        const i = h.text.indexOf(':');
        if (i <= 0) throw new LabError(`http header "${h.text}" is not "Name: value"`, 'e.g. "Authorization: Bearer abc"');
        headers[h.text.slice(0, i).trim()] = h.text.slice(i + 1).trim();
      }
      // With Istio sidecars the request is walked through the mesh (core/trace): the sidecars answer 403 / 503 themselves.
      if (topologyHasMesh(w.topology)) {
        if (from.length !== 1 || !from[0].pod) throw new LabError('http(FROM, TO, …) needs one source pod', 'name a single pod');
        let ip: string;
        if (a[1].text.startsWith('svc:')) ip = w.service(a[1].text).clusterIPs[0];
        else {
          const to = w.select(a[1].text);
          if (to.length !== 1 || !to[0].pod) throw new LabError('http(FROM, TO, …) needs one destination pod or svc:NS/NAME', 'name a single pod or a Service');
          ip = to[0].pod.ips[0];
        }
        const src = from[0].pod;
        const host = ip.includes(':') ? `[${ip}]` : ip;
        const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
        const req: TraceRequest = { kind: 'http', text: `curl -X ${m[1]} http://${host}:${p.port}${m[2]}`, host: ip, hostIsIP: true, port: p.port, method: m[1], path: m[2], ...(Object.keys(lower).length ? { headers: lower } : {}) };
        const r = trace(w.topology, `${src.namespace}/${src.name}`, req);
        const status = r.httpStatus ?? (r.ok ? 200 : 0);
        const text = r.dropped ? r.dropped.text : `${m[1]} ${m[2]} reaches the application`;
        return { value: status, whyFalse: text, whyTrue: text };
      }
      const to = w.select(a[1].text);
      if (from.length !== 1 || to.length !== 1) throw new LabError('http(FROM, TO, …) needs one source and one destination endpoint', 'name single pods');
      const v = w.l7().evaluate({ from: from[0].ref, to: to[0].ref, port: p.port, protocol: p.protocol, http: { method: m[1], path: m[2], headers } });
      return { value: v.connection ? (v.httpStatus ?? 200) : 0, whyFalse: v.text, whyTrue: v.text };
    }
    case 'setting':
      return { value: settingValue(w.topology.settings, a[0].text) };
    case 'cni':
      return { value: `${w.topology.settings.cni.plugin}-${w.topology.settings.cni.mode}` };
    case 'podMtu':
      return { value: w.dataplane().model.podMtu(w.topology) };
    case 'encap': {
      const n1 = a[0].text.replace(/^node:/, '');
      const n2 = a[1].text.replace(/^node:/, '');
      return { value: w.dataplane().model.encapsulationBetween(w.topology, n1, n2) };
    }
    case 'fits': {
      const src = w.pod(a[0].text);
      const dst = w.pod(a[1].text);
      const srcNs = w.namespace(`pod:${src.namespace}/${src.name}`);
      const eth0 = srcNs.interfaces.find((i) => i.name === 'eth0');
      const mtu = eth0?.mtu ?? 1500;
      const size = a[2].text === 'mtu' ? mtu : Number(a[2].text);
      if (!Number.isInteger(size) || size < 28) throw new LabError(`fits(…, ${a[2].text}): the size is an IP packet length in bytes, or mtu (the sending pod's MTU)`, 'e.g. fits(default/pod-a, default/backend-1, 1450)');
      if (size > mtu) return { value: false, whyFalse: `a ${size}-byte packet with DF cannot leave ${stablePodKey(src)}: its eth0 MTU is lower (the sender gets EMSGSIZE, "message too long")` };
      if (src.nodeName !== dst.nodeName) {
        const e = encapsulate(w.dataplane().model, w.topology, src.nodeName, dst.nodeName, { srcIP: src.ips[0], dstIP: dst.ips[0], protocol: 'ICMP', length: size });
        const nodeNs = w.namespace(`node:${src.nodeName}`);
        const uplink = nodeNs.interfaces.find((i) => i.name === 'eth0');
        const underlay = uplink?.mtu ?? w.topology.settings.nodeMTU;
        const tunnelMtu = e.device ? (nodeNs.interfaces.find((i) => i.name === e.device)?.mtu ?? underlay - e.overhead) : underlay;
        if (e.kind !== 'none' && size > tunnelMtu) return { value: false, whyFalse: `a ${size}-byte packet with DF from ${stablePodKey(src)} is dropped at ${src.nodeName}'s ${e.device ?? 'tunnel'} (ICMP fragmentation needed)` };
        if (size + e.overhead > underlay) return { value: false, whyFalse: `a ${size}-byte packet from ${stablePodKey(src)} becomes ${size + e.overhead} bytes on ${src.nodeName}'s eth0, more than its MTU: it is fragmented or dropped on the way to ${dst.nodeName}` };
      }
      return { value: true, whyTrue: `a ${size}-byte packet crosses from ${stablePodKey(src)} to ${stablePodKey(dst)} without fragmentation` };
    }
    case 'route': {
      const ns = w.namespace(a[0].text);
      if (!parseIP(a[1].text)) throw new LabError(`route(…, ${a[1].text}): the destination is an IP address`, 'e.g. route(node:node-1, 10.244.3.9)');
      const r = routeLookup(ns, a[1].text);
      let v: string;
      if (r.verdict === 'forward') v = `${r.gateway ? `via ${r.gateway} ` : ''}dev ${r.dev}${r.onlink ? ' onlink' : ''}`;
      else if (r.verdict === 'no-route') v = 'none';
      else v = r.verdict;
      return { value: v };
    }
    case 'count':
      return { value: w.selectPods(a[0].text).length };
    case 'dnsQueries': {
      const pod = w.pod(a[0].text);
      return { value: resolveName(w.topology, pod, a[1].text).queries.length };
    }
  }
  throw new LabError(`unknown function ${c.name}`);
}

function cmp(op: CmpOp, l: Value, r: Value): boolean {
  const norm = (v: Value): Value => (typeof v === 'string' ? v.toLowerCase() : v);
  const eq = (x: Value, y: Value): boolean => {
    if (Array.isArray(x) || Array.isArray(y)) return JSON.stringify(x) === JSON.stringify(y);
    if (typeof x === 'number' || typeof y === 'number') return Number(x) === Number(y);
    return norm(x) === norm(y);
  };
  switch (op) {
    case '==':
      return eq(l, r);
    case '!=':
      return !eq(l, r);
    case 'in':
      return Array.isArray(r) ? r.some((x) => eq(l, x)) : eq(l, r);
    default: {
      const a = Number(l);
      const b = Number(r);
      if (Number.isNaN(a) || Number.isNaN(b)) throw new LabError(`${op} compares numbers, not ${fmt(l)} and ${fmt(r)}`);
      return op === '>=' ? a >= b : op === '<=' ? a <= b : op === '>' ? a > b : a < b;
    }
  }
}

function describeCall(c: Node): string {
  if (c.t !== 'call') return 'the value';
  return `${c.name}(${c.args.map((x) => x.text).join(', ')})`;
}

/** Evaluates a parsed expression on a world. */
export function evaluate(env: PropertyEnv, n: Node, w: LabWorld = env.world): EvalResult {
  switch (n.t) {
    case 'call':
      return call(env, n, w);
    case 'not': {
      const r = evaluate(env, n.arg, w);
      if (typeof r.value !== 'boolean') throw new LabError('not applies to a condition, not a value', 'compare the value first: not (endpoints(x) == 0)');
      return { value: !r.value, whyFalse: r.whyTrue, whyTrue: r.whyFalse, diffs: r.diffs };
    }
    case 'and': {
      let last: EvalResult = { value: true };
      for (const x of n.args) {
        const r = evaluate(env, x, w);
        if (r.value !== true) return { value: false, whyFalse: r.whyFalse, whyTrue: r.whyTrue, diffs: r.diffs };
        last = r;
      }
      return { value: true, whyTrue: last.whyTrue };
    }
    case 'or': {
      const why: string[] = [];
      for (const x of n.args) {
        const r = evaluate(env, x, w);
        if (r.value === true) return { value: true, whyTrue: r.whyTrue };
        if (r.whyFalse) why.push(r.whyFalse);
      }
      return { value: false, whyFalse: why.join('; and ') };
    }
    case 'cmp': {
      const l = evaluate(env, n.left, w);
      let rv: Value;
      if (n.right.t === 'ref') {
        if (!env.reference) throw new LabError('"reference" needs the lab\'s answer state', 'only use reference in lab checks');
        rv = evaluate(env, n.left, env.reference).value;
      } else rv = n.right.value;
      const ok = cmp(n.op, l.value, rv);
      const what = describeCall(n.left);
      const diffs: FieldDiff[] = [{ field: what, got: fmt(l.value), expected: `${n.op === '==' || n.right.t === 'ref' ? '' : `${n.op} `}${fmt(rv)}` }];
      const exp = n.right.t === 'ref' ? 'the intended value' : `${n.op === '==' ? '' : `${n.op} `}${fmt(rv)}`;
      return {
        value: ok,
        whyFalse: ok ? undefined : l.whyFalse && typeof l.value !== 'number' && typeof l.value !== 'string' ? l.whyFalse : `${what} is ${fmt(l.value)}, expected ${exp}`,
        whyTrue: ok ? `${what} is ${fmt(l.value)}` : undefined,
        diffs: ok ? undefined : diffs,
      };
    }
  }
}

/** Parses and evaluates; the result value must be a boolean. */
export function checkProperty(expr: string, env: PropertyEnv): EvalResult {
  const n = parseProperty(expr);
  const r = evaluate(env, n);
  if (typeof r.value !== 'boolean') throw new LabError(`"${expr}" is a value (${fmt(r.value)}), not a condition`, 'compare it: endpoints(ns/svc) == 2');
  return r;
}
