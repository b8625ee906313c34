// `netlab reach` scenarios: a small cluster, policies and queries in one
// YAML (or JSON) document. Problems are reported like `netlab validate`
// does: file:line:column, the field path, and what to do.

import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { Cidr, canonicalIP, parseIP } from '../net';
import type {
  ContainerPort,
  Diagnostic,
  LabelSelector,
  LabelSelectorRequirement,
  NamespaceModel,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NodeModel,
  PodModel,
  Protocol,
  RawManifest,
} from '../model/types';
import { NS_NAME_LABEL, type PolicyTopology } from './semantics';
import type { IpBlockClusterMode } from './types';

export interface HttpRequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
}

export interface ScenarioQuery {
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  http?: HttpRequestSpec;
}

export interface Scenario {
  topology: PolicyTopology & { extra: RawManifest[] };
  queries: ScenarioQuery[];
  options: { ipBlockClusterIPs?: IpBlockClusterMode };
  /** Answers Cilium's DNS proxy saw (name -> IPs), for toFQDNs. */
  dns: Record<string, string[]>;
}

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function pathText(p: Path): string {
  let out = '';
  for (const s of p) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

class Ctx {
  diags: Diagnostic[] = [];
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    readonly lc: LineCounter,
  ) {}

  pos(path: Path): { line: number; column: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const p = this.lc.linePos(node.range[0]);
        return { line: p.line, column: p.col };
      }
    }
    return { line: 1, column: 1 };
  }

  /** Position of the key of the last path segment (for unknown fields). */
  keyPos(path: Path): { line: number; column: number } {
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      for (const pair of parent.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (String(k) === String(path[path.length - 1]) && isNode(pair.key) && pair.key.range) {
          const p = this.lc.linePos(pair.key.range[0]);
          return { line: p.line, column: p.col };
        }
      }
    }
    return this.pos(path);
  }

  errorAtKey(path: Path, code: string, message: string, hint?: string): void {
    this.diags.push({ severity: 'error', code, message, file: this.file, ...this.keyPos(path), path: pathText(path), hint });
  }

  error(path: Path, code: string, message: string, hint?: string): void {
    this.diags.push({ severity: 'error', code, message, file: this.file, ...this.pos(path), path: pathText(path), hint });
  }

  warn(path: Path, code: string, message: string, hint?: string): void {
    this.diags.push({ severity: 'warning', code, message, file: this.file, ...this.pos(path), path: pathText(path), hint });
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(c: Ctx, o: Obj, path: Path, allowed: string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) c.errorAtKey([...path, k], 'unknown-field', `${what}: unknown field "${k}"`, `Known fields: ${allowed.join(', ')}.`);
  }
}

function list(c: Ctx, v: unknown, path: Path, what: string, required = false): unknown[] {
  if (v === undefined || v === null) {
    if (required) c.error(path, 'missing-field', `${what} is required`);
    return [];
  }
  if (!Array.isArray(v)) {
    c.error(path, 'wrong-type', `${what} must be a list`);
    return [];
  }
  return v;
}

function str(c: Ctx, v: unknown, path: Path, what: string, required = true): string | undefined {
  if (v === undefined || v === null) {
    if (required) c.error(path, 'missing-field', `${what} is required`);
    return undefined;
  }
  if (typeof v !== 'string') {
    c.error(path, 'wrong-type', `${what} must be a string, not ${typeof v}`);
    return undefined;
  }
  return v;
}

function labelMap(c: Ctx, v: unknown, path: Path, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) {
    c.error(path, 'wrong-type', `${what} must be a map of label: value`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') out[k] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') {
      c.error([...path, k], 'wrong-type', `${what}: label ${k} has a ${typeof val} value ${String(val)}; label values are strings`, `Quote it: ${k}: "${String(val)}".`);
    } else c.error([...path, k], 'wrong-type', `${what}: label ${k} must have a string value`);
  }
  return out;
}

function protocol(c: Ctx, v: unknown, path: Path, what: string): Protocol {
  if (v === undefined || v === null) return 'TCP';
  if (v === 'TCP' || v === 'UDP' || v === 'SCTP') return v;
  c.error(path, 'invalid-value', `${what}: protocol must be TCP, UDP or SCTP (got ${JSON.stringify(v)})`, 'Protocols are upper case.');
  return 'TCP';
}

function portNumber(c: Ctx, v: unknown, path: Path, what: string): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    c.error(path, 'invalid-value', `${what} must be a port number 1-65535 (got ${JSON.stringify(v)})`);
    return undefined;
  }
  return v;
}

function selector(c: Ctx, v: unknown, path: Path, what: string): LabelSelector {
  if (v === null || v === undefined) return {};
  if (!isObj(v)) {
    c.error(path, 'wrong-type', `${what} must be a label selector (matchLabels / matchExpressions)`);
    return {};
  }
  checkKeys(c, v, path, ['matchLabels', 'matchExpressions'], what);
  const out: LabelSelector = {};
  if (v.matchLabels !== undefined) out.matchLabels = labelMap(c, v.matchLabels, [...path, 'matchLabels'], what);
  if (v.matchExpressions !== undefined) {
    out.matchExpressions = [];
    list(c, v.matchExpressions, [...path, 'matchExpressions'], `${what}.matchExpressions`).forEach((e, i) => {
      const p = [...path, 'matchExpressions', i];
      if (!isObj(e)) return c.error(p, 'wrong-type', `${what}: each match expression is a map with key, operator, values`);
      checkKeys(c, e, p, ['key', 'operator', 'values'], what);
      const key = str(c, e.key, [...p, 'key'], `${what}: matchExpressions[${i}].key`) ?? '';
      const op = e.operator;
      if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
        c.error([...p, 'operator'], 'invalid-value', `${what}: operator must be In, NotIn, Exists or DoesNotExist (got ${JSON.stringify(op)})`);
        return;
      }
      const req: LabelSelectorRequirement = { key, operator: op };
      if (e.values !== undefined && e.values !== null) {
        const vals = list(c, e.values, [...p, 'values'], `${what}: values`);
        req.values = vals.map((x) => String(x));
      }
      if ((op === 'In' || op === 'NotIn') && !(req.values && req.values.length)) c.error([...p, 'values'], 'invalid-value', `${what}: operator ${op} needs a non-empty values list`);
      if ((op === 'Exists' || op === 'DoesNotExist') && req.values && req.values.length) c.error([...p, 'values'], 'invalid-value', `${what}: operator ${op} must not have values`);
      out.matchExpressions!.push(req);
    });
  }
  return out;
}

function peers(c: Ctx, v: unknown, path: Path, what: string): NetworkPolicyPeer[] {
  return list(c, v, path, what).map((p, i) => {
    const here = [...path, i];
    const peer: NetworkPolicyPeer = {};
    if (!isObj(p)) {
      c.error(here, 'wrong-type', `${what}: each peer is a map`);
      return peer;
    }
    checkKeys(c, p, here, ['podSelector', 'namespaceSelector', 'ipBlock'], what);
    const has = (k: string) => p[k] !== undefined && p[k] !== null;
    if (!has('podSelector') && !has('namespaceSelector') && !has('ipBlock')) {
      c.error(here, 'invalid-value', `${what}: a peer must set podSelector, namespaceSelector or ipBlock`, 'To allow every peer, leave the whole from/to list out.');
    }
    if (has('ipBlock') && (has('podSelector') || has('namespaceSelector'))) {
      c.error([...here, 'ipBlock'], 'invalid-value', `${what}: ipBlock cannot be combined with podSelector or namespaceSelector in one peer`, 'Make it a separate peer (its own list item).');
    }
    if (has('podSelector')) peer.podSelector = selector(c, p.podSelector, [...here, 'podSelector'], what);
    if (has('namespaceSelector')) peer.namespaceSelector = selector(c, p.namespaceSelector, [...here, 'namespaceSelector'], what);
    if (has('ipBlock')) {
      const ib = p.ipBlock;
      const ibp = [...here, 'ipBlock'];
      if (!isObj(ib)) c.error(ibp, 'wrong-type', `${what}: ipBlock must be a map with cidr and except`);
      else {
        checkKeys(c, ib, ibp, ['cidr', 'except'], what);
        const cidrText = str(c, ib.cidr, [...ibp, 'cidr'], `${what}: ipBlock.cidr`) ?? '';
        const cidr = Cidr.tryParse(cidrText);
        if (cidrText && !cidr) c.error([...ibp, 'cidr'], 'invalid-cidr', `${what}: ipBlock.cidr "${cidrText}" is not a CIDR`, 'Write ADDRESS/PREFIX, e.g. 10.0.0.0/8.');
        const except = list(c, ib.except, [...ibp, 'except'], `${what}: ipBlock.except`).map((e, j) => {
          const t = String(e);
          const ec = Cidr.tryParse(t);
          if (!ec) c.error([...ibp, 'except', j], 'invalid-cidr', `${what}: ipBlock.except[${j}] "${t}" is not a CIDR`);
          else if (cidr && (!cidr.containsCidr(ec) || ec.prefix <= cidr.prefix)) {
            c.error([...ibp, 'except', j], 'except-outside-cidr', `${what}: ipBlock.except[${j}] ${t} is not a strict subset of ${cidrText}`, `The API server rejects it; every except range must lie inside ${cidr.text}.`);
          }
          return t;
        });
        peer.ipBlock = ib.except !== undefined ? { cidr: cidrText, except } : { cidr: cidrText };
      }
    }
    return peer;
  });
}

function policyPorts(c: Ctx, v: unknown, path: Path, what: string): NetworkPolicyPort[] {
  return list(c, v, path, what).map((p, i) => {
    const here = [...path, i];
    const out: NetworkPolicyPort = {};
    if (!isObj(p)) {
      c.error(here, 'wrong-type', `${what}: each port entry is a map with protocol, port, endPort`);
      return out;
    }
    checkKeys(c, p, here, ['protocol', 'port', 'endPort'], what);
    if (p.protocol !== undefined) out.protocol = protocol(c, p.protocol, [...here, 'protocol'], what);
    if (p.port !== undefined && p.port !== null) {
      if (typeof p.port === 'number') out.port = portNumber(c, p.port, [...here, 'port'], `${what}: port`);
      else if (typeof p.port === 'string') {
        if (/^\d+$/.test(p.port)) {
          c.error([...here, 'port'], 'invalid-value', `${what}: port "${p.port}" is a string; a numeric port must be written as a number`, `Write port: ${p.port} (a string names a container port, and names must contain a letter).`);
        } else if (!PORT_NAME.test(p.port) || p.port.length > 15) {
          c.error([...here, 'port'], 'invalid-value', `${what}: "${p.port}" is not a valid port name (IANA_SVC_NAME: lower case, digits, '-', at most 15 characters)`);
        }
        out.port = p.port;
      } else c.error([...here, 'port'], 'wrong-type', `${what}: port must be a number or a port name`);
    }
    if (p.endPort !== undefined && p.endPort !== null) {
      const ep = portNumber(c, p.endPort, [...here, 'endPort'], `${what}: endPort`);
      if (typeof out.port !== 'number') c.error([...here, 'endPort'], 'invalid-value', `${what}: endPort needs a numeric port`, 'A range is port..endPort with both numbers.');
      else if (ep !== undefined && ep < out.port) c.error([...here, 'endPort'], 'invalid-value', `${what}: endPort ${ep} is lower than port ${out.port}`);
      if (ep !== undefined) out.endPort = ep;
    }
    return out;
  });
}

function networkPolicy(c: Ctx, o: Obj, path: Path): NetworkPolicyModel | null {
  const md = isObj(o.metadata) ? o.metadata : {};
  if (!isObj(o.metadata)) c.error([...path, 'metadata'], 'missing-field', 'NetworkPolicy needs metadata with name (and namespace)');
  const name = str(c, md.name, [...path, 'metadata', 'name'], 'metadata.name') ?? '';
  const namespace = str(c, md.namespace, [...path, 'metadata', 'namespace'], 'metadata.namespace', false) ?? 'default';
  const what = `NetworkPolicy ${namespace}/${name}`;
  const spec = o.spec;
  if (!isObj(spec)) {
    c.error([...path, 'spec'], 'missing-field', `${what}: spec is required`);
    return null;
  }
  const sp = [...path, 'spec'];
  checkKeys(c, spec, sp, ['podSelector', 'policyTypes', 'ingress', 'egress'], what);
  const np: NetworkPolicyModel = { namespace, name, podSelector: {} };
  if (spec.podSelector === undefined) c.error([...sp, 'podSelector'], 'missing-field', `${what}: spec.podSelector is required`, 'Use podSelector: {} to select every pod of the namespace.');
  else np.podSelector = selector(c, spec.podSelector, [...sp, 'podSelector'], what);
  if (spec.policyTypes !== undefined && spec.policyTypes !== null) {
    np.policyTypes = list(c, spec.policyTypes, [...sp, 'policyTypes'], `${what}: policyTypes`).flatMap((t, i) => {
      if (t === 'Ingress' || t === 'Egress') return [t];
      c.error([...sp, 'policyTypes', i], 'invalid-value', `${what}: policyTypes entries are Ingress or Egress (got ${JSON.stringify(t)})`);
      return [];
    });
  }
  if (spec.ingress !== undefined && spec.ingress !== null) {
    np.ingress = list(c, spec.ingress, [...sp, 'ingress'], `${what}: ingress`).map((r, i) => {
      const rp = [...sp, 'ingress', i];
      if (!isObj(r)) return {};
      checkKeys(c, r, rp, ['from', 'ports'], what);
      const rule: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] } = {};
      if (r.from !== undefined && r.from !== null) rule.from = peers(c, r.from, [...rp, 'from'], what);
      if (r.ports !== undefined && r.ports !== null) rule.ports = policyPorts(c, r.ports, [...rp, 'ports'], what);
      return rule;
    });
  }
  if (spec.egress !== undefined && spec.egress !== null) {
    np.egress = list(c, spec.egress, [...sp, 'egress'], `${what}: egress`).map((r, i) => {
      const rp = [...sp, 'egress', i];
      if (!isObj(r)) return {};
      checkKeys(c, r, rp, ['to', 'ports'], what);
      const rule: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] } = {};
      if (r.to !== undefined && r.to !== null) rule.to = peers(c, r.to, [...rp, 'to'], what);
      if (r.ports !== undefined && r.ports !== null) rule.ports = policyPorts(c, r.ports, [...rp, 'ports'], what);
      return rule;
    });
  }
  np.origin = { file: c.file, ...c.pos(path), path: pathText(path) };
  return np;
}

function endpointRef(c: Ctx, v: unknown, path: Path, what: string): string | undefined {
  const s = str(c, v, path, what);
  if (s === undefined) return undefined;
  if (s.startsWith('ip:')) {
    if (!parseIP(s.slice(3))) c.error(path, 'invalid-value', `${what}: "${s.slice(3)}" is not an IP address`, 'Write ip:10.0.0.5 or ip:fd00::5.');
    return s;
  }
  if (s.startsWith('node:')) return s;
  if (!/^[^/]+\/[^/]+$/.test(s)) c.error(path, 'invalid-value', `${what}: "${s}" is not an endpoint`, 'Write namespace/pod, ip:ADDRESS or node:NAME.');
  return s;
}

/** Parses a scenario (YAML or JSON). Returns the scenario unless there are errors, plus every diagnostic. */
export function parseScenario(text: string, file: string): { scenario: Scenario | null; diagnostics: Diagnostic[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const c = new Ctx(file, doc, lc);
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    c.diags.push({ severity: 'error', code: 'yaml-syntax', message: `YAML syntax error: ${e.message} (${e.code})`, file, line: p.line, column: p.col, hint: 'Fix the YAML (or JSON) at this place.' });
  }
  if (doc.errors.length) return { scenario: null, diagnostics: c.diags };
  const root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!isObj(root)) {
    c.error([], 'wrong-type', 'a scenario is a map with namespaces, pods, policies and queries');
    return { scenario: null, diagnostics: c.diags };
  }
  checkKeys(c, root, [], ['namespaces', 'nodes', 'pods', 'policies', 'queries', 'options', 'dns'], 'scenario');

  const namespaces: NamespaceModel[] = [];
  const nsNames = new Set<string>();
  list(c, root.namespaces, ['namespaces'], 'namespaces').forEach((n, i) => {
    const p = ['namespaces', i];
    if (!isObj(n)) return c.error(p, 'wrong-type', 'each namespace is a map with name and labels');
    checkKeys(c, n, p, ['name', 'labels'], 'namespace');
    const name = str(c, n.name, [...p, 'name'], 'namespace name');
    if (name === undefined) return;
    if (!DNS_LABEL.test(name) || name.length > 63) c.error([...p, 'name'], 'invalid-name', `namespace name "${name}" is not a DNS label`, 'Lower case letters, digits and "-", at most 63 characters.');
    if (nsNames.has(name)) c.error([...p, 'name'], 'duplicate', `namespace ${name} is declared twice`);
    nsNames.add(name);
    const labels = labelMap(c, n.labels, [...p, 'labels'], `namespace ${name}`);
    if (labels[NS_NAME_LABEL] !== undefined && labels[NS_NAME_LABEL] !== name) {
      c.error([...p, 'labels', NS_NAME_LABEL], 'invalid-value', `namespace ${name}: ${NS_NAME_LABEL} is set by the API server to the namespace name`, 'Remove it; it is added automatically.');
    }
    namespaces.push({ name, labels: { ...labels, [NS_NAME_LABEL]: name }, origin: { file, ...c.pos(p), path: pathText(p) } });
  });

  const nodes: NodeModel[] = [];
  list(c, root.nodes, ['nodes'], 'nodes').forEach((n, i) => {
    const p = ['nodes', i];
    if (!isObj(n)) return c.error(p, 'wrong-type', 'each node is a map with name and ip');
    checkKeys(c, n, p, ['name', 'ip', 'labels'], 'node');
    const name = str(c, n.name, [...p, 'name'], 'node name');
    const ip = str(c, n.ip, [...p, 'ip'], 'node ip');
    if (ip && !parseIP(ip)) c.error([...p, 'ip'], 'invalid-ip', `node ip "${ip}" is not an IP address`);
    if (name) nodes.push({ name, ips: ip && parseIP(ip) ? [canonicalIP(ip)] : [], labels: labelMap(c, n.labels, [...p, 'labels'], `node ${name}`), podCIDRs: [] });
  });

  const pods: PodModel[] = [];
  const ipsSeen = new Map<string, string>();
  list(c, root.pods, ['pods'], 'pods', true).forEach((n, i) => {
    const p = ['pods', i];
    if (!isObj(n)) return c.error(p, 'wrong-type', 'each pod is a map with namespace, name, labels, ip, ports');
    checkKeys(c, n, p, ['namespace', 'name', 'labels', 'ip', 'node', 'hostNetwork', 'ports', 'serviceAccountName'], 'pod');
    const namespace = str(c, n.namespace, [...p, 'namespace'], 'pod namespace') ?? 'default';
    const name = str(c, n.name, [...p, 'name'], 'pod name') ?? '';
    if (name && (!DNS_SUBDOMAIN.test(name) || name.length > 253)) c.error([...p, 'name'], 'invalid-name', `pod name "${name}" is not a DNS subdomain`);
    if (!nsNames.has(namespace)) {
      c.warn([...p, 'namespace'], 'undeclared-namespace', `namespace ${namespace} is not declared; it gets only the ${NS_NAME_LABEL} label`, 'Declare it under namespaces: with its labels.');
      nsNames.add(namespace);
      namespaces.push({ name: namespace, labels: { [NS_NAME_LABEL]: namespace } });
    }
    const hostNetwork = n.hostNetwork === true;
    if (n.hostNetwork !== undefined && typeof n.hostNetwork !== 'boolean') c.error([...p, 'hostNetwork'], 'wrong-type', 'hostNetwork must be true or false');
    const ip = str(c, n.ip, [...p, 'ip'], `pod ${namespace}/${name}: ip`, !hostNetwork);
    const ips: string[] = [];
    if (ip !== undefined) {
      if (!parseIP(ip)) c.error([...p, 'ip'], 'invalid-ip', `pod ${namespace}/${name}: "${ip}" is not an IP address`);
      else {
        const ci = canonicalIP(ip);
        const other = ipsSeen.get(ci);
        if (other && !hostNetwork) c.error([...p, 'ip'], 'duplicate-ip', `pod ${namespace}/${name}: ${ci} is already the address of ${other}`);
        if (!hostNetwork) ipsSeen.set(ci, `${namespace}/${name}`);
        ips.push(ci);
      }
    }
    const ports: ContainerPort[] = list(c, n.ports, [...p, 'ports'], 'ports').flatMap((cp, j) => {
      const pp = [...p, 'ports', j];
      if (!isObj(cp)) {
        c.error(pp, 'wrong-type', 'each port is a map with name, port, protocol');
        return [];
      }
      checkKeys(c, cp, pp, ['name', 'port', 'containerPort', 'protocol'], 'port');
      const num = portNumber(c, cp.port ?? cp.containerPort, [...pp, cp.port !== undefined ? 'port' : 'containerPort'], 'port');
      const pname = cp.name === undefined ? undefined : str(c, cp.name, [...pp, 'name'], 'port name');
      if (pname !== undefined && (!PORT_NAME.test(pname) || pname.length > 15 || !/[a-z]/.test(pname))) {
        c.error([...pp, 'name'], 'invalid-value', `port name "${pname}" is not an IANA_SVC_NAME`, 'Lower case letters, digits and "-", at most 15 characters, at least one letter.');
      }
      if (num === undefined) return [];
      return [{ container: 'main', name: pname, containerPort: num, protocol: protocol(c, cp.protocol, [...pp, 'protocol'], 'port') }];
    });
    const node = str(c, n.node, [...p, 'node'], 'node', false) ?? 'node-1';
    pods.push({
      namespace,
      name,
      labels: labelMap(c, n.labels, [...p, 'labels'], `pod ${namespace}/${name}`),
      annotations: {},
      nodeName: node,
      ips,
      hostNetwork,
      ports,
      serviceAccountName: str(c, n.serviceAccountName, [...p, 'serviceAccountName'], 'serviceAccountName', false) ?? 'default',
      origin: { file, ...c.pos(p), path: pathText(p) },
    });
  });
  // Nodes named by pods but not declared: hostNetwork pods lend them their address.
  for (const pod of pods) {
    if (nodes.some((nd) => nd.name === pod.nodeName)) continue;
    const hn = pods.find((x) => x.hostNetwork && x.nodeName === pod.nodeName && x.ips.length);
    nodes.push({ name: pod.nodeName, ips: hn ? [...hn.ips] : [], labels: {}, podCIDRs: [] });
  }

  const policies: NetworkPolicyModel[] = [];
  const extra: RawManifest[] = [];
  list(c, root.policies, ['policies'], 'policies').forEach((o, i) => {
    const p = ['policies', i];
    if (!isObj(o)) return c.error(p, 'wrong-type', 'each policy is a NetworkPolicy (or CiliumNetworkPolicy) manifest');
    const kind = o.kind;
    if (kind === 'NetworkPolicy') {
      if (o.apiVersion !== 'networking.k8s.io/v1') c.error([...p, 'apiVersion'], 'invalid-value', `NetworkPolicy apiVersion must be networking.k8s.io/v1 (got ${JSON.stringify(o.apiVersion)})`);
      const np = networkPolicy(c, o, p);
      if (np) {
        if (policies.some((x) => x.namespace === np.namespace && x.name === np.name)) c.error([...p, 'metadata', 'name'], 'duplicate', `NetworkPolicy ${np.namespace}/${np.name} is defined twice`);
        policies.push(np);
      }
    } else if (kind === 'CiliumNetworkPolicy') {
      const md = isObj(o.metadata) ? o.metadata : {};
      const name = str(c, md.name, [...p, 'metadata', 'name'], 'metadata.name') ?? '';
      extra.push({ apiVersion: String(o.apiVersion ?? ''), kind, namespace: typeof md.namespace === 'string' ? md.namespace : 'default', name, object: o, origin: { file, ...c.pos(p), path: pathText(p) } });
    } else {
      c.error([...p, 'kind'], 'invalid-value', `policies[${i}]: kind must be NetworkPolicy or CiliumNetworkPolicy (got ${JSON.stringify(kind)})`);
    }
  });

  const queries: ScenarioQuery[] = [];
  list(c, root.queries, ['queries'], 'queries').forEach((q, i) => {
    const p = ['queries', i];
    if (!isObj(q)) return c.error(p, 'wrong-type', 'each query is a map with from, to, port, protocol');
    checkKeys(c, q, p, ['from', 'to', 'port', 'protocol', 'http'], 'query');
    const from = endpointRef(c, q.from, [...p, 'from'], 'from');
    const to = endpointRef(c, q.to, [...p, 'to'], 'to');
    const port = portNumber(c, q.port, [...p, 'port'], 'port');
    const proto = protocol(c, q.protocol, [...p, 'protocol'], 'query');
    let http: HttpRequestSpec | undefined;
    if (q.http !== undefined) {
      const hp = [...p, 'http'];
      if (!isObj(q.http)) c.error(hp, 'wrong-type', 'http is a map with method, path, headers');
      else {
        checkKeys(c, q.http, hp, ['method', 'path', 'headers'], 'http');
        http = {
          method: str(c, q.http.method, [...hp, 'method'], 'http.method') ?? 'GET',
          path: str(c, q.http.path, [...hp, 'path'], 'http.path') ?? '/',
          headers: labelMap(c, q.http.headers, [...hp, 'headers'], 'http.headers'),
        };
      }
    }
    for (const [ref, at] of [
      [from, 'from'],
      [to, 'to'],
    ] as const) {
      if (!ref || ref.startsWith('ip:')) continue;
      if (ref.startsWith('node:')) {
        if (!nodes.some((nd) => nd.name === ref.slice(5))) c.error([...p, at], 'unknown-node', `${at}: no node named ${ref.slice(5)}`, `Nodes: ${nodes.map((nd) => nd.name).join(', ') || '(none)'}.`);
      } else if (!pods.some((pd) => `${pd.namespace}/${pd.name}` === ref)) {
        c.error([...p, at], 'unknown-pod', `${at}: no pod ${ref} in the scenario`, 'Write namespace/name of a pod listed under pods:.');
      }
    }
    if (from && to && port !== undefined) queries.push({ from, to, port, protocol: proto, ...(http ? { http } : {}) });
  });

  const options: Scenario['options'] = {};
  if (root.options !== undefined) {
    if (!isObj(root.options)) c.error(['options'], 'wrong-type', 'options is a map');
    else {
      checkKeys(c, root.options, ['options'], ['ipBlockClusterIPs'], 'options');
      const m = root.options.ipBlockClusterIPs;
      if (m !== undefined) {
        if (m === 'match' || m === 'ignore') options.ipBlockClusterIPs = m;
        else c.error(['options', 'ipBlockClusterIPs'], 'invalid-value', 'options.ipBlockClusterIPs is "match" (reference reading, Calico) or "ignore" (Cilium)');
      }
    }
  }

  const dns: Record<string, string[]> = {};
  if (root.dns !== undefined) {
    if (!isObj(root.dns)) c.error(['dns'], 'wrong-type', 'dns is a map of name: [addresses] (answers the Cilium DNS proxy saw)');
    else
      for (const [name, ips] of Object.entries(root.dns)) {
        dns[name] = list(c, ips, ['dns', name], `dns.${name}`).map((ip, i) => {
          const t = String(ip);
          if (!parseIP(t)) c.error(['dns', name, i], 'invalid-ip', `dns.${name}[${i}]: "${t}" is not an IP address`);
          return canonicalIP(t);
        });
      }
  }

  const errors = c.diags.some((d) => d.severity === 'error');
  return {
    scenario: errors ? null : { topology: { namespaces, nodes, pods, networkPolicies: policies, extra }, queries, options, dns },
    diagnostics: c.diags,
  };
}
