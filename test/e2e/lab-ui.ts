// Helpers the designer, stepper and view e2e specs share: revisions, the
// designer's forms, and the canvas state the UI exposes for tests.
import type { Page } from 'playwright-core';

export async function revision(page: Page): Promise<number> {
  return Number(await page.getAttribute('body', 'data-revision'));
}

/** Wait until the host has acknowledged a change newer than `before`. */
export async function waitRevision(page: Page, before: number, timeout = 10_000): Promise<number> {
  await page.waitForFunction((r) => Number(document.body.dataset.revision) > r && document.body.dataset.saveState !== 'saving', before, { timeout });
  return revision(page);
}

/** Fill the inspector's form for a new element and press Create; resolves when the host saved it. */
export async function addWithForm(page: Page, kind: 'node' | 'namespace' | 'pod' | 'service', fields: Record<string, string>, selects: Record<string, string> = {}): Promise<void> {
  const before = await revision(page);
  await page.click(`[data-testid="add-${kind}"]`);
  await page.waitForSelector('[data-testid="inspector-form"]');
  for (const [k, v] of Object.entries(fields)) {
    await page.click(`[data-testid="f-${k}"]`);
    await page.fill(`[data-testid="f-${k}"]`, '');
    await page.type(`[data-testid="f-${k}"]`, v);
  }
  for (const [k, v] of Object.entries(selects)) await page.selectOption(`[data-testid="f-${k}"]`, v);
  await page.click('[data-testid="inspector-apply"]');
  await waitRevision(page, before);
}

export interface ElementState {
  data: Record<string, unknown>;
  classes: string[];
  visible: boolean;
}

/** An element on the canvas (data and classes), or null. */
export async function element(page: Page, id: string): Promise<ElementState | null> {
  return page.evaluate((i) => window.__netlabGraph?.element(i) ?? null, id);
}

/** Wait until an element on the canvas has a class. */
export async function waitClass(page: Page, id: string, cls: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(({ i, c }) => window.__netlabGraph?.element(i)?.classes.includes(c) ?? false, { i: id, c: cls }, { timeout });
}

export async function counts(page: Page): Promise<{ nodeCount: number; podCount: number; serviceCount: number; edgeCount: number }> {
  const c = await page.evaluate(() => window.__netlab);
  if (!c) throw new Error('window.__netlab is not set');
  return { nodeCount: c.nodeCount, podCount: c.podCount, serviceCount: c.serviceCount, edgeCount: c.edgeCount };
}
