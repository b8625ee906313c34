// The renderer's topology loading: a large text goes to the parser worker
// (lib/topology-worker.ts), a small one is parsed on the spot, the same text
// twice is parsed once, and without a working worker the UI thread parses.
// The worker is played by an in-process stand-in that runs the real worker
// module's message handler (same request, same answer as in the browser).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { syntheticTopology } from '../../../bench/ui';
import { parseTopology } from '../../../renderer/src/lib/topology';

type Listener = (e: { data: unknown; preventDefault(): void; message?: string }) => void;

/** A Worker whose script is the real topology-worker module, run in this process. */
class InProcessWorker {
  static created = 0;
  static requests: unknown[] = [];
  private listeners = new Map<string, Listener[]>();
  private handler: Listener | null = null;
  constructor(
    readonly url: URL,
    readonly options: { type?: string; name?: string },
  ) {
    InProcessWorker.created++;
    const scope = {
      addEventListener: (_type: string, l: Listener) => (this.handler = l),
      // Messages are copied as between threads (a result that cannot be cloned fails here too).
      postMessage: (data: unknown) => setTimeout(() => this.emit('message', { data: structuredClone(data), preventDefault() {} }), 0),
    };
    (globalThis as Record<string, unknown>).__workerScope = scope;
  }
  addEventListener(type: string, l: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  postMessage(data: unknown): void {
    InProcessWorker.requests.push(data);
    setTimeout(() => this.handler?.({ data: structuredClone(data), preventDefault() {} }), 0);
  }
  terminate(): void {}
  emit(type: string, e: { data: unknown; preventDefault(): void; message?: string }): void {
    for (const l of this.listeners.get(type) ?? []) l(e);
  }
}

async function freshModules(): Promise<typeof import('../../../renderer/src/lib/topology-parse')> {
  vi.resetModules();
  return import('../../../renderer/src/lib/topology-parse');
}

describe('topology parsing off the UI thread', () => {
  beforeEach(() => {
    InProcessWorker.created = 0;
    InProcessWorker.requests = [];
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    delete (globalThis as Record<string, unknown>).__workerScope;
  });

  it('parses a large text in the worker, with the same result as the loader on the spot; the same text twice is one parse', async () => {
    vi.stubGlobal('Worker', InProcessWorker);
    const mod = await freshModules();
    // The worker module registers its handler on the scope the stand-in made.
    mod.warmUpParser();
    const scope = (globalThis as Record<string, unknown>).__workerScope as object;
    vi.stubGlobal('addEventListener', (scope as { addEventListener: unknown }).addEventListener);
    vi.stubGlobal('postMessage', (scope as { postMessage: unknown }).postMessage);
    await import('../../../renderer/src/lib/topology-worker');

    const source = { file: 'big.yaml', text: syntheticTopology(300) };
    expect(source.text.length).toBeGreaterThanOrEqual(mod.WORKER_MIN_CHARS);
    expect(mod.parsesInWorker(source)).toBe(true);
    const a = mod.parseTopologyAsync(source);
    const b = mod.parseTopologyAsync({ ...source });
    expect(b).toBe(a);
    const result = await a;
    expect(InProcessWorker.created).toBe(1);
    expect(InProcessWorker.requests).toHaveLength(1);
    expect(result).toEqual(parseTopology(source));
    expect(result.topology?.pods).toHaveLength(300);
  });

  it('parses a small text on the spot, without a worker', async () => {
    vi.stubGlobal('Worker', InProcessWorker);
    const mod = await freshModules();
    const source = { file: 'small.yaml', text: syntheticTopology(5) };
    expect(mod.parsesInWorker(source)).toBe(false);
    const result = await mod.parseTopologyAsync(source);
    expect(InProcessWorker.created).toBe(0);
    expect(result.topology?.pods).toHaveLength(5);
  });

  it('falls back to the UI thread when there is no Worker, and when the worker fails to load', async () => {
    vi.stubGlobal('Worker', undefined);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let mod = await freshModules();
    const source = { file: 'big.yaml', text: syntheticTopology(300) };
    expect((await mod.parseTopologyAsync(source)).topology?.pods).toHaveLength(300);
    expect(mod.parsesInWorker(source)).toBe(false);

    // A worker whose script never loads (blocked by a policy, say): what it had is parsed here.
    class BrokenWorker extends InProcessWorker {
      override postMessage(data: unknown): void {
        InProcessWorker.requests.push(data);
        setTimeout(() => this.emit('error', { data: null, preventDefault() {}, message: 'blocked' }), 0);
      }
    }
    vi.stubGlobal('Worker', BrokenWorker);
    mod = await freshModules();
    const result = await mod.parseTopologyAsync(source);
    expect(InProcessWorker.requests).toHaveLength(1);
    expect(result.topology?.pods).toHaveLength(300);
    expect(mod.parsesInWorker({ ...source, text: source.text + '\n' })).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('blocked'));
    warn.mockRestore();
  });
});
