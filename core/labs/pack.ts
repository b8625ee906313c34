// Lab packs: ONE file (YAML or JSON) bundling one or more labs with the
// sample topologies they reference, so an instructor can hand out a course
// offline. TypeScript graders are not carried (a pack holds data, never
// code): a lab whose checks name a grader imports only where that grader is
// registered (the built-in labs).
//
//   apiVersion: netlab.dev/v1alpha1
//   kind: LabPack
//   formatVersion: 1
//   metadata: {name: k8s-net-week-3, author: …, createdAt: …, description: …}
//   labs:
//     - id: default-deny-dns
//       files: {lab.yaml: "…", start.yaml: "…"}
//       graders: []           # names of TypeScript graders the lab needs
//   samples: {seed: "…"}      # every sample the labs reference

import { z } from 'zod';
import { parse as parseYaml, stringify } from 'yaml';
import { checkShape } from '../model/schemas';
import { DiagnosticSink, parseSources } from '../model/source';
import type { Diagnostic } from '../model/types';
import { loadLab, type LoadedLab } from './lab';
import { LAB_API_VERSION, type LabBundle, type SampleResolver } from './types';

export const PACK_FORMAT_VERSION = 1;

const ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const PackSchema = z.strictObject({
  apiVersion: z.literal(LAB_API_VERSION, { error: `must be ${LAB_API_VERSION}` }),
  kind: z.literal('LabPack', { error: 'must be LabPack' }),
  formatVersion: z.number().int().positive(),
  metadata: z.strictObject({ name: z.string().min(1), author: z.string().optional(), createdAt: z.string().optional(), description: z.string().optional() }),
  labs: z
    .array(
      z.strictObject({
        id: z.string().regex(ID, { error: 'must be lowercase letters, digits and "-"' }),
        files: z.record(z.string(), z.string()).refine((f) => 'lab.yaml' in f, { error: 'must contain lab.yaml' }),
        graders: z.array(z.string()).optional(),
      }),
    )
    .min(1, { error: 'must hold at least one lab' }),
  samples: z.record(z.string(), z.string()).optional(),
});

export interface PackMeta {
  name: string;
  author?: string;
  createdAt?: string;
  description?: string;
}

function referencedSamples(bundle: LabBundle): string[] {
  const out = new Set<string>();
  try {
    const d = parseYaml(bundle.files['lab.yaml'] ?? '') as { start?: { sample?: string }; answer?: { topology?: { sample?: string } } } | null;
    if (d?.start?.sample) out.add(d.start.sample);
    if (d?.answer?.topology?.sample) out.add(d.answer.topology.sample);
  } catch {
    /* validated on import */
  }
  return [...out];
}

function gradersOf(bundle: LabBundle): string[] {
  const names = new Set<string>();
  try {
    const d = parseYaml(bundle.files['lab.yaml'] ?? '') as { tasks?: { checks?: { type?: string; name?: string }[] }[] } | null;
    for (const t of d?.tasks ?? []) for (const c of t.checks ?? []) if (c.type === 'grader' && c.name) names.add(c.name);
  } catch {
    /* validated on import */
  }
  return [...names];
}

/**
 * One pack file for `bundles` (files other than TypeScript graders), with
 * every referenced sample embedded.
 */
export function exportPack(bundles: LabBundle[], samples: SampleResolver, meta: PackMeta, format: 'yaml' | 'json' = 'yaml'): string {
  const sampleTexts: Record<string, string> = {};
  for (const b of bundles) {
    for (const s of referencedSamples(b)) {
      const t = samples(s);
      if (t !== undefined) sampleTexts[s] = t;
    }
  }
  const doc = {
    apiVersion: LAB_API_VERSION,
    kind: 'LabPack',
    formatVersion: PACK_FORMAT_VERSION,
    metadata: { ...meta },
    labs: bundles.map((b) => ({
      id: b.id,
      files: Object.fromEntries(Object.entries(b.files).filter(([name]) => !name.endsWith('.ts')).sort(([a], [b2]) => (a === 'lab.yaml' ? -1 : b2 === 'lab.yaml' ? 1 : a.localeCompare(b2)))),
      graders: gradersOf(b),
    })),
    samples: sampleTexts,
  };
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, blockQuote: 'literal' });
}

export interface ImportedPack {
  meta: PackMeta | null;
  bundles: LabBundle[];
  samples: Record<string, string>;
  /** Labs that loaded (validated). */
  labs: LoadedLab[];
  diagnostics: Diagnostic[];
}

/**
 * Reads and validates a pack: its shape (file:line:col), its format version,
 * and every lab in it (loaded with the pack's samples, then the app's).
 * `graders(labId)` names the graders the app has for a lab.
 */
export function importPack(text: string, file: string, appSamples: SampleResolver, graders: (labId: string) => string[] = () => []): ImportedPack {
  const sink = new DiagnosticSink();
  const entries = parseSources([{ file, text }], sink.list);
  const empty: ImportedPack = { meta: null, bundles: [], samples: {}, labs: [], diagnostics: sink.list };
  if (sink.errorCount) return empty;
  const docs = entries.filter((e) => e.doc.contents !== null);
  if (docs.length !== 1) {
    sink.list.push({ severity: 'error', code: 'pack-documents', message: `a lab pack is one document; ${file} holds ${docs.length}`, file, hint: 'export the pack again with netlab lab pack' });
    return empty;
  }
  const obj = docs[0].doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  const ref = { entry: docs[0], base: [] };
  if (obj && typeof obj === 'object' && typeof obj.formatVersion === 'number' && obj.formatVersion > PACK_FORMAT_VERSION) {
    sink.error('pack-too-new', `this pack has format version ${obj.formatVersion}; this netlab reads version ${PACK_FORMAT_VERSION}`, ref, ['formatVersion'], 'update netlab, or export the pack again from the version that made it');
    return empty;
  }
  if (!checkShape(PackSchema, obj, sink, ref, 'pack')) return empty;
  const p = PackSchema.parse(obj);
  const samples = p.samples ?? {};
  const resolver: SampleResolver = (id) => samples[id] ?? appSamples(id);
  const bundles: LabBundle[] = [];
  const labs: LoadedLab[] = [];
  const seen = new Set<string>();
  p.labs.forEach((l, i) => {
    if (seen.has(l.id)) {
      sink.error('pack-duplicate-lab', `lab ${l.id} is in the pack twice`, ref, ['labs', i, 'id']);
      return;
    }
    seen.add(l.id);
    const bundle: LabBundle = { id: l.id, files: l.files };
    bundles.push(bundle);
    const known = graders(l.id);
    const missing = (l.graders ?? []).filter((g) => !known.includes(g));
    if (missing.length) {
      sink.error('pack-missing-grader', `lab ${l.id} needs the TypeScript grader${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this app does not have`, ref, ['labs', i, 'graders'], 'packs carry no code: such labs import only where the grader is built in');
      return;
    }
    const r = loadLab(bundle, resolver, { graders: known });
    for (const d of r.diagnostics) sink.list.push({ ...d, message: `pack lab ${l.id}: ${d.message}` });
    if (r.lab) labs.push(r.lab);
  });
  return { meta: p.metadata, bundles, samples, labs, diagnostics: sink.list };
}
