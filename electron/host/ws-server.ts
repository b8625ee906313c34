import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import type { LabEventName } from '../../core/api';
import type { Dispatch } from './dispatch';
import { SECURITY_HEADERS } from './csp';
import { readStaticFile } from './static-files';

export const WS_PATH = '/ws';
export const WS_TOKEN_PROTOCOL_PREFIX = 'netlab.token.';
/** Close code sent when the token is missing or wrong (401 in the 4000 range). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN_ORIGIN = 4403;
const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

export interface LabServerOptions {
  dispatch: Dispatch;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Per-run secret; generated when absent. */
  token?: string;
  log?: (line: string) => void;
}

export interface LabServer {
  /** The URL to open, with the token. */
  url: string;
  origin: string;
  port: number;
  token: string;
  broadcast<E extends LabEventName>(event: E, data: unknown): void;
  close(): Promise<void>;
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The browser transport: HTTP for the built renderer plus a WebSocket speaking
 * `{id, method, params}` → `{id, result}` | `{id, error}`. Listens on
 * 127.0.0.1 only; every request needs the per-run token (in the URL once, then
 * an HttpOnly cookie); WebSocket upgrades must come from the lab's own origin.
 */
export async function startLabServer(options: LabServerOptions): Promise<LabServer> {
  const token = options.token ?? newToken();
  const log = options.log ?? (() => {});
  let port = 0;
  const cookieName = () => `netlab_token_${port}`;
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);

  const tokenOk = (candidate: string | undefined | null): boolean => {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const cookieToken = (req: IncomingMessage): string | undefined => {
    const header = req.headers.cookie;
    if (!header) return undefined;
    for (const part of header.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === cookieName()) return v.join('=');
    }
    return undefined;
  };

  const send = (res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store', 'Content-Type': type, ...extra });
    res.end(body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (!allowedHosts().has(req.headers.host ?? '')) {
        return send(res, 421, 'This lab server only answers requests addressed to 127.0.0.1 or localhost.\n');
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed.\n', undefined, { Allow: 'GET, HEAD' });
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      const queryToken = url.searchParams.get('token');
      if (queryToken !== null) {
        if (!tokenOk(queryToken)) {
          log(`refused ${url.pathname}: wrong token`);
          return send(res, 401, 'Wrong token. Open the exact URL printed in the terminal where the lab was started.\n');
        }
        // Trade the token for a cookie and drop it from the address bar.
        url.searchParams.delete('token');
        return send(res, 302, '', undefined, {
          'Set-Cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          Location: url.pathname + (url.search || ''),
        });
      }
      if (!tokenOk(cookieToken(req))) {
        return send(res, 401, 'This lab server needs its token. Open the exact URL printed in the terminal where the lab was started.\n');
      }
      const file = await readStaticFile(options.rendererDir, url.pathname);
      if (!file) return send(res, 404, 'Not found.\n');
      return send(res, 200, req.method === 'HEAD' ? '' : file.body, file.type);
    })().catch((err: unknown) => {
      log(`error serving ${req.url}: ${String(err)}`);
      if (!res.headersSent) send(res, 500, 'Internal error.\n');
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return p;
      return false;
    },
  });
  const clients = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const reject = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== WS_PATH) return reject('404 Not Found');
    if (!allowedHosts().has(req.headers.host ?? '')) return reject('421 Misdirected Request');
    const origin = req.headers.origin;
    // Browsers always send Origin on WebSocket upgrades; a page from another site is refused.
    if (origin !== undefined && !allowedOrigins().has(origin)) {
      log(`refused WebSocket from origin ${origin}`);
      return reject('403 Forbidden');
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
    const presented = url.searchParams.get('token') ?? (offered ? offered.slice(WS_TOKEN_PROTOCOL_PREFIX.length) : undefined) ?? cookieToken(req);
    const authorised = tokenOk(presented);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!authorised) {
        log('refused WebSocket: missing or wrong token');
        ws.close(CLOSE_UNAUTHORIZED, 'missing or wrong token');
        return;
      }
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003, 'text frames only');
        let msg: unknown;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return sendJson(ws, { id: null, error: { code: 'invalid-request', message: 'The message is not JSON.' } });
        }
        const m = msg as { id?: unknown; method?: unknown; params?: unknown };
        if (!msg || typeof msg !== 'object' || (typeof m.id !== 'number' && typeof m.id !== 'string')) {
          return sendJson(ws, { id: null, error: { code: 'invalid-request', message: 'A request is {id, method, params} with a string or number id.' } });
        }
        const id = m.id;
        void options.dispatch(m.method, m.params).then((outcome) => {
          sendJson(ws, outcome.ok ? { id, result: outcome.result } : { id, error: outcome.error });
        });
      });
    });
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    broadcast(event, data) {
      for (const ws of clients) sendJson(ws, { event, data });
    },
    async close() {
      for (const ws of clients) ws.terminate();
      wss.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function sendJson(ws: WebSocket, value: unknown): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(value));
}
