// Submission files. A submission is a topology (YAML: a Topology file and/or
// manifests) and/or an answers document:
//
//   apiVersion: netlab.dev/v1alpha1
//   kind: LabSubmission
//   lab: vxlan-mtu              # which lab (optional when one lab is graded)
//   student: alice              # optional; class grading uses the file/folder name
//   seed: 1234                  # optional: the run's seed (random-fault labs)
//   topology: |                 # optional: the whole topology as YAML text
//     apiVersion: netlab.dev/v1alpha1
//     kind: Topology
//     …
//   commands:                   # optional: commands run on nodes / pods
//     node-1:
//       - ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0
//   tasks:                      # typed answers per task id
//     pod-mtu: 1450
//     outer-header: {src: 10.0.1.5, dst: 10.0.1.6, dport: 4789, vni: 4096}
//     fix-policy:               # or a topology / commands for one task
//       topology: |
//         …
//
// One file may hold LabSubmission documents for several labs; every other
// document of the file is taken as the topology.

import { z } from 'zod';
import { stringify } from 'yaml';
import { checkShape } from '../model/schemas';
import { DiagnosticSink, parseSources } from '../model/source';
import type { Diagnostic } from '../model/types';
import { LAB_API_VERSION, type Submission, type TaskAnswer } from './types';

const answer: z.ZodType = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()])), z.record(z.string(), answer)]));

export const SubmissionSchema = z.strictObject({
  apiVersion: z.literal(LAB_API_VERSION, { error: `must be ${LAB_API_VERSION}` }),
  kind: z.literal('LabSubmission'),
  lab: z.string().optional(),
  student: z.string().optional(),
  /** The run's seed (random-fault labs): the fault the student saw. */
  seed: z.number().int().nonnegative().optional(),
  topology: z.string().optional(),
  commands: z.record(z.string(), z.array(z.string())).optional(),
  tasks: z.record(z.string(), answer).optional(),
});

export interface ParsedSubmission {
  lab?: string;
  student?: string;
  seed?: number;
  submission: Submission;
}

export interface SubmissionFile {
  /** The path the file was read from (class grading maps `<lab>.yaml` / `<lab>/` to labs). */
  file: string;
  /** LabSubmission documents. */
  entries: ParsedSubmission[];
  /** The other documents, as one topology source (null when there are none). */
  topology: { file: string; text: string } | null;
  diagnostics: Diagnostic[];
}

/** Reads one submission file (YAML or JSON). */
export function parseSubmissionFile(text: string, file: string): SubmissionFile {
  const sink = new DiagnosticSink();
  const entries = parseSources([{ file, text }], sink.list);
  if (sink.errorCount) return { file, entries: [], topology: null, diagnostics: sink.list };
  const out: ParsedSubmission[] = [];
  const topoDocs: string[] = [];
  for (const e of entries) {
    if (e.doc.contents === null) continue;
    const js = e.doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown> | null;
    if (js && typeof js === 'object' && !Array.isArray(js) && js.kind === 'LabSubmission') {
      if (!checkShape(SubmissionSchema, js, sink, { entry: e, base: [] }, 'LabSubmission')) continue;
      const s = SubmissionSchema.parse(js);
      const sub: Submission = {};
      if (s.topology) sub.topology = [{ file: `${file} (topology)`, text: s.topology }];
      if (s.commands) sub.commands = s.commands;
      if (s.tasks) sub.answers = s.tasks as Record<string, TaskAnswer>;
      out.push({ lab: s.lab, student: s.student, seed: s.seed, submission: sub });
    } else {
      topoDocs.push(e.doc.toString());
    }
  }
  return { file, entries: out, topology: topoDocs.length ? { file, text: topoDocs.join('---\n') } : null, diagnostics: sink.list };
}

/** Merges parsed files into the submission for `labId` (one-lab grading also takes entries without a lab). */
export function submissionFor(files: SubmissionFile[], labId: string, single: boolean): { submission: Submission; seed?: number; student?: string } | null {
  const sub: Submission = {};
  let found = false;
  let seed: number | undefined;
  let student: string | undefined;
  for (const f of files) {
    for (const e of f.entries) {
      if (e.lab ? e.lab !== labId : !single) continue;
      found = true;
      seed = e.seed ?? seed;
      student = e.student ?? student;
      if (e.submission.topology) sub.topology = e.submission.topology;
      if (e.submission.commands) sub.commands = { ...(sub.commands ?? {}), ...e.submission.commands };
      if (e.submission.answers) sub.answers = { ...(sub.answers ?? {}), ...e.submission.answers };
    }
  }
  for (const f of files) {
    if (!f.topology) continue;
    const forThis = single || f.file.replace(/\\/g, '/').split('/').some((seg) => seg === labId || seg.replace(/\.(ya?ml|json)$/, '') === labId);
    if (!forThis) continue;
    found = true;
    sub.topology = [...(sub.topology ?? []).filter((s) => !s.file.endsWith('(topology)')), f.topology];
  }
  return found ? { submission: sub, seed, student } : null;
}

/** A Submission written back as a LabSubmission document (for exports and the `--answer` example). */
export function formatSubmission(sub: Submission, meta: { lab?: string; student?: string; seed?: number } = {}): string {
  const doc: Record<string, unknown> = { apiVersion: LAB_API_VERSION, kind: 'LabSubmission' };
  if (meta.lab) doc.lab = meta.lab;
  if (meta.student) doc.student = meta.student;
  if (meta.seed !== undefined) doc.seed = meta.seed;
  if (sub.topology?.length) doc.topology = sub.topology.map((s) => s.text).join('---\n');
  if (sub.commands && Object.keys(sub.commands).length) doc.commands = sub.commands;
  if (sub.answers && Object.keys(sub.answers).length) doc.tasks = sub.answers;
  return stringify(doc, { lineWidth: 0 });
}
