// Runs in the sandboxed renderer before the page. Exposes exactly the LabApi
// methods (as `window.labApi`) and a listener for host events (as
// `window.labEvents`), nothing else: no ipcRenderer, no Node.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { LAB_API_METHODS, LAB_EVENT_CHANNEL, LAB_EVENT_NAMES, ipcChannel } from '../core/api/methods';

const labApi: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
for (const method of LAB_API_METHODS) {
  labApi[method] = (...args: unknown[]) => ipcRenderer.invoke(ipcChannel(method), ...args);
}

const labEvents = {
  on(event: string, listener: (data: unknown) => void): () => void {
    if (!(LAB_EVENT_NAMES as readonly string[]).includes(event) || typeof listener !== 'function') return () => {};
    const handler = (_e: IpcRendererEvent, message: { event: string; data: unknown }) => {
      if (message && message.event === event) listener(message.data);
    };
    ipcRenderer.on(LAB_EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(LAB_EVENT_CHANNEL, handler);
    };
  },
};

contextBridge.exposeInMainWorld('labApi', Object.freeze(labApi));
contextBridge.exposeInMainWorld('labEvents', Object.freeze(labEvents));
