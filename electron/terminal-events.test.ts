// The terminal event channel through the Electron preload (electron mocked):
// terminal output and exits reach the renderer's listeners on the one event
// channel, and the renderer drops events that fail their zod schema.
import { describe, expect, it, vi } from 'vitest';
import { LAB_EVENT_NAMES, LAB_EVENT_SCHEMAS } from '../core/api';

const h = vi.hoisted(() => ({
  exposed: new Map<string, Record<string, (...a: unknown[]) => unknown>>(),
  listeners: new Map<string, ((...a: unknown[]) => void)[]>(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (k: string, v: Record<string, (...a: unknown[]) => unknown>) => h.exposed.set(k, v) },
  ipcRenderer: {
    invoke: async () => ({ ok: true, result: null }),
    on: (ch: string, l: (...a: unknown[]) => void) => h.listeners.set(ch, [...(h.listeners.get(ch) ?? []), l]),
    removeListener: (ch: string, l: (...a: unknown[]) => void) => h.listeners.set(ch, (h.listeners.get(ch) ?? []).filter((x) => x !== l)),
  },
}));

describe('terminal events over IPC', () => {
  it('lists the terminal events among the host events', () => {
    expect(LAB_EVENT_NAMES).toContain('terminal');
    expect(LAB_EVENT_NAMES).toContain('terminal-exit');
  });

  it('delivers terminal output and exits through the preload bridge, validated by the renderer', async () => {
    await import('./preload');
    const { validatingEvents } = await import('../renderer/src/lib/lab');
    const bridge = h.exposed.get('labEvents') as unknown as { on(e: string, l: (d: unknown) => void): () => void };
    const events = validatingEvents({ on: (e, l) => bridge.on(e, l as (d: unknown) => void) });
    const out: unknown[] = [];
    const exits: unknown[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    events.on('terminal', (d) => out.push(d));
    events.on('terminal-exit', (d) => exits.push(d));
    const send = (event: string, data: unknown) => {
      for (const l of h.listeners.get('labapi-event') ?? []) l({}, { event, data });
    };
    send('terminal', { id: 'term-0011aa', data: 'node-1:/# ' });
    send('terminal', { id: 'not-a-terminal', data: 'x' });
    send('terminal', { id: 'term-0011aa', data: 42 });
    send('terminal-exit', { id: 'term-0011aa', exitCode: 0 });
    expect(out).toEqual([{ id: 'term-0011aa', data: 'node-1:/# ' }]);
    expect(exits).toEqual([{ id: 'term-0011aa', exitCode: 0 }]);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(LAB_EVENT_SCHEMAS['terminal-exit'].safeParse({ id: 'term-0011aa', exitCode: 1.5 }).success).toBe(false);
  });
});
