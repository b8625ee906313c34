// Reads the Istio objects kept verbatim in `topology.extra` into typed models,
// validating them as Istio's validating webhook (validation.istio.io, the
// functions in istio/pkg/config/validation) and `istioctl analyze` do. Every
// issue carries the field path inside the object, so the UI and the loader's
// diagnostics can point at the line.

import { parseIP, tryParseCidr } from '../net';
import type { RawManifest, Topology } from '../model/types';
import type {
  AuthorizationPolicyModel,
  AuthzAction,
  AuthzCondition,
  AuthzOperation,
  AuthzRule,
  AuthzSource,
  ConfigRef,
  ConnectionPoolSettings,
  DestinationRuleModel,
  HttpMatchRequest,
  HttpRouteModel,
  MeshIssue,
  MtlsMode,
  OutlierDetectionSettings,
  PathSeg,
  PeerAuthenticationModel,
  RouteDestination,
  StringMatch,
  SubsetModel,
  TrafficPolicy,
  VirtualServiceModel,
} from './types';
import { re2Check } from './match';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are arbitrary YAML until checked here */
type Obj = any;

export const SECURITY_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'];
export const NETWORKING_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'];

class Issues {
  readonly list: MeshIssue[] = [];
  error(path: PathSeg[], message: string, code = 'istio-validation', hint?: string): void {
    this.list.push({ severity: 'error', code, message, path, rejected: true, ...(hint ? { hint } : {}) });
  }
  warn(path: PathSeg[], message: string, code = 'istio-warning', hint?: string): void {
    this.list.push({ severity: 'warning', code, message, path, ...(hint ? { hint } : {}) });
  }
  /** istioctl analyze / runtime findings: the object is accepted but does not do what it says. */
  analyze(path: PathSeg[], message: string, code: string, hint?: string, severity: 'error' | 'warning' = 'warning'): void {
    this.list.push({ severity, code, message, path, ...(hint ? { hint } : {}) });
  }
}

const isObj = (v: unknown): v is Record<string, Obj> => typeof v === 'object' && v !== null && !Array.isArray(v);

function refOf(raw: RawManifest): ConfigRef {
  const r: ConfigRef = { kind: raw.kind, apiVersion: raw.apiVersion, namespace: raw.namespace ?? 'default', name: raw.name };
  if (raw.origin) r.origin = raw.origin;
  return r;
}

function unknownFields(o: Obj, known: readonly string[], path: PathSeg[], is: Issues): void {
  if (!isObj(o)) return;
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      is.warn(
        [...path, k],
        `unknown field "${[...path, k].map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[')}"`,
        'istio-unknown-field',
        `The ${path[0] === 'spec' ? 'CRD schema' : 'schema'} has no such field: \`kubectl apply\` (--validate=strict, the default) refuses the object with "strict decoding error"; with --validate=false the API server prunes the field and Istio never sees it. Known fields here: ${known.join(', ')}.`,
      );
    }
  }
}

function strList(v: unknown, path: PathSeg[], is: Issues): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    is.error(path, `expected a list of strings, found ${typeof v}`);
    return undefined;
  }
  return v.map((x, i) => {
    if (typeof x !== 'string') {
      if (typeof x === 'number') return String(x);
      is.error([...path, i], `expected a string, found ${typeof x}`);
      return '';
    }
    return x;
  });
}

function labelMap(v: unknown, path: PathSeg[], is: Issues): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    is.error(path, 'expected a map of labels');
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}

/** istio validateWorkloadSelector. */
function workloadSelector(sel: Obj, path: PathSeg[], is: Issues): Record<string, string> | undefined {
  if (sel === undefined || sel === null) return undefined;
  if (!isObj(sel)) {
    is.error(path, 'selector must be a map with matchLabels');
    return undefined;
  }
  unknownFields(sel, ['matchLabels'], path, is);
  const ml = labelMap(sel.matchLabels, [...path, 'matchLabels'], is) ?? {};
  for (const [k, v] of Object.entries(ml)) {
    if (k === '') is.error([...path, 'matchLabels'], `empty key is not supported in selector: "${k}=${v}"`);
    if (k.includes('*') || v.includes('*')) is.error([...path, 'matchLabels', k], `wildcard is not supported in selector: "${k}=${v}"`);
  }
  if (Object.keys(ml).length === 0) is.warn(path, 'workload selector specified without labels');
  return ml;
}

// ---------------------------------------------------------------- durations

/** Go-style duration (`30s`, `1m30s`, `100ms`, `1h`) in milliseconds; undefined when it does not parse. */
export function parseDurationMs(s: unknown): number | undefined {
  if (typeof s !== 'string' || !s) return undefined;
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const v = Number(m[1]);
    const unit = m[2];
    total += unit === 'h' ? v * 3600000 : unit === 'm' ? v * 60000 : unit === 's' ? v * 1000 : unit === 'ms' ? v : unit === 'ns' ? v / 1e6 : v / 1000;
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) return undefined;
  return total;
}

/** istio agent.ValidateDuration: a duration of at least 1ms, in whole milliseconds. */
function duration(v: unknown, path: PathSeg[], is: Issues): { ms?: number; text?: string } {
  if (v === undefined || v === null) return {};
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    is.error(path, `invalid duration "${String(v)}": use a Go/protobuf duration such as 30s, 100ms or 1m`);
    return {};
  }
  if (ms < 1) is.error(path, 'duration must be greater than 1ms');
  else if (ms % 1 !== 0) is.error(path, 'only durations to ms precision are supported');
  return { ms, text: String(v) };
}

function int(v: unknown, path: PathSeg[], is: Issues, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    is.error(path, `${what} must be an integer, found ${JSON.stringify(v)}`);
    return undefined;
  }
  return n;
}

// ---------------------------------------------------------------- PeerAuthentication

const MTLS_MODES: readonly MtlsMode[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

function mtlsMode(v: Obj, path: PathSeg[], is: Issues): MtlsMode {
  if (v === undefined || v === null) return 'UNSET';
  if (!isObj(v)) {
    is.error(path, 'mtls must be a map with a mode');
    return 'UNSET';
  }
  unknownFields(v, ['mode'], path, is);
  if (v.mode === undefined) return 'UNSET';
  const m = String(v.mode).toUpperCase();
  if (!(MTLS_MODES as string[]).includes(m)) {
    is.error([...path, 'mode'], `unknown mTLS mode "${v.mode}"; use one of STRICT, PERMISSIVE, DISABLE, UNSET`);
    return 'UNSET';
  }
  if (m !== v.mode) is.error([...path, 'mode'], `mode "${v.mode}" must be upper case (${m})`);
  return m as MtlsMode;
}

export function readPeerAuthentication(raw: RawManifest, order: number): PeerAuthenticationModel {
  const is = new Issues();
  const o = raw.object;
  const spec: Obj = (o as Obj).spec ?? {};
  const pa: PeerAuthenticationModel = { ref: refOf(raw), mode: 'UNSET', order, issues: is.list };
  if (!isObj(spec)) {
    is.error(['spec'], 'spec must be a map');
    return pa;
  }
  unknownFields(spec, ['selector', 'mtls', 'portLevelMtls'], ['spec'], is);
  pa.selector = workloadSelector(spec.selector, ['spec', 'selector'], is);
  pa.mode = mtlsMode(spec.mtls, ['spec', 'mtls'], is);
  const created = (o as Obj).metadata?.creationTimestamp;
  if (typeof created === 'string') pa.created = created;
  if (spec.portLevelMtls !== undefined && spec.portLevelMtls !== null) {
    const emptySelector = !pa.selector || Object.keys(pa.selector).length === 0;
    if (!isObj(spec.portLevelMtls)) is.error(['spec', 'portLevelMtls'], 'portLevelMtls must be a map of port number to mtls');
    else {
      if (emptySelector) is.error(['spec', 'portLevelMtls'], 'mesh/namespace peer authentication cannot have port level mTLS');
      const keys = Object.keys(spec.portLevelMtls);
      if (keys.length === 0) is.error(['spec', 'portLevelMtls'], 'port level mTLS, if defined, must have at least one element');
      pa.portLevel = {};
      for (const k of keys) {
        const port = Number(k);
        if (!/^\d+$/.test(k) || port <= 0 || port > 65535) {
          is.error(['spec', 'portLevelMtls', k], 'port must be in range 1..65535');
          continue;
        }
        pa.portLevel[port] = mtlsMode(spec.portLevelMtls[k], ['spec', 'portLevelMtls', k], is);
      }
    }
  }
  return pa;
}

// ---------------------------------------------------------------- AuthorizationPolicy

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts',
  'trustDomains', 'notTrustDomains',
] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

/** istio security.ValidateIPs. */
function validateIPs(values: string[], path: PathSeg[], is: Issues): void {
  values.forEach((v, i) => {
    if (v.includes('/')) {
      if (!tryParseCidr(v)) is.error([...path, i], `bad CIDR range (${v})`);
    } else if (!parseIP(v)) is.error([...path, i], `bad IP address (${v})`);
  });
}

/** istio security.ValidatePorts. */
function validatePorts(values: string[], path: PathSeg[], is: Issues): void {
  values.forEach((v, i) => {
    if (!/^\d+$/.test(v) || Number(v) > 65535) is.error([...path, i], `bad port (${v})`);
  });
}

function checkEmpty(values: string[] | undefined, field: string, path: PathSeg[], is: Issues): void {
  values?.forEach((v, i) => {
    if (v === '') is.error([...path, i], `empty value not allowed, found in ${field}`);
  });
}

/** istio security.CheckWildcardValues: exact, prefix `foo*`, suffix `*foo`, or presence `*`. */
function checkWildcards(values: string[] | undefined, field: string, path: PathSeg[], is: Issues): void {
  values?.forEach((v, i) => {
    const n = (v.match(/\*/g) ?? []).length;
    if (n > 1) is.error([...path, i], `at most one wildcard is allowed, found in ${field}: "${v}"`);
    else if (n === 1 && v !== '*' && !v.startsWith('*') && !v.endsWith('*')) is.error([...path, i], `wildcard is only allowed at the start or end, found in ${field}: "${v}"`);
  });
}

function checkServiceAccounts(values: string[] | undefined, field: string, path: PathSeg[], is: Issues): void {
  if (!values) return;
  if (values.length > 16) is.error(path, 'may not have more than 16 values');
  values.forEach((v, i) => {
    if (v === '') is.error([...path, i], `empty value not allowed, found in ${field}`);
    else if (v.includes('*')) is.error([...path, i], `wildcard not allowed, found in ${field}`);
    else if ((v.match(/\//g) ?? []).length > 1) is.error([...path, i], `expected format 'serviceAccount' or 'namespace/serviceAccount', found "${v}" in ${field}`);
  });
}

/** `{*}` / `{**}` path templates (Istio 1.18+): `{**}` only once, as the last segment. */
function checkPathTemplates(values: string[] | undefined, field: string, path: PathSeg[], is: Issues): void {
  values?.forEach((v, i) => {
    if (!v.includes('{*}') && !v.includes('{**}')) return;
    const segs = v.split('/');
    let any = false;
    for (const s of segs) {
      if (s === '{**}') {
        if (any) is.error([...path, i], `invalid or unsupported path ${v}, found in ${field}. {**} is not the last operator`);
        any = true;
      } else if (s === '{*}') {
        if (any) is.error([...path, i], `invalid or unsupported path ${v}, found in ${field}. {**} is not the last operator`);
      } else if (/[{}*]/.test(s)) {
        is.error([...path, i], `invalid or unsupported path ${v}, found in ${field}. Contains segment ${s} with invalid wildcard`);
      }
    }
  });
}

/**
 * istio security.ValidateAttribute. Returns the reason istiod refuses the key
 * (the webhook rejects the policy; istiod, when the webhook was bypassed,
 * drops the rule as `skipped invalid rule`), or undefined when it is valid.
 */
export function validateAttribute(key: string, values: string[]): string | undefined {
  for (const v of values) if (v === '') return `empty value not allowed, found in ${key}`;
  const mapKey = (k: string): string | undefined => {
    const open = k.indexOf('[');
    return k.endsWith(']') && open > 0 && open < k.length - 2 ? undefined : `bad key (${k}): should have format a[b]`;
  };
  const ips = (): string | undefined => {
    for (const v of values) {
      if (v.includes('/') ? !tryParseCidr(v) : !parseIP(v)) return v.includes('/') ? `bad CIDR range (${v})` : `bad IP address (${v})`;
    }
    return undefined;
  };
  const wild = (): string | undefined => {
    for (const v of values) {
      const n = (v.match(/\*/g) ?? []).length;
      if (n > 1) return `at most one wildcard is allowed, found in ${key}: "${v}"`;
      if (n === 1 && v !== '*' && !v.startsWith('*') && !v.endsWith('*')) return `wildcard is only allowed at the start or end, found in ${key}: "${v}"`;
    }
    return undefined;
  };
  if (key.startsWith('request.headers')) return mapKey(key);
  if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') return ips();
  if (key === 'source.namespace' || key === 'request.auth.principal' || key === 'request.auth.audiences' || key === 'request.auth.presenter' || key === 'connection.sni') return undefined;
  if (key === 'source.serviceAccount') {
    for (const v of values) if (v.includes('*')) return `wildcard not allowed, found in ${key}`;
    return undefined;
  }
  if (key === 'source.principal' || key === 'source.trustDomain') return wild();
  if (key.startsWith('request.auth.claims')) return mapKey(key);
  if (key === 'destination.port') {
    for (const v of values) if (!/^\d+$/.test(v) || Number(v) > 65535) return `bad port (${v})`;
    return undefined;
  }
  if (key.startsWith('experimental.envoy.filters.')) return mapKey(key);
  if (key === 'destination.namespace') return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user') return `deprecated attribute ${key}: only supported in v1alpha1`;
  return `unknown attribute: ${key}`;
}

export function readAuthorizationPolicy(raw: RawManifest, order: number): AuthorizationPolicyModel {
  const is = new Issues();
  const o = raw.object as Obj;
  const spec: Obj = o.spec ?? {};
  const ap: AuthorizationPolicyModel = { ref: refOf(raw), action: 'ALLOW', dryRun: o.metadata?.annotations?.['istio.io/dry-run'] === 'true', order, issues: is.list };
  if (!isObj(spec)) {
    is.error(['spec'], 'spec must be a map');
    return ap;
  }
  unknownFields(spec, ['selector', 'targetRef', 'targetRefs', 'rules', 'action', 'provider'], ['spec'], is);
  const sets = (spec.selector != null ? 1 : 0) + (spec.targetRef != null ? 1 : 0) + (Array.isArray(spec.targetRefs) && spec.targetRefs.length ? 1 : 0);
  if (sets > 1) is.error(['spec'], 'only one of targetRefs or workloadSelector can be set');
  ap.selector = workloadSelector(spec.selector, ['spec', 'selector'], is);
  if (spec.targetRef != null || (Array.isArray(spec.targetRefs) && spec.targetRefs.length)) ap.targetRefs = true;
  if (spec.action !== undefined) {
    const a = String(spec.action);
    if (!['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'].includes(a)) is.error(['spec', 'action'], `unknown action "${a}"; use ALLOW, DENY, AUDIT or CUSTOM`);
    else ap.action = a as AuthzAction;
  }
  if (spec.provider != null) {
    if (ap.action !== 'CUSTOM') is.error(['spec', 'provider'], `\`provider\` must not be with non CUSTOM action, found ${ap.action}`);
    ap.provider = String(spec.provider?.name ?? '');
  }
  const rulesIn = spec.rules;
  if (rulesIn !== undefined && rulesIn !== null && !Array.isArray(rulesIn)) is.error(['spec', 'rules'], 'rules must be a list');
  if (ap.action === 'CUSTOM') {
    if (rulesIn == null) is.error(['spec'], 'CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
    else if (!ap.provider) is.error(['spec', 'provider'], '`provider.name` must not be empty');
  }
  if (ap.action === 'DENY' && rulesIn == null) {
    is.error(['spec'], 'DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
  }
  if (Array.isArray(rulesIn)) {
    ap.rules = rulesIn.map((r: Obj, i: number) => readAuthzRule(r, ['spec', 'rules', i], i, ap.action, is));
  }
  return ap;
}

function readAuthzRule(r: Obj, path: PathSeg[], i: number, action: AuthzAction, is: Issues): AuthzRule {
  const rule: AuthzRule = {};
  if (r === null || r === undefined) {
    is.error(path, `\`rule\` must not be nil, found at rule ${i}`);
    rule.invalid = 'nil rule';
    return rule;
  }
  if (!isObj(r)) {
    is.error(path, 'a rule must be a map with from / to / when');
    rule.invalid = 'not a map';
    return rule;
  }
  unknownFields(r, ['from', 'to', 'when'], path, is);
  let tcpFrom = false;
  let tcpTo = false;
  let fromExists = false;
  let toExists = false;
  if (r.from !== undefined) {
    if (!Array.isArray(r.from) || r.from.length === 0) is.error([...path, 'from'], `\`from\` must not be empty, found at rule ${i}`);
    else {
      rule.from = [];
      r.from.forEach((f: Obj, j: number) => {
        const fp: PathSeg[] = [...path, 'from', j];
        if (!isObj(f) || !isObj(f.source)) {
          is.error(fp, f == null ? `\`from\` must not be nil, found at rule ${i}` : `\`from.source\` must not be nil, found at rule ${i}`);
          return;
        }
        unknownFields(f, ['source'], fp, is);
        fromExists = true;
        const sp: PathSeg[] = [...fp, 'source'];
        unknownFields(f.source, SOURCE_FIELDS, sp, is);
        const src: AuthzSource = {};
        for (const k of SOURCE_FIELDS) {
          const v = strList(f.source[k], [...sp, k], is);
          if (v !== undefined) src[k] = v;
        }
        if (SOURCE_FIELDS.every((k) => !src[k] || src[k]!.length === 0)) is.error(sp, `\`from.source\` must not be empty, found at rule ${i}`);
        if ((src.principals?.length || src.notPrincipals?.length || src.namespaces?.length || src.notNamespaces?.length) && (src.serviceAccounts?.length || src.notServiceAccounts?.length)) {
          is.error(sp, `cannot set serviceAccounts with namespaces or principals, found at rule ${i}`);
        }
        for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) if (src[k]) validateIPs(src[k]!, [...sp, k], is);
        for (const k of ['principals', 'requestPrincipals', 'namespaces', 'notPrincipals', 'notRequestPrincipals', 'notNamespaces'] as const) checkEmpty(src[k], k[0].toUpperCase() + k.slice(1), [...sp, k], is);
        checkServiceAccounts(src.serviceAccounts, 'ServiceAccounts', [...sp, 'serviceAccounts'], is);
        checkServiceAccounts(src.notServiceAccounts, 'NotServiceAccounts', [...sp, 'notServiceAccounts'], is);
        checkWildcards(src.trustDomains, 'TrustDomains', [...sp, 'trustDomains'], is);
        checkWildcards(src.notTrustDomains, 'NotTrustDomains', [...sp, 'notTrustDomains'], is);
        if (action === 'CUSTOM') {
          for (const k of ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'] as const) {
            if (src[k]?.length) is.error([...sp, k], `From.${k[0].toUpperCase() + k.slice(1)} is currently not supported with CUSTOM action`);
          }
        }
        if (src.principals || src.notPrincipals || src.ipBlocks || src.notIpBlocks || src.namespaces || src.notNamespaces || src.remoteIpBlocks || src.notRemoteIpBlocks || src.serviceAccounts || src.notServiceAccounts) tcpFrom = true;
        rule.from!.push({ source: src });
      });
    }
  }
  if (r.to !== undefined) {
    if (!Array.isArray(r.to) || r.to.length === 0) is.error([...path, 'to'], `\`to\` must not be empty, found at rule ${i}`);
    else {
      rule.to = [];
      r.to.forEach((t: Obj, j: number) => {
        const tp: PathSeg[] = [...path, 'to', j];
        if (!isObj(t) || !isObj(t.operation)) {
          is.error(tp, t == null ? `\`to\` must not be nil, found at rule ${i}` : `\`to.operation\` must not be nil, found at rule ${i}`);
          return;
        }
        unknownFields(t, ['operation'], tp, is);
        toExists = true;
        const op: AuthzOperation = {};
        const opPath: PathSeg[] = [...tp, 'operation'];
        unknownFields(t.operation, OPERATION_FIELDS, opPath, is);
        for (const k of OPERATION_FIELDS) {
          const v = strList(t.operation[k], [...opPath, k], is);
          if (v !== undefined) op[k] = v;
        }
        if (OPERATION_FIELDS.every((k) => !op[k] || op[k]!.length === 0)) is.error(opPath, `\`to.operation\` must not be empty, found at rule ${i}`);
        if (op.ports) validatePorts(op.ports, [...opPath, 'ports'], is);
        if (op.notPorts) validatePorts(op.notPorts, [...opPath, 'notPorts'], is);
        for (const k of OPERATION_FIELDS) checkEmpty(op[k], k[0].toUpperCase() + k.slice(1), [...opPath, k], is);
        checkPathTemplates(op.paths, 'Paths', [...opPath, 'paths'], is);
        checkPathTemplates(op.notPaths, 'NotPaths', [...opPath, 'notPaths'], is);
        if (op.ports || op.notPorts) tcpTo = true;
        rule.to!.push({ operation: op });
      });
    }
  }
  if (r.when !== undefined) {
    if (!Array.isArray(r.when)) is.error([...path, 'when'], '`when` must be a list of conditions');
    else {
      rule.when = [];
      r.when.forEach((c: Obj, j: number) => {
        const cp: PathSeg[] = [...path, 'when', j];
        if (!isObj(c)) {
          is.error(cp, 'when field cannot be nil');
          return;
        }
        unknownFields(c, ['key', 'values', 'notValues'], cp, is);
        const cond: AuthzCondition = { key: typeof c.key === 'string' ? c.key : '' };
        const values = strList(c.values, [...cp, 'values'], is);
        const notValues = strList(c.notValues, [...cp, 'notValues'], is);
        if (values) cond.values = values;
        if (notValues) cond.notValues = notValues;
        if (!cond.key) is.error([...cp, 'key'], '`key` must not be empty');
        else if (!values?.length && !notValues?.length) is.error(cp, `at least one of \`values\` or \`notValues\` must be set for key ${cond.key}`);
        else {
          const ev = validateAttribute(cond.key, values ?? []);
          const en = validateAttribute(cond.key, notValues ?? []);
          if (ev) is.error([...cp, 'key'], `invalid \`value\` for \`key\` ${cond.key}: ${ev}`, 'istio-authz-attribute', attributeHint(cond.key));
          if (en) is.error([...cp, 'key'], `invalid \`notValue\` for \`key\` ${cond.key}: ${en}`, 'istio-authz-attribute', attributeHint(cond.key));
          const bad = ev ?? en;
          if (bad && !rule.invalid) rule.invalid = bad.startsWith('unknown attribute') ? `unknown attribute ${cond.key}` : bad;
        }
        if (action === 'CUSTOM' && (['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal'].includes(cond.key) || cond.key.startsWith('request.auth.'))) {
          is.error([...cp, 'key'], `${cond.key} is currently not supported with CUSTOM action`);
        }
        rule.when!.push(cond);
      });
    }
  }
  if (((fromExists && !toExists && !tcpFrom) || (toExists && !tcpTo)) && action === 'DENY') {
    is.warn(path, 'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port');
  }
  return rule;
}

function attributeHint(key: string): string {
  if (key === 'request.time') {
    return 'Istio has no time-of-day attribute: `request.time` is not a condition key, so the validating webhook refuses the whole policy (kubectl apply fails). ' +
      'Time windows belong in the application or an external authorizer (action: CUSTOM with an ext_authz provider such as OPA). Remove the condition.';
  }
  return 'Supported keys: request.headers[NAME], source.ip, remote.ip, source.namespace, source.principal, source.serviceAccount, request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[NAME], destination.ip, destination.port, connection.sni, experimental.envoy.filters.*';
}

// ---------------------------------------------------------------- VirtualService

function stringMatch(v: Obj, path: PathSeg[], is: Issues, where: string, allowEmptyPrefix = false): StringMatch | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    is.error(path, `"${where}": a string match is a map with exact, prefix or regex`);
    return undefined;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return { present: true };
  unknownFields(v, ['exact', 'prefix', 'regex'], path, is);
  if (keys.filter((k) => ['exact', 'prefix', 'regex'].includes(k)).length > 1) {
    is.error(path, `"${where}": only one of exact, prefix or regex may be set`);
  }
  if (v.exact !== undefined) return { exact: String(v.exact) };
  if (v.prefix !== undefined) {
    if (String(v.prefix) === '' && !allowEmptyPrefix) is.error([...path, 'prefix'], `"${where}": prefix string match should not be empty`);
    return { prefix: String(v.prefix) };
  }
  if (v.regex !== undefined) {
    const re = String(v.regex);
    if (re === '') is.error([...path, 'regex'], `"${where}": regex string match should not be empty`);
    else if (re.length > 1024) is.error([...path, 'regex'], `"${where}": regex is too large, max length allowed is 1024`);
    else {
      const err = re2Check(re);
      if (err) is.error([...path, 'regex'], `"${where}": ${err}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)`);
    }
    return { regex: re };
  }
  return undefined;
}

const HEADER_NAME = /^[-_A-Za-z0-9!#$%&'*+.^`|~]+$/;

function readDestination(d: Obj, path: PathSeg[], is: Issues): RouteDestination | undefined {
  if (!isObj(d)) {
    is.error(path, 'destination is required');
    return undefined;
  }
  unknownFields(d, ['host', 'subset', 'port'], path, is);
  if (typeof d.host !== 'string' || d.host === '') {
    is.error([...path, 'host'], 'destination.host is required');
    return undefined;
  }
  const out: RouteDestination = { host: d.host };
  if (d.subset !== undefined) {
    const s = String(d.subset);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s) || s.length > 63) is.error([...path, 'subset'], `subset name is invalid: ${s}`);
    out.subset = s;
  }
  if (d.port !== undefined) {
    const n = int(isObj(d.port) ? d.port.number : d.port, [...path, 'port', 'number'], is, 'port number');
    if (n !== undefined) {
      if (n < 1 || n > 65535) is.error([...path, 'port', 'number'], `port number ${n} must be in the range 1..65535`);
      out.port = n;
    }
  }
  return out;
}

export function readVirtualService(raw: RawManifest, order: number): VirtualServiceModel {
  const is = new Issues();
  const o = raw.object as Obj;
  const spec: Obj = o.spec ?? {};
  const vs: VirtualServiceModel = { ref: refOf(raw), hosts: [], gateways: [], http: [], hasTcp: false, hasTls: false, order, issues: is.list };
  if (!isObj(spec)) {
    is.error(['spec'], 'spec must be a map');
    return vs;
  }
  unknownFields(spec, ['hosts', 'gateways', 'http', 'tls', 'tcp', 'exportTo'], ['spec'], is);
  vs.hosts = strList(spec.hosts, ['spec', 'hosts'], is) ?? [];
  vs.gateways = strList(spec.gateways, ['spec', 'gateways'], is) ?? [];
  const exp = strList(spec.exportTo, ['spec', 'exportTo'], is);
  if (exp) vs.exportTo = exp;
  vs.hasTcp = Array.isArray(spec.tcp) && spec.tcp.length > 0;
  vs.hasTls = Array.isArray(spec.tls) && spec.tls.length > 0;
  const appliesToMesh = vs.gateways.length === 0 || vs.gateways.includes('mesh');
  vs.hosts.forEach((h, i) => {
    if (h === '*' && appliesToMesh) is.error(['spec', 'hosts', i], 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
    else if (!parseIP(h) && !/^(\*\.)?[a-z0-9*]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(h) && h !== '*') {
      is.error(['spec', 'hosts', i], `domain name "${h}" invalid (label "${h}" invalid)`);
    }
  });
  for (let i = 0; i < vs.hosts.length; i++) {
    for (let j = i + 1; j < vs.hosts.length; j++) {
      if (vs.hosts[i] === vs.hosts[j]) is.error(['spec', 'hosts', j], `duplicate hosts in virtual service: ${vs.hosts[i]} & ${vs.hosts[j]}`);
    }
  }
  if (vs.hosts.length === 0) is.warn(['spec', 'hosts'], 'no hosts: this is a delegate VirtualService, used only through another one\'s `delegate`');
  if (!Array.isArray(spec.http) && !vs.hasTcp && !vs.hasTls) is.error(['spec'], 'http, tcp or tls must be provided in virtual service');
  if (Array.isArray(spec.http)) {
    spec.http.forEach((h: Obj, i: number) => {
      const r = readHttpRoute(h, ['spec', 'http', i], is);
      if (r) vs.http.push(r);
    });
  }
  return vs;
}

function readHttpRoute(h: Obj, path: PathSeg[], is: Issues): HttpRouteModel | undefined {
  if (!isObj(h)) {
    is.error(path, 'an http route must be a map');
    return undefined;
  }
  unknownFields(h, ['name', 'match', 'route', 'redirect', 'directResponse', 'delegate', 'rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrors', 'mirrorPercentage', 'mirrorPercent', 'mirror_percent', 'corsPolicy', 'headers'], path, is);
  const r: HttpRouteModel = {};
  if (h.name !== undefined) r.name = String(h.name);
  if (Array.isArray(h.match)) {
    r.match = [];
    h.match.forEach((m: Obj, j: number) => {
      const mp: PathSeg[] = [...path, 'match', j];
      if (!isObj(m)) return;
      unknownFields(m, ['name', 'uri', 'scheme', 'method', 'authority', 'headers', 'port', 'sourceLabels', 'gateways', 'queryParams', 'ignoreUriCase', 'withoutHeaders', 'sourceNamespace', 'statPrefix'], mp, is);
      const out: HttpMatchRequest = {};
      if (m.name !== undefined) out.name = String(m.name);
      const uri = stringMatch(m.uri, [...mp, 'uri'], is, 'uri', true);
      if (uri) out.uri = uri;
      for (const k of ['scheme', 'method', 'authority'] as const) {
        const sm = stringMatch(m[k], [...mp, k], is, k);
        if (sm) out[k] = sm;
      }
      for (const k of ['headers', 'withoutHeaders', 'queryParams'] as const) {
        if (m[k] === undefined) continue;
        if (!isObj(m[k])) {
          is.error([...mp, k], `${k} must be a map`);
          continue;
        }
        const map: Record<string, StringMatch> = {};
        for (const [name, val] of Object.entries(m[k] as Record<string, unknown>)) {
          if (val === null || val === undefined) is.error([...mp, k, name], `header match ${name} cannot be null`);
          if (k !== 'queryParams' && !HEADER_NAME.test(name) && !name.startsWith(':') && !name.startsWith('@')) is.error([...mp, k, name], `header name ${name} is not a valid header name`);
          const sm = k === 'withoutHeaders' && isObj(val) && val.regex === '*' ? ({ present: true } as StringMatch) : stringMatch(val, [...mp, k, name], is, k);
          map[k === 'queryParams' ? name : name.toLowerCase()] = sm ?? { present: true };
        }
        out[k] = map;
      }
      if (m.port !== undefined) {
        const p = int(m.port, [...mp, 'port'], is, 'port');
        if (p !== undefined) {
          if (p < 1 || p > 65535) is.error([...mp, 'port'], `port number ${p} must be in the range 1..65535`);
          out.port = p;
        }
      }
      const sl = labelMap(m.sourceLabels, [...mp, 'sourceLabels'], is);
      if (sl) out.sourceLabels = sl;
      if (m.sourceNamespace !== undefined) {
        out.sourceNamespace = String(m.sourceNamespace);
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(out.sourceNamespace)) is.error([...mp, 'sourceNamespace'], `sourceNamespace match ${out.sourceNamespace} is invalid`);
      }
      if (m.ignoreUriCase !== undefined) out.ignoreUriCase = !!m.ignoreUriCase;
      const gw = strList(m.gateways, [...mp, 'gateways'], is);
      if (gw) out.gateways = gw;
      r.match!.push(out);
    });
  }
  if (h.route !== undefined) {
    if (!Array.isArray(h.route)) is.error([...path, 'route'], 'route must be a list of destinations');
    else {
      r.route = [];
      let total = 0;
      h.route.forEach((d: Obj, j: number) => {
        const dp: PathSeg[] = [...path, 'route', j];
        if (!isObj(d)) {
          is.error(dp, 'weight may not be nil');
          return;
        }
        unknownFields(d, ['destination', 'weight', 'headers'], dp, is);
        const dest = readDestination(d.destination, [...dp, 'destination'], is);
        if (!dest) return;
        if (d.weight !== undefined) {
          const w = int(d.weight, [...dp, 'weight'], is, 'weight');
          if (w !== undefined) {
            if (w < 0) is.error([...dp, 'weight'], `weight ${w} < 0`);
            dest.weight = w;
            total += Math.max(0, w);
          }
        }
        r.route!.push(dest);
      });
      if (r.route.length > 1 && total === 0) is.error([...path, 'route'], 'total destination weight = 0');
      else if (r.route.length > 1 && total !== 100) {
        is.warn(
          [...path, 'route'],
          `route weights sum to ${total}, not 100: Istio ≥ 1.15 sends weight/sum of the traffic to each destination (${r.route.map((d) => `${d.subset ?? d.host} ${(((d.weight ?? 0) / total) * 100).toFixed(1)}%`).join(', ')}); Istio ≤ 1.14 rejected this with "total destination weight ${total} != 100"`,
          'istio-weights',
          'Make the weights add up to 100 so that they read as percentages.',
        );
      }
    }
  }
  if (h.timeout !== undefined) {
    const d = duration(h.timeout, [...path, 'timeout'], is);
    if (d.text) r.timeout = d.text;
  }
  if (isObj(h.retries)) {
    r.retries = {};
    if (h.retries.attempts !== undefined) r.retries.attempts = int(h.retries.attempts, [...path, 'retries', 'attempts'], is, 'attempts');
    if (h.retries.perTryTimeout !== undefined) r.retries.perTryTimeout = duration(h.retries.perTryTimeout, [...path, 'retries', 'perTryTimeout'], is).text;
    if (h.retries.retryOn !== undefined) r.retries.retryOn = String(h.retries.retryOn);
  }
  if (isObj(h.fault)) {
    r.fault = {};
    const pct = (x: Obj): number | undefined => (isObj(x?.percentage) ? Number(x.percentage.value) : x?.percent !== undefined ? Number(x.percent) : undefined);
    if (isObj(h.fault.delay)) r.fault.delay = { fixedDelay: h.fault.delay.fixedDelay, percent: pct(h.fault.delay) };
    if (isObj(h.fault.abort)) r.fault.abort = { httpStatus: h.fault.abort.httpStatus, percent: pct(h.fault.abort) };
  }
  if (isObj(h.redirect)) r.redirect = { uri: h.redirect.uri, authority: h.redirect.authority, redirectCode: h.redirect.redirectCode };
  if (isObj(h.directResponse)) r.directResponse = { status: Number(h.directResponse.status) };
  if (isObj(h.rewrite)) r.rewrite = { uri: h.rewrite.uri, authority: h.rewrite.authority };
  if (isObj(h.mirror)) {
    const m = readDestination(h.mirror, [...path, 'mirror'], is);
    if (m) r.mirror = m;
  }
  if (!r.route && !r.redirect && !r.directResponse && h.delegate === undefined) {
    is.error(path, 'HTTP route, redirect or direct response is required');
  }
  return r;
}

// ---------------------------------------------------------------- DestinationRule

function readTrafficPolicy(tp: Obj, path: PathSeg[], is: Issues, portLevel = false): TrafficPolicy | undefined {
  if (tp === undefined || tp === null) return undefined;
  if (!isObj(tp)) {
    is.error(path, 'trafficPolicy must be a map');
    return undefined;
  }
  const known = portLevel ? ['port', 'loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] : ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'];
  unknownFields(tp, known, path, is);
  const out: TrafficPolicy = {};
  const present = known.filter((k) => k !== 'port' && tp[k] !== undefined && tp[k] !== null);
  if (present.length === 0) is.error(path, portLevel ? 'port traffic policy must have at least one field' : 'traffic policy must have at least one field');
  if (tp.connectionPool !== undefined) {
    const cp = tp.connectionPool;
    const cpp: PathSeg[] = [...path, 'connectionPool'];
    if (!isObj(cp) || (cp.tcp == null && cp.http == null)) is.error(cpp, 'connection pool must have at least one field');
    else {
      unknownFields(cp, ['tcp', 'http'], cpp, is);
      const pool: ConnectionPoolSettings = {};
      if (isObj(cp.tcp)) {
        unknownFields(cp.tcp, ['maxConnections', 'connectTimeout', 'tcpKeepalive', 'maxConnectionDuration', 'idleTimeout'], [...cpp, 'tcp'], is);
        pool.tcp = {};
        const mc = int(cp.tcp.maxConnections, [...cpp, 'tcp', 'maxConnections'], is, 'maxConnections');
        if (mc !== undefined) {
          if (mc < 0) is.error([...cpp, 'tcp', 'maxConnections'], 'max connections must be non-negative');
          pool.tcp.maxConnections = mc;
        }
        if (cp.tcp.connectTimeout !== undefined) pool.tcp.connectTimeout = duration(cp.tcp.connectTimeout, [...cpp, 'tcp', 'connectTimeout'], is).text;
      }
      if (isObj(cp.http)) {
        unknownFields(cp.http, ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'idleTimeout', 'h2UpgradePolicy', 'useClientProtocol', 'maxConcurrentStreams'], [...cpp, 'http'], is);
        pool.http = {};
        for (const k of ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries'] as const) {
          const v = int(cp.http[k], [...cpp, 'http', k], is, k);
          if (v !== undefined) {
            if (v < 0) is.error([...cpp, 'http', k], `${k === 'http1MaxPendingRequests' ? 'http1 max pending requests' : k === 'http2MaxRequests' ? 'http2 max requests' : k === 'maxRetries' ? 'max retries' : 'max requests per connection'} must be non-negative`);
            pool.http[k] = v;
          }
        }
        if (cp.http.h2UpgradePolicy !== undefined) pool.http.h2UpgradePolicy = String(cp.http.h2UpgradePolicy);
      }
      out.connectionPool = pool;
    }
  }
  if (tp.outlierDetection !== undefined) {
    const od = tp.outlierDetection;
    const op: PathSeg[] = [...path, 'outlierDetection'];
    if (isObj(od)) {
      unknownFields(od, ['consecutiveErrors', 'splitExternalLocalOriginErrors', 'consecutiveLocalOriginFailures', 'consecutiveGatewayErrors', 'consecutive5xxErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'minHealthPercent', 'outlierDetectionHttpErrorCodes'], op, is);
      const o: OutlierDetectionSettings = {};
      const ce = int(od.consecutiveErrors, [...op, 'consecutiveErrors'], is, 'consecutiveErrors');
      if (ce !== undefined && ce !== 0) {
        o.consecutiveErrors = ce;
        is.warn(
          [...op, 'consecutiveErrors'],
          'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead',
          'istio-deprecated-consecutive-errors',
          `istiod has ignored consecutiveErrors since Istio 1.7 (up to 1.6 it became Envoy's consecutive_gateway_failure). Envoy's default then applies: consecutive_5xx = 5 with enforcement 100%${ce === 5 ? ' — the same number by coincidence' : `, not ${ce}`}. Write consecutive5xxErrors: ${ce} (or consecutiveGatewayErrors for 502/503/504 only).`,
        );
      }
      for (const k of ['consecutive5xxErrors', 'consecutiveGatewayErrors'] as const) {
        const v = int(od[k], [...op, k], is, k);
        if (v !== undefined) o[k] = v;
      }
      const iv = duration(od.interval, [...op, 'interval'], is);
      if (iv.ms !== undefined) {
        o.intervalMs = iv.ms;
        o.interval = iv.text;
      }
      const be = duration(od.baseEjectionTime, [...op, 'baseEjectionTime'], is);
      if (be.ms !== undefined) {
        o.baseEjectionTimeMs = be.ms;
        o.baseEjectionTime = be.text;
      }
      for (const k of ['maxEjectionPercent', 'minHealthPercent'] as const) {
        const v = int(od[k], [...op, k], is, k);
        if (v !== undefined) {
          if (v < 0 || v > 100) is.error([...op, k], `percentage ${v} is not in range 0..100`);
          o[k] = v;
        }
      }
      if (!od.splitExternalLocalOriginErrors && Number(od.consecutiveLocalOriginFailures ?? 0) > 0) {
        is.error([...op, 'consecutiveLocalOriginFailures'], 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false');
      }
      out.outlierDetection = o;
    } else is.error(op, 'outlierDetection must be a map');
  }
  if (isObj(tp.loadBalancer)) {
    out.loadBalancer = {};
    if (tp.loadBalancer.simple !== undefined) out.loadBalancer.simple = String(tp.loadBalancer.simple);
    if (tp.loadBalancer.consistentHash !== undefined) out.loadBalancer.consistentHash = true;
  }
  if (isObj(tp.tls)) {
    const mode = String(tp.tls.mode ?? 'DISABLE');
    if (!['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'].includes(mode)) is.error([...path, 'tls', 'mode'], `unknown TLS mode "${mode}"; use DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL`);
    else out.tls = { mode: mode as 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL', ...(tp.tls.sni ? { sni: String(tp.tls.sni) } : {}) };
  }
  if (!portLevel && Array.isArray(tp.portLevelSettings)) {
    out.portLevelSettings = [];
    tp.portLevelSettings.forEach((pl: Obj, i: number) => {
      const pp: PathSeg[] = [...path, 'portLevelSettings', i];
      if (!isObj(pl)) {
        is.error(pp, 'traffic policy may not be null');
        return;
      }
      const port = int(isObj(pl.port) ? pl.port.number : undefined, [...pp, 'port', 'number'], is, 'port');
      if (port === undefined) {
        is.error([...pp, 'port'], 'portTrafficPolicy must have valid port');
        return;
      }
      const pol = readTrafficPolicy(pl, pp, is, true);
      if (pol) out.portLevelSettings!.push({ port, policy: pol });
    });
  }
  return out;
}

export function readDestinationRule(raw: RawManifest, order: number): DestinationRuleModel {
  const is = new Issues();
  const o = raw.object as Obj;
  const spec: Obj = o.spec ?? {};
  const dr: DestinationRuleModel = { ref: refOf(raw), host: '', subsets: [], order, issues: is.list };
  if (!isObj(spec)) {
    is.error(['spec'], 'spec must be a map');
    return dr;
  }
  unknownFields(spec, ['host', 'trafficPolicy', 'subsets', 'exportTo', 'workloadSelector'], ['spec'], is);
  if (typeof spec.host !== 'string' || !spec.host) is.error(['spec', 'host'], 'host is required');
  else dr.host = spec.host;
  dr.trafficPolicy = readTrafficPolicy(spec.trafficPolicy, ['spec', 'trafficPolicy'], is);
  const exp = strList(spec.exportTo, ['spec', 'exportTo'], is);
  if (exp) dr.exportTo = exp;
  if (spec.workloadSelector != null) dr.workloadSelector = workloadSelector(spec.workloadSelector, ['spec', 'workloadSelector'], is);
  if (Array.isArray(spec.subsets)) {
    const seen = new Set<string>();
    spec.subsets.forEach((s: Obj, i: number) => {
      const sp: PathSeg[] = ['spec', 'subsets', i];
      if (!isObj(s)) {
        is.error(sp, 'subset may not be null');
        return;
      }
      unknownFields(s, ['name', 'labels', 'trafficPolicy'], sp, is);
      const name = s.name === undefined ? '' : String(s.name);
      if (!name) is.error([...sp, 'name'], 'subset name cannot be empty');
      else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) is.error([...sp, 'name'], `subset name is invalid: ${name}`);
      if (seen.has(name)) is.error([...sp, 'name'], `duplicate subset names: ${name}`);
      seen.add(name);
      const sub: SubsetModel = { name, labels: labelMap(s.labels, [...sp, 'labels'], is) ?? {} };
      const tp = readTrafficPolicy(s.trafficPolicy, [...sp, 'trafficPolicy'], is);
      if (tp) sub.trafficPolicy = tp;
      dr.subsets.push(sub);
    });
  }
  return dr;
}

// ---------------------------------------------------------------- the mesh config of a topology

export interface MeshConfigSet {
  peerAuthentications: PeerAuthenticationModel[];
  authorizationPolicies: AuthorizationPolicyModel[];
  virtualServices: VirtualServiceModel[];
  destinationRules: DestinationRuleModel[];
  /** Istio kinds kept but not modelled (Gateway, ServiceEntry, Sidecar, RequestAuthentication…). */
  other: ConfigRef[];
}

const cache = new WeakMap<Topology, { extra: RawManifest[]; set: MeshConfigSet }>();

/** Reads (and caches per topology) every Istio object in `topology.extra`. */
export function meshConfig(t: Topology): MeshConfigSet {
  const c = cache.get(t);
  if (c && c.extra === t.extra) return c.set;
  const set: MeshConfigSet = { peerAuthentications: [], authorizationPolicies: [], virtualServices: [], destinationRules: [], other: [] };
  t.extra.forEach((raw, order) => {
    const sec = SECURITY_VERSIONS.includes(raw.apiVersion);
    const net = NETWORKING_VERSIONS.includes(raw.apiVersion);
    if (sec && raw.kind === 'PeerAuthentication') set.peerAuthentications.push(readPeerAuthentication(raw, order));
    else if (sec && raw.kind === 'AuthorizationPolicy') set.authorizationPolicies.push(readAuthorizationPolicy(raw, order));
    else if (net && raw.kind === 'VirtualService') set.virtualServices.push(readVirtualService(raw, order));
    else if (net && raw.kind === 'DestinationRule') set.destinationRules.push(readDestinationRule(raw, order));
    else if (raw.apiVersion.endsWith('.istio.io/v1') || /\.istio\.io\//.test(raw.apiVersion)) set.other.push(refOf(raw));
  });
  cache.set(t, { extra: t.extra, set });
  return set;
}

/** True when Istio's validating webhook refuses the object (kubectl apply fails; istiod never sees it). */
export function isRejected(x: { issues: MeshIssue[] }): boolean {
  return x.issues.some((i) => i.rejected);
}

/** `name.namespace`, as istioctl prints a config. */
export function configName(r: ConfigRef): string {
  return `${r.name}.${r.namespace}`;
}
