// The browser transport: serves the built renderer and the LabApi over a
// WebSocket on 127.0.0.1, for machines where the Electron binary is not
// available and for the browser e2e tests.
//
//   node --import tsx electron/serve.ts [--port N] [--data-dir DIR] [--renderer-dir DIR]
//
// Prints the URL to open (with its per-run token) and `NETLAB_URL=<url>` for scripts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHostApi } from './host/api';
import { defaultDataDir } from './host/data-dir';
import { createDispatcher } from './host/dispatch';
import { startLabServer } from './host/ws-server';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'renderer-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: node --import tsx electron/serve.ts [--port N] [--data-dir DIR] [--renderer-dir DIR]\n');
    return;
  }
  const portText = values.port ?? process.env.NETLAB_PORT ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a port number (0 picks a free one), got "${portText}".`);
  }
  const rendererDir = resolve(values['renderer-dir'] ?? join(root, 'out', 'renderer'));
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`The UI is not built (${join(rendererDir, 'index.html')} is missing). Run \`npm run build\` first, or start with \`npm start\`.`);
  }
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

  const api = createHostApi({ transport: 'websocket', electron: false, version, resourcesDir: join(root, 'resources'), dataDir });
  const dispatch = createDispatcher(api, { onInternalError: (method, err) => console.error(`[netlab] ${method}:`, err) });
  const server = await startLabServer({ dispatch, rendererDir, port, log: (line) => console.error(`[netlab] ${line}`) });
  api.setEventSink((event, data) => server.broadcast(event, data));

  process.stdout.write(`Kubernetes Network Lab is serving at ${server.url}\n`);
  process.stdout.write(`Sessions are kept in ${dataDir}\n`);
  process.stdout.write(`NETLAB_URL=${server.url}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.close().finally(() => {
      api.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`netlab serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
