import type { LabApiMethod, LabEventMap, LabEventName, LabEvents, RpcOutcome } from '../../../core/api';

/** The part of the WebSocket interface the client uses (browsers' WebSocket and the `ws` package both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (ev: { code: number; reason: string }) => void): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface WsConnection {
  call(method: LabApiMethod, params: unknown[]): Promise<RpcOutcome>;
  events: LabEvents;
  /** Resolves when the connection closes, with why. */
  closed: Promise<{ code: number; reason: string; message: string }>;
  close(): void;
}

const OPEN = 1;

/** Explain a close code the way a user can act on. */
export function describeClose(code: number, reason: string): string {
  if (code === 4401) return 'The lab server refused the connection: the token is missing or wrong. Open the exact URL printed in the terminal where the lab was started.';
  if (code === 1006) return 'The connection to the lab server was lost (is it still running?). Start it again with `npm start` and reload.';
  return `The connection to the lab server closed (code ${code}${reason ? `: ${reason}` : ''}). Start it again with \`npm start\` and reload.`;
}

/**
 * A LabApi transport over one WebSocket: requests `{id, method, params}`,
 * answers `{id, result}` or `{id, error}`, host events `{event, data}`.
 */
export function connectWebSocket(url: string, factory: WebSocketFactory, timeoutMs = 10_000): Promise<WsConnection> {
  return new Promise((resolveConn, rejectConn) => {
    const ws = factory(url);
    let nextId = 1;
    let opened = false;
    let closeInfo: { code: number; reason: string; message: string } | null = null;
    const pending = new Map<number, (o: RpcOutcome) => void>();
    const listeners = new Map<string, Set<(data: unknown) => void>>();
    let resolveClosed: (v: { code: number; reason: string; message: string }) => void = () => {};
    const closed = new Promise<{ code: number; reason: string; message: string }>((r) => (resolveClosed = r));

    const timer = setTimeout(() => {
      if (!opened) {
        ws.close();
        rejectConn(new Error(`Timed out after ${timeoutMs} ms connecting to ${url}.`));
      }
    }, timeoutMs);

    ws.addEventListener('message', (ev) => {
      let msg: { id?: unknown; result?: unknown; error?: { code: string; message: string; hint?: string }; event?: string; data?: unknown };
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof msg.event === 'string') {
        for (const l of listeners.get(msg.event) ?? []) l(msg.data);
        return;
      }
      if (typeof msg.id !== 'number') return;
      const done = pending.get(msg.id);
      if (!done) return;
      pending.delete(msg.id);
      done(msg.error ? { ok: false, error: msg.error } : { ok: true, result: msg.result });
    });

    ws.addEventListener('close', (ev) => {
      clearTimeout(timer);
      closeInfo = { code: ev.code, reason: ev.reason, message: describeClose(ev.code, ev.reason) };
      for (const done of pending.values()) done({ ok: false, error: { code: 'transport', message: closeInfo.message } });
      pending.clear();
      resolveClosed(closeInfo);
      if (!opened) rejectConn(new Error(closeInfo.message));
    });

    ws.addEventListener('open', () => {
      // The server may still close right away (wrong token): wait one turn for that.
      opened = true;
      clearTimeout(timer);
      resolveConn({
        call(method, params) {
          if (closeInfo) return Promise.resolve({ ok: false, error: { code: 'transport', message: closeInfo.message } });
          if (ws.readyState !== OPEN) return Promise.resolve({ ok: false, error: { code: 'transport', message: 'The connection to the lab server is not open.' } });
          const id = nextId++;
          return new Promise<RpcOutcome>((r) => {
            pending.set(id, r);
            ws.send(JSON.stringify({ id, method, params }));
          });
        },
        events: {
          on<E extends LabEventName>(event: E, listener: (data: LabEventMap[E]) => void) {
            const set = listeners.get(event) ?? new Set();
            const l = listener as (data: unknown) => void;
            set.add(l);
            listeners.set(event, set);
            return () => set.delete(l);
          },
        },
        closed,
        close: () => ws.close(1000, 'client closed'),
      });
    });
  });
}
