// testbed-step events through the Electron preload (electron mocked): the
// progress of `testbedUp` reaches the renderer's listeners on the one event
// channel, and malformed steps are dropped by the renderer's zod check.
import { describe, expect, it, vi } from 'vitest';
import { LAB_API_METHODS, LAB_EVENT_NAMES } from '../core/api';

const h = vi.hoisted(() => ({
  exposed: new Map<string, Record<string, (...a: unknown[]) => unknown>>(),
  listeners: new Map<string, ((...a: unknown[]) => void)[]>(),
  invoked: [] as unknown[][],
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (k: string, v: Record<string, (...a: unknown[]) => unknown>) => h.exposed.set(k, v) },
  ipcRenderer: {
    invoke: async (...a: unknown[]) => {
      h.invoked.push(a);
      return { ok: true, result: null };
    },
    on: (ch: string, l: (...a: unknown[]) => void) => h.listeners.set(ch, [...(h.listeners.get(ch) ?? []), l]),
    removeListener: (ch: string, l: (...a: unknown[]) => void) => h.listeners.set(ch, (h.listeners.get(ch) ?? []).filter((x) => x !== l)),
  },
}));

describe('test-bed and remote-node methods and events over IPC', () => {
  it('exposes the new methods and the testbed-step event', async () => {
    for (const m of ['testbedUp', 'testbedDown', 'testbedStatus', 'testbedExec', 'remoteList', 'remoteAdd', 'remoteRemove', 'remoteConnect', 'remoteAcceptHostKey', 'remoteRun', 'remoteDisconnect', 'compareNode']) {
      expect(LAB_API_METHODS).toContain(m);
    }
    expect(LAB_EVENT_NAMES).toContain('testbed-step');
    await import('./preload');
    const api = h.exposed.get('labApi')!;
    await api.testbedUp({ topologyText: 'x' });
    expect(h.invoked.at(-1)).toEqual(['labapi:testbedUp', { topologyText: 'x' }]);
  });

  it('delivers steps to the renderer, validated', async () => {
    await import('./preload');
    const { validatingEvents } = await import('../renderer/src/lib/lab');
    const bridge = h.exposed.get('labEvents') as unknown as { on(e: string, l: (d: unknown) => void): () => void };
    const events = validatingEvents({ on: (e, l) => bridge.on(e, l as (d: unknown) => void) });
    const steps: unknown[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const off = events.on('testbed-step', (d) => steps.push(d));
    const send = (event: string, data: unknown) => {
      for (const l of h.listeners.get('labapi-event') ?? []) l({}, { event, data });
    };
    send('testbed-step', { step: 1, total: 11, message: 'Checking requirements' });
    send('testbed-step', { step: 0, total: 11, message: 'bad step number' });
    send('testbed-step', { step: 2, total: 11, message: 'x', extra: true });
    send('testbed-step', { step: 2, total: 11, message: 'Creating the node network and node namespaces' });
    off();
    send('testbed-step', { step: 3, total: 11, message: 'after unsubscribe' });
    expect(steps).toEqual([
      { step: 1, total: 11, message: 'Checking requirements' },
      { step: 2, total: 11, message: 'Creating the node network and node namespaces' },
    ]);
    expect(warn).toHaveBeenCalledTimes(2);
  });
});
