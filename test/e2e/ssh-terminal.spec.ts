// SSH terminal tabs in the browser, against a real sshd: the Nodes panel's
// Terminal button on a remote node first asks about the unknown host key
// (nothing runs before), then opens an "ssh <node>" tab where the system ssh
// client runs a shell; a changed key is refused with the red warning.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startSshd, type Sshd } from '../../electron/host/remote/sshd-fixture';
import { expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';

async function screenText(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('[data-testid="terminal-screen"] .xterm-rows')?.textContent ?? '');
}

test('Nodes panel: Terminal on a remote node asks about its host key, then opens an ssh tab with a working shell; a changed key is refused', async () => {
  const data = tempDataDir('ssh-terminal');
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
    await page.waitForSelector('[data-testid="ssh-terminal-lab-node"]');

    // first contact: the question, with the fingerprint; the tab says nothing was started
    await page.click('[data-testid="ssh-terminal-lab-node"]');
    await page.waitForSelector('[data-testid="host-key-dialog"]');
    expectEqual(((await page.textContent('[data-testid="host-key-fingerprint"]')) ?? '').trim(), sshd.hostFingerprint, 'fingerprint shown');
    expectTrue(((await page.textContent('[data-testid="terminal-status"]')) ?? '').includes('nothing was started'), 'the tab says nothing was started');
    await page.click('[data-testid="host-key-trust"]');

    // trusted: the ssh tab opens and runs a shell on the node
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="terminal-tab"]')].some((b) => b.textContent?.includes('ssh lab-node') && b.querySelector('.dot.open')), null, { timeout: 15_000 });
    expectEqual(await page.$$eval('[data-testid="terminal-tab"]', (els) => els.map((e) => e.textContent?.trim())), ['ssh lab-node'], 'the failed tab was reused for the terminal');
    expectEqual(readFileSync(join(data.dir, 'known_hosts'), 'utf8').trim().split('\n').length, 1, 'known_hosts lines after trusting');
    await page.waitForFunction(() => (document.querySelector('[data-testid="terminal-screen"] .xterm-rows')?.textContent ?? '').trim().length > 0, null, { timeout: 15_000 });
    await page.click('[data-testid="terminal-screen"]');
    await page.keyboard.type('echo ok-$((40+2))');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /ok-42/.test(document.querySelector('[data-testid="terminal-screen"] .xterm-rows')?.textContent ?? ''), null, { timeout: 15_000 });
    await page.screenshot({ path: screenshotPath('ssh-terminal.png') });

    // a changed key: refused in red, no new terminal
    await sshd.rotateHostKey();
    const before = await page.$$eval('[data-testid="terminal-tab"]', (els) => els.length);
    await page.click('[data-testid="ssh-terminal-lab-node"]');
    await page.waitForSelector('[data-testid="host-key-changed"]');
    expectEqual(((await page.textContent('[data-testid="changed-new"]')) ?? '').trim(), sshd.hostFingerprint, 'new fingerprint shown');
    await page.click('[data-testid="host-key-changed-close"]');
    expectEqual(await page.$$eval('[data-testid="terminal-tab"]', (els) => els.length), before + 1, 'one failed tab explains the refusal');
    expectTrue(((await page.textContent('[data-testid="terminal-status"]')) ?? '').includes('REMOTE HOST IDENTIFICATION HAS CHANGED'), 'the tab shows the warning');
    expectTrue((await screenText(page)).includes('ssh-keygen -R'), 'the tab says how to remove the stale key');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    await sshd.stop();
    data.cleanup();
  }
});
