// The other views and tools of the lab: the reachability matrix (checked
// cell by cell against core/policy), the help overlay and single-key
// shortcuts, the context menu, search and filters, layouts, PNG/SVG export,
// and a terminal in a test-bed node's network namespace (root only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../../core/model';
import { compilePolicies, truthTable } from '../../core/policy';
import { ROOT, expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';
import { addWithForm, element, revision, waitRevision } from './lab-ui';

test('matrix: the three-tier sample’s 8080/TCP truth table matches core/policy, and a cell explains itself', async () => {
  const text = readFileSync(join(ROOT, 'resources', 'samples', 'three-tier.yaml'), 'utf8');
  const topo = loadTopology({ file: 'three-tier.yaml', text }).topology!;
  const expected = truthTable(compilePolicies(topo), 8080, 'TCP');

  const data = tempDataDir('matrix');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    const before = await revision(page);
    await page.selectOption('[data-testid="sample-picker"]', 'three-tier');
    await waitRevision(page, before);
    await page.click('[data-testid="mode-matrix"]');
    await page.fill('[data-testid="matrix-port"]', '8080/TCP');
    await page.waitForSelector('[data-testid="matrix-table"]');
    const cells = await page.$$eval('[data-testid="matrix-table"] button.cell', (bs) => bs.map((b) => ({ from: b.getAttribute('data-from'), to: b.getAttribute('data-to'), ok: b.getAttribute('data-allowed') === 'true' })));
    expectEqual(cells.length, expected.froms.length * expected.tos.length, 'cells');
    for (const c of cells) {
      const want = expected.values[expected.froms.indexOf(c.from!)][expected.tos.indexOf(c.to!)];
      if (want !== c.ok) throw new Error(`${c.from} -> ${c.to}: core/policy says ${want}, the matrix shows ${c.ok}`);
    }
    const denied = cells.find((c) => !c.ok);
    expectTrue(denied, 'the seed policies deny some pairs on 8080/TCP');
    await page.click(`button.cell[data-from="${denied!.from}"][data-to="${denied!.to}"]`);
    await page.waitForSelector('[data-testid="verdict-card"]');
    expectEqual(await page.getAttribute('[data-testid="verdict-card"]', 'data-allowed'), 'false', 'the card explains a denial');
    expectTrue((await page.textContent('[data-testid="verdict-card"]'))?.includes(`${denied!.from} → ${denied!.to}`), 'the card names the pair');
    await page.screenshot({ path: screenshotPath('matrix.png') });
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});

test('shortcuts, help overlay, context menu, search, filters, layout and export', async () => {
  const data = tempDataDir('views');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);

    // ? opens the help overlay; it lists the shortcuts; Escape closes it.
    await page.keyboard.press('Shift+Slash');
    await page.waitForSelector('[data-testid="help-overlay"]');
    const help = await page.textContent('[data-testid="help-overlay"]');
    expectTrue(help?.includes('New pod') && help.includes('Undo') && help.includes('Next hop'), 'help lists design, undo and stepper keys');
    await page.screenshot({ path: screenshotPath('help.png') });
    await page.keyboard.press('Escape');
    expectTrue(!(await page.$('[data-testid="help-overlay"]')), 'Escape closes the help');

    // n opens a new-pod form; Escape clears it.
    await page.keyboard.press('n');
    await page.waitForSelector('[data-testid="inspector-title"]');
    expectEqual(await page.textContent('[data-testid="inspector-title"]'), 'New pod', 'n starts a new pod');
    await page.keyboard.press('Escape');

    // Search: matching pods are marked, the others faded.
    await page.keyboard.press('/');
    await page.keyboard.type('backend');
    await page.waitForFunction(() => window.__netlabGraph?.element('pod/default/backend-1')?.classes.includes('search-hit'));
    expectTrue((await element(page, 'pod/default/pod-a'))?.classes.includes('faded'), 'a non-matching pod is faded');
    await page.keyboard.press('Escape');

    // Label filter and namespace toggle hide pods.
    await page.fill('[data-testid="label-filter"]', 'app=backend');
    await page.waitForFunction(() => window.__netlabGraph?.element('pod/default/pod-a')?.visible === false);
    expectTrue((await element(page, 'pod/default/backend-2'))?.visible, 'backend-2 matches the filter');
    await page.fill('[data-testid="label-filter"]', '');
    await page.click('[data-testid="legend"] button:has-text("kube-system")');
    await page.waitForFunction(() => window.__netlabGraph?.element('svc/kube-system/kube-dns')?.visible === false);
    await page.click('[data-testid="legend"] button:has-text("kube-system")');

    // Right-click a pod: its actions; "Trace a packet from here" opens the stepper with it.
    const p = await page.evaluate(() => window.__netlabGraph?.renderedPosition('pod/default/pod-b'));
    await page.mouse.click(p!.x, p!.y, { button: 'right' });
    await page.waitForSelector('[data-testid="context-menu"]');
    const items = await page.$$eval('[data-testid="context-menu"] [role="menuitem"]', (b) => b.map((x) => x.textContent?.trim() ?? ''));
    expectTrue(items.some((t) => t.startsWith('Trace a packet from here')) && items.some((t) => t.startsWith('Delete pod default/pod-b')), `pod menu (${items.join(' | ')})`);
    await page.click('[data-testid="context-menu"] [role="menuitem"]:has-text("Trace a packet from here")');
    await page.waitForSelector('[data-testid="packet-pane"]');
    expectEqual(await page.$eval('[data-testid="trace-source"]', (s) => (s as HTMLSelectElement).value), 'default/pod-b', 'the stepper traces from the clicked pod');
    await page.click('[data-testid="mode-design"]');

    // A layout moves pods and saves their positions in the session. The traced
    // request above is saved after a debounce: wait for it, so the revision
    // awaited below is the layout's.
    await page.waitForFunction(() => (document.body.dataset.saveState ?? 'saved') === 'saved');
    const before = await revision(page);
    const p0 = await page.evaluate(() => window.__netlabGraph?.position('pod/default/pod-a'));
    await page.selectOption('[data-testid="layout"]', 'fcose');
    await page
      .waitForFunction(
        (a) => {
          const b = window.__netlabGraph?.position('pod/default/pod-a');
          return !!a && !!b && (Math.abs(a.x - b.x) > 1 || Math.abs(a.y - b.y) > 1);
        },
        p0,
        { timeout: 20_000 },
      )
      .catch(() => {});
    await waitRevision(page, before, 20_000);
    await page.waitForFunction(() => document.body.dataset.saveState === 'saved');
    const p1 = await page.evaluate(() => window.__netlabGraph?.position('pod/default/pod-a'));
    expectTrue(p0 && p1 && (Math.abs(p0.x - p1.x) > 1 || Math.abs(p0.y - p1.y) > 1), `fcose moved pod-a (${JSON.stringify(p0)} → ${JSON.stringify(p1)})`);
    await page.selectOption('[data-testid="layout"]', 'grid');

    // PNG and SVG export.
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-png"]')]);
    const pngBytes = readFileSync((await png.path())!);
    expectEqual([...pngBytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
    expectEqual(png.suggestedFilename(), 'seed.png', 'PNG file name');
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-svg"]')]);
    const svgText = readFileSync((await svg.path())!, 'utf8');
    expectTrue(svgText.includes('<svg') && svgText.includes('>pod-a</tspan>') && svgText.includes('>10.96.5.20</tspan>') && svgText.includes('node-2  10.0.1.6'), 'the SVG has the pods, Services and nodes as text');

    // Delete removes the selected pod (one undoable change); Ctrl+Z brings it back through the session.
    const pc = await page.evaluate(() => window.__netlabGraph?.renderedPosition('pod/default/pod-c'));
    await page.mouse.click(pc!.x, pc!.y);
    await page.waitForFunction(() => document.querySelector('[data-testid="inspector-title"]')?.textContent?.includes('default/pod-c'));
    const rev = await revision(page);
    await page.keyboard.press('Delete');
    await waitRevision(page, rev);
    await page.waitForFunction(() => window.__netlab?.podCount === 5);
    expectTrue(!(await element(page, 'pod/default/pod-c')), 'pod-c is gone');
    // Canvas positions are saved outside the undo history: ONE Ctrl+Z undoes the delete.
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => window.__netlab?.podCount === 6, undefined, { timeout: 5_000 });
    expectTrue(await element(page, 'pod/default/pod-c'), 'undo brings pod-c back');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

test('terminal: a shell in a test-bed node namespace, opened from the inspector (root only)', async () => {
  if (!isRoot) {
    console.log('    (skipped: needs root for ip netns)');
    return;
  }
  const node = `tt-${process.pid}`;
  const ns = `nl-n-${node}`;
  const data = tempDataDir('terminal');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    await addWithForm(page, 'node', { name: node });
    // Without its namespace the shell explains what to do.
    await page.click('[data-testid="node-terminal"]');
    await page.waitForSelector('[data-testid="terminal-status"]');
    expectTrue((await page.textContent('[data-testid="terminal-status"]'))?.includes(`${ns} does not exist`), 'the missing namespace is named');

    execFileSync('ip', ['netns', 'add', ns]);
    await page.click('[data-testid="node-terminal"]');
    await page.waitForFunction((n) => document.querySelector('[data-testid="terminal-screen"] .xterm-rows')?.textContent?.includes(n), node, { timeout: 10_000 });
    await page.click('[data-testid="terminal-screen"]');
    await page.keyboard.type('ip -br link; ip netns identify $$');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (n) => {
        const t = document.querySelector('[data-testid="terminal-screen"] .xterm-rows')?.textContent ?? '';
        return /lo\s+DOWN/.test(t) && t.includes(n);
      },
      ns,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: screenshotPath('terminal.png') });

    // "Copy command" on a hop of the stepper puts that hop's command at the prompt of its node's shell.
    await addWithForm(page, 'pod', { name: 'probe', namespace: 'default', labels: 'app=probe', ports: '' }, { node });
    await page.click('[data-testid="mode-simulate"]');
    await page.waitForSelector('[data-testid="trace-source"]');
    await page.selectOption('[data-testid="trace-source"]', 'default/probe');
    await page.fill('[data-testid="trace-request"]', 'tcp://10.96.5.20:80');
    await page.click('[data-testid="trace-run"]');
    await page.waitForSelector('[data-testid="packet-pane"]');
    let command: string | null = null;
    for (let i = 0; i < 40 && !command; i++) {
      const where = (await page.textContent('[data-testid="packet-pane"] .where')) ?? '';
      if (where.startsWith(`node/${node}`) && (await page.$('[data-testid="hop-command"]'))) command = (await page.textContent('[data-testid="hop-command"]'))?.trim() ?? null;
      else await page.click('[data-testid="step-forward"]');
    }
    expectTrue(command, `a hop on ${node} has a command`);
    await page.click('[data-testid="copy-command"]');
    await page.waitForFunction((c) => (document.querySelector('[data-testid="terminal-screen"] .xterm-rows')?.textContent ?? '').includes(c), command!, { timeout: 10_000 });
    expectEqual(problems.filter((p) => !p.includes('Failed to load resource')), [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not created
    }
  }
});
