import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../../core/model';
import { ROOT, expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';

test('first screen draws the seed sample: every node, pod and service of the loaded topology', async () => {
  // What the drawing must contain, counted from the sample by the core loader.
  const file = 'seed.yaml';
  const text = readFileSync(join(ROOT, 'resources', 'samples', file), 'utf8');
  const { topology, diagnostics } = loadTopology({ file, text }, {});
  expectTrue(topology, `the seed sample must load: ${JSON.stringify(diagnostics)}`);
  const expected = { nodeCount: topology!.nodes.length, podCount: topology!.pods.length, serviceCount: topology!.services.length };
  expectTrue(expected.nodeCount > 0 && expected.podCount > 0, 'the seed sample has nodes and pods');

  const data = tempDataDir('first');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    const res = await page.goto(server.url);
    expectEqual(res?.status(), 200, 'status of the index page (after the token redirect)');
    expectTrue(!page.url().includes('token='), `the token is dropped from the address bar (${page.url()})`);
    await waitLoaded(page);
    const drawn = await page.evaluate(() => window.__netlab);
    expectTrue(drawn, 'window.__netlab is set once the graph is drawn');
    expectEqual({ nodeCount: drawn!.nodeCount, podCount: drawn!.podCount, serviceCount: drawn!.serviceCount }, expected, 'drawn counts');
    expectTrue(drawn!.edgeCount > 0, 'services are connected to their endpoint pods');
    expectEqual(await page.textContent('[data-testid="transport"]').then((t) => t?.trim()), 'Browser · WebSocket', 'transport badge');
    const picker = await page.$eval('[data-testid="sample-picker"]', (el) => (el as HTMLSelectElement).value);
    expectEqual(picker, 'seed', 'sample picker selection');
    // Let the first frame settle, then keep the screenshot for review.
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshotPath('first-screen.png') });
    expectEqual(problems, [], 'console errors or uncaught exceptions (CSP violations appear here)');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});
