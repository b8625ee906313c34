import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../../core/model';
import { elementYaml, policyTemplate } from '../../../renderer/src/lib/topology-edit';
import { validateSnippet, validateWhole } from '../../../renderer/src/lib/yaml-validate';

const seed = readFileSync(join(__dirname, '../../../resources/samples/seed.yaml'), 'utf8');
const base = loadTopology({ file: 'seed.yaml', text: seed }).diagnostics;
const svc = { kind: 'service' as const, namespace: 'default', name: 'backend' };

describe('as-you-type validation of an element', () => {
  it('accepts the element as it is, with the composed topology', () => {
    const v = validateSnippet('seed.yaml', seed, svc, elementYaml(seed, svc)!, base);
    expect(v.errorCount).toBe(0);
    expect(v.markers).toEqual([]);
    expect(v.composed).toBe(seed);
    expect(v.defines).toEqual(svc);
  });

  it('puts a YAML syntax error on its line and column in the snippet', () => {
    const v = validateSnippet('seed.yaml', seed, svc, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: backend\nspec:\n  ports: [\n', base);
    expect(v.composed).toBeNull();
    expect(v.markers[0]).toMatchObject({ severity: 'error', code: 'yaml-syntax' });
    expect(v.markers[0].line).toBeGreaterThanOrEqual(6);
  });

  it("maps the loader's diagnostics to the snippet's lines", () => {
    const bad = elementYaml(seed, svc)!.replace('targetPort: 8080', 'targetPort: -3');
    const v = validateSnippet('seed.yaml', seed, svc, bad, base);
    expect(v.errorCount).toBeGreaterThan(0);
    const m = v.markers.find((x) => x.line !== null && x.severity === 'error')!;
    expect(bad.split('\n')[m.line! - 1]).toContain('targetPort: -3');
    expect(v.composed).not.toBeNull();
  });

  it('reports what an edit breaks elsewhere, without blaming it for old problems', () => {
    // Renaming backend-2 to backend-1 collides with the other pod.
    const ref = { kind: 'pod' as const, namespace: 'default', name: 'backend-2' };
    const v = validateSnippet('seed.yaml', seed, ref, elementYaml(seed, ref)!.replace('name: backend-2', 'name: backend-1'), base);
    const dup = v.markers.find((m) => m.code === 'duplicate-name');
    expect(dup).toBeDefined();
    // Warnings the seed already had (none outside) are not repeated.
    expect(v.markers.filter((m) => m.line === null && base.some((b) => b.message === m.message))).toEqual([]);
  });

  it('refuses a changed kind, and a snippet that is not an object', () => {
    expect(validateSnippet('seed.yaml', seed, svc, 'apiVersion: v1\nkind: Pod\nmetadata: {name: backend}\n', base).markers[0].code).toBe('kind-changed');
    expect(validateSnippet('seed.yaml', seed, svc, '- a\n- b\n', base).markers[0].code).toBe('not-an-element');
  });

  it('validates a new element appended to the topology, with lines of the snippet', () => {
    const ok = validateSnippet('seed.yaml', seed, null, policyTemplate('default', 'deny-backend', { app: 'backend' }), base);
    expect(ok.errorCount).toBe(0);
    expect(ok.defines).toEqual({ kind: 'policy', namespace: 'default', name: 'deny-backend' });
    expect(loadTopology({ file: 'seed.yaml', text: ok.composed! }).topology!.networkPolicies).toHaveLength(1);
    const snippet = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\nspec:\n  podSelector: {}\n  policyTypes: [Sideways]\n';
    const bad = validateSnippet('seed.yaml', seed, null, snippet, base);
    expect(bad.errorCount).toBeGreaterThan(0);
    const m = bad.markers.find((x) => x.line !== null)!;
    expect(m.line).toBeGreaterThanOrEqual(6);
    expect(m.line).toBeLessThanOrEqual(7);
  });

  it('validates the whole file with the loader positions', () => {
    const v = validateWhole('seed.yaml', seed.replace('clusterIP: 10.96.5.20', 'clusterIP: 10.300.5.20'));
    const m = v.markers.find((x) => x.severity === 'error')!;
    expect(m.line).not.toBeNull();
    expect(seed.split('\n')[m.line! - 1]).toContain('clusterIP: 10.96.5.20');
  });
});
