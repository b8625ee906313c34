import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../../core/model';
import {
  EditError,
  addManifest,
  addNode,
  appendDocument,
  elementYaml,
  emptyTopology,
  listElements,
  locate,
  namespaceManifest,
  podManifest,
  policyTemplate,
  refFromId,
  refId,
  removeElement,
  removeElements,
  replaceElement,
  serviceManifest,
  setClusterSetting,
  updateNamespace,
  updateNode,
  updatePod,
  updateService,
} from '../../../renderer/src/lib/topology-edit';

const seed = readFileSync(join(__dirname, '../../../resources/samples/seed.yaml'), 'utf8');
const load = (text: string) => loadTopology({ file: 'topology.yaml', text });
const errors = (text: string) => load(text).diagnostics.filter((d) => d.severity === 'error');

describe('building a topology from nothing', () => {
  it('adds a node, a namespace, two pods and a Service that the loader reads back', () => {
    let t = emptyTopology('lab');
    t = addNode(t, { name: 'worker-1', ip: '10.0.1.10' });
    t = addNode(t, { name: 'worker-2' });
    t = addManifest(t, namespaceManifest('shop', { team: 'blue' }));
    t = addManifest(t, podManifest({ namespace: 'shop', name: 'web', nodeName: 'worker-1', labels: { app: 'web' }, ports: [{ containerPort: 8080, protocol: 'TCP' }] }));
    t = addManifest(t, podManifest({ namespace: 'shop', name: 'db', nodeName: 'worker-2', labels: { app: 'db' }, ports: [{ containerPort: 5432, protocol: 'TCP', name: 'pg' }] }));
    t = addManifest(t, serviceManifest({ namespace: 'shop', name: 'db', type: 'ClusterIP', selector: { app: 'db' }, ports: [{ port: 5432, targetPort: 'pg', protocol: 'TCP' }] }));
    expect(errors(t)).toEqual([]);
    const topo = load(t).topology!;
    expect(topo.nodes.map((n) => n.name)).toEqual(['worker-1', 'worker-2']);
    expect(topo.nodes[0].ips).toEqual(['10.0.1.10']);
    expect(topo.namespaces.find((n) => n.name === 'shop')?.labels.team).toBe('blue');
    const db = topo.pods.find((p) => p.name === 'db')!;
    expect(db.labels).toEqual({ app: 'db' });
    expect(db.ports).toMatchObject([{ containerPort: 5432, protocol: 'TCP', name: 'pg' }]);
    expect(db.ips.length).toBe(1);
    const svc = topo.services.find((s) => s.name === 'db')!;
    expect(svc.clusterIPs.length).toBe(1);
    // The EndpointSlice controller's view: the named target port resolves to db's 5432.
    const slice = topo.endpointSlices.find((s) => s.serviceName === 'db')!;
    expect(slice.endpoints.map((e) => e.addresses[0])).toEqual(db.ips);
    expect(slice.ports[0].port).toBe(5432);
    expect(listElements(t).map(refId)).toEqual(['node/worker-1', 'node/worker-2', 'ns/shop', 'pod/shop/web', 'pod/shop/db', 'svc/shop/db']);
  });

  it('creates a Topology document when the text has none', () => {
    const t = addNode('', { name: 'n1', ip: '10.0.0.5' });
    expect(load(t).topology!.nodes.map((n) => n.name)).toEqual(['n1']);
    const withPod = addNode(appendDocument('', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: n1, containers: [{name: c}]}\n'), { name: 'n1' });
    expect(errors(withPod)).toEqual([]);
    expect(load(withPod).topology!.pods.map((p) => p.nodeName)).toEqual(['n1']);
  });

  it('refuses a second node with the same name', () => {
    const t = addNode(emptyTopology(), { name: 'a' });
    expect(() => addNode(t, { name: 'a' })).toThrow(EditError);
  });
});

describe('editing the seed sample', () => {
  it('locates documents and header entries, and shows them as YAML', () => {
    expect(locate(seed, { kind: 'pod', namespace: 'default', name: 'pod-a' })?.topLevel).toBe(true);
    expect(locate(seed, { kind: 'node', name: 'node-2' })?.path).toEqual(['nodes', 1]);
    expect(locate(seed, { kind: 'pod', namespace: 'kube-system', name: 'pod-a' })).toBeNull();
    const y = elementYaml(seed, { kind: 'service', namespace: 'default', name: 'backend' })!;
    expect(y).toMatch(/^apiVersion: v1\nkind: Service\n/);
    expect(y).toContain('clusterIP: 10.96.5.20');
    expect(elementYaml(seed, { kind: 'node', name: 'node-2' })).toBe('name: node-2\nip: 10.0.1.6\nzone: zone-b\n');
  });

  it('replaces a document and keeps every other byte, comments included', () => {
    const ref = { kind: 'pod' as const, namespace: 'default', name: 'pod-b' };
    const before = elementYaml(seed, ref)!;
    const after = before.replace('app: worker', 'app: worker\n    tier: batch');
    const r = replaceElement(seed, ref, after);
    expect(r.text).toContain('# The scenario of the domain reference');
    expect(r.text.replace('\n    tier: batch', '')).toBe(seed);
    expect(load(r.text).topology!.pods.find((p) => p.name === 'pod-b')!.labels).toEqual({ app: 'worker', tier: 'batch' });
    // The element starts where its apiVersion line is in the new text.
    expect(r.text.split('\n')[r.startLine - 1]).toBe('apiVersion: v1');
    expect(r.lineCount).toBe(after.trimEnd().split('\n').length);
  });

  it('maps the loader diagnostics of a bad edit back into the element', () => {
    const ref = { kind: 'service' as const, namespace: 'default', name: 'backend' };
    const bad = elementYaml(seed, ref)!.replace('targetPort: 8080', 'targetPort: 99999');
    const r = replaceElement(seed, ref, bad);
    const d = errors(r.text).find((x) => x.line !== undefined && x.line >= r.startLine && x.line < r.startLine + r.lineCount);
    expect(d, JSON.stringify(errors(r.text))).toBeDefined();
    const local = d!.line! - r.startLine + 1;
    expect(bad.split('\n')[local - 1]).toContain('targetPort: 99999');
  });

  it('replaces a node entry in the Topology header', () => {
    const r = replaceElement(seed, { kind: 'node', name: 'node-3' }, 'name: node-3\nip: 10.0.1.70\nzone: zone-c\n');
    const topo = load(r.text).topology!;
    expect(topo.nodes.find((n) => n.name === 'node-3')!.ips).toEqual(['10.0.1.70']);
    expect(r.text.split('\n')[r.startLine - 1]).toContain('name: node-3');
    expect(r.text).toContain('- { name: node-1, ip: 10.0.1.5, zone: zone-a }');
  });

  it('updates nodes, pods, Services and namespaces from form values', () => {
    let t = updateNode(seed, 'node-1', { name: 'node-1', ip: '10.0.1.5', zone: 'zone-z', labels: { role: 'edge' } });
    let topo = load(t).topology!;
    expect(topo.nodes[0].zone).toBe('zone-z');
    expect(topo.nodes[0].labels.role).toBe('edge');
    // Moving pod-a to node-3 drops its seed address: IPAM gives it one in node-3's CIDR.
    t = updatePod(t, { kind: 'pod', namespace: 'default', name: 'pod-a' }, { namespace: 'default', name: 'pod-a', nodeName: 'node-3', labels: { app: 'client', tier: 'x' }, ports: [{ containerPort: 9000, protocol: 'UDP' }] });
    topo = load(t).topology!;
    const a = topo.pods.find((p) => p.name === 'pod-a')!;
    expect(a.nodeName).toBe('node-3');
    expect(a.ips[0]).toMatch(/^10\.244\.3\./);
    expect(a.ports).toMatchObject([{ containerPort: 9000, protocol: 'UDP' }]);
    t = updateService(t, { kind: 'service', namespace: 'default', name: 'backend' }, { namespace: 'default', name: 'backend', type: 'NodePort', selector: { app: 'backend' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
    topo = load(t).topology!;
    const svc = topo.services.find((s) => s.name === 'backend')!;
    expect(svc.type).toBe('NodePort');
    expect(svc.clusterIPs).toEqual(['10.96.5.20']);
    t = updateNamespace(t, 'default', { env: 'prod' });
    expect(load(t).topology!.namespaces.find((n) => n.name === 'default')!.labels.env).toBe('prod');
    expect(errors(t)).toEqual([]);
  });

  it('adds a policy from the template and the loader reads it', () => {
    const t = appendDocument(seed, policyTemplate('default', 'deny-backend', { app: 'backend' }));
    const topo = load(t).topology!;
    expect(topo.networkPolicies).toHaveLength(1);
    expect(topo.networkPolicies[0].podSelector).toEqual({ matchLabels: { app: 'backend' } });
    expect(topo.networkPolicies[0].ingress).toEqual([]);
  });

  it('removes documents and header entries', () => {
    let t = removeElement(seed, { kind: 'pod', namespace: 'default', name: 'pod-c' });
    expect(load(t).topology!.pods.map((p) => p.name)).not.toContain('pod-c');
    expect(errors(t)).toEqual([]);
    t = removeElements(t, [
      { kind: 'node', name: 'node-3' },
      { kind: 'pod', namespace: 'default', name: 'backend-2' },
      { kind: 'service', namespace: 'kube-system', name: 'kube-dns' },
    ]);
    const topo = load(t).topology!;
    expect(topo.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2']);
    expect(topo.pods.map((p) => p.name)).not.toContain('backend-2');
    expect(topo.services.map((s) => s.name)).not.toContain('kube-dns');
    expect(errors(t)).toEqual([]);
    // The file comment of the first document survives.
    expect(t.startsWith('# The scenario')).toBe(true);
    // Removing the first manifest document leaves no leading `---`.
    const noHeader = removeElement('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n', { kind: 'namespace', name: 'a' });
    expect(noHeader).toBe('apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n');
  });

  it('edits manifests inside a kind: List', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Namespace\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Namespace\n    metadata: {name: b}\n';
    expect(elementYaml(list, { kind: 'namespace', name: 'b' })).toBe('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n');
    const r = replaceElement(list, { kind: 'namespace', name: 'b' }, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n  labels: {x: y}\n');
    expect(load(r.text).topology!.namespaces.find((n) => n.name === 'b')!.labels.x).toBe('y');
    expect(listElements(removeElement(list, { kind: 'namespace', name: 'a' })).map(refId)).toEqual(['ns/b']);
  });

  it('sets a cluster setting', () => {
    const t = setClusterSetting(seed, 'cni', 'calico-vxlan');
    expect(load(t).topology!.settings.cni).toMatchObject({ plugin: 'calico', mode: 'vxlan' });
  });
});

describe('element ids', () => {
  it('round-trips refs through ids', () => {
    for (const id of ['node/n1', 'ns/shop', 'pod/shop/web', 'svc/default/backend', 'netpol/a/b', 'deploy/x/y']) expect(refId(refFromId(id)!)).toBe(id);
    expect(refFromId('edge/x')).toBeNull();
    expect(refFromId('pod/only-one')).toBeNull();
  });
});

describe('drawing what the designer builds', () => {
  it('gives a node without pods a place of its own, right of the others', async () => {
    const { buildGraph } = await import('../../../renderer/src/graph/elements');
    const t = load(addNode(seed, { name: 'node-4', ip: '10.0.1.8' })).topology!;
    const g = buildGraph(t);
    const empty = g.elements.find((e) => e.data.id === 'node/node-4')!;
    expect(empty.position).toBeDefined();
    const maxPodX = Math.max(...g.elements.filter((e) => e.data.kind === 'pod').map((e) => e.position!.x));
    expect(empty.position!.x).toBeGreaterThan(maxPodX);
    // Nodes with pods are sized by them (no position of their own).
    expect(g.elements.find((e) => e.data.id === 'node/node-1')!.position).toBeUndefined();
  });
});

describe('flat drawing of large topologies', () => {
  it('turns nodes into boxes around their pods, and pods into plain nodes that remember their node', async () => {
    const { buildGraph } = await import('../../../renderer/src/graph/elements');
    const { flatten, NODE_MIN_WIDTH } = await import('../../../renderer/src/graph/flatten');
    const g = buildGraph(load(addNode(seed, { name: 'node-4' })).topology!);
    const flat = flatten(g.elements);
    expect(flat.filter((e) => e.data.parent)).toEqual([]);
    const podA = flat.find((e) => e.data.id === 'pod/default/pod-a')!;
    expect(podA.data.node).toBe('node/node-1');
    const n1 = flat.find((e) => e.data.id === 'node/node-1')!;
    const pods = flat.filter((e) => e.data.node === 'node/node-1');
    for (const p of pods) {
      expect(Math.abs(p.position!.x - n1.position!.x)).toBeLessThan(n1.data.w! / 2);
      expect(Math.abs(p.position!.y - n1.position!.y)).toBeLessThan(n1.data.h! / 2);
    }
    expect(n1.classes).toContain('flat');
    expect(n1.grabbable).toBe(false);
    const empty = flat.find((e) => e.data.id === 'node/node-4')!;
    expect(empty.data.w).toBe(NODE_MIN_WIDTH);
    expect(empty.position).toBeDefined();
  });

  it('frames the flat drawing from the model: the box holds every node box, pod card and Service tag, edge to edge', async () => {
    const { buildGraph, POD_BOX, SERVICE_BOX } = await import('../../../renderer/src/graph/elements');
    const { flatBounds, flatten } = await import('../../../renderer/src/graph/flatten');
    const flat = flatten(buildGraph(load(addNode(seed, { name: 'node-4' })).topology!).elements);
    const bb = flatBounds(flat)!;
    const boxes = flat
      .filter((e) => e.position && ['node', 'pod', 'service'].includes(String(e.data.kind)))
      .map((e) => {
        const s = e.data.kind === 'pod' ? POD_BOX : e.data.kind === 'service' ? SERVICE_BOX : { w: e.data.w!, h: e.data.h! };
        return { x1: e.position!.x - s.w / 2, x2: e.position!.x + s.w / 2, y1: e.position!.y - s.h / 2, y2: e.position!.y + s.h / 2 };
      });
    expect(boxes.length).toBeGreaterThan(5);
    for (const b of boxes) {
      expect(b.x1).toBeGreaterThanOrEqual(bb.x1);
      expect(b.x2).toBeLessThanOrEqual(bb.x2);
      expect(b.y1).toBeGreaterThanOrEqual(bb.y1);
      expect(b.y2).toBeLessThanOrEqual(bb.y2);
    }
    // Tight: some element touches each side.
    expect(Math.min(...boxes.map((b) => b.x1))).toBe(bb.x1);
    expect(Math.max(...boxes.map((b) => b.x2))).toBe(bb.x2);
    expect(Math.min(...boxes.map((b) => b.y1))).toBe(bb.y1);
    expect(Math.max(...boxes.map((b) => b.y2))).toBe(bb.y2);
    expect(bb.w).toBe(bb.x2 - bb.x1);
    expect(flatBounds([])).toBeNull();
  });
});

describe('default placement of large topologies', () => {
  it('wraps many nodes into rows and many Services into rows under them', async () => {
    const { buildGraph } = await import('../../../renderer/src/graph/elements');
    let t = emptyTopology('big');
    for (let i = 1; i <= 30; i++) t = addNode(t, { name: `n${i}` });
    for (let i = 0; i < 120; i++) t = addManifest(t, podManifest({ namespace: 'default', name: `p${i}`, nodeName: `n${(i % 30) + 1}`, labels: { app: `a${i}` }, ports: [] }));
    for (let i = 0; i < 120; i++) t = addManifest(t, serviceManifest({ namespace: 'default', name: `s${i}`, type: 'ClusterIP', selector: { app: `a${i}` }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] }));
    const topo = load(t).topology!;
    const g = buildGraph(topo);
    const pods = g.elements.filter((e) => e.data.kind === 'pod');
    const rowsOfPods = new Set(pods.map((p) => Math.round(p.position!.y)));
    expect(rowsOfPods.size).toBeGreaterThan(2); // more than the two pod rows of a single node row
    const xs = pods.map((p) => p.position!.x);
    const ys = pods.map((p) => p.position!.y);
    const width = Math.max(...xs) - Math.min(...xs);
    const height = Math.max(...ys) - Math.min(...ys);
    expect(width / height).toBeLessThan(6);
    const svcs = g.elements.filter((e) => e.data.kind === 'service');
    const svcRows = new Set(svcs.map((s) => s.position!.y));
    expect(svcRows.size).toBeGreaterThan(1);
    expect(Math.max(...svcs.map((s) => s.position!.x))).toBeLessThanOrEqual(Math.max(width + 400, 6 * 258));
    expect(Math.min(...svcs.map((s) => s.position!.y))).toBeGreaterThan(Math.max(...ys));
    // No two pods share a place.
    expect(new Set(pods.map((p) => `${p.position!.x},${p.position!.y}`)).size).toBe(pods.length);
  });
});
