import WebSocket from 'ws';
import { expectEqual, expectTrue, newPage, startServer, tempDataDir, test } from './harness';

function wsOutcome(url: string, headers: Record<string, string> = {}, send?: unknown): Promise<{ opened: boolean; code?: number; status?: number; reply?: unknown }> {
  return new Promise((resolveOutcome) => {
    const ws = new WebSocket(url, { headers });
    let opened = false;
    ws.on('open', () => {
      opened = true;
      if (send !== undefined) ws.send(JSON.stringify(send));
    });
    ws.on('message', (d) => {
      resolveOutcome({ opened, reply: JSON.parse(d.toString()) });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => resolveOutcome({ opened, status: res.statusCode }));
    ws.on('close', (code) => resolveOutcome({ opened, code }));
    ws.on('error', () => {});
  });
}

test('the browser transport refuses a wrong token, foreign origins and invalid calls', async () => {
  const data = tempDataDir('security');
  const server = await startServer(data.dir);
  const { page, close } = await newPage();
  try {
    // The page with a wrong token: 401, and the app never starts.
    const bad = await page.goto(`${server.origin}/?token=not-the-token`);
    expectEqual(bad?.status(), 401, 'status with a wrong token');
    expectEqual(await page.$('body[data-app-state]'), null, 'no app on the refusal page');
    // Without any token (no cookie either): 401.
    expectEqual((await page.goto(`${server.origin}/`))?.status(), 401, 'status without a token');
    expectEqual((await page.goto(`${server.origin}/assets/`))?.status(), 401, 'assets without a token');

    const wsUrl = `ws://127.0.0.1:${new URL(server.origin).port}/ws`;
    expectEqual((await wsOutcome(`${wsUrl}?token=wrong`)).code, 4401, 'WebSocket close code with a wrong token');
    expectEqual((await wsOutcome(wsUrl)).code, 4401, 'WebSocket close code without a token');
    expectEqual((await wsOutcome(`${wsUrl}?token=${server.token}`, { Origin: 'http://evil.example' })).status, 403, 'WebSocket from another origin');
    expectEqual((await wsOutcome(`${wsUrl}?token=${server.token}`, { Host: 'evil.example' })).status, 421, 'WebSocket with a foreign Host (DNS rebinding)');

    // With the token: calls are validated by the same schemas as IPC.
    const unknown = await wsOutcome(`${wsUrl}?token=${server.token}`, {}, { id: 1, method: 'constructor', params: [] });
    expectEqual((unknown.reply as { error?: { code: string } }).error?.code, 'unknown-method', 'unknown method');
    const invalid = await wsOutcome(`${wsUrl}?token=${server.token}`, {}, { id: 2, method: 'readSample', params: ['../../etc/passwd'] });
    expectEqual((invalid.reply as { error?: { code: string } }).error?.code, 'invalid-params', 'path in a sample id');
    const ok = await wsOutcome(`${wsUrl}?token=${server.token}`, {}, { id: 3, method: 'appInfo', params: [] });
    const info = (ok.reply as { id: number; result: { transport: string; electron: boolean } }).result;
    expectEqual({ transport: info.transport, electron: info.electron }, { transport: 'websocket', electron: false }, 'appInfo over the WebSocket');
    const protocolAuth = await new Promise<string>((r) => {
      const ws = new WebSocket(wsUrl, [`netlab.token.${server.token}`]);
      ws.on('open', () => {
        r(ws.protocol);
        ws.close();
      });
      ws.on('close', (code) => r(`closed ${code}`));
      ws.on('error', () => {});
    });
    expectTrue(protocolAuth.startsWith('netlab.token.'), `token accepted through Sec-WebSocket-Protocol (${protocolAuth})`);
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});
