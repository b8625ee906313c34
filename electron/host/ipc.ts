import { LAB_API_METHODS, ipcChannel } from '../../core/api';
import type { RpcOutcome } from '../../core/api';
import type { Dispatch } from './dispatch';

/** The slice of Electron's ipcMain this module needs (structural, so tests pass a fake). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcInvokeEventLike {
  senderFrame?: { url: string } | null;
}

/**
 * One ipcMain.handle per LabApi method. Calls from frames that are not the
 * lab's own UI are refused; arguments are validated by the dispatcher with
 * the same zod schemas the WebSocket transport uses.
 */
export function registerLabApiIpc(ipcMain: IpcMainLike, dispatch: Dispatch, isTrustedUrl: (url: string) => boolean): () => void {
  for (const method of LAB_API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (event, ...args): Promise<RpcOutcome> => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedUrl(url)) {
        return { ok: false, error: { code: 'forbidden', message: `LabApi calls are only accepted from the lab's own window (not ${url || 'an unknown frame'}).` } };
      }
      return dispatch(method, args);
    });
  }
  return () => {
    for (const method of LAB_API_METHODS) ipcMain.removeHandler(ipcChannel(method));
  };
}
