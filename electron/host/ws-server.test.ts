import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_API_METHODS } from '../../core/api';
import type { LabApi } from '../../core/api';
import { CONTENT_SECURITY_POLICY } from './csp';
import { createDispatcher } from './dispatch';
import { CLOSE_UNAUTHORIZED, startLabServer } from './ws-server';
import type { LabServer } from './ws-server';

const root = mkdtempSync(join(tmpdir(), 'netlab-ws-'));
const rendererDir = join(root, 'renderer');
mkdirSync(join(rendererDir, 'assets'), { recursive: true });
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>lab</title>');
writeFileSync(join(rendererDir, 'assets', 'a.js'), 'export {}');
writeFileSync(join(root, 'secret.txt'), 'outside');

const api = Object.fromEntries(LAB_API_METHODS.map((m) => [m, async (...args: unknown[]) => ({ method: m, args })])) as unknown as LabApi;
let server: LabServer;
beforeAll(async () => {
  server = await startLabServer({ dispatch: createDispatcher(api), rendererDir, token: 'test-token-0123456789abcdefghij' });
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A raw HTTP GET (fetch cannot set Host or read redirects as they are). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolveGet, rejectGet) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', rejectGet);
    req.end();
  });
}

function connect(query = `?token=${server.token}`, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolveWs, rejectWs) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers });
    ws.once('open', () => resolveWs(ws));
    ws.once('error', rejectWs);
  });
}

function rpc(ws: WebSocket, msg: unknown): Promise<Record<string, unknown>> {
  return new Promise((r) => {
    ws.once('message', (d) => r(JSON.parse(d.toString())));
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

describe('browser transport server', () => {
  it('listens on 127.0.0.1 and prints a URL with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('trades the token in the URL for an HttpOnly cookie, then serves the UI with the CSP', async () => {
    const first = await get(`/?token=${server.token}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^netlab_token_${server.port}=${server.token}; HttpOnly; SameSite=Strict; Path=/`));
    const page = await get('/', { Cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>lab</title>');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/assets/a.js', { Cookie: cookie.split(';')[0] })).headers['content-type']).toMatch(/javascript/);
  });

  it('refuses requests without the token, with a wrong one, or for another host', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { Cookie: `netlab_token_${server.port}=wrong` })).status).toBe(401);
    expect((await get('/', { Cookie: `netlab_token_1=${server.token}` })).status).toBe(401);
    expect((await get(`/?token=${server.token}`, { Host: 'attacker.example' })).status).toBe(421);
  });

  it('never serves files outside the renderer folder', async () => {
    const cookie = `netlab_token_${server.port}=${server.token}`;
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const res = await get(p, { Cookie: cookie });
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('outside');
    }
  });

  it('answers JSON-RPC calls through the dispatcher', async () => {
    const ws = await connect();
    expect(await rpc(ws, { id: 1, method: 'readSample', params: ['seed'] })).toEqual({ id: 1, result: { method: 'readSample', args: ['seed'] } });
    expect(await rpc(ws, { id: 'two', method: 'readSample', params: ['../x'] })).toMatchObject({ id: 'two', error: { code: 'invalid-params' } });
    expect(await rpc(ws, { id: 3, method: '__proto__', params: [] })).toMatchObject({ id: 3, error: { code: 'unknown-method' } });
    expect(await rpc(ws, 'not json')).toMatchObject({ id: null, error: { code: 'invalid-request' } });
    expect(await rpc(ws, { method: 'appInfo' })).toMatchObject({ id: null, error: { code: 'invalid-request' } });
    ws.close();
  });

  it('authenticates the WebSocket by query, subprotocol or cookie, and closes with 4401 otherwise', async () => {
    (await connect()).close();
    (await connect('', { Cookie: `netlab_token_${server.port}=${server.token}` })).close();
    const viaProtocol = await new Promise<WebSocket>((r, j) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, [`netlab.token.${server.token}`]);
      ws.once('open', () => r(ws));
      ws.once('error', j);
    });
    expect(await rpc(viaProtocol, { id: 1, method: 'appInfo', params: [] })).toMatchObject({ id: 1, result: { method: 'appInfo' } });
    viaProtocol.close();

    const closed = await new Promise<number>((r) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=nope`);
      ws.on('close', (code) => r(code));
      ws.on('error', () => {});
    });
    expect(closed).toBe(CLOSE_UNAUTHORIZED);
  });

  it('refuses WebSocket upgrades from other origins and hosts', async () => {
    const status = (headers: Record<string, string>, path = `/ws?token=${server.token}`) =>
      new Promise<number>((r) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
        ws.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          r(101);
        });
        ws.on('error', () => {});
      });
    expect(await status({ Origin: 'https://evil.example' })).toBe(403);
    expect(await status({ Origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    expect(await status({ Origin: `http://127.0.0.1:${server.port}` })).toBe(101);
    expect(await status({ Origin: `http://localhost:${server.port}` })).toBe(101);
    expect(await status({ Host: 'rebind.example' })).toBe(421);
    expect(await status({}, `/other?token=${server.token}`)).toBe(404);
  });

  it('pushes host events to connected clients', async () => {
    const ws = await connect();
    const got = new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    server.broadcast('notice', { level: 'info', message: 'hello' });
    expect(await got).toEqual({ event: 'notice', data: { level: 'info', message: 'hello' } });
    ws.close();
  });
});
