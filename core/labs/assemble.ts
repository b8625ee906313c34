// Building a lab's topologies from their specs: a sample, files of the lab
// folder, inline YAML, added manifests, removed documents and --set
// overrides, loaded as one topology with core/model's loader.

import { isMap, parseAllDocuments } from 'yaml';
import { loadTopology, serializeTopology, type Diagnostic, type SourceText, type Topology } from '../model';
import type { LabBundle, SampleResolver, TopologySpec } from './types';

export interface AssembleResult {
  topology: Topology | null;
  sources: SourceText[];
  diagnostics: Diagnostic[];
}

function docId(d: Record<string, unknown>): string[] {
  const kind = String(d.kind ?? '');
  const md = (d.metadata ?? {}) as Record<string, unknown>;
  const name = String(md.name ?? '');
  const ns = md.namespace === undefined ? undefined : String(md.namespace);
  return ns === undefined ? [`${kind}/${name}`, `${kind}/default/${name}`] : [`${kind}/${ns}/${name}`];
}

/** Drops documents named `Kind/ns/name` (or `Kind/name`) from a source; returns the new text and what was found. */
export function removeDocuments(src: SourceText, remove: readonly string[]): { source: SourceText; removed: Set<string> } {
  if (!remove.length) return { source: src, removed: new Set() };
  const docs = parseAllDocuments(src.text);
  if (!Array.isArray(docs)) return { source: src, removed: new Set() };
  const kept: string[] = [];
  const removed = new Set<string>();
  for (const d of docs) {
    if (d.errors.length) return { source: src, removed };
    const js = d.toJS() as unknown;
    if (js && typeof js === 'object' && !Array.isArray(js) && isMap(d.contents)) {
      const o = js as Record<string, unknown>;
      if (o.kind === 'Topology' && Array.isArray(o.manifests)) {
        const list = o.manifests as unknown[];
        const before = list.length;
        o.manifests = list.filter((m) => {
          const ids = m && typeof m === 'object' ? docId(m as Record<string, unknown>) : [];
          const hit = remove.find((r) => ids.includes(r));
          if (hit) removed.add(hit);
          return !hit;
        });
        if ((o.manifests as unknown[]).length !== before) {
          d.contents = d.createNode(o) as typeof d.contents;
        }
      } else {
        const hit = remove.find((r) => docId(o).includes(r));
        if (hit) {
          removed.add(hit);
          continue;
        }
      }
    }
    const t = d.toString();
    if (t.trim()) kept.push(t);
  }
  return { source: { file: src.file, text: kept.join('---\n') }, removed };
}

export interface AssembleContext {
  bundle: LabBundle;
  samples: SampleResolver;
  /** Where the spec sits in lab.yaml (for messages), e.g. `labs/x/lab.yaml: start`. */
  where: string;
  /** For `from: start`: the starting sources. */
  startSources?: SourceText[];
  startSet?: string[];
}

function missing(code: string, message: string, file: string, hint: string): Diagnostic {
  return { severity: 'error', code, message, file, hint };
}

/** The sources a spec names, before loading. */
export function specSources(spec: TopologySpec, ctx: AssembleContext): { sources: SourceText[]; set: string[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const sources: SourceText[] = [];
  const set: string[] = [];
  const labFile = (name: string): SourceText | null => {
    const text = ctx.bundle.files[name];
    if (text === undefined) {
      diagnostics.push(missing('lab-missing-file', `${ctx.where}: the lab folder has no file "${name}"`, `${ctx.bundle.id}/lab.yaml`, `files in the lab folder: ${Object.keys(ctx.bundle.files).join(', ')}`));
      return null;
    }
    return { file: `${ctx.bundle.id}/${name}`, text };
  };
  if (spec.from === 'start') {
    sources.push(...(ctx.startSources ?? []));
    set.push(...(ctx.startSet ?? []));
  }
  if (spec.sample) {
    const text = ctx.samples(spec.sample);
    if (text === undefined) diagnostics.push(missing('lab-unknown-sample', `${ctx.where}: no sample "${spec.sample}"`, `${ctx.bundle.id}/lab.yaml`, 'samples live in resources/samples (seed, three-tier, dual-stack)'));
    else sources.push({ file: `samples/${spec.sample}.yaml`, text });
  }
  for (const f of typeof spec.file === 'string' ? [spec.file] : (spec.file ?? [])) {
    const s = labFile(f);
    if (s) sources.push(s);
  }
  if (spec.inline) sources.push({ file: `${ctx.bundle.id}/lab.yaml (${ctx.where}.inline)`, text: spec.inline });
  set.push(...(spec.set ?? []));
  if (spec.remove?.length) {
    const found = new Set<string>();
    for (let i = 0; i < sources.length; i++) {
      const r = removeDocuments(sources[i], spec.remove);
      sources[i] = r.source;
      for (const x of r.removed) found.add(x);
    }
    for (const r of spec.remove) if (!found.has(r)) diagnostics.push(missing('lab-remove-not-found', `${ctx.where}: remove "${r}" names no document`, `${ctx.bundle.id}/lab.yaml`, 'write Kind/namespace/name, e.g. NetworkPolicy/production/frontend-policy'));
  }
  // Added manifests come after the removal, so an answer can replace a document by name.
  for (const f of spec.add ?? []) {
    const s = labFile(f);
    if (s) sources.push(s);
  }
  if (spec.addInline) sources.push({ file: `${ctx.bundle.id}/lab.yaml (${ctx.where}.addInline)`, text: spec.addInline });
  if (sources.length === 0) diagnostics.push(missing('lab-empty-topology', `${ctx.where}: names no topology`, `${ctx.bundle.id}/lab.yaml`, 'give sample:, file:, inline: or from: start'));
  return { sources, set, diagnostics };
}

/** Loads the topology a spec names. */
export function assembleTopology(spec: TopologySpec, ctx: AssembleContext): AssembleResult {
  const s = specSources(spec, ctx);
  if (s.diagnostics.some((d) => d.severity === 'error')) return { topology: null, sources: s.sources, diagnostics: s.diagnostics };
  const r = loadTopology(s.sources, { set: s.set });
  return { topology: r.topology, sources: s.sources, diagnostics: [...s.diagnostics, ...r.diagnostics] };
}

/** A fresh copy of a topology (serialised and loaded again, so derived data is rebuilt). */
export function reloadTopology(t: Topology, file = 'topology.yaml'): { topology: Topology | null; diagnostics: Diagnostic[]; text: string } {
  const text = serializeTopology(t);
  const r = loadTopology({ file, text });
  return { topology: r.topology, diagnostics: r.diagnostics, text };
}
