// SVG export of the canvas: a scene of boxes, lines and text read from the
// Cytoscape elements (positions, sizes and resolved styles), written as a
// plain SVG document with real <text> (searchable, editable in Inkscape).
// collectSvgScene reads Cytoscape; sceneToSvg is pure.

import type cytoscape from 'cytoscape';

export interface SvgBox {
  id: string;
  kind: string;
  x: number;
  y: number;
  w: number;
  h: number;
  shape: 'rect' | 'round' | 'tag' | 'ellipse';
  fill: string;
  fillOpacity: number;
  stroke: string;
  strokeWidth: number;
  dashed: boolean;
  label: string[];
  /** Where the label sits: inside (centred) or in a title bar on top. */
  labelAt: 'center' | 'top';
  fontSize: number;
  fontFamily: string;
  fontWeight: string;
  color: string;
  /** Title-bar background behind a top label. */
  labelBackground?: string;
}

export interface SvgLine {
  id: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  color: string;
  width: number;
  opacity: number;
  dashed: boolean;
  arrow: boolean;
  label?: string;
}

export interface SvgScene {
  /** Bounding box of everything, in model coordinates. */
  x: number;
  y: number;
  w: number;
  h: number;
  boxes: SvgBox[];
  lines: SvgLine[];
  title: string;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const num = (n: number) => String(Math.round(n * 10) / 10);

function boxShape(b: SvgBox): string {
  const common = `fill="${escapeXml(b.fill)}" fill-opacity="${num(b.fillOpacity)}" stroke="${escapeXml(b.stroke)}" stroke-width="${num(b.strokeWidth)}"${b.dashed ? ' stroke-dasharray="6 4"' : ''}`;
  if (b.shape === 'ellipse') return `<ellipse cx="${num(b.x + b.w / 2)}" cy="${num(b.y + b.h / 2)}" rx="${num(b.w / 2)}" ry="${num(b.h / 2)}" ${common}/>`;
  if (b.shape === 'tag') {
    // Cytoscape's round-tag: a rounded box with a point on the right.
    const x = b.x;
    const y = b.y;
    const w = b.w;
    const h = b.h;
    const tip = Math.min(h / 2, 18);
    const r = 6;
    const d = `M${num(x + r)},${num(y)} H${num(x + w - tip)} L${num(x + w)},${num(y + h / 2)} L${num(x + w - tip)},${num(y + h)} H${num(x + r)} Q${num(x)},${num(y + h)} ${num(x)},${num(y + h - r)} V${num(y + r)} Q${num(x)},${num(y)} ${num(x + r)},${num(y)} Z`;
    return `<path d="${d}" ${common}/>`;
  }
  const rx = b.shape === 'round' ? Math.min(8, b.h / 4) : 0;
  return `<rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" rx="${num(rx)}" ${common}/>`;
}

function boxLabel(b: SvgBox): string {
  if (!b.label.length || !b.label.some((l) => l.trim())) return '';
  const lh = b.fontSize * 1.35;
  const font = `font-family="${escapeXml(b.fontFamily)}" font-size="${num(b.fontSize)}" font-weight="${escapeXml(b.fontWeight)}" fill="${escapeXml(b.color)}" text-anchor="middle"`;
  const cx = b.x + b.w / 2;
  if (b.labelAt === 'top') {
    const text = b.label.join(' ');
    const tw = text.length * b.fontSize * 0.62 + 12;
    const bg = b.labelBackground ? `<rect x="${num(cx - tw / 2)}" y="${num(b.y - lh - 4)}" width="${num(tw)}" height="${num(lh + 6)}" rx="4" fill="${escapeXml(b.labelBackground)}"/>` : '';
    return `${bg}<text x="${num(cx)}" y="${num(b.y - 5)}" ${font}>${escapeXml(text)}</text>`;
  }
  const top = b.y + b.h / 2 - ((b.label.length - 1) * lh) / 2 + b.fontSize * 0.35;
  const spans = b.label.map((l, i) => `<tspan x="${num(cx)}" y="${num(top + i * lh)}">${escapeXml(l)}</tspan>`).join('');
  return `<text ${font}>${spans}</text>`;
}

function line(l: SvgLine, markerId: (color: string) => string): string {
  const attrs = `x1="${num(l.x1)}" y1="${num(l.y1)}" x2="${num(l.x2)}" y2="${num(l.y2)}" stroke="${escapeXml(l.color)}" stroke-width="${num(l.width)}" stroke-opacity="${num(l.opacity)}"${l.dashed ? ' stroke-dasharray="6 4"' : ''}${l.arrow ? ` marker-end="url(#${markerId(l.color)})"` : ''}`;
  let out = `<line ${attrs}/>`;
  if (l.label) {
    const mx = (l.x1 + l.x2) / 2;
    const my = (l.y1 + l.y2) / 2;
    out += `<text x="${num(mx)}" y="${num(my - 4)}" font-family="monospace" font-size="10" fill="${escapeXml(l.color)}" text-anchor="middle">${escapeXml(l.label)}</text>`;
  }
  return out;
}

/** The scene as a standalone SVG document. */
export function sceneToSvg(scene: SvgScene, pad = 24): string {
  const colors = [...new Set(scene.lines.filter((l) => l.arrow).map((l) => l.color))];
  const markerId = (c: string) => `arrow-${colors.indexOf(c)}`;
  const markers = colors
    .map((c, i) => `<marker id="arrow-${i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${escapeXml(c)}"/></marker>`)
    .join('');
  const x = scene.x - pad;
  const y = scene.y - pad;
  const w = scene.w + 2 * pad;
  const h = scene.h + 2 * pad;
  // Parents first (compound nodes), then children, then edges on top, as on the canvas.
  const order = (b: SvgBox) => (b.kind === 'node' ? 0 : 1);
  const boxes = [...scene.boxes].sort((a, b) => order(a) - order(b));
  const body = [
    ...boxes.filter((b) => b.kind === 'node').map((b) => `<g data-id="${escapeXml(b.id)}">${boxShape(b)}${boxLabel(b)}</g>`),
    ...scene.lines.map((l) => `<g data-id="${escapeXml(l.id)}">${line(l, markerId)}</g>`),
    ...boxes.filter((b) => b.kind !== 'node').map((b) => `<g data-id="${escapeXml(b.id)}">${boxShape(b)}${boxLabel(b)}</g>`),
  ];
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(w)}" height="${num(h)}" viewBox="${num(x)} ${num(y)} ${num(w)} ${num(h)}">`,
    `<title>${escapeXml(scene.title)}</title>`,
    `<defs>${markers}</defs>`,
    `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" fill="#ffffff"/>`,
    ...body,
    `</svg>`,
    '',
  ].join('\n');
}

function cssColor(v: unknown, fallback: string): string {
  const s = typeof v === 'string' ? v : '';
  return s || fallback;
}

function px(v: unknown, fallback: number): number {
  const n = parseFloat(String(v));
  return Number.isFinite(n) ? n : fallback;
}

/** Read the visible elements of a Cytoscape instance into a scene. */
export function collectSvgScene(cy: cytoscape.Core, title = 'Kubernetes Network Lab topology'): SvgScene {
  const boxes: SvgBox[] = [];
  const lines: SvgLine[] = [];
  cy.nodes(':visible').forEach((n) => {
    const kind = String(n.data('kind') ?? '');
    if (kind === 'packet') return;
    const bb = n.boundingBox({ includeLabels: false, includeOverlays: false, includeUnderlays: false } as cytoscape.BoundingBoxOptions);
    const shapeName = String(n.style('shape'));
    const shape: SvgBox['shape'] = shapeName === 'ellipse' ? 'ellipse' : shapeName.includes('tag') ? 'tag' : shapeName.startsWith('round') ? 'round' : 'rect';
    const label = String(n.data('label') ?? '');
    boxes.push({
      id: n.id(),
      kind,
      x: bb.x1,
      y: bb.y1,
      w: bb.w,
      h: bb.h,
      shape,
      fill: cssColor(n.style('background-color'), '#ffffff'),
      fillOpacity: px(n.style('background-opacity'), 1),
      stroke: cssColor(n.style('border-color'), '#94a3b8'),
      strokeWidth: px(n.style('border-width'), 1),
      dashed: String(n.style('border-style')) === 'dashed',
      label: label.split('\n'),
      labelAt: n.isParent() || kind === 'node' ? 'top' : 'center',
      fontSize: px(n.style('font-size'), 11),
      fontFamily: String(n.style('font-family') ?? 'sans-serif'),
      fontWeight: String(n.style('font-weight') ?? 'normal'),
      color: cssColor(n.style('color'), '#0f172a'),
      labelBackground: kind === 'node' ? cssColor(n.style('text-background-color'), '#cbd5e1') : undefined,
    });
  });
  cy.edges(':visible').forEach((e) => {
    const s = e.sourceEndpoint();
    const t = e.targetEndpoint();
    lines.push({
      id: e.id(),
      x1: s.x,
      y1: s.y,
      x2: t.x,
      y2: t.y,
      color: cssColor(e.style('line-color'), '#64748b'),
      width: px(e.style('width'), 1.5),
      opacity: px(e.style('line-opacity'), 1),
      dashed: String(e.style('line-style')) !== 'solid',
      arrow: String(e.style('target-arrow-shape')) !== 'none',
      label: String(e.data('label') ?? '') || undefined,
    });
  });
  const bb = cy.elements(':visible').boundingBox({ includeLabels: true } as cytoscape.BoundingBoxOptions);
  const w = Number.isFinite(bb.w) ? bb.w : 0;
  const h = Number.isFinite(bb.h) ? bb.h : 0;
  return { x: Number.isFinite(bb.x1) ? bb.x1 : 0, y: Number.isFinite(bb.y1) ? bb.y1 : 0, w, h, boxes, lines, title };
}
