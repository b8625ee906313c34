// CiliumNetworkPolicy (cilium.io/v2) with L7 HTTP rules: which HTTP
// requests an endpoint may send or receive, and why.
//
// Behaviour followed (Cilium docs and cilium/cilium pkg/envoy, read via the
// search tool):
// - a CNP applies to endpoints of its namespace matched by endpointSelector;
//   an endpoint selected by any rule with an ingress (egress) section is
//   default-deny in that direction, together with Kubernetes NetworkPolicies;
// - fromEndpoints/toEndpoints selectors are restricted to the policy's
//   namespace unless they name k8s:io.kubernetes.pod.namespace; label keys may
//   carry a source prefix (k8s:, any:);
// - toPorts.rules.http: method, path and host are RE2 regular expressions
//   matched against the whole value (Envoy safe_regex); path is matched
//   against :path, which includes the query string; headers entries are
//   "Name: value" (exact value) or "Name" (presence) — see CILIUM_HEADER_NOTE;
// - several http rules are ORed; a request matching none gets
//   "403 Access denied" from the proxy; L3/L4 denials are drops;
// - a port allowed by a rule without L7 rules for the same peer is not
//   filtered at L7 for that peer;
// - toFQDNs matches only IPs learned by the DNS proxy for names the endpoint's
//   own dns rules allowed (CILIUM_FQDN_NOTE); toCIDR/toCIDRSet and
//   fromCIDR/fromCIDRSet never match cluster endpoints.

import { Cidr, parseIP } from '../net';
import { selectorMatches } from '../model/labels';
import type { LabelSelector, PodModel, Protocol, RawManifest } from '../model/types';
import { evaluateSide } from './naive';
import { CILIUM_FQDN_NOTE, CILIUM_HEADER_NOTE, CILIUM_L7_DENY_NOTE, HOST_LOCAL_NOTE } from './notes';
import { buildContext, endpointText, namespaceLabels, podKey, queryFamily, resolveEndpoint, type PolicyContext, type PolicyTopology } from './semantics';
import { PolicyInputError, type Direction, type Endpoint } from './types';

export interface HttpRule {
  method?: string;
  path?: string;
  host?: string;
  headers?: string[];
  headerMatches?: { name: string; value?: string }[];
}

interface PortSel {
  lo: number;
  hi: number;
  protocol: Protocol | 'ANY';
}

type PeerSel =
  | { kind: 'endpoints'; selector: LabelSelector; namespaced: string | null; text: string }
  | { kind: 'cidr'; cidr: Cidr; except: Cidr[]; text: string }
  | { kind: 'entity'; name: string; text: string }
  | { kind: 'fqdn'; matchName?: string; matchPattern?: string; text: string };

interface CnpRule {
  policy: string;
  direction: Direction;
  ruleIndex: number;
  /** null = every peer (no from/to section). */
  peers: PeerSel[] | null;
  /** null = every port. */
  ports: PortSel[] | null;
  http: HttpRule[] | null;
  dns: { matchName?: string; matchPattern?: string }[] | null;
}

interface Cnp {
  name: string;
  namespace: string;
  endpointSelector: LabelSelector;
  ingress: boolean;
  egress: boolean;
  rules: CnpRule[];
}

export interface L7Request {
  from: string;
  to: string;
  port: number;
  protocol?: Protocol;
  http?: { method: string; path: string; headers?: Record<string, string> };
}

export interface L7Verdict {
  /** The connection is allowed at L3/L4. */
  connection: boolean;
  /** HTTP outcome when a request was given: 200 allowed through, 403 denied by the proxy, null when the connection is dropped or no request was given. */
  httpStatus: number | null;
  allowed: boolean;
  egress: string;
  ingress: string;
  text: string;
  notes: string[];
}

const SOURCE_PREFIX = /^(k8s|any|container|reserved|unspec):/;

function normalizeSelector(raw: unknown): LabelSelector {
  const sel = (raw ?? {}) as LabelSelector;
  const out: LabelSelector = {};
  if (sel.matchLabels) out.matchLabels = Object.fromEntries(Object.entries(sel.matchLabels).map(([k, v]) => [k.replace(SOURCE_PREFIX, ''), String(v)]));
  if (sel.matchExpressions) out.matchExpressions = sel.matchExpressions.map((e) => ({ ...e, key: e.key.replace(SOURCE_PREFIX, '') }));
  return out;
}

function mentionsNamespace(sel: LabelSelector): boolean {
  const keys = [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)];
  return keys.some((k) => k === 'io.kubernetes.pod.namespace' || k.startsWith('io.cilium.k8s.namespace.labels.'));
}

/** The labels a CNP selector sees on a pod (without source prefixes). */
function ciliumLabels(ctx: PolicyContext, pod: PodModel): Record<string, string> {
  const l: Record<string, string> = { ...pod.labels };
  for (const [k, v] of Object.entries(namespaceLabels(ctx, pod.namespace))) l[`io.cilium.k8s.namespace.labels.${k}`] = v;
  l['io.kubernetes.pod.namespace'] = pod.namespace;
  l['io.cilium.k8s.policy.serviceaccount'] = pod.serviceAccountName || 'default';
  l['io.cilium.k8s.policy.cluster'] = 'default';
  return l;
}

function selText(sel: LabelSelector): string {
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`);
  return parts.join(',') || '<all>';
}

function parsePorts(toPorts: unknown[] | undefined, policy: string): { ports: PortSel[] | null; http: HttpRule[] | null; dns: CnpRule['dns'] }[] {
  if (!toPorts || toPorts.length === 0) return [{ ports: null, http: null, dns: null }];
  return toPorts.map((tp) => {
    const t = tp as { ports?: { port?: string | number; endPort?: number; protocol?: string }[]; rules?: { http?: HttpRule[]; dns?: { matchName?: string; matchPattern?: string }[] } };
    const ports: PortSel[] | null = t.ports && t.ports.length
      ? t.ports.map((p) => {
          const n = p.port === undefined ? 0 : Number(p.port);
          if (!Number.isInteger(n) || n < 0 || n > 65535) throw new PolicyInputError(`CiliumNetworkPolicy ${policy}: port ${JSON.stringify(p.port)} is not a port number`, 'Cilium ports are strings of digits such as "80"; named ports are not used here');
          const proto = (p.protocol ?? 'ANY').toUpperCase();
          if (!['TCP', 'UDP', 'SCTP', 'ANY'].includes(proto)) throw new PolicyInputError(`CiliumNetworkPolicy ${policy}: protocol ${p.protocol} is not TCP, UDP, SCTP or ANY`);
          return { lo: n === 0 ? 0 : n, hi: n === 0 ? 65535 : (p.endPort ?? n), protocol: proto as PortSel['protocol'] };
        })
      : null;
    return { ports, http: t.rules?.http ?? null, dns: t.rules?.dns ?? null };
  });
}

function parsePeers(r: Record<string, unknown>, dir: Direction, ns: string): PeerSel[] | null {
  const pre = dir === 'Ingress' ? 'from' : 'to';
  const keys = ['Endpoints', 'CIDR', 'CIDRSet', 'Entities', ...(dir === 'Egress' ? ['FQDNs'] : [])].map((k) => pre + k);
  if (!keys.some((k) => r[k] !== undefined)) return null;
  const out: PeerSel[] = [];
  for (const raw of (r[`${pre}Endpoints`] as unknown[]) ?? []) {
    const selector = normalizeSelector(raw);
    out.push({ kind: 'endpoints', selector, namespaced: mentionsNamespace(selector) ? null : ns, text: `${pre}Endpoints ${selText(selector)}` });
  }
  for (const c of (r[`${pre}CIDR`] as string[]) ?? []) {
    const cidr = Cidr.tryParse(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`);
    if (!cidr) throw new PolicyInputError(`${pre}CIDR "${c}" is not a CIDR`);
    out.push({ kind: 'cidr', cidr, except: [], text: `${pre}CIDR ${cidr.text}` });
  }
  for (const s of (r[`${pre}CIDRSet`] as { cidr: string; except?: string[] }[]) ?? []) {
    const cidr = Cidr.tryParse(s.cidr);
    if (!cidr) throw new PolicyInputError(`${pre}CIDRSet cidr "${s.cidr}" is not a CIDR`);
    out.push({ kind: 'cidr', cidr, except: (s.except ?? []).map((e) => Cidr.parse(e)), text: `${pre}CIDRSet ${s.cidr}${s.except?.length ? ` except ${s.except.join(',')}` : ''}` });
  }
  for (const e of (r[`${pre}Entities`] as string[]) ?? []) out.push({ kind: 'entity', name: e, text: `${pre}Entities ${e}` });
  for (const f of (r.toFQDNs as { matchName?: string; matchPattern?: string }[]) ?? []) out.push({ kind: 'fqdn', ...f, text: `toFQDNs ${f.matchName ?? f.matchPattern}` });
  return out;
}

export function parseCiliumPolicies(extra: RawManifest[]): Cnp[] {
  const out: Cnp[] = [];
  for (const m of extra) {
    if (m.kind !== 'CiliumNetworkPolicy') continue;
    const o = m.object as { spec?: Record<string, unknown>; specs?: Record<string, unknown>[] };
    const specs = [...(o.spec ? [o.spec] : []), ...(o.specs ?? [])];
    const ns = m.namespace ?? 'default';
    const name = `${ns}/${m.name}`;
    for (const spec of specs) {
      const cnp: Cnp = { name, namespace: ns, endpointSelector: normalizeSelector(spec.endpointSelector), ingress: spec.ingress !== undefined, egress: spec.egress !== undefined, rules: [] };
      for (const dir of ['Ingress', 'Egress'] as const) {
        const rules = (spec[dir === 'Ingress' ? 'ingress' : 'egress'] as Record<string, unknown>[] | undefined) ?? [];
        rules.forEach((r, ri) => {
          const peers = parsePeers(r, dir, ns);
          for (const tp of parsePorts(r.toPorts as unknown[] | undefined, name)) cnp.rules.push({ policy: name, direction: dir, ruleIndex: ri, peers, ...tp });
        });
      }
      out.push(cnp);
    }
  }
  return out;
}

/** Shell-style FQDN pattern (Cilium matchPattern: "*" = any run of DNS label characters). */
function fqdnMatch(f: { matchName?: string; matchPattern?: string }, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (f.matchName) return n === f.matchName.toLowerCase().replace(/\.$/, '');
  if (f.matchPattern) {
    const re = new RegExp(`^${f.matchPattern.toLowerCase().replace(/\.$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[-a-zA-Z0-9_.]*')}$`);
    return re.test(n);
  }
  return false;
}

function anchored(re: string): RegExp {
  if (/\(\?[=!<]|\\[1-9]/.test(re)) throw new PolicyInputError(`"${re}" uses lookaround or backreferences, which RE2 (Envoy) rejects`);
  return new RegExp(`^(?:${re})$`);
}

export function httpRuleMatches(rule: HttpRule, req: { method: string; path: string; headers?: Record<string, string> }): { matched: boolean; why: string } {
  if (rule.method && !anchored(rule.method).test(req.method)) return { matched: false, why: `method ${req.method} does not match "${rule.method}"` };
  if (rule.path && !anchored(rule.path).test(req.path)) return { matched: false, why: `path ${req.path} does not match "${rule.path}" (anchored; the query string is part of the path)` };
  const hdrs = new Map(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (rule.host && !anchored(rule.host).test(hdrs.get('host') ?? '')) return { matched: false, why: `host does not match "${rule.host}"` };
  for (const h of rule.headers ?? []) {
    const sp = h.indexOf(' ');
    if (sp < 0) {
      if (!hdrs.has(h.toLowerCase())) return { matched: false, why: `header ${h} is not present` };
    } else {
      const key = h.slice(0, sp).replace(/:+$/, '').toLowerCase();
      const want = h.slice(sp + 1);
      const got = hdrs.get(key);
      if (got !== want) return { matched: false, why: `header ${key} must be exactly "${want}"${got === undefined ? ' (absent)' : ` (got "${got}")`}` };
    }
  }
  for (const hm of rule.headerMatches ?? []) {
    const got = hdrs.get(hm.name.toLowerCase());
    if (got === undefined || (hm.value && got !== hm.value)) return { matched: false, why: `headerMatches ${hm.name} does not match` };
  }
  return { matched: true, why: 'matched' };
}

export class CiliumL7 {
  readonly ctx: PolicyContext;
  readonly cnps: Cnp[];

  constructor(
    readonly topology: PolicyTopology & { extra?: RawManifest[] },
    /** Names the DNS proxy saw answered (name -> IPs), for toFQDNs. */
    readonly dnsAnswers: Record<string, string[]> = {},
  ) {
    this.ctx = buildContext(topology, { ipBlockClusterIPs: 'ignore' });
    this.cnps = parseCiliumPolicies(topology.extra ?? []);
  }

  private selects(cnp: Cnp, pod: PodModel): boolean {
    return !pod.hostNetwork && pod.namespace === cnp.namespace && selectorMatches(cnp.endpointSelector, ciliumLabels(this.ctx, pod));
  }

  private peerMatches(s: PeerSel, peer: Endpoint, subject: PodModel, notes: Set<string>): boolean {
    switch (s.kind) {
      case 'endpoints':
        if (peer.kind !== 'pod') return false;
        if (s.namespaced && peer.pod.namespace !== s.namespaced) return false;
        return selectorMatches(s.selector, ciliumLabels(this.ctx, peer.pod));
      case 'cidr': {
        if (peer.kind !== 'external') return false;
        const ip = parseIP(peer.ip);
        return !!ip && s.cidr.contains(ip) && !s.except.some((e) => e.contains(ip));
      }
      case 'entity':
        if (s.name === 'all') return true;
        if (s.name === 'world') return peer.kind === 'external';
        if (s.name === 'cluster') return peer.kind !== 'external';
        if (s.name === 'host') return peer.kind === 'host' && peer.nodeName === subject.nodeName;
        if (s.name === 'remote-node') return peer.kind === 'host' && peer.nodeName !== subject.nodeName;
        return false;
      case 'fqdn': {
        if (peer.kind !== 'external') return false;
        // The DNS proxy must have seen the answer: some dns rule of this endpoint allowed the name.
        const dnsRules = this.cnps.filter((c) => this.selects(c, subject)).flatMap((c) => c.rules.filter((r) => r.direction === 'Egress' && r.dns));
        const names = Object.entries(this.dnsAnswers).filter(([n, ips]) => ips.includes(peer.ip) && fqdnMatch(s, n));
        if (names.length === 0) return false;
        const visible = names.some(([n]) => dnsRules.some((r) => r.dns!.some((d) => fqdnMatch(d, n))));
        if (!visible) notes.add(CILIUM_FQDN_NOTE);
        return visible;
      }
    }
  }

  private portMatches(ports: PortSel[] | null, port: number, protocol: Protocol): boolean {
    if (!ports) return true;
    return ports.some((p) => (p.protocol === 'ANY' || p.protocol === protocol) && port >= p.lo && port <= p.hi);
  }

  /** One direction at `subject`: L3/L4 verdict and the HTTP rules that apply (null = not filtered at L7). */
  private side(dir: Direction, subject: Endpoint, peer: Endpoint, dst: Endpoint, port: number, protocol: Protocol, notes: Set<string>): { allowed: boolean; http: { rules: HttpRule[]; from: string[] } | null; text: string } {
    if (subject.kind !== 'pod') return { allowed: true, http: null, text: `${dir.toLowerCase()}: ${endpointText(subject)} is not a Cilium endpoint` };
    const pod = subject.pod;
    if (dir === 'Ingress' && peer.kind === 'host' && peer.nodeName === pod.nodeName) return { allowed: true, http: null, text: `ingress to ${podKey(pod)}: ${HOST_LOCAL_NOTE}` };
    const cnps = this.cnps.filter((c) => this.selects(c, pod) && (dir === 'Ingress' ? c.ingress : c.egress));
    const k8s = evaluateSide(this.ctx, dir, { subject, peer, dst, port, protocol }, notes);
    const enforced = cnps.length > 0 || !k8s.notIsolated;
    if (!enforced) return { allowed: true, http: null, text: `${dir.toLowerCase()} at ${podKey(pod)}: no policy selects it (enforcement off)` };
    const matched = cnps.flatMap((c) => c.rules.filter((r) => r.direction === dir && (r.peers === null || r.peers.some((s) => this.peerMatches(s, peer, pod, notes))) && this.portMatches(r.ports, port, protocol)));
    const l4Only = (k8s.allowedBy?.length ?? 0) > 0 || matched.some((r) => !r.http);
    if (!l4Only && matched.length === 0) {
      return { allowed: false, http: null, text: `${dir.toLowerCase()} at ${podKey(pod)}: no rule allows ${endpointText(peer)} on ${port}/${protocol} (dropped, Policy denied)` };
    }
    if (l4Only) {
      const by = [...(k8s.allowedBy ?? []).map((a) => `${a.policy} rule ${a.ruleIndex}`), ...matched.filter((r) => !r.http).map((r) => `${r.policy} ${dir.toLowerCase()}[${r.ruleIndex}]`)];
      return { allowed: true, http: null, text: `${dir.toLowerCase()} at ${podKey(pod)}: allowed at L3/L4 by ${by.join(', ')} (no L7 rules for this peer)` };
    }
    const rules = matched.flatMap((r) => r.http!);
    return { allowed: true, http: { rules, from: [...new Set(matched.map((r) => `${r.policy} ${dir.toLowerCase()}[${r.ruleIndex}]`))] }, text: `${dir.toLowerCase()} at ${podKey(pod)}: allowed at L3/L4, HTTP filtered by ${[...new Set(matched.map((r) => r.policy))].join(', ')}` };
  }

  evaluate(req: L7Request): L7Verdict {
    const protocol = req.protocol ?? 'TCP';
    const fam = queryFamily(this.ctx, req.from, req.to);
    const src = resolveEndpoint(this.ctx, req.from, fam);
    const dst = resolveEndpoint(this.ctx, req.to, fam);
    const notes = new Set<string>();
    const eg = this.side('Egress', src, dst, dst, req.port, protocol, notes);
    const ing = eg.allowed ? this.side('Ingress', dst, src, dst, req.port, protocol, notes) : { allowed: false, http: null, text: 'ingress not evaluated (egress dropped)' };
    const connection = eg.allowed && ing.allowed;
    const base = { connection, egress: eg.text, ingress: ing.text };
    if (!connection) return { ...base, httpStatus: null, allowed: false, text: `dropped: ${eg.allowed ? ing.text : eg.text}`, notes: [...notes] };
    if (!req.http) return { ...base, httpStatus: null, allowed: true, text: `connection allowed; ${[eg, ing].some((s) => s.http) ? 'HTTP requests are filtered by L7 rules' : 'no L7 rules apply'}`, notes: [...notes] };
    for (const s of [eg, ing]) {
      if (!s.http) continue;
      if (s.http.rules.some((r) => (r.headers ?? []).some((h) => /[.*+?[\]()|\\^$]/.test(h.slice(h.indexOf(' ') + 1)) && h.includes(' ')))) notes.add(CILIUM_HEADER_NOTE);
      const results = s.http.rules.map((r) => httpRuleMatches(r, req.http!));
      const ok = results.findIndex((r) => r.matched);
      if (ok < 0) {
        notes.add(CILIUM_L7_DENY_NOTE);
        const why = results.map((r, i) => `rule ${i}: ${r.why}`).join('; ');
        return { ...base, httpStatus: 403, allowed: false, text: `403 Access denied: ${req.http.method} ${req.http.path} matches no HTTP rule of ${s.http.from.join(', ')} (${why})`, notes: [...notes] };
      }
    }
    return { ...base, httpStatus: 200, allowed: true, text: `allowed: ${req.http.method} ${req.http.path} passes ${[eg, ing].filter((s) => s.http).map((s) => s.http!.from.join(', ')).join(' and ') || 'L3/L4 policy (no L7 rules)'}`, notes: [...notes] };
  }
}
