import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, expectEqual, expectTrue, newPage, screenshotPath, startServer, tempDataDir, test, waitLoaded } from './harness';
import { revision, waitRevision } from './lab-ui';

const ANSWER = readFileSync(join(ROOT, 'labs', 'default-deny-dns', 'answer-policies.yaml'), 'utf8');
const TASKS = ['default-deny', 'allow-frontend-backend', 'dns'];

test('labs: solve default-deny-dns through the UI to 100% (wrong check, hint, reset, answer in the YAML editor, report)', async () => {
  const data = tempDataDir('labs');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    await page.click('[data-testid="tab-labs"]');
    await page.waitForSelector('[data-testid="lab-open-default-deny-dns"]');
    expectEqual((await page.textContent('[data-testid="lab-progress-default-deny-dns"]'))?.trim(), '0%', 'no progress before the lab starts');

    // Starting the lab opens a new session holding the lab's starting topology.
    const sessionBefore = await page.textContent('.session-name');
    await page.click('[data-testid="lab-open-default-deny-dns"]');
    await page.waitForSelector('[data-testid="task-default-deny"]');
    expectTrue((await page.textContent('.session-name'))?.includes('Default deny') && sessionBefore !== (await page.textContent('.session-name')), 'the lab runs in a new session');
    const prompt = await page.innerHTML('[data-testid="task-default-deny"] .prompt');
    expectTrue(prompt.includes('<strong>shop</strong>') && prompt.includes('<code>'), 'the prompt is rendered from Markdown');

    // Checking the starting topology fails, with a message per check.
    await page.click('[data-testid="check-default-deny"]');
    await page.waitForSelector('[data-testid="result-default-deny"]');
    expectTrue(!(await page.getAttribute('[data-testid="result-default-deny"]', 'class'))?.includes('pass'), 'the starting topology does not pass');
    const failed = await page.$$eval('[data-testid="result-default-deny"] .checks li', (els) => els.map((e) => e.textContent ?? ''));
    expectTrue(failed.length === 3 && failed.every((t) => t.includes('✗') && t.length > 10), `three failing checks with messages: ${JSON.stringify(failed)}`);

    // A hint asks before revealing and says what it costs.
    await page.click('[data-testid="hint-default-deny"]');
    expectTrue((await page.textContent('[data-testid="task-default-deny"] .ask'))?.includes('−3 points'), 'the hint cost is shown before revealing');
    await page.click('[data-testid="hint-yes-default-deny"]');
    await page.waitForSelector('[data-testid="hint-text"]');
    expectTrue((await page.textContent('[data-testid="hint-text"]'))?.includes('podSelector'), 'the hint is revealed');

    // Reset forgets the attempt and the hint.
    await page.click('[data-testid="lab-reset"]');
    await page.click('[data-testid="lab-reset-yes"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="hint-text"]') && !document.querySelector('[data-testid="result-default-deny"]'));

    // The answer: the starting topology plus the policies, entered in the topology YAML editor.
    await page.click('[data-testid="tab-yaml"]');
    const start = await page.inputValue('[data-testid="file-yaml"]');
    expectTrue(start.includes('shop'), 'the designer holds the lab topology');
    const before = await revision(page);
    await page.fill('[data-testid="file-yaml"]', `${start.trimEnd()}\n---\n${ANSWER}`);
    await page.click('[data-testid="file-yaml-apply"]');
    await waitRevision(page, before);

    // Switching back keeps the lab open; each task passes.
    await page.click('[data-testid="tab-labs"]');
    await page.waitForSelector('[data-testid="task-dns"]');
    for (const t of TASKS) {
      await page.click(`[data-testid="check-${t}"]`);
      await page.waitForSelector(`[data-testid="result-${t}"].pass`, { timeout: 20_000 });
    }
    await page.waitForFunction(() => document.querySelector('[data-testid="lab-score"]')?.textContent?.includes('100%'));
    await page.click('[data-testid="lab-finish"]');
    await page.waitForSelector('[data-testid="lab-report"]');
    expectEqual((await page.textContent('[data-testid="report-percent"]'))?.trim(), '100%', 'the final score');
    const debrief = await page.textContent('[data-testid="lab-report"] .debrief');
    expectTrue(debrief?.includes('kubernetes.io/metadata.name'), 'the debrief shows the seed corrections');
    await page.evaluate(() => document.querySelector('[data-testid="lab-report"]')?.scrollIntoView());
    await page.screenshot({ path: screenshotPath('labs.png') });

    // The list shows the progress kept in the session.
    await page.click('[data-testid="lab-back"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="lab-progress-default-deny-dns"]')?.textContent?.startsWith('100%'));
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});

const DENY_DEFAULT = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all-ingress
  namespace: default
spec:
  podSelector: {}
  policyTypes: [Ingress]
`;

test('labs: instructor mode authors a lab from the session, exports it as a pack, imports a pack and previews as a student', async () => {
  const data = tempDataDir('labs-instructor');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    await page.click('[data-testid="tab-labs"]');
    await page.check('[data-testid="instructor-toggle"]');
    await page.click('[data-testid="mark-start"]');

    // The answer: the same topology with a default-deny ingress policy.
    await page.click('[data-testid="tab-yaml"]');
    const start = await page.inputValue('[data-testid="file-yaml"]');
    const before = await revision(page);
    await page.fill('[data-testid="file-yaml"]', `${start.trimEnd()}\n${DENY_DEFAULT}`);
    await page.click('[data-testid="file-yaml-apply"]');
    await waitRevision(page, before);

    await page.click('[data-testid="tab-labs"]');
    expectTrue(await page.isChecked('[data-testid="instructor-toggle"]'), 'instructor mode survives switching tabs');
    await page.click('[data-testid="mark-answer"]');
    await page.waitForSelector('.check-pick');
    const picks = await page.$$eval('.check-pick', (els) => els.map((e) => e.textContent ?? ''));
    expectTrue(picks.some((p) => p.includes('reachability')), `a reachability check is suggested: ${JSON.stringify(picks)}`);
    await page.fill('[data-testid="author-id"]', 'deny-default');
    await page.fill('[data-testid="author-title"]', 'Deny ingress in default');
    await page.click('[data-testid="author-lab"]');
    await page.waitForSelector('[data-testid="author-preview"]');
    await page.waitForSelector('[data-testid="lab-open-deny-default"]');
    await page.screenshot({ path: screenshotPath('labs-instructor.png') });

    // Export the authored lab as one pack file.
    await page.check('[data-testid="lab-select-deny-default"]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-pack"]')]);
    const path = await download.path();
    const pack = readFileSync(path, 'utf8');
    expectTrue(download.suggestedFilename().endsWith('.labpack.yaml') && pack.includes('deny-default') && pack.includes('deny-all-ingress'), 'the pack holds the lab and its answer');

    // Import it back under another id.
    await page.setInputFiles('[data-testid="import-pack"]', { name: 'copy.labpack.yaml', mimeType: 'application/yaml', buffer: Buffer.from(pack.replaceAll('deny-default', 'deny-default-copy')) });
    await page.waitForSelector('[data-testid="import-result"]');
    expectTrue((await page.textContent('[data-testid="import-result"]'))?.includes('Imported deny-default-copy'), 'the pack is imported');
    await page.waitForSelector('[data-testid="lab-open-deny-default-copy"]');

    // Preview as a student: a new session with the starting topology; checking it fails.
    await page.click('[data-testid="author-preview"]');
    await page.waitForSelector('[data-testid="task-task-1"]');
    await page.click('[data-testid="check-task-1"]');
    await page.waitForSelector('[data-testid="result-task-1"]');
    expectTrue(!(await page.getAttribute('[data-testid="result-task-1"]', 'class'))?.includes('pass'), 'the starting topology does not pass the authored lab');
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});

test('labs: predict answers (text and fields) in dns-ndots: a wrong query list fails with an explanation, one wrong field gets partial credit, right answers pass', async () => {
  const data = tempDataDir('labs-predict');
  const server = await startServer(data.dir);
  const { page, problems, close } = await newPage();
  try {
    await page.goto(server.url);
    await waitLoaded(page);
    await page.click('[data-testid="tab-labs"]');
    await page.click('[data-testid="lab-open-dns-ndots"]');
    await page.waitForSelector('[data-testid="answer-fqdn-queries"]');

    // The seed's answer: one query. glibc sends eight.
    await page.fill('[data-testid="answer-fqdn-queries"]', 'A? backend.default.svc.cluster.local.');
    await page.click('[data-testid="check-fqdn-queries"]');
    await page.waitForSelector('[data-testid="result-fqdn-queries"]');
    expectTrue(!(await page.getAttribute('[data-testid="result-fqdn-queries"]', 'class'))?.includes('pass'), 'one query is wrong');
    const resultText = (await page.textContent('[data-testid="result-fqdn-queries"]')) ?? '';
    expectTrue(resultText.length > 30, `the result explains what is wrong: ${resultText}`);

    const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
    const queries = [...search.map((s) => `backend.default.svc.cluster.local.${s}.`), 'backend.default.svc.cluster.local.'].flatMap((n) => [`A? ${n}`, `AAAA? ${n}`]);
    await page.fill('[data-testid="answer-fqdn-queries"]', queries.join('\n'));
    await page.click('[data-testid="check-fqdn-queries"]');
    await page.waitForSelector('[data-testid="result-fqdn-queries"].pass');

    await page.fill('[data-testid="answer-short-name"]', '2');
    await page.click('[data-testid="check-short-name"]');
    await page.waitForSelector('[data-testid="result-short-name"].pass');

    // A mapping answer: one field per key. A wrong plugin default shows a diff for that field only.
    await page.fill('[data-testid="field-ttl-cluster"]', '30');
    await page.fill('[data-testid="field-ttl-pluginDefault"]', '30');
    await page.click('[data-testid="check-ttl"]');
    await page.waitForSelector('[data-testid="result-ttl"]');
    const partial = (await page.textContent('[data-testid="result-ttl"] .verdict')) ?? '';
    expectTrue(partial.includes('✗') && !partial.includes('(0%)') && !partial.includes('(100%)'), `partial credit for one right field: ${partial}`);
    await page.fill('[data-testid="field-ttl-pluginDefault"]', '5');
    await page.click('[data-testid="check-ttl"]');
    await page.waitForSelector('[data-testid="result-ttl"].pass');
    await page.screenshot({ path: screenshotPath('labs-predict.png') });
    expectEqual(problems, [], 'console errors or uncaught exceptions');
  } finally {
    await close();
    await server.stop();
    data.cleanup();
  }
});
