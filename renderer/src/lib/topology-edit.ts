// Edits of the topology YAML text, as the designer makes them: find the
// document (or the header entry) that defines an element, show it as YAML,
// replace it, add and remove elements. Everything goes through the text so
// that the session stores exactly what the user can read, comments and
// formatting of untouched documents survive, and the loader (core/model) stays
// the one judge of what the topology means. Pure: no DOM.

import { LineCounter, YAMLSeq, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, stringify, type Document } from 'yaml';

export type ElementKind = 'node' | 'namespace' | 'pod' | 'deployment' | 'service' | 'policy';

export interface ElementRef {
  kind: ElementKind;
  name: string;
  /** Namespace of namespaced kinds (pod, deployment, service, policy). */
  namespace?: string;
}

/** Kubernetes kind and API group of each element kind written as a manifest. */
const MANIFEST_KIND: Record<Exclude<ElementKind, 'node'>, { kind: string; apiVersion: string }> = {
  namespace: { kind: 'Namespace', apiVersion: 'v1' },
  pod: { kind: 'Pod', apiVersion: 'v1' },
  deployment: { kind: 'Deployment', apiVersion: 'apps/v1' },
  service: { kind: 'Service', apiVersion: 'v1' },
  policy: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
};

const KIND_OF_MANIFEST: Record<string, Exclude<ElementKind, 'node'>> = {
  Namespace: 'namespace',
  Pod: 'pod',
  Deployment: 'deployment',
  Service: 'service',
  NetworkPolicy: 'policy',
};

export const TOPOLOGY_API_VERSION = 'netlab.dev/v1alpha1';

/** The text of a new, empty topology: cluster settings, no nodes yet. */
export function emptyTopology(name = 'my-cluster', cni = 'calico-vxlan'): string {
  return [
    `# A topology built in the designer. Nodes live in this Topology document;`,
    `# namespaces, pods, Services and NetworkPolicies follow as plain manifests.`,
    `apiVersion: ${TOPOLOGY_API_VERSION}`,
    `kind: Topology`,
    `metadata:`,
    `  name: ${name}`,
    `cluster:`,
    `  cni: ${cni}`,
    `  clusterCIDR: 10.244.0.0/16`,
    `  serviceCIDR: 10.96.0.0/12`,
    `  nodeCIDR: 10.0.0.0/16`,
    `  kubeProxy: iptables`,
    `nodes: []`,
    ``,
  ].join('\n');
}

export function refId(ref: ElementRef): string {
  switch (ref.kind) {
    case 'node':
      return `node/${ref.name}`;
    case 'namespace':
      return `ns/${ref.name}`;
    case 'pod':
      return `pod/${ref.namespace ?? 'default'}/${ref.name}`;
    case 'deployment':
      return `deploy/${ref.namespace ?? 'default'}/${ref.name}`;
    case 'service':
      return `svc/${ref.namespace ?? 'default'}/${ref.name}`;
    case 'policy':
      return `netpol/${ref.namespace ?? 'default'}/${ref.name}`;
  }
}

const PREFIX_KIND: Record<string, ElementKind> = { node: 'node', ns: 'namespace', pod: 'pod', deploy: 'deployment', svc: 'service', netpol: 'policy' };

/** The inverse of refId (graph element ids use the same form). */
export function refFromId(id: string): ElementRef | null {
  const parts = id.split('/');
  const kind = PREFIX_KIND[parts[0]];
  if (!kind) return null;
  if (kind === 'node' || kind === 'namespace') return parts.length === 2 && parts[1] ? { kind, name: parts[1] } : null;
  return parts.length === 3 && parts[1] && parts[2] ? { kind, namespace: parts[1], name: parts[2] } : null;
}

export function describeRef(ref: ElementRef): string {
  const label: Record<ElementKind, string> = { node: 'node', namespace: 'namespace', pod: 'pod', deployment: 'Deployment', service: 'Service', policy: 'NetworkPolicy' };
  return `${label[ref.kind]} ${ref.namespace && ref.kind !== 'node' && ref.kind !== 'namespace' ? `${ref.namespace}/` : ''}${ref.name}`;
}

type Seg = string | number;

/** Where an element is defined: a document, and a path inside it ([] = the whole document). */
export interface Located {
  docIndex: number;
  path: Seg[];
  /** Character range of the document's segment (from its `---` to the next one). */
  segment: [number, number];
  /** Character range of the element's own YAML (top-level documents: the document body). */
  range: [number, number];
  /** True when the element is a top-level document (its text can be spliced as is). */
  topLevel: boolean;
}

interface Parsed {
  text: string;
  docs: Document.Parsed[];
  /** Segment start of each document. */
  starts: number[];
}

function parse(text: string): Parsed {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const starts = list.map((d, i) => (i === 0 ? 0 : d.range[0]));
  return { text, docs: list, starts };
}

function segmentOf(p: Parsed, i: number): [number, number] {
  return [p.starts[i], i + 1 < p.starts.length ? p.starts[i + 1] : p.text.length];
}

function plain(doc: Document.Parsed): Record<string, unknown> | null {
  if (doc.errors.length) return null;
  try {
    const js: unknown = doc.toJS({ maxAliasCount: 1000 });
    return js && typeof js === 'object' && !Array.isArray(js) ? (js as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Does a manifest object define this element? Namespaced kinds default to `default`. */
function manifestMatches(o: Record<string, unknown>, ref: ElementRef): boolean {
  if (ref.kind === 'node') return false;
  const want = MANIFEST_KIND[ref.kind];
  if (o.kind !== want.kind) return false;
  const md = (o.metadata ?? {}) as Record<string, unknown>;
  if (str(md.name) !== ref.name) return false;
  if (ref.kind === 'namespace') return true;
  return (str(md.namespace) ?? 'default') === (ref.namespace ?? 'default');
}

function nodeRange(doc: Document.Parsed, path: Seg[]): [number, number] | null {
  const n = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return n?.range ? [n.range[0], n.range[2]] : null;
}

/** Find where an element is defined. */
export function locate(text: string, ref: ElementRef): Located | null {
  return locateIn(parse(text), ref);
}

function locateIn(p: Parsed, ref: ElementRef): Located | null {
  for (let i = 0; i < p.docs.length; i++) {
    const doc = p.docs[i];
    const o = plain(doc);
    if (!o) continue;
    const segment = segmentOf(p, i);
    if (o.kind === 'Topology') {
      if (ref.kind === 'node' && Array.isArray(o.nodes)) {
        const j = o.nodes.findIndex((n) => n && typeof n === 'object' && (n as Record<string, unknown>).name === ref.name);
        if (j >= 0) return { docIndex: i, path: ['nodes', j], segment, range: nodeRange(doc, ['nodes', j]) ?? segment, topLevel: false };
      }
      if (Array.isArray(o.manifests)) {
        const j = o.manifests.findIndex((m) => m && typeof m === 'object' && manifestMatches(m as Record<string, unknown>, ref));
        if (j >= 0) return { docIndex: i, path: ['manifests', j], segment, range: nodeRange(doc, ['manifests', j]) ?? segment, topLevel: false };
      }
      continue;
    }
    if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      const j = o.items.findIndex((m) => m && typeof m === 'object' && manifestMatches(m as Record<string, unknown>, ref));
      if (j >= 0) return { docIndex: i, path: ['items', j], segment, range: nodeRange(doc, ['items', j]) ?? segment, topLevel: false };
      continue;
    }
    if (ref.kind === 'node') {
      if (o.kind === 'Node' && str((o.metadata as Record<string, unknown> | undefined)?.name) === ref.name) {
        return { docIndex: i, path: [], segment, range: bodyRange(p, i), topLevel: true };
      }
      continue;
    }
    if (manifestMatches(o, ref)) return { docIndex: i, path: [], segment, range: bodyRange(p, i), topLevel: true };
  }
  return null;
}

function bodyRange(p: Parsed, i: number): [number, number] {
  const seg = segmentOf(p, i);
  const c = p.docs[i].contents as { range?: [number, number, number] } | null;
  if (!c?.range) return seg;
  // The body runs to the end of the segment, so trailing comments stay with it.
  return [c.range[0], seg[1]];
}

/** The YAML of one element, as shown in its editor. */
export function elementYaml(text: string, ref: ElementRef): string | null {
  const p = parse(text);
  const at = locateIn(p, ref);
  if (!at) return null;
  if (at.topLevel) return ensureNewline(p.text.slice(at.range[0], at.range[1]).replace(/\s+$/, ''));
  // Nested entries are shown in block style, the way the editor writes them back.
  let value: unknown = plain(p.docs[at.docIndex]);
  for (const seg of at.path) value = (value as Record<string | number, unknown> | undefined)?.[seg];
  return stringify(value, { lineWidth: 0 });
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** A problem with a YAML snippet itself (before the loader sees it). */
export interface SnippetError {
  message: string;
  line: number;
  column: number;
}

/** Parse one element's YAML; syntax errors come back with their place in the snippet. */
export function parseSnippet(snippet: string): { value: unknown; errors: SnippetError[] } {
  const lc = new LineCounter();
  const doc = parseDocument(snippet, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors = doc.errors.map((e) => {
    const pos = lc.linePos(e.pos[0]);
    return { message: e.message.split('\n')[0], line: pos.line, column: pos.col };
  });
  if (errors.length) return { value: null, errors };
  return { value: doc.toJS({ maxAliasCount: 1000 }), errors: [] };
}

/** The result of replacing an element: the new text and where the element now starts (for mapping diagnostics). */
export interface Replaced {
  text: string;
  /** 1-based line in `text` where the element's YAML begins. */
  startLine: number;
  /** Number of lines the element occupies. */
  lineCount: number;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function countLines(s: string): number {
  const t = s.replace(/\n$/, '');
  return t === '' ? 1 : t.split('\n').length;
}

/**
 * Replace an element's YAML with `snippet`. Top-level documents are spliced as
 * text; header entries (nodes, manifests in a Topology, items of a List) are
 * set through the YAML document so the rest of it keeps its formatting.
 * Throws EditError when the element is gone or the snippet does not parse.
 */
export function replaceElement(text: string, ref: ElementRef, snippet: string): Replaced {
  const p = parse(text);
  const at = locateIn(p, ref);
  if (!at) throw new EditError(`${describeRef(ref)} is no longer in the topology.`, 'It was renamed or removed (perhaps by an undo); pick it again on the canvas.');
  if (at.topLevel) {
    const body = ensureNewline(snippet.replace(/\s+$/, ''));
    const out = p.text.slice(0, at.range[0]) + body + p.text.slice(at.range[1]);
    return { text: out, startLine: lineOf(out, at.range[0]), lineCount: countLines(body) };
  }
  const parsed = parseSnippet(snippet);
  if (parsed.errors.length) throw new EditError(`The YAML does not parse: ${parsed.errors[0].message} (line ${parsed.errors[0].line}).`);
  const doc = p.docs[at.docIndex];
  const node = doc.createNode(parsed.value);
  if (isMap(node) || isSeq(node)) node.flow = false;
  doc.setIn(at.path, node);
  const out = spliceDoc(p, at.docIndex, doc);
  const again = parse(out);
  const r = nodeRange(again.docs[at.docIndex], at.path);
  const start = r ? r[0] : again.starts[at.docIndex];
  return { text: out, startLine: lineOf(out, start), lineCount: countLines(snippet) };
}

/** Replace a document's segment with the document's own serialisation. */
function spliceDoc(p: Parsed, i: number, doc: Document.Parsed | Document): string {
  const [a, b] = segmentOf(p, i);
  let body = doc.toString({ lineWidth: 0 });
  if (i > 0 && !/^---/.test(body)) body = `---\n${body}`;
  return p.text.slice(0, a) + body + p.text.slice(b);
}

export class EditError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'EditError';
  }
}

/** Append a manifest as a new document. */
export function addManifest(text: string, manifest: Record<string, unknown>): string {
  const body = stringify(manifest, { lineWidth: 0, aliasDuplicateObjects: false });
  return appendDocument(text, body);
}

/** Append raw YAML (one document) to the topology. */
export function appendDocument(text: string, body: string): string {
  const trimmed = text.replace(/\s+$/, '');
  const doc = ensureNewline(body.replace(/^---\s*\n/, '').replace(/\s+$/, ''));
  if (trimmed === '') return doc;
  return `${trimmed}\n---\n${doc}`;
}

/** Remove an element: its whole document, or its entry in a header / List. */
export function removeElement(text: string, ref: ElementRef): string {
  const p = parse(text);
  const at = locateIn(p, ref);
  if (!at) throw new EditError(`${describeRef(ref)} is not in the topology.`);
  if (!at.topLevel) {
    const doc = p.docs[at.docIndex];
    doc.deleteIn(at.path);
    return spliceDoc(p, at.docIndex, doc);
  }
  return removeDocs(p, [at.docIndex]);
}

function removeDocs(p: Parsed, indexes: number[]): string {
  const drop = new Set(indexes);
  const kept: string[] = [];
  for (let i = 0; i < p.docs.length; i++) {
    if (drop.has(i)) continue;
    const [a, b] = segmentOf(p, i);
    let seg = p.text.slice(a, b);
    // The first kept document needs no `---`; later ones need one.
    if (kept.length === 0) seg = seg.replace(/^---[ \t]*\n/, '');
    else if (!/^---/.test(seg)) seg = `---\n${seg}`;
    kept.push(ensureNewline(seg.replace(/\s+$/, '')));
  }
  return kept.join('');
}

/** Remove several elements in one edit (a node with its pods, a namespace with its objects). */
export function removeElements(text: string, refs: ElementRef[]): string {
  // Entries inside documents first (they do not shift document indexes), then whole documents at once.
  let out = text;
  const p0 = parse(out);
  const nested = refs.filter((r) => {
    const at = locateIn(p0, r);
    return at && !at.topLevel;
  });
  for (const r of nested) out = removeElement(out, r);
  const p = parse(out);
  const docs = refs
    .filter((r) => !nested.includes(r))
    .map((r) => locateIn(p, r))
    .filter((at): at is Located => !!at && at.topLevel)
    .map((at) => at.docIndex);
  return docs.length ? removeDocs(p, docs) : out;
}

// ---------------------------------------------------------------------------
// Nodes live in the Topology document's `nodes:` list.

export interface NodeSpec {
  name: string;
  ip?: string;
  zone?: string;
  labels?: Record<string, string>;
}

function headerIndex(p: Parsed): number {
  return p.docs.findIndex((d) => plain(d)?.kind === 'Topology');
}

function nodeEntry(n: NodeSpec): Record<string, unknown> {
  const o: Record<string, unknown> = { name: n.name };
  if (n.ip) o.ip = n.ip;
  if (n.zone) o.zone = n.zone;
  if (n.labels && Object.keys(n.labels).length) o.labels = { ...n.labels };
  return o;
}

/** Add a node to the Topology document (created when the text has none). */
export function addNode(text: string, n: NodeSpec): string {
  const p = parse(text);
  const h = headerIndex(p);
  if (h < 0) {
    const header = stringify({ apiVersion: TOPOLOGY_API_VERSION, kind: 'Topology', metadata: { name: 'my-cluster' }, nodes: [nodeEntry(n)] }, { lineWidth: 0 });
    const rest = text.replace(/^\s*---\s*\n/, '');
    return rest.trim() ? `${header}---\n${rest}` : header;
  }
  const doc = p.docs[h];
  const o = plain(doc) ?? {};
  if (Array.isArray(o.nodes) && o.nodes.some((x) => x && typeof x === 'object' && (x as Record<string, unknown>).name === n.name)) {
    throw new EditError(`There is already a node named ${n.name}.`, 'Node names are unique; pick another name.');
  }
  const entry = doc.createNode(nodeEntry(n));
  if (isMap(entry)) entry.flow = true;
  const seq = doc.get('nodes', true);
  if (isSeq(seq)) {
    // `nodes: []` is a flow sequence; once it has entries, write it as a block list of flow maps.
    if (seq.items.length === 0) seq.flow = false;
    seq.items.push(entry);
  } else {
    const list = new YAMLSeq<unknown>();
    list.items.push(entry);
    doc.set('nodes', list);
  }
  return spliceDoc(p, h, doc);
}

/** Change fields of a node in the Topology document (undefined removes a field). */
export function updateNode(text: string, name: string, n: NodeSpec): string {
  const p = parse(text);
  const at = locateIn(p, { kind: 'node', name });
  if (!at) throw new EditError(`node ${name} is not in the topology.`);
  if (at.topLevel) {
    // A kind: Node manifest: set metadata and the InternalIP address.
    const doc = p.docs[at.docIndex];
    doc.setIn(['metadata', 'name'], n.name);
    if (n.labels) doc.setIn(['metadata', 'labels'], { ...n.labels });
    if (n.ip) doc.setIn(['status', 'addresses'], [{ type: 'InternalIP', address: n.ip }]);
    return spliceDoc(p, at.docIndex, doc);
  }
  const doc = p.docs[at.docIndex];
  const current = (doc.getIn(at.path, false) as { toJSON?: () => unknown } | undefined)?.toJSON?.() as Record<string, unknown> | undefined;
  const next: Record<string, unknown> = { ...(current ?? {}), name: n.name };
  for (const k of ['ip', 'zone'] as const) {
    if (n[k]) next[k] = n[k];
    else delete next[k];
  }
  if (n.ip) delete next.ips;
  if (n.labels && Object.keys(n.labels).length) next.labels = { ...n.labels };
  else delete next.labels;
  const node = doc.createNode(next);
  if (isMap(node)) node.flow = true;
  doc.setIn(at.path, node);
  return spliceDoc(p, at.docIndex, doc);
}

/** Set one field of the Topology's `cluster:` settings (e.g. cni → calico-vxlan). */
export function setClusterSetting(text: string, key: string, value: unknown): string {
  const p = parse(text);
  const h = headerIndex(p);
  if (h < 0) throw new EditError('The topology has no Topology document to hold cluster settings.', 'Add a node first; that creates one.');
  const doc = p.docs[h];
  doc.setIn(['cluster', key], value);
  return spliceDoc(p, h, doc);
}

// ---------------------------------------------------------------------------
// Manifests made by the designer's forms.

export interface PortSpec {
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
}

export interface PodSpec {
  namespace: string;
  name: string;
  nodeName: string;
  labels: Record<string, string>;
  ports: PortSpec[];
  image?: string;
}

export function podManifest(s: PodSpec): Record<string, unknown> {
  const container: Record<string, unknown> = { name: 'main', image: s.image ?? 'registry.k8s.io/e2e-test-images/agnhost:2.52' };
  if (s.ports.length) container.ports = s.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol }));
  const md: Record<string, unknown> = { name: s.name, namespace: s.namespace };
  if (Object.keys(s.labels).length) md.labels = { ...s.labels };
  return { apiVersion: 'v1', kind: 'Pod', metadata: md, spec: { nodeName: s.nodeName, containers: [container] } };
}

/**
 * Apply a pod form to an existing Pod document: name, node, labels and the
 * first container's ports. A pod moved to another node loses its status
 * address (the new node's IPAM hands out one from its own pod CIDR).
 */
export function updatePod(text: string, ref: ElementRef, s: PodSpec): string {
  const p = parse(text);
  const at = locateIn(p, ref);
  if (!at) throw new EditError(`${describeRef(ref)} is not in the topology.`);
  const doc = p.docs[at.docIndex];
  const base = at.path;
  const get = (path: Seg[]) => doc.getIn([...base, ...path], false) as unknown;
  const oldNode = get(['spec', 'nodeName']);
  doc.setIn([...base, 'metadata', 'name'], s.name);
  doc.setIn([...base, 'metadata', 'namespace'], s.namespace);
  if (Object.keys(s.labels).length) doc.setIn([...base, 'metadata', 'labels'], doc.createNode({ ...s.labels }));
  else if (doc.hasIn([...base, 'metadata', 'labels'])) doc.deleteIn([...base, 'metadata', 'labels']);
  doc.setIn([...base, 'spec', 'nodeName'], s.nodeName);
  const ports = s.ports.map((x) => ({ ...(x.name ? { name: x.name } : {}), containerPort: x.containerPort, protocol: x.protocol }));
  if (!doc.hasIn([...base, 'spec', 'containers', 0])) doc.setIn([...base, 'spec', 'containers'], doc.createNode([{ name: 'main' }]));
  if (ports.length) doc.setIn([...base, 'spec', 'containers', 0, 'ports'], doc.createNode(ports));
  else if (doc.hasIn([...base, 'spec', 'containers', 0, 'ports'])) doc.deleteIn([...base, 'spec', 'containers', 0, 'ports']);
  if (oldNode !== undefined && String(isScalar(oldNode) ? oldNode.value : oldNode) !== s.nodeName && doc.hasIn([...base, 'status'])) {
    doc.deleteIn([...base, 'status']);
  }
  return spliceDoc(p, at.docIndex, doc);
}

export interface ServicePortSpec {
  port: number;
  targetPort: number | string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
  nodePort?: number;
}

export interface ServiceSpec {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  selector: Record<string, string>;
  ports: ServicePortSpec[];
}

export function serviceManifest(s: ServiceSpec): Record<string, unknown> {
  const ports = s.ports.map((p, i) => ({
    name: p.name ?? (s.ports.length > 1 ? `port-${i}` : undefined),
    protocol: p.protocol,
    port: p.port,
    targetPort: p.targetPort,
    ...(p.nodePort ? { nodePort: p.nodePort } : {}),
  }));
  for (const p of ports) if (p.name === undefined) delete p.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace },
    spec: { type: s.type, selector: { ...s.selector }, ports },
  };
}

/** Apply a Service form to an existing Service document (other fields are kept). */
export function updateService(text: string, ref: ElementRef, s: ServiceSpec): string {
  const p = parse(text);
  const at = locateIn(p, ref);
  if (!at) throw new EditError(`${describeRef(ref)} is not in the topology.`);
  const doc = p.docs[at.docIndex];
  const base = at.path;
  const m = serviceManifest(s) as { spec: Record<string, unknown> };
  doc.setIn([...base, 'metadata', 'name'], s.name);
  doc.setIn([...base, 'metadata', 'namespace'], s.namespace);
  doc.setIn([...base, 'spec', 'type'], s.type);
  if (Object.keys(s.selector).length) doc.setIn([...base, 'spec', 'selector'], doc.createNode(m.spec.selector));
  else if (doc.hasIn([...base, 'spec', 'selector'])) doc.deleteIn([...base, 'spec', 'selector']);
  doc.setIn([...base, 'spec', 'ports'], doc.createNode(m.spec.ports));
  return spliceDoc(p, at.docIndex, doc);
}

export function namespaceManifest(name: string, labels: Record<string, string>): Record<string, unknown> {
  const md: Record<string, unknown> = { name };
  if (Object.keys(labels).length) md.labels = { ...labels };
  return { apiVersion: 'v1', kind: 'Namespace', metadata: md };
}

/** Set a namespace's labels (creating its Namespace document when the namespace was only implied). */
export function updateNamespace(text: string, name: string, labels: Record<string, string>): string {
  const p = parse(text);
  const at = locateIn(p, { kind: 'namespace', name });
  if (!at) return addManifest(text, namespaceManifest(name, labels));
  const doc = p.docs[at.docIndex];
  const base = at.path;
  const clean = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'kubernetes.io/metadata.name'));
  if (Object.keys(clean).length) doc.setIn([...base, 'metadata', 'labels'], doc.createNode(clean));
  else if (doc.hasIn([...base, 'metadata', 'labels'])) doc.deleteIn([...base, 'metadata', 'labels']);
  return spliceDoc(p, at.docIndex, doc);
}

/** A NetworkPolicy to start from: default-deny ingress for the pods matching `podLabels` (all pods when empty). */
export function policyTemplate(namespace: string, name: string, podLabels: Record<string, string> = {}): string {
  const selector = Object.keys(podLabels).length ? { matchLabels: { ...podLabels } } : {};
  return stringify(
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec: { podSelector: selector, policyTypes: ['Ingress'], ingress: [] },
    },
    { lineWidth: 0 },
  );
}

/** Every element defined in the text, in document order (what the explorer lists). */
export function listElements(text: string): ElementRef[] {
  const p = parse(text);
  const out: ElementRef[] = [];
  const manifest = (o: Record<string, unknown>) => {
    const kind = KIND_OF_MANIFEST[String(o.kind)];
    const md = (o.metadata ?? {}) as Record<string, unknown>;
    const name = str(md.name);
    if (!kind || !name) {
      if (o.kind === 'Node' && name) out.push({ kind: 'node', name });
      return;
    }
    out.push(kind === 'namespace' ? { kind, name } : { kind, name, namespace: str(md.namespace) ?? 'default' });
  };
  for (const doc of p.docs) {
    const o = plain(doc);
    if (!o) continue;
    if (o.kind === 'Topology') {
      if (Array.isArray(o.nodes)) for (const n of o.nodes) if (n && typeof n === 'object' && typeof (n as Record<string, unknown>).name === 'string') out.push({ kind: 'node', name: String((n as Record<string, unknown>).name) });
      if (Array.isArray(o.manifests)) for (const m of o.manifests) if (m && typeof m === 'object') manifest(m as Record<string, unknown>);
    } else if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      for (const m of o.items) if (m && typeof m === 'object') manifest(m as Record<string, unknown>);
    } else manifest(o);
  }
  return out;
}

/** The ref a snippet defines (kind + metadata), or null when it is not one of the designer's kinds. */
export function refOfSnippet(value: unknown): ElementRef | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const kind = KIND_OF_MANIFEST[String(o.kind)];
  const md = (o.metadata ?? {}) as Record<string, unknown>;
  const name = str(md.name);
  if (!kind || !name) return null;
  return kind === 'namespace' ? { kind, name } : { kind, name, namespace: str(md.namespace) ?? 'default' };
}
