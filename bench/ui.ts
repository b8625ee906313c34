// UI benchmark: the lab in Debian's Chromium (playwright-core) against the
// browser transport, with a 200-pod and a 2,000-pod topology in the same run.
//
//   npx tsx bench/ui.ts            (needs `npm run build` first)
//
// For each topology, in a fresh page:
//   - time to first render: navigation start → the first frame Cytoscape draws
//     of the topology is complete (performance.now() is relative to navigation
//     start): Cytoscape's 2D renderer emits 'render' when it has drawn a frame,
//     and that frame is complete when the next one begins (the timestamp of the
//     next requestAnimationFrame callback). Also printed: how much of it is the
//     draw itself (elements handed to Cytoscape → frame), and the coarser
//     measure used before, performance.now() two requestAnimationFrame turns
//     after the elements were added (it also counts the work Cytoscape does in
//     the following frame: texture caches filled at a better quality);
//   - frames per second while panning: a mouse drag on the canvas background
//     (as a user pans), requestAnimationFrame callbacks counted during it.
// Baselines measured in the same run: the app with the empty topology (time to
// first render of the shell alone), and requestAnimationFrame with the canvas
// idle (the page's frame ceiling). The 2,000-pod case also runs with the
// level-of-detail settings off (?lod=off) so their effect is visible.
//
// Headless Chromium with --disable-gpu draws with the CPU (software
// rasterisation; WebGL is usually unavailable): figures on a desktop GPU are
// better. The script prints which renderer each run used.

import os from 'node:os';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { createLabApiClient } from '../core/api';
import { connectWebSocket } from '../renderer/src/lib/ws-client';
import { emptyTopology } from '../renderer/src/lib/topology-edit';
import { closeBrowser, newPage, screenshotPath, startServer, tempDataDir } from '../test/e2e/harness';

/** A topology with `pods` pods on pods/40 nodes, 10 namespaces and a Service per 10 pods (one edge per pod). */
export function syntheticTopology(pods: number): string {
  const nodes = Math.max(1, Math.ceil(pods / 40));
  const head = [
    'apiVersion: netlab.dev/v1alpha1',
    'kind: Topology',
    'metadata:',
    `  name: bench-${pods}`,
    'cluster:',
    '  cni: calico-vxlan',
    '  clusterCIDR: 10.244.0.0/16',
    '  serviceCIDR: 10.96.0.0/12',
    '  nodeCIDR: 10.0.0.0/16',
    'nodes:',
    ...Array.from({ length: nodes }, (_, i) => `  - { name: node-${i + 1} }`),
  ];
  const docs = [head.join('\n')];
  for (let n = 0; n < 10; n++) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-${n}`);
  for (let i = 0; i < pods; i++) {
    // Ten pods per app, all in one namespace; apps spread over the namespaces.
    const ns = `team-${Math.floor(i / 10) % 10}`;
    const app = `app-${Math.floor(i / 10)}`;
    docs.push(
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-${i}\n  namespace: ${ns}\n  labels: {app: ${app}, tier: t${i % 3}}\nspec:\n  nodeName: node-${(i % nodes) + 1}\n  containers:\n    - name: main\n      ports: [{containerPort: 8080, protocol: TCP}]`,
    );
  }
  for (let s = 0; s < pods / 10; s++) {
    const ns = `team-${s % 10}`;
    docs.push(`apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${s}\n  namespace: ${ns}\nspec:\n  selector: {app: app-${s}}\n  ports: [{port: 80, targetPort: 8080, protocol: TCP}]`);
  }
  return docs.join('\n---\n') + '\n';
}

interface Run {
  label: string;
  pods: number;
  renderer: string;
  lod: boolean;
  firstRenderMs: number;
  drawMs: number;
  twoFramesMs: number;
  panFps: number;
  idleFps: number;
  frames: number;
  panMs: number;
}

async function setTopology(url: string, text: string): Promise<void> {
  const u = new URL(url);
  const conn = await connectWebSocket(`ws://${u.host}/ws?token=${u.searchParams.get('token')}`, (x) => new WebSocket(x) as never);
  try {
    const api = createLabApiClient(conn.call);
    if (!(await api.sessionCurrent())) await api.sessionNew({});
    await api.sessionSave({ topology: { file: 'bench.yaml', text }, sample: null, positions: {} }, 'bench topology');
  } finally {
    conn.close();
  }
}

/** requestAnimationFrame callbacks per second over `ms`, while `during` runs. */
async function countFrames(page: Page, during: () => Promise<void>): Promise<{ frames: number; ms: number }> {
  // A string, not a function: tsx would wrap named closures in a helper the page does not have.
  await page.evaluate(`(() => {
    window.__frames = 0;
    window.__counting = true;
    const tick = () => {
      if (!window.__counting) return;
      window.__frames++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const t0 = Date.now();
  await during();
  const ms = Date.now() - t0;
  const frames = await page.evaluate(() => {
    const w = window as unknown as { __frames: number; __counting: boolean };
    w.__counting = false;
    return w.__frames;
  });
  return { frames, ms };
}

async function measure(url: string, label: string, pods: number, query = '', shot?: string): Promise<Run> {
  const { page, close } = await newPage();
  try {
    const u = new URL(url);
    const target = `${u.origin}/?token=${u.searchParams.get('token')}${query ? `&${query}` : ''}`;
    await page.goto(target);
    await page.waitForSelector('body[data-app-state="loaded"]', { timeout: 120_000 });
    await page.waitForFunction((n) => (window.__netlab?.podCount ?? -1) === n && (window.__netlabGraph?.firstRenderAt ?? 0) > 0 && (window.__netlabGraph?.twoFramesAt ?? 0) > 0, pods, { timeout: 30_000 }).catch(async (e) => {
      throw new Error(`${label}: ${String(e)}; state ${JSON.stringify(await page.evaluate(() => [window.__netlab, window.__netlabGraph?.firstRenderAt, window.__netlabGraph?.drawStartedAt]))}`);
    });
    // What the page shows as soon as the first render was measured (the topology, not a placeholder).
    if (shot) await page.screenshot({ path: screenshotPath(`${shot}-first-render.png`) });
    const g = await page.evaluate(() => ({ first: window.__netlabGraph!.firstRenderAt, two: window.__netlabGraph!.twoFramesAt, start: window.__netlabGraph!.drawStartedAt, renderer: window.__netlabGraph!.renderer, lod: window.__netlabGraph!.large }));
    await page.waitForTimeout(500);

    // Idle ceiling: rAF with nothing to draw.
    const idle = await countFrames(page, () => page.waitForTimeout(1500));

    // Pan: press on the canvas background (the fit padding in the top-left corner) and drag.
    const box = (await page.$('[data-testid="graph"]'))!.boundingBox();
    const b = await box;
    const x0 = b!.x + 12;
    const y0 = b!.y + 12;
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    const pan = await countFrames(page, async () => {
      const steps = 90;
      for (let i = 1; i <= steps; i++) {
        const t = i / steps;
        await page.mouse.move(x0 + Math.sin(t * Math.PI * 2) * 300 + t * 200, y0 + Math.sin(t * Math.PI) * 200);
        await page.waitForTimeout(16);
      }
    });
    await page.mouse.up();
    if (shot) {
      await page.keyboard.press('f');
      await page.waitForTimeout(400);
      await page.screenshot({ path: screenshotPath(`${shot}.png`) });
    }
    return {
      label,
      pods,
      renderer: g.renderer,
      lod: g.lod,
      firstRenderMs: g.first,
      drawMs: g.first - g.start,
      twoFramesMs: g.two,
      panFps: (pan.frames * 1000) / pan.ms,
      idleFps: (idle.frames * 1000) / idle.ms,
      frames: pan.frames,
      panMs: pan.ms,
    };
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.release()}`);
  const load = os.loadavg();
  console.log(`load average at start: ${load.map((l) => l.toFixed(1)).join(' ')}${load[0] >= os.cpus().length ? ' (at or above the core count: other processes share the CPU and every figure is slower)' : ''}`);
  console.log('browser: Debian Chromium headless, --disable-gpu (software rendering), viewport 1440x900, deviceScaleFactor 1\n');
  const data = tempDataDir('bench-ui');
  const server = await startServer(data.dir);
  const runs: Run[] = [];
  try {
    const cases: { label: string; pods: number; text: string; query?: string; shot?: string }[] = [
      { label: 'baseline: empty topology (app shell)', pods: 0, text: emptyTopology('bench-empty') },
      { label: '200 pods', pods: 200, text: syntheticTopology(200) },
      { label: '2,000 pods', pods: 2000, text: syntheticTopology(2000), shot: 'large-2000-pods' },
      { label: '2,000 pods, level of detail off', pods: 2000, text: syntheticTopology(2000), query: 'lod=off' },
    ];
    for (const c of cases) {
      await setTopology(server.url, c.text);
      // The empty topology shows the seed's three implied nodes and no pods.
      runs.push(await measure(server.url, c.label, c.pods, c.query, c.shot));
    }
  } finally {
    await closeBrowser();
    await server.stop();
    data.cleanup();
  }
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${pad('case', 38)}${pad('renderer', 14)}${pad('first render', 14)}${pad('of which draw', 15)}${pad('2 rAF turns', 13)}${pad('pan fps', 9)}idle fps (ceiling)`);
  for (const r of runs) {
    console.log(
      `${pad(r.label, 38)}${pad(`${r.renderer}${r.lod ? '+LOD' : ''}`, 14)}${pad(`${r.firstRenderMs.toFixed(0)} ms`, 14)}${pad(`${r.drawMs.toFixed(0)} ms`, 15)}${pad(`${r.twoFramesMs.toFixed(0)} ms`, 13)}${pad(r.panFps.toFixed(1), 9)}${r.idleFps.toFixed(1)}`,
    );
  }
  const big = runs.find((r) => r.label === '2,000 pods');
  console.log(`load average at end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (big) {
    console.log(`\ngoal for 2,000 pods: first render ≤ 2000 ms (${big.firstRenderMs <= 2000 ? 'met' : 'missed'}: ${big.firstRenderMs.toFixed(0)} ms), pan ≥ 30 fps (${big.panFps >= 30 ? 'met' : 'missed'}: ${big.panFps.toFixed(1)} fps)`);
  }
}

if (process.argv[1]?.endsWith("ui.ts")) main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
