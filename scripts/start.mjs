#!/usr/bin/env node
// npm start: build the app if out/ is missing or older than the sources, then
// start Electron. When Electron cannot start (its binary could not be
// downloaded, no display, missing system libraries) serve the same UI to a
// browser with electron/serve.ts instead, and say why.
//
//   npm start [-- --browser] [-- --port N] [-- --data-dir DIR]
//
// NETLAB_ELECTRON_DOWNLOAD=0 skips the first-run download of the Electron binary.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const { values } = parseArgs({
  options: {
    browser: { type: 'boolean', default: false },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

const OUTPUTS = ['out/main/main.js', 'out/preload/preload.cjs', 'out/renderer/index.html'];
const SOURCES = ['core', 'electron', 'renderer', 'resources', 'electron.vite.config.ts', 'package.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    if (entry.endsWith('.test.ts')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Why out/ needs a build, or null when it is current. */
export function buildReason() {
  const missing = OUTPUTS.filter((o) => !existsSync(join(root, o)));
  if (missing.length) return `${missing.join(', ')} missing`;
  const built = Math.min(...OUTPUTS.map((o) => statSync(join(root, o)).mtimeMs));
  const changed = SOURCES.filter((s) => newestMtime(join(root, s)) > built);
  return changed.length ? `sources changed since the last build (${changed.join(', ')})` : null;
}

function build() {
  const reason = buildReason();
  if (!reason) return;
  console.log(`Building the lab (${reason})…`);
  const bin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  const res = spawnSync(process.execPath, [bin, 'build'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error('The build failed; see the messages above.');
    process.exit(res.status ?? 1);
  }
}

/** The Electron binary, or the reason there is none. Never blocks for long. */
function findElectron() {
  const pkgDir = dirname(require.resolve('electron/package.json', { paths: [root] }));
  const pathFile = join(pkgDir, 'path.txt');
  if (existsSync(pathFile)) {
    const bin = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
    if (existsSync(bin)) return { bin };
  }
  if (process.env.NETLAB_ELECTRON_DOWNLOAD === '0') {
    return { reason: `${join(pkgDir, 'dist')} has no Electron binary and the download is disabled (NETLAB_ELECTRON_DOWNLOAD=0)` };
  }
  // require('electron') downloads the binary on first use; give it a bounded time.
  console.log('Fetching the Electron binary (first run)…');
  const res = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  if (res.status === 0 && res.stdout && existsSync(res.stdout)) return { bin: res.stdout };
  const detail = `${res.stderr ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /error|fail|ENOTFOUND|EAI_AGAIN|ECONN|timed out/i.test(l));
  if (res.error?.code === 'ETIMEDOUT') return { reason: 'downloading it took longer than 3 minutes' };
  return { reason: `its download failed${detail ? ` (${detail.slice(0, 200)})` : ''}` };
}

/**
 * Which ABI the native modules (better-sqlite3) are built for: npm builds them
 * for Node; Electron needs them rebuilt for its own ABI (npm run rebuild:electron).
 */
function nativeAbi() {
  try {
    const Database = require(require.resolve('better-sqlite3', { paths: [root] }));
    new Database(':memory:').close();
    return { node: true, abi: process.versions.modules };
  } catch (err) {
    const m = /NODE_MODULE_VERSION (\d+)/.exec(String(err?.message));
    return { node: false, abi: m ? m[1] : 'unknown', error: String(err?.message ?? err).split('\n')[0] };
  }
}

function electronAbi() {
  try {
    const pkgDir = dirname(require.resolve('electron/package.json', { paths: [root] }));
    return readFileSync(join(pkgDir, 'abi_version'), 'utf8').trim();
  } catch {
    return null;
  }
}

function serveInBrowser(why) {
  const native = nativeAbi();
  if (!native.node) {
    console.error(`${why ? `${why}. ` : ''}The browser transport runs on Node, but the native modules are built for another runtime (${native.error}).`);
    console.error('Run `npm run rebuild:node` and start again.');
    process.exit(1);
  }
  const args = ['--import', 'tsx', join(root, 'electron', 'serve.ts')];
  if (values.port) args.push('--port', values.port);
  if (values['data-dir']) args.push('--data-dir', values['data-dir']);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^NETLAB_URL=(\S+)$/.exec(line);
      if (m) {
        console.log(why ? `${why}; serving the lab in your browser instead at ${m[1]}` : `Serving the lab in your browser at ${m[1]}`);
        console.log('Press Ctrl+C to stop.');
      } else if (!line.startsWith('Kubernetes Network Lab is serving at')) {
        console.log(line);
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

function startElectron(bin) {
  const env = { ...process.env };
  if (values['data-dir']) env.NETLAB_DATA_DIR = resolve(values['data-dir']);
  const child = spawn(bin, [root], { cwd: root, env, stdio: ['inherit', 'inherit', 'pipe'] });
  let stderr = '';
  let settled = false;
  child.stderr.on('data', (d) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  // An Electron that cannot start (missing libraries, no display) exits within seconds.
  const timer = setTimeout(() => (settled = true), 8000);
  child.on('error', (err) => {
    clearTimeout(timer);
    if (!settled) serveInBrowser(`Electron could not start: ${err.message}`);
  });
  child.on('exit', (code, signal) => {
    clearTimeout(timer);
    if (!settled && code !== 0) {
      const line = stderr.split('\n').find((l) => l.trim()) ?? `exit code ${code ?? signal}`;
      serveInBrowser(`Electron could not start: ${line.trim().slice(0, 200)}`);
      return;
    }
    process.exit(code ?? 0);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}

if (!values['no-build']) build();

if (values.browser) {
  serveInBrowser(null);
} else if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  const found = findElectron();
  serveInBrowser(found.bin ? 'No display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset)' : `Electron binary not available: ${found.reason}`);
} else {
  const found = findElectron();
  const native = nativeAbi();
  const wanted = electronAbi();
  if (!found.bin) serveInBrowser(`Electron binary not available: ${found.reason}`);
  else if (native.node && wanted && wanted !== native.abi) {
    serveInBrowser(
      `The native modules are built for Node (ABI ${native.abi}) but Electron needs ABI ${wanted}; run \`npm run rebuild:electron\` to use the desktop app (and \`npm run rebuild:node\` before running the tests)`,
    );
  } else startElectron(found.bin);
}
