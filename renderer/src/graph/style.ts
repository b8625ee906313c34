import type cytoscape from 'cytoscape';

// The canvas look: compound Kubernetes nodes as pale panels with a title
// bar, pods as namespace-coloured cards, Services as rounded tags beneath.
export const FONT = '"Inter", "Segoe UI", system-ui, -apple-system, sans-serif';
export const MONO = '"JetBrains Mono", "DejaVu Sans Mono", "Menlo", monospace';

const BASE_STYLE: cytoscape.StylesheetStyle[] = [
  {
    selector: 'node',
    style: {
      'font-family': FONT,
      'font-size': 11,
      color: '#0f172a',
      'text-wrap': 'wrap',
      'text-valign': 'center',
      'text-halign': 'center',
    },
  },
  {
    selector: 'node[kind = "node"]',
    style: {
      shape: 'round-rectangle',
      'background-color': '#f1f5f9',
      'background-opacity': 1,
      'border-color': '#94a3b8',
      'border-width': 1.5,
      padding: '20px',
      'min-width': '374px',
      'min-width-bias-left': '50%',
      'min-width-bias-right': '50%',
      label: 'data(label)',
      'text-valign': 'top',
      'text-halign': 'center',
      'text-margin-y': 1,
      'font-size': 13,
      'font-weight': 600,
      color: '#1e293b',
      'font-family': MONO,
      'text-background-color': '#cbd5e1',
      'text-background-opacity': 1,
      'text-background-shape': 'roundrectangle',
      'text-background-padding': '5px',
    },
  },
  {
    selector: 'node[kind = "pod"]',
    style: {
      shape: 'round-rectangle',
      width: 176,
      height: 50,
      'background-color': '#ffffff',
      'border-width': 2,
      'border-color': 'data(color)',
      label: 'data(label)',
      'font-family': MONO,
      'font-size': 12,
      'line-height': 1.35,
      'text-max-width': '170px',
    },
  },
  {
    selector: 'node[kind = "pod"].host-network',
    style: { 'border-style': 'dashed', 'background-color': '#f8fafc' },
  },
  {
    selector: 'node[kind = "service"]',
    style: {
      shape: 'round-tag',
      width: 230,
      height: 64,
      'background-color': 'data(color)',
      'background-opacity': 0.12,
      'border-width': 2,
      'border-color': 'data(color)',
      label: 'data(label)',
      'font-family': MONO,
      'font-size': 12,
      'line-height': 1.35,
      'text-max-width': '210px',
      'text-margin-x': -6,
    },
  },
  {
    selector: 'edge',
    style: {
      width: 1.6,
      'curve-style': 'bezier',
      'line-color': 'data(color)',
      'line-opacity': 0.55,
      'target-arrow-shape': 'triangle',
      'target-arrow-color': 'data(color)',
      'arrow-scale': 0.9,
    },
  },
];

/** Marks that states add: selection, search, filters, the policy overlay, the packet stepper. */
const STATE_STYLE: cytoscape.StylesheetStyle[] = [
  {
    selector: ':selected',
    style: { 'border-width': 3, 'border-color': '#0f172a', 'line-opacity': 1 },
  },
  {
    selector: 'node.faded, edge.faded',
    style: { opacity: 0.25 },
  },
  // Pods that a NetworkPolicy selects (isolated for ingress or egress): a double border.
  {
    selector: 'node[kind = "pod"].isolated',
    style: { 'border-style': 'double', 'border-width': 5 },
  },
  // Search hits.
  {
    selector: 'node.search-hit',
    style: { 'underlay-color': '#facc15', 'underlay-opacity': 0.55, 'underlay-padding': 6, 'underlay-shape': 'round-rectangle' },
  },
  // Filtered out by namespace or label.
  {
    selector: '.filtered',
    style: { display: 'none' },
  },
  // Policy overlay: one edge per pod pair with the verdict for the chosen port.
  {
    selector: 'edge[kind = "verdict"]',
    style: {
      width: 2.2,
      'curve-style': 'bezier',
      'control-point-step-size': 28,
      'line-opacity': 0.85,
      'arrow-scale': 1,
      label: 'data(label)',
      'font-family': MONO,
      'font-size': 10,
      'text-rotation': 'autorotate',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': '2px',
      'z-index': 20,
    },
  },
  {
    selector: 'edge[kind = "verdict"].verdict-allowed',
    style: { 'line-color': '#16a34a', 'target-arrow-color': '#16a34a', color: '#166534' },
  },
  {
    selector: 'edge[kind = "verdict"].verdict-denied',
    style: { 'line-color': '#dc2626', 'target-arrow-color': '#dc2626', 'line-style': 'dashed', color: '#991b1b' },
  },
  {
    selector: 'edge[kind = "verdict"]:selected',
    style: { width: 4, 'line-opacity': 1 },
  },
  // Packet stepper: elements the packet has crossed, the current hop, the packet itself.
  {
    selector: 'node.hop-path',
    style: { 'underlay-color': '#f59e0b', 'underlay-opacity': 0.18, 'underlay-padding': 5, 'underlay-shape': 'round-rectangle' },
  },
  {
    selector: 'edge.hop-path',
    style: { 'line-color': '#f59e0b', 'target-arrow-color': '#f59e0b', 'line-opacity': 0.9, width: 3 },
  },
  {
    selector: 'node.hop-active',
    style: { 'underlay-color': '#f59e0b', 'underlay-opacity': 0.55, 'underlay-padding': 8, 'underlay-shape': 'round-rectangle', 'border-color': '#b45309', 'border-width': 3 },
  },
  {
    selector: 'edge.hop-active',
    style: { 'line-color': '#d97706', 'target-arrow-color': '#d97706', 'line-opacity': 1, width: 5, 'z-index': 30 },
  },
  {
    selector: 'edge[kind = "hop"]',
    style: { 'curve-style': 'straight', 'line-style': 'dotted', width: 2.5, 'line-color': '#f59e0b', 'target-arrow-color': '#f59e0b', 'target-arrow-shape': 'triangle', 'line-opacity': 0.9, 'z-index': 25 },
  },
  {
    selector: 'node[kind = "packet"]',
    style: {
      shape: 'ellipse',
      width: 18,
      height: 18,
      'background-color': '#f59e0b',
      'border-color': '#7c2d12',
      'border-width': 2,
      label: '',
      'z-index': 100,
      'z-compound-depth': 'top',
      events: 'no',
    },
  },
  // Nodes the loader invented because the topology names none.
  {
    selector: 'node[kind = "node"].implied',
    style: { 'border-style': 'dashed', 'background-color': '#f8fafc' },
  },
];

/** The canvas style of ordinary topologies. */
export const graphStyle: cytoscape.StylesheetStyle[] = [...BASE_STYLE, ...STATE_STYLE];

/**
 * The lean look of large topologies (more than LARGE_GRAPH_PODS pods): fewer
 * style properties per element (Cytoscape derives every property of every
 * element before the first frame; on a CPU renderer that is most of the
 * drawing time of 2,000 pods), nodes as plain translucent boxes under their
 * pods (no compound nodes), straight edges without arrows, and labels only
 * once they are at least 9 px tall on screen (level of detail).
 */
const LEAN_STYLE: cytoscape.StylesheetStyle[] = [
  {
    selector: 'node[kind = "node"]',
    style: {
      shape: 'round-rectangle',
      width: 'data(w)',
      height: 'data(h)',
      'background-color': '#e2e8f0',
      'background-opacity': 0.55,
      'border-width': 1,
      'border-color': '#94a3b8',
      label: 'data(label)',
      'text-valign': 'top',
      'font-family': MONO,
      'font-size': 13,
      'min-zoomed-font-size': 9,
    },
  },
  {
    selector: 'node[kind = "pod"]',
    style: {
      shape: 'round-rectangle',
      width: 176,
      height: 50,
      'background-color': '#ffffff',
      'border-width': 2,
      'border-color': 'data(color)',
      label: 'data(label)',
      'font-family': MONO,
      'font-size': 12,
      'text-wrap': 'wrap',
      'min-zoomed-font-size': 9,
    },
  },
  {
    selector: 'node[kind = "service"]',
    style: {
      shape: 'round-tag',
      width: 230,
      height: 64,
      'background-color': 'data(color)',
      'background-opacity': 0.12,
      'border-width': 2,
      'border-color': 'data(color)',
      label: 'data(label)',
      'font-family': MONO,
      'font-size': 12,
      'text-wrap': 'wrap',
      'min-zoomed-font-size': 9,
    },
  },
  {
    selector: 'edge',
    style: { width: 1.5, 'line-color': 'data(color)', 'line-opacity': 0.55, 'curve-style': 'haystack' },
  },
];

/** Large topologies: the lean look plus the same state marks (overlay and stepper edges keep their arrows). */
export const LARGE_GRAPH_STYLE: cytoscape.StylesheetStyle[] = [...LEAN_STYLE, ...STATE_STYLE, { selector: 'edge[kind = "verdict"]', style: { 'target-arrow-shape': 'triangle' } }];
