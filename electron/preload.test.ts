// preload.ts with electron mocked: it exposes exactly the LabApi methods and
// an event listener, and forwards calls to ipcRenderer.invoke on their channels.
import { describe, expect, it, vi } from 'vitest';
import { LAB_API_METHODS } from '../core/api';

const h = vi.hoisted(() => ({
  exposed: new Map<string, Record<string, (...a: unknown[]) => unknown>>(),
  invoke: [] as unknown[][],
  listeners: new Map<string, ((...a: unknown[]) => void)[]>(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (k: string, v: Record<string, (...a: unknown[]) => unknown>) => h.exposed.set(k, v) },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => {
      h.invoke.push(args);
      return { ok: true, result: null };
    },
    on: (ch: string, l: (...a: unknown[]) => void) => h.listeners.set(ch, [...(h.listeners.get(ch) ?? []), l]),
    removeListener: (ch: string, l: (...a: unknown[]) => void) => h.listeners.set(ch, (h.listeners.get(ch) ?? []).filter((x) => x !== l)),
  },
}));

describe('electron/preload.ts', () => {
  it('exposes exactly labApi (the LabApi methods) and labEvents (on)', async () => {
    await import('./preload');
    expect([...h.exposed.keys()]).toEqual(['labApi', 'labEvents']);
    expect(Object.keys(h.exposed.get('labApi')!).sort()).toEqual([...LAB_API_METHODS].sort());
    expect(Object.keys(h.exposed.get('labEvents')!)).toEqual(['on']);
    expect(Object.isFrozen(h.exposed.get('labApi'))).toBe(true);
  });

  it('forwards each method to its IPC channel with its arguments', async () => {
    await import('./preload');
    await h.exposed.get('labApi')!.sessionSave({ notes: 'x' }, 'Edit notes');
    expect(h.invoke.at(-1)).toEqual(['labapi:sessionSave', { notes: 'x' }, 'Edit notes']);
  });

  it('delivers only the named host events, and unsubscribes', async () => {
    await import('./preload');
    const got: unknown[] = [];
    const off = h.exposed.get('labEvents')!.on('menu', (d: unknown) => got.push(d)) as () => void;
    expect(h.exposed.get('labEvents')!.on('not-an-event', () => {})).toBeTypeOf('function');
    const [listener] = h.listeners.get('labapi-event')!;
    listener({}, { event: 'menu', data: { action: 'undo' } });
    listener({}, { event: 'session', data: {} });
    expect(got).toEqual([{ action: 'undo' }]);
    off();
    expect(h.listeners.get('labapi-event')).toEqual([]);
  });
});
