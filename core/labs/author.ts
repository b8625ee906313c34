// Instructor mode: author a lab from a session's topology. The instructor
// marks the starting topology and the answer (another topology), picks
// checks (or takes the suggested ones: what differs between start and
// answer), sets points and hints, and gets a lab folder (lab.yaml,
// start.yaml, answer.yaml) that loads like any built-in lab.

import { stringify } from 'yaml';
import { loadTopology, type Diagnostic } from '../model';
import { loadLab, type LoadedLab } from './lab';
import { defaultPorts, diffMatrices, observeMatrix } from './observe';
import { evaluate, parseProperty } from './property';
import { LAB_API_VERSION, type CheckSpec, type FaultSpec, type HintSpec, type LabBundle, type LabLevel, type SampleResolver, type TaskAnswer, type TaskKind } from './types';
import { LabWorld, portText } from './world';

export interface AuthorTask {
  id: string;
  title: string;
  kind: TaskKind;
  prompt: string;
  points: number;
  hints?: HintSpec[];
  checks: CheckSpec[];
  answerFormat?: string;
}

export interface AuthorInput {
  id: string;
  title: string;
  summary: string;
  level: LabLevel;
  estimatedMinutes: number;
  objectives: string[];
  tags?: string[];
  /** The session's topology: where the student starts. */
  startYaml: string;
  /** The marked answer topology (omit for predict-only labs). */
  answerYaml?: string;
  faults?: FaultSpec[];
  tasks: AuthorTask[];
  answerValues?: Record<string, TaskAnswer>;
  exam?: boolean;
}

function dropUndefined<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

/** Builds the lab folder. Validate it with loadLab (authorAndValidate does both). */
export function authorLab(input: AuthorInput): LabBundle {
  const lab: Record<string, unknown> = {
    apiVersion: LAB_API_VERSION,
    kind: 'Lab',
    id: input.id,
    title: input.title,
    summary: input.summary,
    level: input.level,
    estimatedMinutes: input.estimatedMinutes,
    objectives: input.objectives,
  };
  if (input.tags?.length) lab.tags = input.tags;
  if (input.exam) lab.exam = true;
  lab.start = dropUndefined({ file: 'start.yaml', faults: input.faults?.length ? input.faults : undefined });
  lab.tasks = input.tasks.map((t) => dropUndefined({ ...t, hints: t.hints?.length ? t.hints : undefined }));
  const answer: Record<string, unknown> = {};
  if (input.answerYaml) answer.topology = { file: 'answer.yaml' };
  if (input.answerValues && Object.keys(input.answerValues).length) answer.values = input.answerValues;
  if (Object.keys(answer).length) lab.answer = answer;
  const files: Record<string, string> = {
    'lab.yaml': `# Authored with netlab's instructor mode.\n${stringify(lab, { lineWidth: 0, blockQuote: 'literal' })}`,
    'start.yaml': input.startYaml,
  };
  if (input.answerYaml) files['answer.yaml'] = input.answerYaml;
  return { id: input.id, files };
}

export function authorAndValidate(input: AuthorInput, samples: SampleResolver): { bundle: LabBundle; lab: LoadedLab | null; diagnostics: Diagnostic[] } {
  const bundle = authorLab(input);
  const r = loadLab(bundle, samples);
  return { bundle, lab: r.lab, diagnostics: r.diagnostics };
}

export interface SuggestedChecks {
  checks: CheckSpec[];
  /** What differs between start and answer, in words. */
  summary: string[];
}

/**
 * Checks that tell the answer from the start: a matrix check on every port
 * where reachability differs, endpoint counts of Services that differ, and
 * the settings that were changed.
 */
export function suggestChecks(startYaml: string, answerYaml: string): SuggestedChecks {
  const a = loadTopology({ file: 'start.yaml', text: startYaml });
  const b = loadTopology({ file: 'answer.yaml', text: answerYaml });
  if (!a.topology || !b.topology) return { checks: [], summary: ['the start or the answer topology does not load'] };
  const ws = new LabWorld({ topology: a.topology, changes: [] });
  const wa = new LabWorld({ topology: b.topology, changes: [] });
  const checks: CheckSpec[] = [];
  const summary: string[] = [];
  const ports = defaultPorts(wa);
  const differing = ports.filter((p) => diffMatrices(observeMatrix(ws, [p]), observeMatrix(wa, [p])).wrong.length > 0);
  if (differing.length) {
    const n = diffMatrices(observeMatrix(ws, differing), observeMatrix(wa, differing)).wrong.length;
    checks.push({ type: 'matrix', id: 'reachability', title: 'reachability matches the answer', ports: differing.map(portText), weight: 2 });
    summary.push(`${n} connection(s) on ${differing.map(portText).join(', ')} differ between start and answer`);
  }
  for (const s of b.topology.services) {
    if (s.namespace === 'default' && s.name === 'kubernetes') continue;
    const id = `${s.namespace}/${s.name}`;
    if (!a.topology.services.some((x) => x.namespace === s.namespace && x.name === s.name)) continue;
    const ev = (w: LabWorld) => evaluate({ world: w }, parseProperty(`endpoints(${id})`)).value;
    const na = ev(wa);
    if (ev(ws) !== na) {
      checks.push({ type: 'property', id: `endpoints-${s.namespace}-${s.name}`.slice(0, 63).replace(/-+$/, ''), title: `${id} has its endpoints`, expr: `endpoints(${id}) == ${String(na)}` });
      summary.push(`${id}: ${String(ev(ws))} → ${String(na)} ready endpoints`);
    }
  }
  const keys = ['cni', 'cni.mtu', 'kubeProxy.mode', 'ndots', 'nodeLocalDNS', 'blockSize.v4', 'nodeCIDRMaskSize.v4', 'conntrackMax', 'dnsTTL'];
  for (const k of keys) {
    const e = (w: LabWorld) => evaluate({ world: w }, parseProperty(`setting(${k})`)).value;
    const va = e(wa);
    if (e(ws) !== va) {
      checks.push({ type: 'property', id: `setting-${k.replace(/\./g, '-').toLowerCase()}`, title: `${k} as required`, expr: `setting(${k}) == ${JSON.stringify(String(va))}` });
      summary.push(`${k}: ${String(e(ws))} → ${String(va)}`);
    }
  }
  if (checks.length) checks.push({ type: 'unchanged', id: 'nothing-else', title: 'nothing else changed', observe: ['endpoints', 'routes'], weight: 1 });
  return { checks, summary };
}
