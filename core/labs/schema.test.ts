import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadLab } from './lab';
import { parseLabYaml } from './schema';

const seed = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const samples = (id: string) => (id === 'seed' ? seed : undefined);

const GOOD = `apiVersion: netlab.dev/v1alpha1
kind: Lab
id: tiny
title: Tiny
summary: A tiny lab.
level: beginner
estimatedMinutes: 5
objectives: [Look at the seed.]
start:
  sample: seed
tasks:
  - id: count
    title: Count
    kind: predict
    prompt: How many backends?
    points: 10
    checks:
      - { type: predict, format: integer, probe: { name: value, args: { expr: 'endpoints(default/backend)' } } }
  - id: deny
    title: Deny
    kind: build
    prompt: Deny pod-a.
    points: 10
    hints: [{ text: use a policy, cost: 2 }]
    checks:
      - { type: property, expr: 'denied(default/pod-a, default/backend-1, 8080/TCP)' }
`;

function diags(text: string) {
  return parseLabYaml(text, 'labs/tiny/lab.yaml').diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} [${d.code}] ${d.message}${d.path ? ` (${d.path})` : ''}`);
}

describe('lab.yaml validation', () => {
  it('accepts a valid lab', () => {
    const r = parseLabYaml(GOOD, 'labs/tiny/lab.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.def?.tasks.map((t) => t.id)).toEqual(['count', 'deny']);
    expect(r.def?.tasks[0].hints).toEqual([]);
  });

  it.each([
    ['an unknown field (a typo) at its position', GOOD.replace('    hints: [', '    hnits: ['), /^labs\/tiny\/lab\.yaml:24:12 error \[unknown-field\] lab: unknown field tasks\[1\]\.hnits/],
    ['a wrong kind of task', GOOD.replace('kind: build', 'kind: quiz'), /^labs\/tiny\/lab\.yaml:21:11 error \[invalid-value\] lab: tasks\[1\]\.kind: .*"build"/],
    ['a missing field', GOOD.replace('    points: 10\n    hints', '    hints'), /^labs\/tiny\/lab\.yaml:19:5 error \[missing-field\] lab: required field tasks\[1\]\.points is missing/],
    ['a wrong apiVersion', GOOD.replace('netlab.dev/v1alpha1', 'v1'), /^labs\/tiny\/lab\.yaml:1:13 error \[invalid-value\] lab: apiVersion must be netlab\.dev\/v1alpha1/],
    ['an unknown check type', GOOD.replace('type: property', 'type: magic'), /^labs\/tiny\/lab\.yaml:26:17 error \[invalid-value\] lab: tasks\[1\]\.checks\[0\]\.type: type must be one of property/],
    ['a YAML syntax error', GOOD.replace('title: Tiny', 'title: [Tiny'), /^labs\/tiny\/lab\.yaml:\d+:\d+ error \[yaml-syntax\]/],
  ])('reports %s', (_what, text, re) => {
    const d = diags(text);
    expect(d.length).toBeGreaterThan(0);
    expect(d.some((x) => re.test(x)), d.join('\n')).toBe(true);
  });

  it('points at the character of a property syntax error', () => {
    const d = diags(GOOD.replace("expr: 'denied(default/pod-a, default/backend-1, 8080/TCP)'", "expr: 'denied(default/pod-a default/backend-1, 8080/TCP)'"));
    // line 26: `      - { type: property, expr: 'denied(…` — the expression starts at column 34; the bad token is 22 characters in.
    expect(d).toEqual(['labs/tiny/lab.yaml:26:55 error [lab-property-syntax] task deny: expected ")" but found "default/backend-1" (at character 22 of the expression) (tasks[1].checks[0].expr)']);
  });

  it('reports semantic errors at their fields: duplicate ids, unknown probes, faults and graders, hint costs', () => {
    const text = GOOD.replace('  - id: deny', '  - id: count')
      .replace('probe: { name: value,', 'probe: { name: magic,')
      .replace('    hints: [{ text: use a policy, cost: 2 }]', '    hints: [{ text: use a policy, cost: 20 }]')
      .replace('  sample: seed\n', '  sample: seed\n  faults: [{ type: unplug-cable }]\n')
      .replace("      - { type: property, expr: 'denied", "      - { type: grader, name: nope }\n      - { type: property, expr: 'denied");
    const d = parseLabYaml(text, 'labs/tiny/lab.yaml', { knownGraders: [] }).diagnostics.map((x) => `${x.line}:${x.column} ${x.severity} ${x.code}`);
    expect(d).toEqual(['19:58 error lab-unknown-probe', '20:9 error lab-duplicate-task', '25:12 warning lab-hint-cost', '27:31 error lab-unknown-grader', '11:20 error lab-unknown-fault']);
  });

  it('loadLab adds the topology diagnostics of missing files and samples', () => {
    const r = loadLab({ id: 'tiny', files: { 'lab.yaml': GOOD.replace('  sample: seed', '  sample: nope\n  add: [extra.yaml]') } }, samples);
    expect(r.lab).toBeNull();
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual(['lab-empty-topology', 'lab-missing-file', 'lab-unknown-sample']);
    expect(r.diagnostics.find((d) => d.code === 'lab-missing-file')!.message).toMatch(/has no file "extra\.yaml"/);
  });

  it('loadLab reports a broken starting topology with the file\'s own positions', () => {
    const r = loadLab({ id: 'tiny', files: { 'lab.yaml': GOOD.replace('  sample: seed', '  file: start.yaml'), 'start.yaml': seed.replace('podIP: 10.244.1.5', 'podIP: 10.244.1.500') } }, samples);
    expect(r.lab).toBeNull();
    const d = r.diagnostics.find((x) => x.severity === 'error')!;
    expect(d.file).toBe('tiny/start.yaml');
    expect(d.line).toBeGreaterThan(30);
  });

  it('loads the valid lab and grades it', async () => {
    const r = loadLab({ id: 'tiny', files: { 'lab.yaml': GOOD } }, samples);
    expect(r.diagnostics).toEqual([]);
    expect(r.lab!.instance().answer.answers).toEqual({ count: 2 });
  });
});
