import { describe, expect, it } from 'vitest';
import { LAB_API_METHODS } from '../../core/api';
import { registerLabApiIpc } from './ipc';
import type { IpcInvokeEventLike, IpcMainLike } from './ipc';

function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel) => handlers.delete(channel),
  };
  return { ipc, handlers };
}

describe('registerLabApiIpc', () => {
  it('registers one handler per LabApi method and removes them again', () => {
    const { ipc, handlers } = fakeIpcMain();
    const off = registerLabApiIpc(ipc, async () => ({ ok: true, result: null }), () => true);
    expect([...handlers.keys()].sort()).toEqual(LAB_API_METHODS.map((m) => `labapi:${m}`).sort());
    off();
    expect(handlers.size).toBe(0);
  });

  it('passes calls from the lab window to the dispatcher and refuses other frames', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const calls: unknown[] = [];
    registerLabApiIpc(
      ipc,
      async (method, params) => {
        calls.push([method, params]);
        return { ok: true, result: 'fine' };
      },
      (url) => url.startsWith('netlab://app/'),
    );
    const h = handlers.get('labapi:readSample')!;
    expect(await h({ senderFrame: { url: 'netlab://app/index.html' } }, 'seed')).toEqual({ ok: true, result: 'fine' });
    expect(calls).toEqual([['readSample', ['seed']]]);
    expect(await h({ senderFrame: { url: 'https://evil.example/' } }, 'seed')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await h({ senderFrame: null }, 'seed')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(calls).toHaveLength(1);
  });
});
