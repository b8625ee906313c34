// AuthorizationPolicy evaluation at a workload's sidecar, as Envoy's RBAC
// filters that istiod generates decide (pilot/pkg/security/authz):
//   1. CUSTOM policies (ext_authz): a matching rule hands the request to the provider;
//   2. DENY policies: any matching rule denies;
//   3. ALLOW policies: if none applies to the workload the request is allowed;
//      otherwise some rule of some ALLOW policy must match.
//   AUDIT policies only mark requests for logging; dry-run policies
//   (istio.io/dry-run) are evaluated in shadow mode and not enforced.
// A policy applies to a workload when it sits in the workload's namespace or
// in the root namespace (mesh-wide) and its selector's labels are a subset of
// the pod's. Within a rule: `from` sources OR, `to` operations OR, `when`
// conditions AND, and each source / operation ANDs its fields; a field's
// values OR (the not* forms must match none). For plain TCP, HTTP-only
// attributes make an ALLOW rule never match and are dropped from a DENY rule
// (istiod's checkError), so the DENY matches more.

import { canonicalIP, parseIP, tryParseCidr } from '../net';
import type { PodModel, Topology } from '../model/types';
import { configName, isRejected, meshConfig } from './manifests';
import { describeValuePattern, istioPathMatch, istioValueMatch } from './match';
import type { AuthorizationPolicyModel, AuthzCondition, AuthzOperation, AuthzRule, AuthzSource, ConfigRef } from './types';
import { labelsSubset, rootNs, type MeshOptions } from './world';

/** What the destination sidecar knows about a request when its RBAC filter runs. */
export interface AuthzRequest {
  protocol: 'http' | 'tcp';
  /** The peer's address (the client pod IP). */
  sourceIp: string;
  /** The peer principal from its mTLS certificate (`cluster.local/ns/<ns>/sa/<sa>`); undefined for plaintext. */
  sourcePrincipal?: string;
  /** The address and port the workload receives on (the container port, not the Service port). */
  destinationIp: string;
  destinationPort: number;
  method?: string;
  /** `:path` with any query string. */
  path?: string;
  /** Host / :authority. */
  host?: string;
  headers?: Record<string, string>;
  auth?: { principal?: string; audiences?: string[]; presenter?: string; claims?: Record<string, string | string[]> };
  sni?: string;
}

export interface RuleCheck {
  policy: ConfigRef;
  action: AuthorizationPolicyModel['action'];
  /** 0-based index in spec.rules. */
  rule: number;
  matched: boolean;
  /** Why it matched (every condition) or the first condition that failed. */
  reason: string;
  /** Set when istiod drops the rule (invalid attribute, or HTTP-only fields of an ALLOW rule on TCP). */
  skipped?: string;
}

export interface AuthzDecision {
  allowed: boolean;
  /** 200-path allow, or 403 `RBAC: access denied` (TCP: the connection is closed). */
  status: 200 | 403;
  /** The policy and rule that decided (undefined: allowed because no ALLOW policy applies, or denied because none matched). */
  decidedBy?: { policy: ConfigRef; action: string; rule?: number };
  text: string;
  applicable: AuthorizationPolicyModel[];
  checks: RuleCheck[];
  /** Policies of the namespace / mesh that do not apply here, with why. */
  ignored: { policy: ConfigRef; why: string }[];
  /** Matches of AUDIT policies (logged only). */
  audited: RuleCheck[];
  /** Dry-run policies: what they would have decided. */
  shadow: RuleCheck[];
}

function q(v: string | undefined): string {
  return v === undefined ? '(absent)' : `"${v}"`;
}

function ipIn(ip: string, blocks: string[]): string | undefined {
  const a = parseIP(ip);
  if (!a) return undefined;
  for (const b of blocks) {
    if (b.includes('/')) {
      const c = tryParseCidr(b);
      if (c && c.contains(a)) return b;
    } else if (parseIP(b) && canonicalIP(b) === canonicalIP(ip)) return b;
  }
  return undefined;
}

interface Outcome {
  ok: boolean;
  why: string;
}

/** Values OR; undefined attribute never matches. */
function anyOf(what: string, patterns: string[], value: string | undefined, match: (p: string, v: string | undefined) => boolean = istioValueMatch): Outcome {
  const hit = patterns.find((p) => match(p, value));
  return hit !== undefined
    ? { ok: true, why: `${what} ${q(value)} matches ${describeValuePattern(hit)}` }
    : { ok: false, why: `${what} ${q(value)} matches none of ${patterns.map((p) => describeValuePattern(p)).join(', ')}` };
}

function noneOf(what: string, patterns: string[], value: string | undefined, match: (p: string, v: string | undefined) => boolean = istioValueMatch): Outcome {
  const hit = patterns.find((p) => match(p, value));
  return hit === undefined ? { ok: true, why: `${what} ${q(value)} is not in ${JSON.stringify(patterns)}` } : { ok: false, why: `${what} ${q(value)} matches the excluded ${describeValuePattern(hit)}` };
}

function principalParts(p: string | undefined): { trustDomain?: string; ns?: string; sa?: string } {
  const m = p ? /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(p) : null;
  return m ? { trustDomain: m[1], ns: m[2], sa: m[3] } : {};
}

const MTLS_NOTE = 'no peer identity: the connection is plaintext, and principals, namespaces and service accounts come from the mTLS client certificate';

function checkSource(src: AuthzSource, r: AuthzRequest, policyNs: string, tcpAllowSkip: { http: string[] }, tcp: boolean): Outcome {
  const whys: string[] = [];
  const pp = principalParts(r.sourcePrincipal);
  const test = (o: Outcome, needsIdentity = false): Outcome | undefined => {
    if (!o.ok) return { ok: false, why: needsIdentity && r.sourcePrincipal === undefined ? `${o.why} (${MTLS_NOTE})` : o.why };
    whys.push(o.why);
    return undefined;
  };
  let f: Outcome | undefined;
  if (src.principals?.length && (f = test(anyOf('source principal', src.principals, r.sourcePrincipal), true))) return f;
  if (src.notPrincipals?.length && (f = test(noneOf('source principal', src.notPrincipals, r.sourcePrincipal)))) return f;
  if (src.namespaces?.length && (f = test(anyOf('source namespace', src.namespaces, pp.ns), true))) return f;
  if (src.notNamespaces?.length && (f = test(noneOf('source namespace', src.notNamespaces, pp.ns)))) return f;
  if (src.trustDomains?.length && (f = test(anyOf('source trust domain', src.trustDomains, pp.trustDomain), true))) return f;
  if (src.notTrustDomains?.length && (f = test(noneOf('source trust domain', src.notTrustDomains, pp.trustDomain)))) return f;
  const saOf = (v: string): string => (v.includes('/') ? v : `${policyNs}/${v}`);
  const sa = pp.ns ? `${pp.ns}/${pp.sa}` : undefined;
  if (src.serviceAccounts?.length && (f = test(anyOf('source service account', src.serviceAccounts.map(saOf), sa), true))) return f;
  if (src.notServiceAccounts?.length && (f = test(noneOf('source service account', src.notServiceAccounts.map(saOf), sa)))) return f;
  const ip = (what: string, blocks: string[], value: string, neg: boolean): Outcome => {
    const hit = ipIn(value, blocks);
    if (neg) return hit ? { ok: false, why: `${what} ${value} is in the excluded ${hit}` } : { ok: true, why: `${what} ${value} is outside ${blocks.join(', ')}` };
    return hit ? { ok: true, why: `${what} ${value} is in ${hit}` } : { ok: false, why: `${what} ${value} is in none of ${blocks.join(', ')}` };
  };
  if (src.ipBlocks?.length && (f = test(ip('source IP', src.ipBlocks, r.sourceIp, false)))) return f;
  if (src.notIpBlocks?.length && (f = test(ip('source IP', src.notIpBlocks, r.sourceIp, true)))) return f;
  const remote = (r.headers?.['x-forwarded-for'] ?? '').split(',')[0].trim() || r.sourceIp;
  if (src.remoteIpBlocks?.length && !tcp && (f = test(ip('remote IP', src.remoteIpBlocks, remote, false)))) return f;
  if (src.notRemoteIpBlocks?.length && !tcp && (f = test(ip('remote IP', src.notRemoteIpBlocks, remote, true)))) return f;
  if (tcp) {
    for (const k of ['requestPrincipals', 'notRequestPrincipals', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) if (src[k]?.length) tcpAllowSkip.http.push(`from.source.${k}`);
  } else {
    if (src.requestPrincipals?.length && (f = test(anyOf('request principal (JWT iss/sub)', src.requestPrincipals, r.auth?.principal)))) return f;
    if (src.notRequestPrincipals?.length && (f = test(noneOf('request principal (JWT iss/sub)', src.notRequestPrincipals, r.auth?.principal)))) return f;
  }
  return { ok: true, why: whys.join('; ') };
}

function stripQuery(p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const i = p.search(/[?#]/);
  return i >= 0 ? p.slice(0, i) : p;
}

function hostMatch(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (istioValueMatch(pattern, value, true)) return true;
  const bare = value.replace(/:\d+$/, '');
  return bare !== value && istioValueMatch(pattern, bare, true);
}

function checkOperation(op: AuthzOperation, r: AuthzRequest, tcpSkip: { http: string[] }, tcp: boolean): Outcome {
  const whys: string[] = [];
  let f: Outcome | undefined;
  const test = (o: Outcome): Outcome | undefined => (o.ok ? (whys.push(o.why), undefined) : o);
  const port = String(r.destinationPort);
  if (op.ports?.length && (f = test(anyOf('destination port', op.ports, port, (p, v) => p === v)))) return f;
  if (op.notPorts?.length && (f = test(noneOf('destination port', op.notPorts, port, (p, v) => p === v)))) return f;
  if (tcp) {
    for (const k of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const) if (op[k]?.length) tcpSkip.http.push(`to.operation.${k}`);
    return { ok: true, why: whys.join('; ') };
  }
  const path = stripQuery(r.path);
  if (op.hosts?.length && (f = test(anyOf('host', op.hosts, r.host, hostMatch)))) return f;
  if (op.notHosts?.length && (f = test(noneOf('host', op.notHosts, r.host, hostMatch)))) return f;
  if (op.methods?.length && (f = test(anyOf('method', op.methods, r.method)))) return f;
  if (op.notMethods?.length && (f = test(noneOf('method', op.notMethods, r.method)))) return f;
  const pathMatch = (p: string, v: string | undefined): boolean => v !== undefined && istioPathMatch(p, v);
  if (op.paths?.length && (f = test(anyOf('path', op.paths, path, pathMatch)))) return f;
  if (op.notPaths?.length && (f = test(noneOf('path', op.notPaths, path, pathMatch)))) return f;
  return { ok: true, why: whys.join('; ') };
}

function headerValue(r: AuthzRequest, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of Object.entries(r.headers ?? {})) if (k.toLowerCase() === n) return v;
  if (n === ':authority' || n === 'host') return r.host;
  if (n === ':method') return r.method;
  if (n === ':path') return r.path;
  return undefined;
}

function conditionValue(c: AuthzCondition, r: AuthzRequest): { value?: string | string[]; supported: boolean; ip?: boolean } {
  const pp = principalParts(r.sourcePrincipal);
  const inner = (k: string): string => k.slice(k.indexOf('[') + 1, -1);
  const key = c.key;
  if (key.startsWith('request.headers[')) return { value: headerValue(r, inner(key)), supported: true };
  switch (key) {
    case 'source.ip':
      return { value: r.sourceIp, supported: true, ip: true };
    case 'remote.ip':
      return { value: (r.headers?.['x-forwarded-for'] ?? '').split(',')[0].trim() || r.sourceIp, supported: true, ip: true };
    case 'destination.ip':
      return { value: r.destinationIp, supported: true, ip: true };
    case 'destination.port':
      return { value: String(r.destinationPort), supported: true };
    case 'source.namespace':
      return { value: pp.ns, supported: true };
    case 'source.principal':
      return { value: r.sourcePrincipal, supported: true };
    case 'source.trustDomain':
      return { value: pp.trustDomain, supported: true };
    case 'source.serviceAccount':
      return { value: pp.ns ? `${pp.ns}/${pp.sa}` : undefined, supported: true };
    case 'request.auth.principal':
      return { value: r.auth?.principal, supported: true };
    case 'request.auth.audiences':
      return { value: r.auth?.audiences, supported: true };
    case 'request.auth.presenter':
      return { value: r.auth?.presenter, supported: true };
    case 'connection.sni':
      return { value: r.sni, supported: true };
  }
  if (key.startsWith('request.auth.claims[')) return { value: r.auth?.claims?.[inner(key)], supported: true };
  return { supported: false };
}

function checkCondition(c: AuthzCondition, r: AuthzRequest, policyNs: string): Outcome {
  const cv = conditionValue(c, r);
  if (!cv.supported) return { ok: false, why: `condition key ${c.key} is not evaluated by the model` };
  const values = Array.isArray(cv.value) ? cv.value : cv.value === undefined ? [undefined] : [cv.value];
  const one = (p: string, v: string | undefined): boolean => {
    if (v === undefined) return false;
    if (cv.ip) return !!ipIn(v, [p]);
    if (c.key === 'source.serviceAccount') return (p.includes('/') ? p : `${policyNs}/${p}`) === v;
    if (c.key === 'destination.port') return p === v;
    return istioValueMatch(p, v);
  };
  const shown = Array.isArray(cv.value) ? JSON.stringify(cv.value) : q(cv.value);
  if (c.values?.length) {
    const hit = c.values.find((p) => values.some((v) => one(p, v)));
    if (hit === undefined) return { ok: false, why: `when ${c.key} = ${shown} matches none of ${c.values.map((p) => (cv.ip ? p : describeValuePattern(p))).join(', ')}` };
  }
  if (c.notValues?.length) {
    const hit = c.notValues.find((p) => values.some((v) => one(p, v)));
    if (hit !== undefined) return { ok: false, why: `when ${c.key} = ${shown} matches the excluded ${cv.ip ? hit : describeValuePattern(hit)}` };
  }
  return { ok: true, why: `when ${c.key} = ${shown} ${c.values?.length ? `matches ${JSON.stringify(c.values)}` : `avoids ${JSON.stringify(c.notValues)}`}` };
}

const HTTP_ONLY_KEY = (k: string): boolean => k.startsWith('request.') || k === 'remote.ip';

/** Evaluates one rule for a request. */
export function checkRule(p: AuthorizationPolicyModel, idx: number, rule: AuthzRule, r: AuthzRequest, opts: MeshOptions = {}): RuleCheck {
  const base = { policy: p.ref, action: p.action, rule: idx };
  if (rule.invalid) {
    return { ...base, matched: false, reason: `istiod skips this rule: ${rule.invalid}`, skipped: `skipped invalid rule ${p.ref.namespace}.${p.ref.name}[${idx}]: ${rule.invalid}` };
  }
  void opts;
  const tcp = r.protocol === 'tcp';
  const http: { http: string[] } = { http: [] };
  const whys: string[] = [];
  if (rule.from) {
    const fails: string[] = [];
    let any = false;
    rule.from.forEach((f, i) => {
      if (any) return;
      const o = checkSource(f.source, r, p.ref.namespace, http, tcp);
      if (o.ok) {
        any = true;
        if (o.why) whys.push(o.why);
      } else fails.push(rule.from!.length > 1 ? `from[${i}]: ${o.why}` : o.why);
    });
    if (!any) return finish(false, fails.join(' | '));
  }
  if (rule.to) {
    const fails: string[] = [];
    let any = false;
    rule.to.forEach((t, i) => {
      if (any) return;
      const o = checkOperation(t.operation, r, http, tcp);
      if (o.ok) {
        any = true;
        if (o.why) whys.push(o.why);
      } else fails.push(rule.to!.length > 1 ? `to[${i}]: ${o.why}` : o.why);
    });
    if (!any) return finish(false, fails.join(' | '));
  }
  if (rule.when) {
    for (const c of rule.when) {
      if (tcp && HTTP_ONLY_KEY(c.key)) {
        http.http.push(`when ${c.key}`);
        continue;
      }
      const o = checkCondition(c, r, p.ref.namespace);
      if (!o.ok) return finish(false, o.why);
      whys.push(o.why);
    }
  }
  return finish(true, whys.length ? whys.join('; ') : 'an empty rule matches every request');

  function finish(matched: boolean, reason: string): RuleCheck {
    if (tcp && http.http.length && p.action === 'ALLOW') {
      return { ...base, matched: false, reason: `plain TCP: the rule uses HTTP-only fields (${[...new Set(http.http)].join(', ')}), so istiod leaves it out of the TCP filter chain`, skipped: 'HTTP-only fields on a TCP filter chain' };
    }
    if (tcp && http.http.length && matched) {
      reason += `; HTTP-only fields (${[...new Set(http.http)].join(', ')}) are dropped on TCP, which makes this ${p.action} rule match more`;
    }
    return { ...base, matched, reason };
  }
}

export function policyAppliesTo(p: AuthorizationPolicyModel, pod: PodModel, opts: MeshOptions = {}): { applies: boolean; why: string } {
  const root = rootNs(opts);
  if (p.ref.namespace !== pod.namespace && p.ref.namespace !== root) return { applies: false, why: `in namespace ${p.ref.namespace}` };
  if (p.targetRefs) return { applies: false, why: 'it attaches through targetRef(s) to a gateway / waypoint, not to sidecars' };
  if (!labelsSubset(p.selector, pod.labels)) return { applies: false, why: `its selector ${JSON.stringify(p.selector)} does not match the pod's labels` };
  return { applies: true, why: p.ref.namespace === root && p.ref.namespace !== pod.namespace ? 'mesh-wide (root namespace)' : p.selector ? 'selector matches' : 'namespace-wide' };
}

/** The RBAC decision of a workload's sidecar for a request. */
export function evaluateAuthorization(t: Topology, pod: PodModel, r: AuthzRequest, opts: MeshOptions = {}): AuthzDecision {
  const ignored: AuthzDecision['ignored'] = [];
  const applicable: AuthorizationPolicyModel[] = [];
  for (const p of meshConfig(t).authorizationPolicies) {
    const a = policyAppliesTo(p, pod, opts);
    if (!a.applies) {
      if (p.ref.namespace === pod.namespace || p.ref.namespace === rootNs(opts)) ignored.push({ policy: p.ref, why: a.why });
      continue;
    }
    if (opts.admissionWebhook !== false && isRejected(p)) {
      const first = p.issues.find((i) => i.rejected)!;
      ignored.push({ policy: p.ref, why: `Istio's validating webhook refuses it ("invalid policy ${p.ref.name}.${p.ref.namespace}: ${first.message}"), so it was never created` });
      continue;
    }
    applicable.push(p);
  }
  applicable.sort((a, b) => a.order - b.order);
  const checks: RuleCheck[] = [];
  const audited: RuleCheck[] = [];
  const shadow: RuleCheck[] = [];
  const evalPolicy = (p: AuthorizationPolicyModel): RuleCheck[] => (p.rules ?? []).map((rule, i) => checkRule(p, i, rule, r, opts));
  const base = { applicable, ignored, audited, shadow, checks };

  for (const p of applicable.filter((x) => x.dryRun)) shadow.push(...evalPolicy(p));
  const enforced = applicable.filter((x) => !x.dryRun);
  for (const p of enforced.filter((x) => x.action === 'AUDIT')) audited.push(...evalPolicy(p).filter((c) => c.matched));

  for (const p of enforced.filter((x) => x.action === 'CUSTOM')) {
    const cs = evalPolicy(p);
    checks.push(...cs);
    const hit = cs.find((c) => c.matched);
    if (hit) {
      const verdict = opts.customAuthz ?? 'allow';
      if (verdict === 'deny') {
        return { ...base, allowed: false, status: 403, decidedBy: { policy: p.ref, action: 'CUSTOM', rule: hit.rule }, text: `CUSTOM ${configName(p.ref)} rule ${hit.rule} sends the request to the ext_authz provider "${p.provider}", which denies it (model setting customAuthz=deny)` };
      }
      // an allow from the provider continues to DENY / ALLOW evaluation
    }
  }
  for (const p of enforced.filter((x) => x.action === 'DENY')) {
    const cs = evalPolicy(p);
    checks.push(...cs);
    const hit = cs.find((c) => c.matched);
    if (hit) {
      return { ...base, allowed: false, status: 403, decidedBy: { policy: p.ref, action: 'DENY', rule: hit.rule }, text: `DENY policy ${configName(p.ref)} rule ${hit.rule} matches: ${hit.reason}` };
    }
  }
  const allows = enforced.filter((x) => x.action === 'ALLOW');
  if (allows.length === 0) {
    const customNote = enforced.some((x) => x.action === 'CUSTOM') ? ` (CUSTOM providers are assumed to allow; set customAuthz to change)` : '';
    return { ...base, allowed: true, status: 200, text: `no ALLOW policy applies to ${pod.namespace}/${pod.name}, so the request is allowed${customNote}` };
  }
  const fails: string[] = [];
  for (const p of allows) {
    const cs = evalPolicy(p);
    checks.push(...cs);
    const hit = cs.find((c) => c.matched);
    if (hit) return { ...base, allowed: true, status: 200, decidedBy: { policy: p.ref, action: 'ALLOW', rule: hit.rule }, text: `ALLOW policy ${configName(p.ref)} rule ${hit.rule} matches: ${hit.reason}` };
    if (!p.rules || p.rules.length === 0) fails.push(`${configName(p.ref)} has no rules (it matches nothing: "allow-nothing")`);
    else cs.forEach((c) => fails.push(`${configName(p.ref)} rule ${c.rule}: ${c.reason}`));
  }
  return { ...base, allowed: false, status: 403, text: `ALLOW policies apply to ${pod.namespace}/${pod.name} and none matches — ${fails.join(' / ')}` };
}
