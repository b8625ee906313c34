import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { sampleResolver } from '../../electron/host/labs/library';
import { authorAndValidate, suggestChecks } from './author';
import { gradeLab } from './grade';

const start = readFileSync(new URL('../../labs/default-deny-dns/start.yaml', import.meta.url), 'utf8');
const answer = `${start}\n---\n${readFileSync(new URL('../../labs/default-deny-dns/answer-policies.yaml', import.meta.url), 'utf8')}`;

describe('instructor mode: authoring a lab from a topology', () => {
  it('suggests checks that tell the answer from the start', () => {
    const s = suggestChecks(start, answer);
    expect(s.checks.map((c) => c.type)).toEqual(['matrix', 'unchanged']);
    expect(s.checks[0]).toMatchObject({ type: 'matrix', ports: ['53/TCP', '53/UDP', '80/TCP', '6443/TCP', '8080/TCP', '9153/TCP'] });
    expect(s.summary[0]).toMatch(/^\d+ connection\(s\) on .* differ between start and answer$/);
    const vx = suggestChecks(start, start.replace('cni: calico-bgp', 'cni: calico-vxlan'));
    expect(vx.checks.find((c) => c.type === 'property')).toMatchObject({ expr: 'setting(cni) == "calico-vxlan"' });
    expect(suggestChecks(start, start).checks).toEqual([]);
  });

  it('builds a lab folder that loads, scores 100% with its answer and less from its start', async () => {
    const s = suggestChecks(start, answer);
    const r = authorAndValidate(
      {
        id: 'lock-down-shop',
        title: 'Lock down the shop',
        summary: 'Default deny plus what the shop needs.',
        level: 'beginner',
        estimatedMinutes: 20,
        objectives: ['Write the policies.'],
        startYaml: start,
        answerYaml: answer,
        tasks: [
          { id: 'policies', title: 'Policies', kind: 'build', prompt: 'Lock the shop down.', points: 50, checks: s.checks, hints: [{ text: 'Start with a default deny.', cost: 5 }] },
          { id: 'count', title: 'Count', kind: 'predict', prompt: 'How many backend endpoints?', points: 10, checks: [{ type: 'predict', format: 'integer', probe: { name: 'value', args: { expr: 'endpoints(shop/backend)' } } }] },
        ],
      },
      sampleResolver(),
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(Object.keys(r.bundle.files).sort()).toEqual(['answer.yaml', 'lab.yaml', 'start.yaml']);
    expect(r.bundle.files['lab.yaml']).toMatch(/^# Authored with netlab's instructor mode\.\napiVersion: netlab\.dev\/v1alpha1\nkind: Lab\nid: lock-down-shop/);
    const inst = r.lab!.instance();
    expect((await gradeLab(inst, inst.answer)).percent).toBe(100);
    const st = await gradeLab(inst, {});
    expect(st.tasks[0].checks.map((c) => [c.id, c.score])).toEqual([['reachability', 0], ['nothing-else', 1]]);
    expect(st.tasks[0].score).toBeCloseTo(1 / 3, 3);
  });

  it('an authored lab with a bad check reports it at its position', () => {
    const r = authorAndValidate({ id: 'x', title: 'X', summary: 'x', level: 'beginner', estimatedMinutes: 1, objectives: ['x'], startYaml: start, tasks: [{ id: 't', title: 'T', kind: 'build', prompt: 'p', points: 1, checks: [{ type: 'property', expr: 'reachable(a/b' }] }] }, sampleResolver());
    expect(r.lab).toBeNull();
    expect(r.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`)).toEqual(['x/lab.yaml:21 lab-property-syntax']);
  });
});
