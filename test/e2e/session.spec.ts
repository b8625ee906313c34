import type { Page } from 'playwright-core';
import { expectEqual, expectTrue, newPage, startServer, tempDataDir, test, waitLoaded } from './harness';

async function revision(page: Page): Promise<number> {
  return Number(await page.getAttribute('body', 'data-revision'));
}

async function typeNotes(page: Page, text: string): Promise<number> {
  const before = await revision(page);
  await page.click('[role="tab"]:has-text("Notes")');
  await page.fill('[data-testid="notes"]', text);
  // The autosave is debounced; wait for the host to acknowledge the change.
  await page.waitForFunction((rev) => Number(document.body.dataset.revision) > rev && document.body.dataset.saveState === 'saved', before, { timeout: 10_000 });
  return revision(page);
}

test('the session survives a reload and a host restart; undo and redo go through the host', async () => {
  const data = tempDataDir('session');
  let server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    const first = await typeNotes(page, 'first note: pod-a reaches backend via 10.96.5.20');
    const second = await typeNotes(page, 'second note: checked DNAT in KUBE-SVC chain');
    expectTrue(second > first, `revision grows (${first} → ${second})`);

    await page.reload();
    await waitLoaded(page);
    await page.click('[role="tab"]:has-text("Notes")');
    expectEqual(await page.inputValue('[data-testid="notes"]'), 'second note: checked DNAT in KUBE-SVC chain', 'notes after a reload');

    // Undo goes to the host's change log and comes back as state.
    expectTrue(await page.isEnabled('[data-testid="undo"]'), 'undo is enabled after edits');
    await page.click('[data-testid="undo"]');
    await page.waitForFunction(() => (document.querySelector('[data-testid="notes"]') as HTMLTextAreaElement | null)?.value.startsWith('first note'), null, { timeout: 10_000 });
    expectTrue(await page.isEnabled('[data-testid="redo"]'), 'redo is enabled after undo');

    // A new host process on the same data directory restores the last session.
    await server.stop();
    server = await startServer(data.dir);
    await page.goto(server.url);
    await waitLoaded(page);
    await page.click('[role="tab"]:has-text("Notes")');
    expectEqual(await page.inputValue('[data-testid="notes"]'), 'first note: pod-a reaches backend via 10.96.5.20', 'notes after a host restart (undo persisted)');
    await page.click('[data-testid="redo"]');
    await page.waitForFunction(() => (document.querySelector('[data-testid="notes"]') as HTMLTextAreaElement | null)?.value.startsWith('second note'), null, { timeout: 10_000 });
    const counts = await page.evaluate(() => window.__netlab);
    expectTrue(counts && counts.podCount > 0, 'the graph is still drawn');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});
