import { describe, expect, it } from 'vitest';
import { loadLibrary } from '../../electron/host/labs/library';
import { gradersFor } from '../../labs/graders';
import { MemoryProgressStore, LabRun, checkTask, report, resetLab, startLab, useHint } from './session';

const lib = new Map(loadLibrary().map((e) => [e.bundle.id, e.lab!]));
const clock = () => {
  let t = Date.parse('2025-03-01T10:00:00Z');
  return () => new Date((t += 60_000));
};

describe('the lab-runner API', () => {
  it('start → view → check → hint → check → report, with progress in the store', async () => {
    const store = new MemoryProgressStore();
    const lab = lib.get('calico-bgp-routes')!;
    const run = await startLab(lab, { store, now: clock() });
    const v = await run.view();
    expect(v).toMatchObject({ labId: 'calico-bgp-routes', seed: 1, earned: 0, possible: 100, percent: 0 });
    expect(v.startYaml).toMatch(/kind: Topology/);
    expect(v.tasks.map((t) => [t.id, t.input])).toEqual([['remote-block', 'text'], ['local-pod', 'text'], ['blackhole', 'text'], ['restore-route', 'topology'], ['live-bird', 'none']]);
    // The starting state carries the injected fault for the designer and renders.
    expect(run.startState().changes).toEqual([{ op: 'route-del', target: 'node:node-1', dst: '10.244.3.0/26' }]);

    const wrong = await checkTask(run, 'remote-block', { answers: { 'remote-block': '10.244.2.0/24 via 10.0.1.6 dev eth0' } });
    expect(wrong.score).toBeLessThan(1);
    expect(wrong.feedback).toEqual(["your route's destination is wrong"]);
    const hint = await useHint(run, 'remote-block');
    expect(hint).toEqual({ index: 0, text: 'Look at the cluster\'s blockSize, not at the node\'s pod CIDR.', cost: 5, remaining: 0 });
    await expect(useHint(run, 'remote-block')).rejects.toThrow(/no more hints/);
    const right = await checkTask(run, 'remote-block', { answers: { 'remote-block': '10.244.2.0/26 via 10.0.1.6 dev eth0' } });
    expect(right).toMatchObject({ raw: 15, hintCost: 5, earned: 10, passed: true });
    expect(right.score).toBeCloseTo(10 / 15, 4);
    const p = await store.get('calico-bgp-routes', 'remote-block');
    expect(p).toMatchObject({ attempts: 2, hintsUsed: 1, updatedAt: '2025-03-01T10:04:00.000Z' });
    expect(p!.bestScore).toBeCloseTo(10 / 15, 4);
    expect(JSON.parse(p!.lastSubmission!)).toEqual({ answers: { 'remote-block': '10.244.2.0/26 via 10.0.1.6 dev eth0' } });

    // A worse later attempt keeps the best score.
    await checkTask(run, 'remote-block', { answers: { 'remote-block': 'no idea' } });
    expect((await store.get('calico-bgp-routes', 'remote-block'))!.bestScore).toBeCloseTo(10 / 15, 4);
    // Live tasks without a runner are not counted as attempts.
    await checkTask(run, 'live-bird', {});
    expect((await store.get('calico-bgp-routes', 'live-bird'))!.attempts).toBe(0);

    const view = await run.view();
    expect(view.tasks[0]).toMatchObject({ attempts: 3, hints: { revealed: [{ index: 0, cost: 5 }], remaining: 0 } });
    expect(view.earned).toBeCloseTo(10, 2);
    const rep = await report(run);
    expect(rep.tasks[0]).toMatchObject({ taskId: 'remote-block', earned: 0, hintsUsed: 1 }); // the last submission was wrong
    expect(rep.debrief[0]).toMatch(/^Injected fault: node:node-1: ip route del 10\.244\.3\.0\/26/);
  });

  it('hints never push a task below 0', async () => {
    const run = await startLab(lib.get('ipam-planning')!, { graders: gradersFor('ipam-planning') });
    await useHint(run, 'replan');
    await useHint(run, 'replan');
    const r = await checkTask(run, 'replan', {});
    expect(r.hintCost).toBe(16);
    expect(r.raw).toBe(30);
    expect(r.earned).toBe(14);
    const none = await checkTask(run, 'node3-cidr', {});
    expect(none.earned).toBe(0);
    const veth = await startLab(lib.get('cni-add')!);
    await useHint(veth, 'veth-name');
    expect((await checkTask(veth, 'veth-name', { answers: { 'veth-name': 'wrong' } })).earned).toBe(0);
  });

  it('resumes with the recorded seed; reset forgets progress and can draw another fault', async () => {
    const store = new MemoryProgressStore();
    const lab = lib.get('troubleshoot-random')!;
    const a = await LabRun.start(lab, { store, seed: 11 });
    await checkTask(a, 'diagnose', { answers: { diagnose: 'wrong-mtu' } });
    const b = await LabRun.start(lab, { store });
    expect(b.seed).toBe(11);
    expect((await b.view()).tasks[1].attempts).toBe(1);
    expect(b.instance.faults).toEqual(a.instance.faults);
    await resetLab(b, { newSeed: 12 });
    expect(b.seed).toBe(12);
    expect(await store.list('troubleshoot-random')).toEqual([]);
    expect((await store.getRun('troubleshoot-random'))!.seed).toBe(12);
    const c = await LabRun.start(lab, { store });
    expect(c.seed).toBe(12);
    // A random-fault lab started without a seed draws one from the clock.
    const d = await LabRun.start(lab, { store: new MemoryProgressStore(), now: () => new Date(1_700_000_000_123) });
    expect(d.seed).toBe((1_700_000_000_123 % 2147483647) + 1);
  });

  it('rejects unknown tasks with a hint', async () => {
    const run = await startLab(lib.get('cni-add')!);
    await expect(checkTask(run, 'nope', {})).rejects.toThrow(/has no task "nope"/);
  });
});
