// The designer as a user meets it: a topology built from nothing by clicking
// and typing, a NetworkPolicy typed into the YAML editor (with an error shown
// in place first) turning an overlay edge red, undo through the session, and
// the whole thing restored after a reload.
import { expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';
import { addWithForm, counts, element, revision, waitClass, waitRevision } from './lab-ui';

const POLICY_BROKEN = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-api
  namespace: shop
spec:
  podSelector: {matchLabels: {app: db}
  policyTypes: [Ingress]
`;

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-api
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: db}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchLabels: {app: api}}
      ports:
        - {port: 5432, protocol: TCP}
`;

test('designer: build a topology from nothing, add a policy in the YAML editor, see the edge turn red, reload', async () => {
  const data = tempDataDir('designer');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);

    // A new session, then an empty topology.
    await page.click('[data-testid="tab-session"]');
    const firstPath = await page.textContent('dd.path');
    await page.click('button:has-text("New session")');
    await page.waitForFunction((p) => document.querySelector('dd.path')?.textContent !== p, firstPath);
    let before = await revision(page);
    await page.selectOption('[data-testid="sample-picker"]', '__empty');
    await waitRevision(page, before);

    // Nodes, a namespace, two pods with labels and ports, a Service.
    await addWithForm(page, 'node', { name: 'worker-1', ip: '10.0.1.10' });
    await addWithForm(page, 'node', { name: 'worker-2', ip: '10.0.1.11' });
    await addWithForm(page, 'namespace', { name: 'shop', labels: 'team=blue' });
    await addWithForm(page, 'pod', { name: 'web', namespace: 'shop', labels: 'app=web, tier=front', ports: '8080/TCP' }, { node: 'worker-1' });
    await addWithForm(page, 'pod', { name: 'db', namespace: 'shop', labels: 'app=db', ports: 'pg:5432/TCP' }, { node: 'worker-2' });
    await addWithForm(page, 'service', { name: 'db', namespace: 'shop', selector: 'app=db', ports: '5432:pg/TCP' });

    // The loader adds default/kubernetes (its endpoint is the first node); everything else is what we typed.
    expectEqual(await counts(page), { nodeCount: 2, podCount: 2, serviceCount: 2, edgeCount: 2 }, 'canvas counts after building');
    const web = await element(page, 'pod/shop/web');
    expectTrue(web && web.data.parent === 'node/worker-1', `web sits in worker-1 (${JSON.stringify(web?.data)})`);
    expectEqual((web?.data.labels as Record<string, string>) ?? {}, { app: 'web', tier: 'front' }, 'web labels');
    expectTrue(String(web?.data.label).startsWith('web\n10.244.'), `web got an address from IPAM (${web?.data.label})`);
    expectTrue(await element(page, 'edge/svc/shop/db->pod/shop/db'), 'the Service has an edge to its endpoint');
    const dbPort = await page.evaluate(() => window.__netlabGraph?.element('svc/shop/db')?.data.label);
    expectTrue(String(dbPort).includes('5432/TCP'), `the Service shows its port (${dbPort})`);

    // A bad form value is refused with a message, not saved.
    const rev = await revision(page);
    await page.click('[data-testid="add-pod"]');
    await page.fill('[data-testid="f-name"]', 'Bad_Name');
    await page.click('[data-testid="inspector-apply"]');
    await page.waitForSelector('[data-testid="form-error"]');
    expectTrue((await page.textContent('[data-testid="form-error"]'))?.includes('lowercase'), 'the form explains the name rule');
    expectEqual(await revision(page), rev, 'nothing saved for a bad form');
    await page.keyboard.press('Escape');

    // Policy overlay on 5432/TCP: web → db allowed (no policy yet).
    await page.fill('[data-testid="overlay-port"]', '5432/TCP');
    await page.check('[data-testid="overlay-toggle"]');
    const edge = 'verdict/pod/shop/web->pod/shop/db';
    await waitClass(page, edge, 'verdict-allowed');
    expectEqual((await element(page, edge))?.data.verdict, 'allowed', 'verdict before the policy');
    await page.screenshot({ path: screenshotPath('designer-built.png') });

    // A NetworkPolicy in the YAML editor: first with a syntax error, shown in place.
    await page.click('[data-testid="add-policy"]');
    await page.waitForSelector('[data-testid="element-yaml"]');
    await page.fill('[data-testid="element-yaml"]', POLICY_BROKEN);
    await page.waitForSelector('[data-testid="element-yaml-problems"] li.error');
    const problem = await page.textContent('[data-testid="element-yaml-problems"] li.error');
    expectTrue(problem?.includes('YAML syntax'), `syntax error listed (${problem})`);
    const markedLine = Number(await page.getAttribute('[data-testid="element-yaml-problems"] li.error .where', 'data-line'));
    expectTrue(markedLine >= 7 && markedLine <= 9, `the error points at the broken line (${markedLine})`);
    expectTrue(await page.$(`.backdrop .line.error[data-line="${markedLine}"]`), 'the line is marked in the editor');
    expectTrue(await page.isDisabled('[data-testid="yaml-apply"]'), 'Create is disabled while the YAML has errors');
    await page.screenshot({ path: screenshotPath('yaml-editor.png') });

    // Fix it by typing (validated as you type), then create with Ctrl+Enter.
    await page.fill('[data-testid="element-yaml"]', '');
    await page.type('[data-testid="element-yaml"]', POLICY);
    await page.waitForFunction(() => document.querySelector('[data-testid="yaml-state"]')?.textContent?.trim() === 'valid');
    before = await revision(page);
    await page.focus('[data-testid="element-yaml"]');
    await page.keyboard.press('Control+Enter');
    await waitRevision(page, before);
    await waitClass(page, edge, 'verdict-denied');
    expectEqual((await element(page, edge))?.data.verdict, 'denied', 'verdict after the policy');
    expectTrue((await element(page, 'pod/shop/db'))?.classes.includes('isolated'), 'db is drawn as isolated');
    expectTrue(!(await element(page, 'pod/shop/web'))?.classes.includes('isolated'), 'web is not isolated');

    // The new policy is selected in the inspector, with the pods it selects.
    expectTrue((await page.textContent('[data-testid="inspector-title"]'))?.includes('shop/db-from-api'), 'inspector shows the new policy');

    // Clicking the edge explains the verdict: which policy isolates db and why web is not allowed.
    const mid = await page.evaluate((id) => window.__netlabGraph?.renderedPosition(id), edge);
    expectTrue(mid, 'the verdict edge is on screen');
    await page.mouse.click(mid!.x, mid!.y);
    await page.waitForSelector('[data-testid="verdict-card"]');
    expectEqual(await page.getAttribute('[data-testid="verdict-card"]', 'data-allowed'), 'false', 'the card shows a denial');
    const why = await page.textContent('[data-testid="verdict-card"]');
    expectTrue(why?.includes('shop/db-from-api') && why.includes('Ingress to shop/db'), `the card names the policy and the side (${why})`);
    await page.screenshot({ path: screenshotPath('policy-overlay.png') });

    // Undo removes the policy (the session's change log), redo brings it back.
    before = await revision(page);
    await page.click('[data-testid="undo"]');
    await waitClass(page, edge, 'verdict-allowed');
    await page.click('[data-testid="redo"]');
    await waitClass(page, edge, 'verdict-denied');

    // Move a pod: its position is saved with the session.
    const pos = await page.evaluate(() => window.__netlabGraph?.renderedPosition('pod/shop/web'));
    expectTrue(pos, 'web has a position on screen');
    before = await revision(page);
    await page.mouse.move(pos!.x, pos!.y);
    await page.mouse.down();
    await page.mouse.move(pos!.x + 60, pos!.y + 40, { steps: 6 });
    await page.mouse.up();
    await waitRevision(page, before);
    const moved = await page.evaluate(() => window.__netlabGraph?.position('pod/shop/web'));

    // Reload: the same topology, policy and position come back from the session.
    await page.reload();
    await waitLoaded(page);
    expectEqual(await counts(page), { nodeCount: 2, podCount: 2, serviceCount: 2, edgeCount: 2 }, 'counts after reload');
    await page.check('[data-testid="overlay-toggle"]').catch(() => {});
    await waitClass(page, edge, 'verdict-denied');
    const movedAfter = await page.evaluate(() => window.__netlabGraph?.position('pod/shop/web'));
    expectTrue(moved && movedAfter && Math.abs(moved.x - movedAfter.x) < 1 && Math.abs(moved.y - movedAfter.y) < 1, `the moved position is restored (${JSON.stringify(moved)} vs ${JSON.stringify(movedAfter)})`);
    await page.click('[data-testid="tab-yaml"]');
    const yaml = await page.inputValue('[data-testid="file-yaml"]');
    expectTrue(yaml.includes('name: db-from-api') && yaml.includes('- { name: worker-1, ip: 10.0.1.10 }'), 'the session stores the topology YAML the designer wrote');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});
