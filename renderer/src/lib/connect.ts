// The connection to the host, kept free of the API's schemas (zod) so that the
// window's first script (main.ts, boot.ts) stays small: the shell wraps the
// events with their checks (lab.ts) once its own code has loaded.
import { createLabApiClient } from '../../../core/api/client';
import { LAB_EVENT_NAMES } from '../../../core/api/methods';
import type { LabApi, LabApiBridge, LabEventMap, LabEventName, LabEvents, LabEventsBridge, Transport } from '../../../core/api/types';
import { connectWebSocket } from './ws-client';

export interface Lab {
  api: LabApi;
  events: LabEvents;
  transport: Transport;
  /** Resolves with a message when the host goes away (browser transport only). */
  lost: Promise<string>;
}

declare global {
  interface Window {
    labApi?: LabApiBridge;
    labEvents?: LabEventsBridge;
  }
}

/**
 * Connect to the host: through the Electron preload bridge when present,
 * otherwise over the WebSocket of the page's own server. Either way the UI
 * gets the same LabApi. Events come unchecked (see validatingEvents in lab.ts).
 */
export async function connectHost(): Promise<Lab> {
  const bridge = window.labApi;
  if (bridge) {
    const eventsBridge = window.labEvents;
    const events: LabEvents = {
      on<E extends LabEventName>(event: E, listener: (data: LabEventMap[E]) => void) {
        if (!eventsBridge || !(LAB_EVENT_NAMES as readonly string[]).includes(event)) return () => {};
        return eventsBridge.on(event, listener as (data: unknown) => void);
      },
    };
    const api = createLabApiClient((method, params) => (bridge[method] as (...a: unknown[]) => ReturnType<LabApiBridge[typeof method]>)(...params));
    return { api, events, transport: 'ipc', lost: new Promise(() => {}) };
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const conn = await connectWebSocket(`${scheme}://${location.host}/ws`, (url) => new WebSocket(url));
  return { api: createLabApiClient(conn.call), events: conn.events, transport: 'websocket', lost: conn.closed.then((c) => c.message) };
}
