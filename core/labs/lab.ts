// Loading a lab folder (lab.yaml + referenced files) into a LoadedLab, and
// instantiating it for a seed: the healthy starting state, the injected
// faults, the faulted starting state the student gets, the reference
// (answer) state, and the answer as a submission (what `--answer` grades).

import type { Diagnostic, SourceText } from '../model';
import { serializeTopology } from '../model';
import { assembleTopology, specSources } from './assemble';
import { injectFaults, injectRandomFaults } from './faults';
import { parseCommands } from './netchange';
import { runProbe } from './probes';
import { parseLabYaml } from './schema';
import { LabError, type AppliedFault, type LabBundle, type LabDefinition, type LabState, type SampleResolver, type Submission, type TaskAnswer } from './types';
import { LabWorld } from './world';

export interface LabInstance {
  lab: LoadedLab;
  seed: number;
  /** The state the student starts from (faults injected). */
  start: LabState;
  /** The starting topology as YAML (what the student edits). */
  startYaml: string;
  faults: AppliedFault[];
  /** The answer state checks compare against (the healthy start for fix labs). */
  reference: LabState;
  /** The lab's own answer as a submission. */
  answer: Submission;
  world(which: 'start' | 'reference'): LabWorld;
}

export interface LoadedLab {
  def: LabDefinition;
  bundle: LabBundle;
  /** Warnings (errors prevent loading). */
  diagnostics: Diagnostic[];
  /** The starting state before faults. */
  healthy: LabState;
  healthySources: SourceText[];
  healthySet: string[];
  instance(seed?: number): LabInstance;
}

export interface LoadLabOptions {
  /** Names of the TypeScript graders registered for this lab (for validation). */
  graders?: string[];
}

export const DEFAULT_SEED = 1;

/** Loads and validates a lab folder. `lab` is null when there are errors. */
export function loadLab(bundle: LabBundle, samples: SampleResolver, opts: LoadLabOptions = {}): { lab: LoadedLab | null; diagnostics: Diagnostic[] } {
  const file = `${bundle.id}/lab.yaml`;
  const text = bundle.files['lab.yaml'];
  if (text === undefined) return { lab: null, diagnostics: [{ severity: 'error', code: 'lab-missing-file', message: `${bundle.id}: no lab.yaml`, file: bundle.id, hint: 'a lab folder holds lab.yaml and the files it references' }] };
  const parsed = parseLabYaml(text, file, { knownGraders: opts.graders });
  const diagnostics = [...parsed.diagnostics];
  const def = parsed.def;
  if (!def) return { lab: null, diagnostics };
  if (def.id !== bundle.id) diagnostics.push({ severity: 'warning', code: 'lab-id-folder', message: `lab id "${def.id}" differs from its folder "${bundle.id}"`, file, hint: 'name the folder after the lab id' });
  const ctx = { bundle, samples, where: 'start' };
  const src = specSources(def.start, ctx);
  const start = assembleTopology(def.start, ctx);
  diagnostics.push(...start.diagnostics);
  if (!start.topology || start.diagnostics.some((d) => d.severity === 'error')) return { lab: null, diagnostics };
  const healthy: LabState = { topology: start.topology, changes: [] };
  let answerTopology = healthy.topology;
  if (def.answer.topology) {
    const a = assembleTopology(def.answer.topology, { bundle, samples, where: 'answer.topology', startSources: src.sources, startSet: src.set });
    diagnostics.push(...a.diagnostics);
    if (!a.topology || a.diagnostics.some((d) => d.severity === 'error')) return { lab: null, diagnostics };
    answerTopology = a.topology;
  }
  let answerChanges: LabState['changes'] = [];
  try {
    answerChanges = parseCommands(def.answer.commands ?? {});
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    diagnostics.push({ severity: 'error', code: 'lab-answer-command', message: `answer.commands: ${e.message}`, file, hint: e.hint });
    return { lab: null, diagnostics };
  }
  const instances = new Map<number, LabInstance>();
  const lab: LoadedLab = {
    def,
    bundle,
    diagnostics,
    healthy,
    healthySources: src.sources,
    healthySet: src.set,
    instance(seed = DEFAULT_SEED) {
      const hit = instances.get(seed);
      if (hit) return hit;
      const inst = instantiate(lab, seed, answerTopology, answerChanges);
      // Random-fault labs get a new seed per run: keep the last few instances only.
      if (instances.size >= 16) instances.delete(instances.keys().next().value as number);
      instances.set(seed, inst);
      return inst;
    },
  };
  // Instantiate once now so that fault and answer errors surface as diagnostics.
  try {
    lab.instance(DEFAULT_SEED);
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    diagnostics.push({ severity: 'error', code: 'lab-instance', message: e.message, file, hint: e.hint });
    return { lab: null, diagnostics };
  }
  return { lab, diagnostics };
}

function instantiate(lab: LoadedLab, seed: number, answerTopology: LabState['topology'], answerChanges: LabState['changes']): LabInstance {
  const def = lab.def;
  let start: LabState = lab.healthy;
  let faults: AppliedFault[] = [];
  let repair: Record<string, string[]> = {};
  if (def.start.faults?.length) {
    const r = injectFaults(lab.healthy, def.start.faults, seed);
    start = r.state;
    faults = r.faults;
    repair = r.repair;
  }
  if (def.start.randomFault) {
    const r = injectRandomFaults(start, def.start.randomFault.pool, def.start.randomFault.count ?? 1, seed);
    start = r.state;
    faults = [...faults, ...r.faults];
    for (const [k, v] of Object.entries(r.repair)) (repair[k] ??= []).push(...v);
  }
  if (faults.length) start = { ...start, faults };
  const commands = def.answer.commands ?? repair;
  const reference: LabState = def.answer.commands ? { topology: answerTopology, changes: [...start.changes, ...answerChanges] } : { topology: answerTopology, changes: [] };
  const worlds = new Map<string, LabWorld>();
  const inst: LabInstance = {
    lab,
    seed,
    start,
    startYaml: start === lab.healthy && lab.healthySources.length === 1 && lab.healthySet.length === 0 ? lab.healthySources[0].text : serializeTopology(start.topology),
    faults,
    reference,
    answer: { topology: [{ file: `${def.id}/answer.yaml`, text: serializeTopology(reference.topology) }], commands, answers: {} },
    world(which) {
      let w = worlds.get(which);
      if (!w) worlds.set(which, (w = new LabWorld(which === 'start' ? start : reference)));
      return w;
    },
  };
  // Typed answers: given in lab.yaml, else computed from the model with the checks' probes.
  const answers: Record<string, TaskAnswer> = {};
  for (const t of def.tasks) {
    if (def.answer.values?.[t.id] !== undefined) {
      answers[t.id] = def.answer.values[t.id];
      continue;
    }
    const predicts = t.checks.filter((c) => c.type === 'predict');
    if (!predicts.length) continue;
    const map: Record<string, TaskAnswer> = {};
    let single: TaskAnswer | undefined;
    for (const c of predicts) {
      if (c.type !== 'predict') continue;
      let v: TaskAnswer;
      if (c.expected !== undefined) v = c.expected;
      else if (c.probe) v = runProbe(inst.world(c.on === 'start' ? 'start' : 'reference'), c.probe.name, c.probe.args ?? {});
      else continue;
      if (c.answerKey) map[c.answerKey] = v;
      else single = v;
    }
    answers[t.id] = Object.keys(map).length ? map : (single as TaskAnswer);
  }
  inst.answer.answers = answers;
  return inst;
}
