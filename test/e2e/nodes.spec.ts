// The Nodes panel in the browser: a lab without root (serve.ts in a user
// namespace, where the test-bed cannot start) shows the test-bed's own
// errors step by step, the modelled-only note follows the topology, and
// "Build as" reaches the host; a remote node on a real sshd asks about its
// host key on first contact and refuses a changed one.
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loadTopology } from '../../core/model';
import { TestbedError, preflight } from '../../electron/host/testbed';
import { startSshd, type Sshd } from '../../electron/host/remote/sshd-fixture';
import { ROOT, expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';
import { revision, waitRevision } from './lab-ui';

const SEED = readFileSync(join(ROOT, 'resources', 'samples', 'seed.yaml'), 'utf8');

/** The message the real preflight gives for the seed with these overrides, as a user with this uid. */
function preflightError(set: string[], uid: number): TestbedError {
  const { topology } = loadTopology({ file: 'seed.yaml', text: SEED }, { set });
  try {
    preflight(topology!, { uid, exists: () => true });
  } catch (e) {
    if (e instanceof TestbedError) return e;
    throw e;
  }
  throw new Error(`preflight accepted ${set.join(' ')} as uid ${uid}`);
}

async function text(page: Page, testid: string): Promise<string> {
  return ((await page.textContent(`[data-testid="${testid}"]`)) ?? '').replace(/\s+/g, ' ').trim();
}

async function pressUpAndWaitError(page: Page): Promise<void> {
  await page.click('[data-testid="testbed-up"]');
  await page.waitForSelector('body[data-testbed="failed"]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid="testbed-error"]');
}

async function setCluster(page: Page, which: 'cluster-cni' | 'cluster-kubeproxy', value: string): Promise<void> {
  await page.click('[data-testid="tab-inspect"]');
  const before = await revision(page);
  await page.selectOption(`[data-testid="${which}"]`, value);
  await waitRevision(page, before);
  await page.click('[data-testid="tab-nodes"]');
}

test('Nodes panel without root: Up shows the test-bed error step by step; the modelled-only note and Build as follow the topology', async () => {
  const data = tempDataDir('nodes');
  // the lab runs as an unprivileged user (uid 65534 in a user namespace), as `npm start` by a normal user does
  chmodSync(data.dir, 0o777);
  const server = await startServer(data.dir, 30_000, { wrap: ['unshare', '--user'] });
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    await page.click('[data-testid="tab-nodes"]');
    await page.waitForSelector('[data-testid="nodes-panel"]');
    await page.waitForSelector('[data-testid="testbed-phase"]');
    // the state file is global: another run's test-bed may be up (shown as it is), or nothing
    const phase = await text(page, 'testbed-phase');
    expectTrue(phase === 'Down: nothing built.' || /^(up|building|failed) — /.test(phase), `test-bed status line: ${phase}`);
    expectEqual(await page.$('[data-testid="modelled-only"]'), null, 'no modelled-only note for calico-bgp + iptables');

    // 1. calico-bgp as written: the real preflight refuses a non-root user, naming what to do
    await pressUpAndWaitError(page);
    const notRoot = preflightError([], 1000);
    const err = await text(page, 'testbed-error');
    expectTrue(err.startsWith(notRoot.message), `the error starts with the test-bed's own message "${notRoot.message}": ${err}`);
    expectTrue(err.includes(notRoot.hint), `the test-bed's hint is shown: ${err}`);
    expectTrue(err.includes('sudo npm start'), 'the lab adds what to do in the lab');
    const steps = await page.$$eval('[data-testid="testbed-step"]', (els) => els.map((e) => ({ text: (e.textContent ?? '').replace(/\s+/g, ' ').trim(), cls: e.className })));
    expectEqual(steps.length, 1, 'steps announced before the refusal');
    expectTrue(steps[0].text.includes('1/11') && steps[0].text.includes('Checking requirements') && steps[0].cls.includes('failed'), `step 1 failed: ${JSON.stringify(steps)}`);

    // 2. the topology switches to IPIP and IPVS: the note names both, and Up says the mode is modelled only
    await setCluster(page, 'cluster-cni', 'calico-ipip');
    await page.waitForSelector('[data-testid="modelled-only"]');
    expectTrue((await text(page, 'modelled-only')).startsWith('Modelled only: IPIP.'), `note for calico-ipip: ${await text(page, 'modelled-only')}`);
    await setCluster(page, 'cluster-kubeproxy', 'ipvs');
    const note = await text(page, 'modelled-only');
    expectTrue(note.startsWith('Modelled only: IPIP, IPVS.'), `note for calico-ipip + ipvs: ${note}`);
    expectTrue(note.includes('cannot show IPIP, WireGuard, netem, Open vSwitch, Geneve or IPVS'), 'the note lists what the test-bed cannot show');
    await pressUpAndWaitError(page);
    const ipip = preflightError(['cni=calico-ipip', 'kubeProxy=ipvs'], 0);
    expectEqual(ipip.code, 'unsupported-mode', 'preflight code');
    expectTrue((await text(page, 'testbed-error')).startsWith(ipip.message), `IPIP refusal shown verbatim: ${await text(page, 'testbed-error')}`);

    // 3. Build as calico-vxlan: the overrides reach the host (the mode is accepted; root is what is missing now)
    await page.selectOption('[data-testid="testbed-mode"]', 'calico-vxlan');
    await pressUpAndWaitError(page);
    expectTrue((await text(page, 'testbed-error')).startsWith(notRoot.message), `with Build as calico-vxlan the refusal is about root: ${await text(page, 'testbed-error')}`);

    await page.waitForTimeout(200);
    await page.screenshot({ path: screenshotPath('nodes.png') });
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});

test('Nodes panel, remote node on a real sshd: first contact shows the fingerprint and asks; a changed key is refused in red', async () => {
  const data = tempDataDir('nodes-ssh');
  const sshd: Sshd = await startSshd();
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    await page.click('[data-testid="tab-nodes"]');
    await page.click('[data-testid="remote-add"]');
    await page.fill('[data-testid="remote-name"]', 'lab-node');
    await page.fill('[data-testid="remote-host"]', '127.0.0.1');
    await page.fill('[data-testid="remote-port"]', String(sshd.port));
    await page.fill('[data-testid="remote-user"]', sshd.user);
    await page.fill('[data-testid="remote-keyfile"]', sshd.clientKey);
    await page.click('[data-testid="remote-add-submit"]');
    await page.waitForSelector('[data-testid="remote-lab-node"]');
    const stored = JSON.parse(readFileSync(join(data.dir, 'remote-nodes.json'), 'utf8')) as { nodes: unknown[] };
    expectEqual(stored.nodes, [{ name: 'lab-node', host: '127.0.0.1', port: sshd.port, user: sshd.user, keyFile: sshd.clientKey }], 'stored node');

    // first contact: the question, with the fingerprint ssh-keygen -lf prints
    await page.click('[data-testid="connect-lab-node"]');
    await page.waitForSelector('[data-testid="host-key-dialog"]');
    expectEqual(await text(page, 'host-key-fingerprint'), sshd.hostFingerprint, 'fingerprint shown');
    await page.click('[data-testid="host-key-cancel"]');
    expectEqual(await text(page, 'remote-key-lab-node'), '—', 'cancel trusts nothing: not connected');
    await page.click('[data-testid="connect-lab-node"]');
    await page.waitForSelector('[data-testid="host-key-dialog"]');
    await page.click('[data-testid="host-key-trust"]');
    await page.waitForSelector('[data-testid="disconnect-lab-node"]');
    expectEqual(await page.getAttribute('[data-testid="remote-key-lab-node"]', 'title'), sshd.hostFingerprint, 'connected with that key');
    const knownHosts = readFileSync(join(data.dir, 'known_hosts'), 'utf8').trim().split('\n');
    expectEqual(knownHosts.length, 1, 'known_hosts lines after trusting');

    // a read-only command on it
    await page.selectOption('[data-testid="run-target"]', 'ssh:lab-node');
    await page.fill('[data-testid="run-command"]', 'ip -j link show lo');
    await page.click('[data-testid="run-submit"]');
    await page.waitForSelector('[data-testid="run-output"]');
    const links = JSON.parse((await page.textContent('[data-testid="run-output"]')) ?? '') as { ifname: string }[];
    expectEqual(links[0].ifname, 'lo', 'ip -j link output');
    await page.fill('[data-testid="run-command"]', 'ip link add nlx0 type dummy');
    await page.click('[data-testid="run-submit"]');
    await page.waitForSelector('[data-testid="run-error"]');
    expectTrue((await text(page, 'run-error')).includes('not read-only'), 'a write is refused without the box ticked');

    // model versus this node, side by side (the sshd is this machine: its routes are not node-1's)
    await page.selectOption('[data-testid="compare-node"]', 'node-1');
    await page.selectOption('[data-testid="compare-via"]', 'remote:lab-node');
    for (const c of ['conntrack', 'tcpdump', 'dns', 'policy', 'cni']) await page.uncheck(`[data-testid="compare-check-${c}"]`);
    await page.click('[data-testid="compare-run"]');
    await page.waitForSelector('[data-testid="compare-pane"]', { timeout: 60_000 });
    const routes = await text(page, 'compare-routes');
    expectTrue(routes.startsWith('different routes'), `routes check: ${routes.slice(0, 200)}`);
    const bgpRow = await page.$$eval('[data-testid="compare-routes"] [data-testid="compare-item"]', (rows) =>
      rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim())).find((cells) => cells[0].startsWith('main 10.244.2.0/26')),
    );
    expectEqual(bgpRow, ['main 10.244.2.0/26missing', '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird', '—'], 'the BGP route to node-2, side by side');
    expectTrue((await text(page, 'compare-iptables')).length > 0, 'iptables check shown');
    expectTrue((await text(page, 'compare-summary')).startsWith(`node-1 via ssh://${sshd.user}@127.0.0.1:${sshd.port}:`), 'summary line');
    await page.screenshot({ path: screenshotPath('nodes-compare.png') });
    await page.evaluate(() => delete document.body.dataset.compare);
    await page.click('[data-testid="compare-refresh"]');
    await page.waitForSelector('body[data-compare="done"]', { timeout: 60_000 });
    await page.click('[data-testid="compare-close"]');

    // the key changes: refused, in red, with the line to remove
    await page.click('[data-testid="disconnect-lab-node"]');
    await sshd.rotateHostKey();
    await page.click('[data-testid="connect-lab-node"]');
    await page.waitForSelector('[data-testid="host-key-changed"]');
    expectEqual(await text(page, 'changed-new'), sshd.hostFingerprint, 'new fingerprint shown');
    expectEqual(await text(page, 'changed-line'), knownHosts[0], 'the known_hosts line to remove');
    const border = await page.$eval('[data-testid="host-key-changed"]', (el) => getComputedStyle(el).borderTopColor);
    expectEqual(border, 'rgb(220, 38, 38)', 'the changed-key dialog is red');
    expectEqual(await page.$('[data-testid="host-key-trust"]'), null, 'a changed key cannot be trusted from the dialog');
    await page.screenshot({ path: screenshotPath('nodes-changed-key.png') });
    await page.click('[data-testid="host-key-changed-close"]');
    expectEqual(await text(page, 'remote-key-lab-node'), '—', 'refused: not connected');
    expectEqual(readFileSync(join(data.dir, 'known_hosts'), 'utf8').trim().split('\n'), knownHosts, 'known_hosts untouched');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    await sshd.stop();
    data.cleanup();
  }
});
