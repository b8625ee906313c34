import type cytoscape from 'cytoscape';

// The canvas look: compound Kubernetes nodes as pale panels with a title
// bar, pods as namespace-coloured cards, Services as rounded tags beneath.
export const FONT = '"Inter", "Segoe UI", system-ui, -apple-system, sans-serif';
export const MONO = '"JetBrains Mono", "DejaVu Sans Mono", "Menlo", monospace';

export const graphStyle: cytoscape.StylesheetStyle[] = [
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
  {
    selector: ':selected',
    style: { 'border-width': 3, 'border-color': '#0f172a', 'line-opacity': 1 },
  },
  {
    selector: 'node.faded, edge.faded',
    style: { opacity: 0.25 },
  },
];
