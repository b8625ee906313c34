// Large topologies are drawn without compound nodes: Cytoscape re-derives a
// compound parent's style and bounds whenever one of its children changes,
// which dominates drawing thousands of pods. Each Kubernetes node becomes a
// plain box sized around its pods (drawn under them, not draggable); pods keep
// their node's id in `data.node`. Pure: no Cytoscape.

import { NODE_PAD, POD_BOX, SERVICE_BOX, type GraphElement } from './elements';

/** The minimum width of a node box (two pods side by side), as the compound style's min-width. */
export const NODE_MIN_WIDTH = 374;

export function flatten(elements: GraphElement[]): GraphElement[] {
  const boxes = new Map<string, { x1: number; y1: number; x2: number; y2: number }>();
  const out: GraphElement[] = [];
  for (const e of elements) {
    if (e.data.kind === 'pod' && e.data.parent && e.position) {
      const b = boxes.get(e.data.parent) ?? { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
      b.x1 = Math.min(b.x1, e.position.x - POD_BOX.w / 2);
      b.x2 = Math.max(b.x2, e.position.x + POD_BOX.w / 2);
      b.y1 = Math.min(b.y1, e.position.y - POD_BOX.h / 2);
      b.y2 = Math.max(b.y2, e.position.y + POD_BOX.h / 2);
      boxes.set(e.data.parent, b);
      out.push({ ...e, data: { ...e.data, parent: undefined, node: e.data.parent } });
    } else out.push(e);
  }
  return out.map((e) => {
    if (e.data.kind !== 'node') return e;
    const b = boxes.get(e.data.id);
    const classes = `${e.classes ?? ''} flat`.trim();
    if (!b) return { ...e, data: { ...e.data, w: NODE_MIN_WIDTH, h: POD_BOX.h + 2 * NODE_PAD }, classes, grabbable: false };
    const w = Math.max(b.x2 - b.x1 + 2 * NODE_PAD, NODE_MIN_WIDTH);
    const h = b.y2 - b.y1 + 2 * NODE_PAD;
    return { ...e, position: { x: (b.x1 + b.x2) / 2, y: (b.y1 + b.y2) / 2 }, data: { ...e.data, w, h }, classes, grabbable: false };
  });
}

/**
 * The bounding box of flattened elements as the lean style draws them: node
 * boxes of their data size, pods and Services of their fixed sizes (edges lie
 * between them). Null when nothing has a position.
 */
export function flatBounds(elements: GraphElement[]): { x1: number; y1: number; x2: number; y2: number; w: number; h: number } | null {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const e of elements) {
    if (!e.position) continue;
    const size = e.data.kind === 'pod' ? POD_BOX : e.data.kind === 'service' ? SERVICE_BOX : e.data.kind === 'node' ? { w: Number(e.data.w ?? NODE_MIN_WIDTH), h: Number(e.data.h ?? POD_BOX.h + 2 * NODE_PAD) } : null;
    if (!size) continue;
    x1 = Math.min(x1, e.position.x - size.w / 2);
    x2 = Math.max(x2, e.position.x + size.w / 2);
    y1 = Math.min(y1, e.position.y - size.h / 2);
    y2 = Math.max(y2, e.position.y + size.h / 2);
  }
  return x1 === Infinity ? null : { x1, y1, x2, y2, w: x2 - x1, h: y2 - y1 };
}
