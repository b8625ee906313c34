#!/usr/bin/env node
// Browser end-to-end tests: electron/serve.ts driven by playwright-core and
// Debian's Chromium. Runs test/e2e/*.spec.ts in order and prints
// `N passed, N failed`. In CI (CI=true) a missing Chromium is a failure.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const chromium = process.env.NETLAB_CHROMIUM ?? '/usr/bin/chromium';
const filter = process.argv[2];

if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
  console.error('e2e: the UI is not built (out/renderer/index.html). Run `npm run build` first.');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (!existsSync(chromium)) {
  const msg = `e2e: Chromium not found at ${chromium} (install Debian's chromium package, or set NETLAB_CHROMIUM).`;
  if (ci) {
    console.error(`${msg} In CI this is a failure.`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.error(`${msg} Skipping the browser tests (outside CI).`);
  console.log('0 passed, 0 failed (skipped: no chromium)');
  process.exit(0);
}

register();
const harness = await import(pathToFileURL(join(root, 'test', 'e2e', 'harness.ts')).href);
const specs = readdirSync(join(root, 'test', 'e2e'))
  .filter((f) => f.endsWith('.spec.ts'))
  .sort();
for (const spec of specs) await import(pathToFileURL(join(root, 'test', 'e2e', spec)).href);

const TEST_TIMEOUT_MS = 120_000;
let passed = 0;
let failed = 0;
const started = Date.now();
for (const t of harness.registry) {
  if (filter && !t.name.includes(filter)) continue;
  const t0 = Date.now();
  let timer;
  try {
    await Promise.race([
      t.fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS))),
    ]);
    passed++;
    console.log(`  ✓ ${t.name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`  ✗ ${t.name} (${Date.now() - t0} ms)`);
    console.log(`    ${String(err?.stack ?? err).split('\n').join('\n    ')}`);
  } finally {
    clearTimeout(timer);
  }
}
await harness.closeBrowser();
console.log(`\ne2e: ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
