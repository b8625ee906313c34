// Loading a session's topology text into the model, asynchronously: a large
// text is parsed in a Web Worker (topology-worker.ts), a small one on the spot
// (a worker round trip would cost more than the parse). The last request is
// remembered, so the early start (boot.ts) and the shell asking again for the
// same text share one parse. Where workers cannot run (blocked, failed to
// load), the text is parsed on the UI thread as before.
import type { LoadedTopology } from './topology';

export interface TopologySource {
  file: string;
  text: string;
}

export interface ParseRequest extends TopologySource {
  id: number;
}

export interface ParseResponse {
  id: number;
  result: LoadedTopology;
}

/** Texts at least this long (about 200 pods of YAML) are parsed in the worker. */
export const WORKER_MIN_CHARS = 64 * 1024;

let worker: Worker | null | undefined;
let seq = 0;
const pending = new Map<number, { source: TopologySource; resolve: (r: LoadedTopology) => void }>();
let last: { file: string; text: string; result: Promise<LoadedTopology> } | null = null;

async function parseHere(source: TopologySource): Promise<LoadedTopology> {
  const { parseTopology } = await import('./topology');
  return parseTopology(source);
}

/** Give up on the worker: what it had in hand is parsed here. */
function abandon(reason: string): void {
  console.warn(`netlab: parsing topologies on the UI thread (${reason})`);
  worker?.terminate();
  worker = null;
  const left = [...pending.values()];
  pending.clear();
  for (const p of left) void parseHere(p.source).then(p.resolve);
}

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./topology-worker.ts', import.meta.url), { type: 'module', name: 'topology-parser' });
  } catch (err) {
    worker = null;
    console.warn(`netlab: parsing topologies on the UI thread (no worker: ${String(err)})`);
    return null;
  }
  worker.addEventListener('message', (e: MessageEvent<ParseResponse>) => {
    const p = pending.get(e.data.id);
    pending.delete(e.data.id);
    p?.resolve(e.data.result);
  });
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    abandon(e.message || 'the worker failed to load');
  });
  worker.addEventListener('messageerror', () => abandon('a result could not be received'));
  return worker;
}

/**
 * Start the worker now (its script loads and compiles while the session is
 * still on its way), so a large topology does not wait for it.
 */
export function warmUpParser(): void {
  getWorker();
}

/** Whether the worker is parsing (the window's first topology, sent by boot.ts, may be on its way). */
export function workerBusy(): boolean {
  return pending.size > 0;
}

/** Whether this text is parsed in the worker (large, and the worker works); a small one is parsed on the spot. */
export function parsesInWorker(source: TopologySource): boolean {
  return source.text.length >= WORKER_MIN_CHARS && worker !== null;
}

/** Parse a topology text (the same text twice in a row: one parse). */
export function parseTopologyAsync(source: TopologySource): Promise<LoadedTopology> {
  if (last && last.file === source.file && last.text === source.text) return last.result;
  const w = parsesInWorker(source) ? getWorker() : null;
  const result = w
    ? new Promise<LoadedTopology>((resolve) => {
        const id = ++seq;
        pending.set(id, { source: { file: source.file, text: source.text }, resolve });
        w.postMessage({ id, file: source.file, text: source.text } satisfies ParseRequest);
      })
    : parseHere(source);
  last = { file: source.file, text: source.text, result };
  return result;
}
