import type { CanvasPosition } from '../../../core/api';
import type { Topology } from '../../../core/model/types';

// Topology → Cytoscape elements: Kubernetes nodes as compound parents with
// their pods inside, Services in a row beneath (outside every node) with an
// edge to each endpoint, namespaces by colour. Pure: no DOM, no Cytoscape.

export type ElementKind = 'node' | 'pod' | 'service' | 'endpoint' | 'verdict' | 'hop';

export interface BuildOptions {
  /** Pods (ids) that some NetworkPolicy selects: drawn with a double border. */
  isolated?: Set<string>;
  /** The topology names no nodes and the loader used the seed's: draw them dashed. */
  impliedNodes?: boolean;
}

export interface GraphElement {
  group: 'nodes' | 'edges';
  data: {
    id: string;
    kind: ElementKind;
    label: string;
    parent?: string;
    source?: string;
    target?: string;
    namespace?: string;
    color?: string;
    /** Extra line for tooltips and the side panel. */
    detail?: string;
    hostNetwork?: boolean;
    /** Pod labels (for the label filter). */
    labels?: Record<string, string>;
    /** Lower-case text the canvas search matches. */
    search?: string;
    /** Policy overlay edges: allowed or denied. */
    verdict?: 'allowed' | 'denied';
    port?: number;
    protocol?: string;
    /** Flat drawing of large topologies: a node box's size, and a pod's node. */
    w?: number;
    h?: number;
    node?: string;
  };
  /** Cytoscape: whether the user may drag it. */
  grabbable?: boolean;
  position?: CanvasPosition;
  classes?: string;
}

export interface GraphModel {
  elements: GraphElement[];
  namespaces: { name: string; color: string }[];
  counts: { nodes: number; pods: number; services: number; edges: number };
}

/** Colours for namespaces: fixed for the well-known ones, then a palette in name order. */
const FIXED: Record<string, string> = { default: '#2563eb', 'kube-system': '#d97706' };
const PALETTE = ['#059669', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#dc2626', '#4f46e5', '#ca8a04', '#0d9488', '#9333ea'];

export function namespaceColors(names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (const n of [...new Set(names)].sort()) {
    out.set(n, FIXED[n] ?? PALETTE[i++ % PALETTE.length]);
  }
  return out;
}

export const nodeId = (name: string) => `node/${name}`;
export const podId = (ns: string, name: string) => `pod/${ns}/${name}`;
export const serviceId = (ns: string, name: string) => `svc/${ns}/${name}`;

/** A pod card's size on the canvas (the style draws it so). */
export const POD_BOX = { w: 176, h: 50 };
/** A Service tag's size on the lean (large-topology) canvas. */
export const SERVICE_BOX = { w: 230, h: 64 };
/** Room between a node's border and its pods (the compound padding). */
export const NODE_PAD = 20;

// Layout constants (model units = CSS pixels at zoom 1).
const POD_W = 176;
const POD_H = 50;
const POD_GAP_X = 22;
const POD_GAP_Y = 20;
const NODE_GAP = 70;
/** Between rows of nodes (room for the next row's title bar). */
const NODE_ROW_GAP = 90;
const POD_COLS = 2;
const SERVICE_W = 230;
const SERVICE_GAP = 28;
const SERVICE_ROW_GAP = 130;
/** Between wrapped rows of Services. */
const SERVICE_ROW_STEP = 100;

function servicePorts(ports: Topology['services'][number]['ports']): string {
  if (ports.length === 0) return '';
  return ports
    .slice(0, 3)
    .map((p) => `${p.port}/${p.protocol}`)
    .join(', ')
    .concat(ports.length > 3 ? ', …' : '');
}

/** Build the graph, placing every element; saved positions win over the computed layout. */
export function buildGraph(topology: Topology, saved: Record<string, CanvasPosition> = {}, options: BuildOptions = {}): GraphModel {
  const colors = namespaceColors([...topology.namespaces.map((n) => n.name), ...topology.pods.map((p) => p.namespace), ...topology.services.map((s) => s.namespace)]);
  const elements: GraphElement[] = [];
  const placed = new Map<string, CanvasPosition>();
  const nodeNames = new Set(topology.nodes.map((n) => n.name));

  const podsByNode = new Map<string, Topology['pods']>();
  for (const p of topology.pods) {
    const l = podsByNode.get(p.nodeName);
    if (l) l.push(p);
    else podsByNode.set(p.nodeName, [p]);
  }
  // Nodes left to right (in rows once there are many); pods in a grid inside each.
  const blocks = topology.nodes.map((node) => {
    const pods = podsByNode.get(node.name) ?? [];
    const cols = Math.max(1, Math.min(POD_COLS, pods.length));
    // Nodes are at least two pods wide (the style's min-width), so space them as such.
    const width = Math.max(cols, POD_COLS) * POD_W + (Math.max(cols, POD_COLS) - 1) * POD_GAP_X;
    // Centre a narrow node's pods in its (minimum) width.
    const shift = cols < POD_COLS ? (width - (cols * POD_W + (cols - 1) * POD_GAP_X)) / 2 : 0;
    const local = pods.map((pod, i) => ({ pod, x: shift + (i % cols) * (POD_W + POD_GAP_X) + POD_W / 2, y: Math.floor(i / cols) * (POD_H + POD_GAP_Y) + POD_H / 2 }));
    const height = pods.length ? Math.ceil(pods.length / cols) * (POD_H + POD_GAP_Y) - POD_GAP_Y : POD_H;
    return { node, pods, local, width, height };
  });
  // Up to six nodes share a row; more are wrapped so the whole cluster is about 16:10.
  const maxW = Math.max(0, ...blocks.map((b) => b.width)) + NODE_GAP;
  const maxH = Math.max(0, ...blocks.map((b) => b.height)) + NODE_ROW_GAP;
  const perRow = blocks.length <= 6 ? Math.max(1, blocks.length) : Math.max(6, Math.ceil(Math.sqrt((1.6 * blocks.length * maxH) / maxW)));
  let x = 0;
  let y0 = 0;
  let rowHeight = 0;
  let maxBottom = 0;
  let nodesRight = 0;
  blocks.forEach((b, i) => {
    if (i > 0 && i % perRow === 0) {
      x = 0;
      y0 += rowHeight + NODE_ROW_GAP;
      rowHeight = 0;
    }
    const { node, local, width, height } = b;
    const id = nodeId(node.name);
    const ip = node.ips[0] ?? 'no IP';
    const cidr = node.podCIDRs[0] ? ` · pods ${node.podCIDRs[0]}` : '';
    elements.push({
      group: 'nodes',
      data: { id, kind: 'node', label: `${node.name}  ${ip}${cidr}`, detail: node.zone ? `zone ${node.zone}` : undefined, search: `${node.name} ${node.ips.join(' ')}`.toLowerCase() },
      classes: options.impliedNodes ? 'implied' : undefined,
    });
    for (const l of local) placed.set(podId(l.pod.namespace, l.pod.name), { x: x + l.x, y: y0 + l.y });
    // A node without pods has no children to size it: place it where its pods would go.
    if (local.length === 0) placed.set(id, { x: x + width / 2, y: y0 + POD_H / 2 });
    maxBottom = Math.max(maxBottom, y0 + height);
    rowHeight = Math.max(rowHeight, height);
    nodesRight = Math.max(nodesRight, x + width);
    x += width + NODE_GAP;
  });
  if (blocks.length > perRow) x = nodesRight + NODE_GAP;
  let orphans = 0;
  for (const pod of topology.pods) {
    const id = podId(pod.namespace, pod.name);
    const inNode = nodeNames.has(pod.nodeName);
    if (!inNode) {
      // A pod on a node the topology does not have: park it after the last node.
      const pos = { x: x + POD_W / 2, y: POD_H / 2 + orphans++ * (POD_H + POD_GAP_Y) };
      placed.set(id, pos);
      maxBottom = Math.max(maxBottom, pos.y + POD_H / 2);
    }
    elements.push({
      group: 'nodes',
      data: {
        id,
        kind: 'pod',
        label: `${pod.name}\n${pod.ips.join(', ') || 'no IP'}`,
        parent: inNode ? nodeId(pod.nodeName) : undefined,
        namespace: pod.namespace,
        color: colors.get(pod.namespace),
        hostNetwork: pod.hostNetwork,
        detail: `${pod.namespace}/${pod.name}${pod.hostNetwork ? ' (hostNetwork)' : ''}`,
        labels: pod.labels,
        search: `${pod.namespace}/${pod.name} ${pod.ips.join(' ')} ${Object.entries(pod.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`.toLowerCase(),
      },
      classes: [pod.hostNetwork ? 'host-network' : '', options.isolated?.has(id) ? 'isolated' : ''].filter(Boolean).join(' ') || undefined,
    });
  }

  // Which pods (or nodes) back each Service, from its EndpointSlices.
  const podByIp = new Map<string, string>();
  for (const p of topology.pods) if (!p.hostNetwork) for (const ip of p.ips) podByIp.set(ip, podId(p.namespace, p.name));
  const nodeByIp = new Map<string, string>();
  for (const n of topology.nodes) for (const ip of n.ips) nodeByIp.set(ip, nodeId(n.name));
  const podIds = new Set(topology.pods.map((p) => podId(p.namespace, p.name)));

  const targetsOf = new Map<string, Set<string>>();
  for (const slice of topology.endpointSlices) {
    const sid = serviceId(slice.namespace, slice.serviceName);
    const set = targetsOf.get(sid) ?? new Set<string>();
    for (const ep of slice.endpoints) {
      const ref = ep.targetRef ? podId(ep.targetRef.namespace, ep.targetRef.name) : undefined;
      if (ref && podIds.has(ref)) {
        set.add(ref);
        continue;
      }
      for (const a of ep.addresses) {
        const t = podByIp.get(a) ?? nodeByIp.get(a);
        if (t) set.add(t);
      }
    }
    targetsOf.set(sid, set);
  }

  // Services in a row under the nodes, each near the middle of its endpoints.
  const serviceY = maxBottom + SERVICE_ROW_GAP;
  const centreOf = (targets: Set<string>): number | undefined => {
    const xs: number[] = [];
    for (const t of targets) {
      const p = placed.get(t);
      if (p) xs.push(p.x);
      else if (t.startsWith('node/')) {
        const podsOfNode = (podsByNode.get(t.slice('node/'.length)) ?? []).map((pod) => placed.get(podId(pod.namespace, pod.name))?.x);
        const known = podsOfNode.filter((v): v is number => v !== undefined);
        if (known.length) xs.push(known.reduce((a, b) => a + b, 0) / known.length);
      }
    }
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
  };
  const services = topology.services.map((s) => {
    const id = serviceId(s.namespace, s.name);
    return { s, id, want: centreOf(targetsOf.get(id) ?? new Set()) ?? Number.POSITIVE_INFINITY };
  });
  services.sort((a, b) => a.want - b.want || a.id.localeCompare(b.id));
  // The first row follows the endpoints; rows that do not fit under the nodes wrap, packed from the left.
  const rowWidth = Math.max(nodesRight, 6 * (SERVICE_W + SERVICE_GAP));
  let nextFree = Number.NEGATIVE_INFINITY;
  let tail = 0;
  let row = 0;
  let inRow = 0;
  for (const { s, id, want } of services) {
    const desired = row === 0 ? (Number.isFinite(want) ? want : tail) : Number.NEGATIVE_INFINITY;
    let cx = Math.max(desired, nextFree + SERVICE_W + SERVICE_GAP);
    if (inRow > 0 && cx + SERVICE_W / 2 > rowWidth) {
      row++;
      inRow = 0;
      cx = SERVICE_W / 2;
    }
    inRow++;
    nextFree = cx;
    tail = cx + SERVICE_W + SERVICE_GAP;
    placed.set(id, { x: cx, y: serviceY + row * SERVICE_ROW_STEP });
    const ips = s.clusterIPs.length ? s.clusterIPs.join(', ') : s.type === 'ExternalName' ? (s.externalName ?? '') : 'no cluster IP';
    const ports = servicePorts(s.ports);
    elements.push({
      group: 'nodes',
      data: {
        id,
        kind: 'service',
        label: `${s.namespace}/${s.name}\n${ips}${ports ? `\n${ports}` : ''}`,
        namespace: s.namespace,
        color: colors.get(s.namespace),
        detail: `${s.type}${s.selector ? ` selector ${Object.entries(s.selector).map(([k, v]) => `${k}=${v}`).join(',')}` : ''}`,
        search: `${s.namespace}/${s.name} ${s.clusterIPs.join(' ')}`.toLowerCase(),
      },
    });
    for (const t of [...(targetsOf.get(id) ?? [])].sort()) {
      elements.push({ group: 'edges', data: { id: `edge/${id}->${t}`, kind: 'endpoint', label: '', source: id, target: t, namespace: s.namespace, color: colors.get(s.namespace) } });
    }
  }

  // Positions: saved ones first, else the computed layout (compound nodes follow their children;
  // empty nodes have a place of their own).
  for (const el of elements) {
    if (el.group !== 'nodes') continue;
    if (el.data.kind === 'node') {
      const p = placed.get(el.data.id);
      if (p) el.position = saved[el.data.id] ?? p;
      continue;
    }
    el.position = saved[el.data.id] ?? placed.get(el.data.id);
  }

  const counts = {
    nodes: elements.filter((e) => e.data.kind === 'node').length,
    pods: elements.filter((e) => e.data.kind === 'pod').length,
    services: elements.filter((e) => e.data.kind === 'service').length,
    edges: elements.filter((e) => e.group === 'edges').length,
  };
  const usedNamespaces = new Set([...topology.namespaces.map((n) => n.name), ...topology.pods.map((p) => p.namespace), ...topology.services.map((s) => s.namespace)]);
  const namespaces = [...usedNamespaces].sort().map((name) => ({ name, color: colors.get(name) ?? '#64748b' }));
  return { elements, namespaces, counts };
}
