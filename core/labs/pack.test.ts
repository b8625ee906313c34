import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readLabBundle, sampleResolver, LABS_DIR } from '../../electron/host/labs/library';
import { graderNames } from '../../labs/graders';
import { gradeLab } from './grade';
import { exportPack, importPack, PACK_FORMAT_VERSION } from './pack';

const samples = sampleResolver();
const ids = ['default-deny-dns', 'calico-bgp-routes', 'troubleshoot-random'];
const bundles = ids.map((id) => readLabBundle(`${LABS_DIR}/${id}`));
const noSamples = () => undefined;

describe('lab packs', () => {
  it.each(['yaml', 'json'] as const)('round-trips through one %s file, samples embedded, labs graded the same', async (format) => {
    const text = exportPack(bundles, samples, { name: 'week-3', author: 'instructor', createdAt: '2025-01-01T00:00:00Z' }, format);
    const doc = (format === 'json' ? JSON.parse(text) : parseYaml(text)) as { formatVersion: number; samples: Record<string, string>; labs: { id: string; files: Record<string, string> }[] };
    expect(doc.formatVersion).toBe(PACK_FORMAT_VERSION);
    expect(Object.keys(doc.samples)).toEqual(['seed']);
    const p = importPack(text, `week-3.${format}`, noSamples, graderNames);
    expect(p.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(p.meta).toEqual({ name: 'week-3', author: 'instructor', createdAt: '2025-01-01T00:00:00Z' });
    expect(p.bundles).toEqual(bundles.map((b) => ({ id: b.id, files: Object.fromEntries(Object.entries(b.files).filter(([n]) => !n.endsWith('.ts'))) })));
    expect(p.labs.map((l) => l.def.id)).toEqual(ids);
    for (const l of p.labs) {
      const r = await gradeLab(l.instance(3), l.instance(3).answer);
      expect(r.percent, l.def.id).toBe(100);
    }
    // The random fault is the same in and out of the pack.
    const direct = (await import('./lab')).loadLab(bundles[2], samples).lab!.instance(5);
    expect(p.labs[2].instance(5).faults.map((f) => f.description)).toEqual(direct.faults.map((f) => f.description));
  });

  it('rejects a pack from a newer netlab, a broken lab inside with its position, and labs whose grader is missing', () => {
    const text = exportPack(bundles.slice(0, 1), samples, { name: 'x' });
    const newer = importPack(text.replace(`formatVersion: ${PACK_FORMAT_VERSION}`, 'formatVersion: 99'), 'x.yaml', noSamples);
    expect(newer.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual(['3:16 pack-too-new']);
    const broken = importPack(text.replace('kind: fix', 'kind: quiz'), 'x.yaml', noSamples);
    const d = broken.diagnostics.find((x) => x.severity === 'error')!;
    expect(d.message).toMatch(/^pack lab default-deny-dns: lab: tasks\[2\]\.kind/);
    expect(d.file).toBe('default-deny-dns/lab.yaml');
    expect(d.line).toBeGreaterThan(50);
    const withGrader = exportPack([readLabBundle(`${LABS_DIR}/conntrack-full`)], samples, { name: 'g' });
    expect(parseYaml(withGrader).labs[0].graders).toEqual(['steadyState', 'kernelMessage', 'noDrops']);
    expect(parseYaml(withGrader).labs[0].files['grader.ts']).toBeUndefined();
    const missing = importPack(withGrader, 'g.yaml', noSamples, () => []);
    expect(missing.diagnostics.map((x) => x.code)).toEqual(['pack-missing-grader']);
    expect(importPack(withGrader, 'g.yaml', noSamples, graderNames).labs.map((l) => l.def.id)).toEqual(['conntrack-full']);
  });

  it('validates the pack shape with positions', () => {
    const r = importPack('apiVersion: netlab.dev/v1alpha1\nkind: LabPack\nformatVersion: 1\nmetadata: {name: x}\nlabs:\n  - id: Bad_Id\n    files: {}\n', 'p.yaml', noSamples);
    expect(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual(['6:9 invalid-value', '7:12 invalid-value']);
    expect(importPack('a: 1\n---\nb: 2\n', 'p.yaml', noSamples).diagnostics[0].code).toBe('pack-documents');
  });
});
