// The packet stepper (Packet Tracer's simulation mode, for Kubernetes): the
// seed sample switched to Calico VXLAN, a TCP connection from pod-a to
// backend-1 on node-2, stepped hop by hop until the packet is encapsulated —
// the packet pane then shows the outer header node-1 → node-2 with VNI 4096.
import { expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';
import { element, revision, waitRevision } from './lab-ui';

test('stepper: step a packet across a VXLAN hop and read the outer header in the packet pane', async () => {
  const data = tempDataDir('stepper');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    expectEqual(await page.$eval('[data-testid="sample-picker"]', (el) => (el as HTMLSelectElement).value), 'seed', 'the seed sample is loaded');

    // Switch the cluster to Calico VXLAN from the explorer's cluster settings.
    const before = await revision(page);
    await page.selectOption('[data-testid="cluster-cni"]', 'calico-vxlan');
    await waitRevision(page, before);

    await page.click('[data-testid="mode-simulate"]');
    await page.waitForSelector('[data-testid="stepper"]');
    await page.selectOption('[data-testid="trace-source"]', 'default/pod-a');
    await page.fill('[data-testid="trace-request"]', 'tcp://10.244.2.8:8080');
    await page.click('[data-testid="trace-run"]');
    await page.waitForSelector('[data-testid="packet-pane"]');
    const total = Number((await page.textContent('[data-testid="step-position"]'))?.split('/')[1]);
    expectTrue(total > 10, `the walk has steps (${total})`);

    // Step with the Step button until the packet carries outer headers.
    let found = false;
    for (let i = 0; i < total && !found; i++) {
      found = !!(await page.$('[data-testid="packet-headers"] [data-group="outer.ip"]'));
      if (!found) await page.click('[data-testid="step-forward"]');
    }
    expectTrue(found, 'some step shows outer (tunnel) headers');
    const field = (path: string) => page.textContent(`[data-testid="packet-headers"] [data-field="${path}"]`).then((t) => t?.trim());
    expectEqual(await field('outer.ip.src'), '10.0.1.5', 'outer source: node-1');
    expectEqual(await field('outer.ip.dst'), '10.0.1.6', 'outer destination: node-2');
    expectEqual(await field('outer.vxlan.vni'), '4096', 'VXLAN network identifier');
    expectEqual(await field('outer.udp.dport'), '4789', 'VXLAN UDP port');
    expectEqual(await field('ip.src'), '10.244.1.5', 'inner source: pod-a');
    expectEqual(await field('ip.dst'), '10.244.2.8', 'inner destination: backend-1');
    // The encapsulation step changed the outer headers: highlighted.
    const changed = await page.$$eval('[data-testid="packet-headers"] dd.changed', (els) => els.map((e) => e.getAttribute('data-field')));
    expectTrue(changed.includes('outer.ip.dst') && changed.includes('outer.vxlan.vni'), `outer fields are highlighted as changed (${changed.join(', ')})`);
    const pos = await page.textContent('[data-testid="step-position"]');

    // The current hop is highlighted on the canvas, and the packet dot is drawn.
    const node1 = await element(page, 'node/node-1');
    expectTrue(node1?.classes.includes('hop-active'), `node-1 is the active hop (${node1?.classes.join(' ')})`);
    expectTrue(await element(page, '__packet'), 'the packet dot is on the canvas');
    await page.waitForTimeout(500);
    await page.screenshot({ path: screenshotPath('stepper.png') });

    // The next step is the wire between the nodes (a dotted hop edge), then back again restores this one.
    await page.click('[data-testid="step-forward"]');
    await page.waitForFunction(() => (window.__netlabGraph?.edges('hop') ?? []).includes('hop/node/node-1->node/node-2'));
    await page.click('[data-testid="step-back"]');
    expectEqual(await page.textContent('[data-testid="step-position"]'), pos, 'Back returns to the encapsulation step');

    // Keyboard: → steps, ← goes back (outside text fields).
    await page.click('[data-testid="graph"]', { position: { x: 30, y: 30 } });
    await page.keyboard.press('ArrowRight');
    expectTrue((await page.textContent('[data-testid="step-position"]')) !== pos, '→ steps forward');
    await page.keyboard.press('ArrowLeft');
    expectEqual(await page.textContent('[data-testid="step-position"]'), pos, '← steps back');

    // Play runs to the end; the latency chart has the five categories.
    await page.selectOption('[data-testid="step-speed"]', '4');
    await page.click('[data-testid="step-play"]');
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid="step-position"]')?.textContent ?? '';
      const [a, b] = t.split('/').map((x) => Number(x.trim()));
      return a === b;
    }, null, { timeout: 60_000 });
    const bars = await page.$$eval('[data-testid="latency-chart"] rect', (r) => r.length);
    expectEqual(bars, 5, 'latency bars');

    // The request is kept in the session: after a reload the stepper offers it again.
    await page.reload();
    await waitLoaded(page);
    await page.click('[data-testid="mode-simulate"]').catch(() => {});
    await page.waitForSelector('[data-testid="trace-request"]');
    await page.waitForFunction(() => (document.querySelector('[data-testid="trace-request"]') as HTMLInputElement | null)?.value === 'tcp://10.244.2.8:8080');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});
