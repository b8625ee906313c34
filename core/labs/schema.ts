// lab.yaml: the zod schema, and validation that reports every problem with
// file:line:col (the yaml library's positions) like `netlab validate`:
// shape errors, unknown fields, duplicate task ids, property expressions
// that do not parse (at the column of the mistake), unknown probes and
// fault types, hint costs above the task's points.

import { z } from 'zod';
import { isScalar, type Scalar } from 'yaml';
import type { Diagnostic } from '../model/types';
import { checkShape } from '../model/schemas';
import { DiagnosticSink, locate, parseSources, type ObjRef, type PathSeg } from '../model/source';
import { FAULTS } from './faults';
import { PROBES } from './probes';
import { parseProperty, PropertySyntaxError } from './property';
import { parsePort } from './world';
import { LAB_API_VERSION, type LabDefinition } from './types';

const ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const idString = z.string().max(63, { error: 'must be at most 63 characters' }).regex(ID, { error: 'must be lowercase letters, digits and "-" (a DNS-1123 label)' });
const nonEmpty = z.string().min(1, { error: 'must not be empty' });
const stringList = z.array(z.string());
const portString = z.union([z.string(), z.number()]).transform((v) => String(v));

export const TopologySpecSchema = z.strictObject({
  sample: z.string().optional(),
  file: z.union([z.string(), z.array(z.string())]).optional(),
  inline: z.string().optional(),
  from: z.literal('start', { error: 'must be "start" (the lab\'s starting topology)' }).optional(),
  add: stringList.optional(),
  addInline: z.string().optional(),
  remove: stringList.optional(),
  set: stringList.optional(),
});

const FaultSchema = z.looseObject({ type: z.string() });

const StartSchema = TopologySpecSchema.omit({ from: true }).extend({
  faults: z.array(FaultSchema).optional(),
  randomFault: z.strictObject({ pool: z.array(FaultSchema).min(1, { error: 'must list at least one fault' }), count: z.number().int().min(1).optional() }).optional(),
});

const checkBase = {
  id: idString.optional(),
  weight: z.number().positive({ error: 'must be a positive number' }).optional(),
  feedback: z.string().optional(),
  title: z.string().optional(),
};

const ProbeSchema = z.strictObject({ name: z.string(), args: z.record(z.string(), z.unknown()).optional() });
const scalarValue = z.union([z.string(), z.number(), z.boolean()]);

export const CheckSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('property'), ...checkBase, expr: nonEmpty }),
    z.strictObject({ type: z.literal('matrix'), ...checkBase, ports: z.array(portString).min(1), pods: z.string().optional(), externals: stringList.optional(), expected: z.record(z.string(), z.string()).optional() }),
    z.strictObject({ type: z.literal('unchanged'), ...checkBase, observe: z.array(z.enum(['matrix', 'endpoints', 'routes', 'settings', 'policies', 'dns'])).min(1), ports: z.array(portString).optional(), allow: stringList.optional() }),
    z.strictObject({ type: z.literal('fault-symptoms'), ...checkBase }),
    z.strictObject({
      type: z.literal('predict'),
      ...checkBase,
      format: z.enum(['route', 'routes', 'conntrack', 'dns-queries', 'chains', 'iptables-rule', 'resolv-conf', 'cidr', 'ip', 'number', 'integer', 'text', 'choice', 'list', 'set']),
      probe: ProbeSchema.optional(),
      expected: z.union([scalarValue, z.array(z.union([z.string(), z.number()]))]).optional(),
      answerKey: z.string().optional(),
      ignore: stringList.optional(),
      tolerance: z.number().nonnegative().optional(),
      options: stringList.optional(),
      on: z.enum(['reference', 'start']).optional(),
    }),
    z.strictObject({ type: z.literal('path'), ...checkBase, from: z.string(), to: z.string(), port: portString, direction: z.enum(['request', 'response']).optional(), expect: z.array(z.string()).min(1), forbid: stringList.optional(), on: z.enum(['student', 'reference']).optional() }),
    z.strictObject({
      type: z.literal('live'),
      ...checkBase,
      target: z.string().regex(/^(node:[^\s]+|pod:[^\s/]+\/[^\s]+)$/, { error: 'must be node:NAME or pod:NAMESPACE/NAME' }),
      command: z.array(z.string()).min(1),
      expect: z.strictObject({ exitCode: z.number().int().optional(), stdoutContains: stringList.optional(), stdoutMatches: z.string().optional(), routes: stringList.optional(), routesFromProbe: ProbeSchema.optional() }),
      timeoutMs: z.number().int().positive().optional(),
    }),
    z.strictObject({ type: z.literal('grader'), ...checkBase, name: z.string(), args: z.record(z.string(), z.unknown()).optional() }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? 'type must be one of property, matrix, unchanged, fault-symptoms, predict, path, live, grader' : undefined) },
);

export const TaskSchema = z.strictObject({
  id: idString,
  title: nonEmpty,
  kind: z.enum(['build', 'fix', 'predict', 'trace', 'live']),
  prompt: nonEmpty,
  points: z.number().positive({ error: 'must be a positive number of points' }),
  hints: z.array(z.strictObject({ text: nonEmpty, cost: z.number().nonnegative({ error: 'must be 0 or more points' }) })).optional(),
  checks: z.array(CheckSchema).min(1, { error: 'must list at least one check' }),
  answerFormat: z.string().optional(),
  seedNote: z.string().optional(),
});

const answerValue: z.ZodType = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()])), z.record(z.string(), answerValue)]));

export const LabSchema = z.strictObject({
  apiVersion: z.literal(LAB_API_VERSION, { error: `must be ${LAB_API_VERSION}` }),
  kind: z.literal('Lab', { error: 'must be Lab' }),
  id: idString,
  title: nonEmpty,
  summary: nonEmpty,
  level: z.enum(['beginner', 'intermediate', 'advanced']),
  estimatedMinutes: z.number().int().positive(),
  objectives: z.array(nonEmpty).min(1),
  tags: stringList.optional(),
  seedNotes: stringList.optional(),
  exam: z.boolean().optional(),
  start: StartSchema,
  tasks: z.array(TaskSchema).min(1, { error: 'must list at least one task' }),
  answer: z.strictObject({ topology: TopologySpecSchema.optional(), commands: z.record(z.string(), stringList).optional(), values: z.record(z.string(), answerValue).optional() }).optional(),
});

/** Position of a scalar's text start (after a block-scalar indicator line) for mapping expression offsets. */
function exprPosition(ref: ObjRef, path: PathSeg[], offset: number): { line: number; column: number } {
  const base = locate(ref.entry, [...ref.base, ...path]);
  let node: unknown = ref.entry.doc.contents;
  for (const seg of [...ref.base, ...path]) {
    const n = node as { items?: { key?: unknown; value?: unknown }[] } | undefined;
    if (!n?.items) break;
    if (typeof seg === 'number') node = (n.items[seg] as unknown) ?? undefined;
    else node = n.items.find((p) => isScalar(p.key) && String((p.key as Scalar).value) === seg)?.value;
  }
  if (isScalar(node) && (node.type === 'PLAIN' || node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) {
    const src = node.source ?? String(node.value);
    if (!src.includes('\n')) return { line: base.line, column: base.column + offset + (node.type === 'PLAIN' ? 0 : 1) };
  }
  return base;
}

export interface ParsedLab {
  def: LabDefinition | null;
  diagnostics: Diagnostic[];
}

/** Parses and validates lab.yaml text. `file` is used in every diagnostic. */
export function parseLabYaml(text: string, file: string, opts: { knownGraders?: string[] } = {}): ParsedLab {
  const sink = new DiagnosticSink();
  const entries = parseSources([{ file, text }], sink.list);
  if (sink.errorCount) return { def: null, diagnostics: sink.list };
  const docs = entries.filter((e) => e.doc.contents !== null);
  if (docs.length !== 1) {
    sink.error('lab-documents', docs.length === 0 ? 'lab.yaml is empty' : `lab.yaml holds ${docs.length} YAML documents; a lab is one document`, docs[1] ? { entry: docs[1], base: [] } : undefined, [], 'Write one Lab document (apiVersion netlab.dev/v1alpha1, kind Lab).');
    if (!sink.list[sink.list.length - 1].file) sink.list[sink.list.length - 1].file = file;
    return { def: null, diagnostics: sink.list };
  }
  const entry = docs[0];
  const ref: ObjRef = { entry, base: [] };
  const obj: unknown = entry.doc.toJS({ maxAliasCount: 1000 });
  if (!checkShape(LabSchema, obj, sink, ref, 'lab')) return { def: null, diagnostics: sink.list };
  const raw = LabSchema.parse(obj);
  const def: LabDefinition = {
    apiVersion: LAB_API_VERSION,
    kind: 'Lab',
    id: raw.id,
    title: raw.title,
    summary: raw.summary,
    level: raw.level,
    estimatedMinutes: raw.estimatedMinutes,
    objectives: raw.objectives,
    tags: raw.tags ?? [],
    seedNotes: raw.seedNotes ?? [],
    exam: raw.exam ?? false,
    start: raw.start as LabDefinition['start'],
    tasks: raw.tasks.map((t) => ({ ...t, hints: t.hints ?? [] })) as LabDefinition['tasks'],
    answer: (raw.answer ?? {}) as LabDefinition['answer'],
  };

  // ---- semantic checks -------------------------------------------------------------
  const ids = new Map<string, number>();
  def.tasks.forEach((t, ti) => {
    const prev = ids.get(t.id);
    if (prev !== undefined) sink.error('lab-duplicate-task', `task id "${t.id}" is used twice (tasks[${prev}] and tasks[${ti}])`, ref, ['tasks', ti, 'id'], 'Task ids are unique within a lab.');
    ids.set(t.id, ti);
    const hintCost = t.hints.reduce((a, h) => a + h.cost, 0);
    if (hintCost > t.points) sink.warn('lab-hint-cost', `task ${t.id}: its hints cost ${hintCost} points, more than the task's ${t.points}`, ref, ['tasks', ti, 'hints'], 'A task never scores below 0; lower the costs.');
    const checkIds = new Set<string>();
    t.checks.forEach((c, ci) => {
      const at: PathSeg[] = ['tasks', ti, 'checks', ci];
      const cid = c.id ?? `${c.type}-${ci + 1}`;
      if (checkIds.has(cid)) sink.error('lab-duplicate-check', `task ${t.id}: check id "${cid}" is used twice`, ref, [...at, 'id']);
      checkIds.add(cid);
      if (c.type === 'property') {
        try {
          parseProperty(c.expr);
        } catch (e) {
          if (e instanceof PropertySyntaxError) {
            const p = exprPosition(ref, [...at, 'expr'], e.offset);
            sink.list.push({ severity: 'error', code: 'lab-property-syntax', message: `task ${t.id}: ${e.message} (at character ${e.offset + 1} of the expression)`, file, line: p.line, column: p.column, path: `tasks[${ti}].checks[${ci}].expr`, hint: e.hint });
          } else throw e;
        }
      }
      if (c.type === 'predict') {
        if (!c.probe && c.expected === undefined && def.answer.values?.[t.id] === undefined) sink.error('lab-predict-expected', `task ${t.id}: a predict check needs probe: (computed from the model) or expected:`, ref, at, 'Prefer a probe: expected values computed from the model stay right when the model changes.');
        if (c.probe && !PROBES[c.probe.name]) sink.error('lab-unknown-probe', `task ${t.id}: unknown probe "${c.probe.name}"`, ref, [...at, 'probe', 'name'], `probes: ${Object.keys(PROBES).join(', ')}`);
        if (c.format === 'choice' && !(c.options?.length)) sink.error('lab-choice-options', `task ${t.id}: a choice check needs options:`, ref, at);
        if (c.format === 'choice' && c.options && c.expected !== undefined && !c.options.some((o) => o.toLowerCase() === String(c.expected).toLowerCase())) sink.error('lab-choice-expected', `task ${t.id}: expected "${String(c.expected)}" is not one of the options`, ref, [...at, 'expected']);
      }
      if (c.type === 'matrix' || c.type === 'unchanged' || c.type === 'path') {
        const ports = c.type === 'path' ? [c.port] : (c.ports ?? []);
        ports.forEach((p, pi) => {
          try {
            parsePort(String(p));
          } catch (e) {
            sink.error('lab-bad-port', `task ${t.id}: ${(e as Error).message}`, ref, c.type === 'path' ? [...at, 'port'] : [...at, 'ports', pi], 'write PORT/PROTO, e.g. 5432/TCP');
          }
        });
      }
      if (c.type === 'live' && c.expect.routesFromProbe && !PROBES[c.expect.routesFromProbe.name]) sink.error('lab-unknown-probe', `task ${t.id}: unknown probe "${c.expect.routesFromProbe.name}"`, ref, [...at, 'expect', 'routesFromProbe', 'name']);
      if (c.type === 'grader' && opts.knownGraders && !opts.knownGraders.includes(c.name)) sink.error('lab-unknown-grader', `task ${t.id}: no grader "${c.name}" is registered for lab ${def.id}`, ref, [...at, 'name'], opts.knownGraders.length ? `graders: ${opts.knownGraders.join(', ')}` : 'export it from labs/<id>/grader.ts and register it in labs/graders.ts');
      if (c.type === 'fault-symptoms' && !def.start.faults?.length && !def.start.randomFault) sink.error('lab-no-faults', `task ${t.id}: a fault-symptoms check needs start.faults or start.randomFault`, ref, at);
    });
  });
  const faults = [...(def.start.faults ?? []).map((f, i) => ({ f, path: ['start', 'faults', i] as PathSeg[] })), ...(def.start.randomFault?.pool ?? []).map((f, i) => ({ f, path: ['start', 'randomFault', 'pool', i] as PathSeg[] }))];
  for (const { f, path } of faults) if (!FAULTS[f.type]) sink.error('lab-unknown-fault', `unknown fault type "${f.type}"`, ref, [...path, 'type'], `fault types: ${Object.keys(FAULTS).join(', ')}`);
  for (const k of Object.keys(def.answer.values ?? {})) {
    if (!ids.has(k)) sink.error('lab-answer-unknown-task', `answer.values.${k}: no task with that id`, ref, ['answer', 'values', k], `tasks: ${[...ids.keys()].join(', ')}`);
  }
  if (!def.start.sample && !def.start.file && !def.start.inline) sink.error('lab-empty-topology', 'start names no topology', ref, ['start'], 'give start.sample, start.file or start.inline');
  return { def: sink.errorCount ? null : def, diagnostics: sink.list };
}
