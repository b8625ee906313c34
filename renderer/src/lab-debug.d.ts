// What the canvas exposes for the e2e tests and the UI benchmark (read-only views of its state).
interface NetlabGraphDebug {
  /** Data and classes of one element, or null when it is not on the canvas. */
  element(id: string): { data: Record<string, unknown>; classes: string[]; visible: boolean } | null;
  /** Ids of the edges of a kind (endpoint, verdict, hop). */
  edges(kind?: string): string[];
  /**
   * performance.now() when the current graph's drawing started, when the first frame
   * Cytoscape drew of it was complete (the next frame began), and two frames after its
   * elements were added (the earlier, coarser measure: it includes Cytoscape's work in
   * the second frame).
   */
  drawStartedAt: number;
  firstRenderAt: number;
  twoFramesAt: number;
  /** Which renderer draws the canvas. */
  renderer: 'canvas' | 'webgl';
  /** Level-of-detail mode for large topologies. */
  large: boolean;
  zoom(): number;
  panBy(dx: number, dy: number): void;
  /** Page coordinates of a node, or of an edge's midpoint. */
  renderedPosition(id: string): { x: number; y: number } | null;
  /** Model coordinates of a node. */
  position(id: string): { x: number; y: number } | null;
}

interface Window {
  __netlabGraph?: NetlabGraphDebug;
}

declare module 'cytoscape-fcose' {
  const ext: import('cytoscape').Ext;
  export default ext;
}
