import { LAB_EVENT_NAMES, LAB_EVENT_SCHEMAS, createLabApiClient } from '../../../core/api';
import type { LabApi, LabApiBridge, LabEventMap, LabEventName, LabEvents, LabEventsBridge, Transport } from '../../../core/api';
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
 * Host events with a schema (terminal output and exits) are checked before a
 * listener sees them; a malformed one is dropped with a console warning.
 */
export function validatingEvents(events: LabEvents): LabEvents {
  return {
    on<E extends LabEventName>(event: E, listener: (data: LabEventMap[E]) => void) {
      const schema = (LAB_EVENT_SCHEMAS as Partial<Record<LabEventName, { safeParse(v: unknown): { success: boolean } }>>)[event];
      if (!schema) return events.on(event, listener);
      return events.on(event, (data) => {
        if (schema.safeParse(data).success) listener(data);
        else console.warn(`netlab: dropped a malformed "${event}" event from the host`);
      });
    },
  };
}

/**
 * Connect to the host: through the Electron preload bridge when present,
 * otherwise over the WebSocket of the page's own server. Either way the UI
 * gets the same LabApi.
 */
export async function connectLab(): Promise<Lab> {
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
    return { api, events: validatingEvents(events), transport: 'ipc', lost: new Promise(() => {}) };
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const conn = await connectWebSocket(`${scheme}://${location.host}/ws`, (url) => new WebSocket(url));
  return { api: createLabApiClient(conn.call), events: validatingEvents(conn.events), transport: 'websocket', lost: conn.closed.then((c) => c.message) };
}
