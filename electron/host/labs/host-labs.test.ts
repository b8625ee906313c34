import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostApi, type HostApi } from '../api';
import { createDispatcher } from '../dispatch';

const ROOT = resolve(__dirname, '../../..');
const LAB = join(ROOT, 'labs', 'default-deny-dns');

describe('LabApi lab methods on the host', () => {
  let dataDir: string;
  let api: HostApi;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'netlab-labapi-'));
    api = createHostApi({ transport: 'websocket', electron: false, version: 't', resourcesDir: join(ROOT, 'resources'), dataDir, live: () => undefined });
  });
  afterEach(() => {
    api.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses bad arguments before they reach the lab service', async () => {
    const d = createDispatcher(api);
    expect(await d('labStart', ['../etc'])).toMatchObject({ ok: false, error: { code: 'invalid-params', message: expect.stringContaining('params[0]: a lab id') } });
    expect(await d('labCheck', ['default-deny-dns', 'dns', { topology: 'not a list' }])).toMatchObject({ ok: false, error: { code: 'invalid-params', message: expect.stringContaining('params[2].topology') } });
    expect(await d('labCheck', ['default-deny-dns', 'dns', { answer: {} }])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await d('labStart', ['default-deny-dns', { seed: -1 }])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await d('labExportPack', [[], { name: 'x' }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('at least one lab') } });
    // A lab that does not exist is a lab error with a hint, not an internal error.
    expect(await d('labStart', ['no-such-lab'])).toMatchObject({ ok: false, error: { code: 'lab', message: expect.stringContaining('no lab "no-such-lab"') } });
  });

  it('checks a task round trip: start, a wrong and a right submission, progress in the session file, report', async () => {
    await api.sessionNew({ name: 'labs' });
    const d = createDispatcher(api);
    const list = await api.labList();
    const entry = list.find((l) => l.id === 'default-deny-dns');
    expect(entry).toMatchObject({ source: 'built-in', percent: 0, attempts: 0, started: false, level: 'beginner' });

    const view = await api.labStart('default-deny-dns');
    expect(view.tasks.map((t) => t.id)).toEqual(['default-deny', 'allow-frontend-backend', 'dns']);
    expect(view.tasks[0].input).toBe('topology');
    const start = await api.labStartState('default-deny-dns');
    expect(start.yaml).toBe(view.startYaml);

    // The starting topology does not isolate anything: the task fails with messages per check.
    const wrong = await d('labCheck', ['default-deny-dns', 'default-deny', { topology: [{ file: 'start.yaml', text: start.yaml }] }]);
    expect(wrong.ok).toBe(true);
    const w = (wrong as { result: { earned: number; checks: { passed: boolean; message: string }[] } }).result;
    expect(w.earned).toBe(0);
    expect(w.checks.every((c) => !c.passed && c.message.length > 0)).toBe(true);

    const answer = readFileSync(join(LAB, 'answer-policies.yaml'), 'utf8');
    const sub = { topology: [{ file: 'start.yaml', text: start.yaml }, { file: 'answer-policies.yaml', text: answer }] };
    for (const task of ['default-deny', 'allow-frontend-backend', 'dns']) {
      const r = await api.labCheck('default-deny-dns', task, sub);
      expect(r.score, task).toBe(1);
    }
    const after = (await api.labList()).find((l) => l.id === 'default-deny-dns');
    expect(after).toMatchObject({ percent: 100, attempts: 4, started: true });
    const rep = await api.labReport('default-deny-dns');
    expect(rep.percent).toBe(100);
    expect(rep.debrief.join('\n')).toContain('kubernetes.io/metadata.name');

    // Progress lives in the session file: a new host on the same data directory sees it.
    api.close();
    api = createHostApi({ transport: 'websocket', electron: false, version: 't', resourcesDir: join(ROOT, 'resources'), dataDir, live: () => undefined });
    await api.sessionCurrent();
    expect((await api.labList()).find((l) => l.id === 'default-deny-dns')).toMatchObject({ percent: 100, attempts: 4 });
    const reset = await api.labReset('default-deny-dns');
    expect(reset.percent).toBe(0);
  });

  it('hints cost points; packs export and import; authored labs load and grade', async () => {
    await api.sessionNew({ name: 'instructor' });
    await api.labStart('default-deny-dns');
    const h = await api.labHint('default-deny-dns', 'default-deny');
    expect(h).toMatchObject({ index: 0, cost: 3, remaining: 1 });

    const pack = await api.labExportPack(['default-deny-dns'], { name: 'Policy basics' });
    expect(pack.filename).toBe('policy-basics.labpack.yaml');
    // Importing a lab whose id exists is refused with a diagnostic.
    const clash = await api.labImportPack(pack.text, pack.filename);
    expect(clash.imported).toEqual([]);
    expect(clash.diagnostics.some((x) => x.code === 'pack-lab-exists')).toBe(true);

    const startYaml = readFileSync(join(LAB, 'start.yaml'), 'utf8');
    const answerYaml = `${startYaml}\n---\n${readFileSync(join(LAB, 'answer-policies.yaml'), 'utf8')}`;
    const sug = await api.labSuggestChecks(startYaml, answerYaml);
    expect(sug.checks.length).toBeGreaterThan(0);
    const authored = await api.labAuthor({
      id: 'my-deny',
      title: 'My deny lab',
      summary: 's',
      level: 'beginner',
      estimatedMinutes: 10,
      objectives: ['deny'],
      startYaml,
      answerYaml,
      tasks: [{ id: 'policies', title: 'Write the policies', kind: 'build', prompt: 'Do it.', points: 10, checks: sug.checks }],
    });
    expect(authored.imported).toEqual(['my-deny']);
    expect((await api.labList()).find((l) => l.id === 'my-deny')).toMatchObject({ source: 'imported', points: 10 });
    await api.labStart('my-deny');
    expect((await api.labCheck('my-deny', 'policies', { topology: [{ file: 'start.yaml', text: startYaml }] })).score).toBeLessThan(1);
    expect((await api.labCheck('my-deny', 'policies', { topology: [{ file: 'answer.yaml', text: answerYaml }] })).score).toBe(1);
    // A built-in id is refused.
    const dup = await api.labAuthor({ id: 'default-deny-dns', title: 't', summary: '', level: 'beginner', estimatedMinutes: 1, objectives: [], startYaml, tasks: [{ id: 't', title: 't', kind: 'build', prompt: '', points: 1, checks: sug.checks }] });
    expect(dup.imported).toEqual([]);
  });
});
