// Graded labs: the lab definition (what `labs/<id>/lab.yaml` holds once
// validated), submissions, check and task results, progress records, and
// the interfaces the host implements (progress storage, live command runner).
//
// Modelled on Packet Tracer's Activity Wizard (an answer network, assessment
// items with points, a percentage score) and on the step checks of
// Killercoda / iximiuz Labs (each task verified by one or more checks).

import type { Topology } from '../model/types';

export const LAB_API_VERSION = 'netlab.dev/v1alpha1';

export type LabLevel = 'beginner' | 'intermediate' | 'advanced';
export type TaskKind = 'build' | 'fix' | 'predict' | 'trace' | 'live';

/**
 * Where a topology comes from. Sources are concatenated in this order:
 * the starting sources (`from: start`), the sample, the files, the inline
 * text; documents named in `remove` are dropped from those; then the `add`
 * files and `addInline` are appended (so an answer can replace a document by
 * name) and the `set` overrides applied.
 */
export interface TopologySpec {
  /** A sample of resources/samples by id (e.g. `seed`, `three-tier`). */
  sample?: string;
  /** Files of the lab folder (a Topology file and/or manifests). */
  file?: string | string[];
  /** YAML text. */
  inline?: string;
  /** Answer only: start from the lab's starting topology (before faults). */
  from?: 'start';
  /** More manifest files of the lab folder, appended. */
  add?: string[];
  /** More manifests as YAML text, appended. */
  addInline?: string;
  /** Documents to drop: `Kind/namespace/name` or `Kind/name` (cluster-scoped). */
  remove?: string[];
  /** `--set key=value` overrides (cni=calico-vxlan, kubeProxy=ipvs, …). */
  set?: string[];
}

/** A fault to inject into the starting state (core/labs/faults.ts). */
export interface FaultSpec {
  type: string;
  /** Parameters of the fault type (node, pod, service, label, mtu…). */
  [key: string]: unknown;
}

export interface LabStartSpec extends TopologySpec {
  faults?: FaultSpec[];
  /** Inject `count` (default 1) faults picked from `pool` with the run's seed. */
  randomFault?: { pool: FaultSpec[]; count?: number };
}

export interface HintSpec {
  text: string;
  /** Points deducted from the task when the hint is revealed. */
  cost: number;
}

export type PredictFormat =
  | 'route'
  | 'routes'
  | 'conntrack'
  | 'dns-queries'
  | 'chains'
  | 'iptables-rule'
  | 'resolv-conf'
  | 'cidr'
  | 'ip'
  | 'number'
  | 'integer'
  | 'text'
  | 'choice'
  | 'list'
  | 'set';

/** Computes an expected value from the model (core/labs/probes.ts). */
export interface ProbeSpec {
  name: string;
  args?: Record<string, unknown>;
}

interface CheckBase {
  /** Stable id for results and feedback; defaults to `<type>-<index>`. */
  id?: string;
  /** Relative weight inside the task (default 1). */
  weight?: number;
  /** Feedback shown when the check fails, instead of the generated one. */
  feedback?: string;
  /** A short description shown with the result ("frontend reaches backend"). */
  title?: string;
}

/** A boolean property of the student's state (core/labs/property.ts). */
export interface PropertyCheck extends CheckBase {
  type: 'property';
  expr: string;
}

/** The student's reachability matrix must equal the answer's. */
export interface MatrixCheck extends CheckBase {
  type: 'matrix';
  /** `PORT/PROTO` list. */
  ports: string[];
  /** Pod selector (property-language syntax) limiting rows and columns; default every pod. */
  pods?: string;
  /** Extra destinations outside the cluster (IP addresses), for egress rules. */
  externals?: string[];
  /** The expected matrix in the upstream netpol truth-table layout, per port; default computed from the answer. */
  expected?: Record<string, string>;
}

export type Observable = 'matrix' | 'endpoints' | 'routes' | 'settings' | 'policies' | 'dns';

/** Nothing else broke: the observables equal the answer's. */
export interface UnchangedCheck extends CheckBase {
  type: 'unchanged';
  observe: Observable[];
  /** Ports the matrix observable covers (default: every container and service port). */
  ports?: string[];
  /** Settings keys allowed to differ (for `settings`). */
  allow?: string[];
}

/** The injected fault's symptoms are gone (random-fault and fault-driven labs). */
export interface FaultSymptomsCheck extends CheckBase {
  type: 'fault-symptoms';
}

export interface PredictCheck extends CheckBase {
  type: 'predict';
  format: PredictFormat;
  /** The expected value computed from the model (preferred)… */
  probe?: ProbeSpec;
  /** …or given literally (conceptual questions). */
  expected?: string | number | (string | number)[];
  /** When the task's answer is a mapping, the key this check reads. */
  answerKey?: string;
  /** Extra fields to ignore (conntrack `state`, `sport`; route `src`…). */
  ignore?: string[];
  /** Numbers: absolute tolerance (default 1e-9). */
  tolerance?: number;
  /** Choice: the options shown. */
  options?: string[];
  /** Which state the probe reads: the lab's answer (default) or its starting state. */
  on?: 'reference' | 'start';
}

/** The packet takes a path: ordered hop patterns matched against core/trace events. */
export interface PathCheck extends CheckBase {
  type: 'path';
  from: string;
  to: string;
  /** `PORT/PROTO`. */
  port: string;
  /** Which leg of the exchange (default request). */
  direction?: 'request' | 'response';
  /** Patterns that must appear in this order (glob `*`). */
  expect: string[];
  /** Patterns that must not appear. */
  forbid?: string[];
  /** Trace source: the student's state (default) or the model of the lab (for typed answers). */
  on?: 'student' | 'reference';
}

export interface LiveExpect {
  exitCode?: number;
  stdoutContains?: string[];
  stdoutMatches?: string;
  /** `ip route` output must contain these routes (tolerant of proto/metric). */
  routes?: string[];
  /** Routes computed from the model must be present (probe route-get). */
  routesFromProbe?: ProbeSpec;
}

export interface LiveCheck extends CheckBase {
  type: 'live';
  /** `node:NAME` or `pod:NAMESPACE/NAME`. */
  target: string;
  command: string[];
  expect: LiveExpect;
  timeoutMs?: number;
}

/** A TypeScript grader registered for the lab (labs/<id>/grader.ts). */
export interface GraderCheck extends CheckBase {
  type: 'grader';
  name: string;
  args?: Record<string, unknown>;
}

export type CheckSpec = PropertyCheck | MatrixCheck | UnchangedCheck | FaultSymptomsCheck | PredictCheck | PathCheck | LiveCheck | GraderCheck;
export type CheckType = CheckSpec['type'];

export interface TaskSpec {
  id: string;
  title: string;
  kind: TaskKind;
  /** Markdown. */
  prompt: string;
  points: number;
  hints: HintSpec[];
  checks: CheckSpec[];
  /** What the student submits for this task (shown by the UI). */
  answerFormat?: string;
  /** Where the seed document is wrong about what this task teaches. */
  seedNote?: string;
}

export interface LabAnswerSpec {
  topology?: TopologySpec;
  /** Commands the answer runs on nodes (`node-1: [ip route add …]`). */
  commands?: Record<string, string[]>;
  /** Typed answers per task (predict/trace tasks whose expected values are computed need none). */
  values?: Record<string, TaskAnswer>;
}

export interface LabDefinition {
  apiVersion: typeof LAB_API_VERSION;
  kind: 'Lab';
  id: string;
  title: string;
  summary: string;
  level: LabLevel;
  estimatedMinutes: number;
  objectives: string[];
  tags: string[];
  /** Corrections of the seed document this lab teaches. */
  seedNotes: string[];
  start: LabStartSpec;
  tasks: TaskSpec[];
  answer: LabAnswerSpec;
  /** Exam mode: feedback names what is wrong but never prints expected values. */
  exam: boolean;
}

/** A lab folder as text: `lab.yaml` plus any file it references, paths relative to the folder. */
export interface LabBundle {
  id: string;
  files: Record<string, string>;
}

/** Resolves sample ids to YAML text (resources/samples). */
export type SampleResolver = (id: string) => string | undefined;

// ---------------------------------------------------------------------------
// Kernel state outside the topology

/**
 * A change to a node's or pod's network namespace that the topology does not
 * describe: an injected fault (a deleted route, a lowered MTU) or a command
 * the student ran (`ip route add …`).
 */
export type NetChange =
  | { op: 'route-del'; target: string; dst: string; table?: 'main' }
  | {
      op: 'route-add';
      target: string;
      dst: string;
      gateway?: string;
      dev?: string;
      protocol?: string;
      scope?: 'global' | 'link' | 'host';
      metric?: number;
      onlink?: boolean;
      type?: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';
      /** `replace` semantics: drop routes to the same destination first. */
      replace?: boolean;
    }
  | { op: 'link-mtu'; target: string; dev: string; mtu: number }
  | { op: 'link-down'; target: string; dev: string };

/** What a lab is graded on: a topology plus kernel changes. */
export interface LabState {
  topology: Topology;
  changes: NetChange[];
  /** The faults injected into this state (starting states of fault labs), for probes such as fault-type. */
  faults?: AppliedFault[];
}

export interface AppliedFault {
  spec: FaultSpec;
  /** For the instructor and the final report; never shown to the student before the lab is done. */
  description: string;
  /** Property expressions that hold once the fault is repaired (checked on the student's state). */
  symptoms: string[];
}

// ---------------------------------------------------------------------------
// Submissions

/** A typed answer, a mapping of typed answers, or a topology / commands for the task. */
export type TaskAnswer = string | number | boolean | (string | number)[] | { [key: string]: TaskAnswer | undefined };

export interface Submission {
  /** The student's topology (YAML sources), for build / fix / trace tasks. */
  topology?: { file: string; text: string }[];
  /** Commands run on nodes or pods: `node-1` / `node:node-1` / `pod:ns/name` → command lines. */
  commands?: Record<string, string[]>;
  /** Per task: typed answers, or `{topology: YAML, commands: …}` overriding the shared ones. */
  answers?: Record<string, TaskAnswer>;
}

// ---------------------------------------------------------------------------
// Results

/** One field that differs between the student's answer and the model. */
export interface FieldDiff {
  field: string;
  got: string;
  /** Absent in exam mode. */
  expected?: string;
}

export interface CheckResult {
  id: string;
  type: CheckType;
  title?: string;
  weight: number;
  /** 0..1 (partial credit). */
  score: number;
  passed: boolean;
  /** What was wrong (or right), without giving the answer away. */
  message: string;
  diffs?: FieldDiff[];
  /** The check could not run (no live runner, no trace module…): not counted. */
  skipped?: boolean;
  /** An error in the submission that prevented grading (unparsable topology…). */
  error?: string;
}

export interface TaskResult {
  labId: string;
  taskId: string;
  kind: TaskKind;
  points: number;
  /** Before hint deductions, 0..points. */
  raw: number;
  /** After hint deductions, never below 0. */
  earned: number;
  /** earned / points, 0..1. */
  score: number;
  hintsUsed: number;
  hintCost: number;
  checks: CheckResult[];
  passed: boolean;
  /** Every check was skipped: the task is not counted. */
  skipped: boolean;
  feedback: string[];
}

export interface LabReport {
  labId: string;
  title: string;
  seed: number;
  tasks: TaskResult[];
  earned: number;
  /** Points of the tasks that were graded (skipped tasks left out). */
  possible: number;
  /** 0..100, rounded to one decimal. */
  percent: number;
  /** Shown once the lab is finished (the faults injected, seed notes). */
  debrief: string[];
}

// ---------------------------------------------------------------------------
// Progress (kept in the session database)

export interface LabProgress {
  labId: string;
  taskId: string;
  attempts: number;
  /** Best task score so far, 0..1 after hint deductions. */
  bestScore: number;
  hintsUsed: number;
  /** The last submission for the task, as JSON text (null before the first attempt). */
  lastSubmission: string | null;
  /** ISO time. */
  updatedAt: string;
}

/** A lab started in a session: its seed (random faults) and when it began. */
export interface LabRunRecord {
  labId: string;
  seed: number;
  startedAt: string;
}

/** Where progress lives; the Electron host implements it on the session's SQLite file. */
export interface ProgressStore {
  get(labId: string, taskId: string): Promise<LabProgress | undefined>;
  list(labId?: string): Promise<LabProgress[]>;
  put(p: LabProgress): Promise<void>;
  getRun(labId: string): Promise<LabRunRecord | undefined>;
  putRun(r: LabRunRecord): Promise<void>;
  /** Forget the lab's progress and run record. */
  reset(labId: string): Promise<void>;
}

// ---------------------------------------------------------------------------
// Live checks

export interface LiveResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command did not finish in time. */
  timedOut?: boolean;
}

/**
 * Runs a command inside a node's or pod's network namespace on the test-bed
 * or a remote node. `target` is `node:NAME` or `pod:NAMESPACE/NAME`.
 */
export interface LiveRunner {
  run(target: string, argv: string[], opts?: { timeoutMs?: number }): Promise<LiveResult>;
  /** Where commands run ("test-bed netlab-3f2a", "ssh root@10.0.1.5"). */
  describe(): string;
}

export class LabError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}
