import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadTopology, serializeTopology } from '../model';
import { FAULTS, injectFaults, injectRandomFaults, seededRng, symptomsBetween } from './faults';
import { checkProperty } from './property';
import type { LabState } from './types';
import { LabWorld } from './world';

const seedText = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const policies = readFileSync(new URL('../../labs/troubleshoot-random/policies.yaml', import.meta.url), 'utf8');

function healthy(set: string[] = ['cni=calico-vxlan']): LabState {
  const r = loadTopology([{ file: 'seed.yaml', text: seedText }, { file: 'policies.yaml', text: policies }], { set });
  return { topology: r.topology!, changes: [] };
}

describe('fault injectors', () => {
  it('the seeded random source is reproducible and spread out', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const buckets = [0, 0, 0, 0];
    for (const x of xs) buckets[Math.floor(x * 4)]++;
    for (const n of buckets) expect(n).toBeGreaterThan(180);
    expect(seededRng(43)()).not.toBe(seededRng(42)());
  });

  it.each([
    [{ type: 'delete-route', node: 'node-1', peer: 'node-3' }, /ip route del 10\.244\.3\.0\/26/, /^route\(node:node-1, 10\.244\.3\.9\) == reference$/],
    [{ type: 'link-mtu', node: 'node-2', mtu: 1400 }, /node:node-2: ip link set dev eth0 mtu 1400/, /^fits\(/],
    [{ type: 'pod-label', pod: 'default/backend-2', key: 'app', value: 'backnd' }, /backend-2: label app=backend changed to app=backnd/, /^endpoints\(default\/backend\) == 2$/],
    [{ type: 'service-selector', service: 'default/backend', key: 'app', value: 'bakend' }, /selector app=backend changed to app=bakend/, /^endpoints\(default\/backend\) == 2$/],
    [{ type: 'pod-not-ready', pod: 'default/backend-1' }, /Ready=False/, /^endpoints\(default\/backend\) == 2$/],
    [{ type: 'wrong-target-port', service: 'default/backend' }, /targetPort 8080 changed to 8081/, /^serves\(default\/backend\)$/],
    [{ type: 'wrong-mtu' }, /cni\.mtu set to 1500/, /^fits\(default\/pod-a, default\/backend-1, mtu\)$/],
    [{ type: 'drop-dns-egress', namespace: 'default' }, /DNS egress rules \(port 53\) were removed .*client-egress/, /^resolves\(default\/pod-a, kubernetes\.default\)$/],
  ])('%o', (spec, desc, symptom) => {
    const h = healthy();
    const r = injectFaults(h, [spec], 1);
    expect(r.faults[0].description).toMatch(desc);
    expect(r.faults[0].symptoms.some((s) => symptom.test(s)), r.faults[0].symptoms.join(' | ')).toBe(true);
    // Every symptom holds on the healthy state and fails on the faulted one.
    const hw = new LabWorld(h);
    const fw = new LabWorld(r.state);
    for (const s of r.faults[0].symptoms) {
      expect(checkProperty(s, { world: hw, reference: hw }).value, s).toBe(true);
      expect(checkProperty(s, { world: fw, reference: hw }).value, s).toBe(false);
    }
    // The healthy state is not modified.
    expect(serializeTopology(h.topology)).toBe(serializeTopology(healthy().topology));
  });

  it('a fault without a visible effect is refused', () => {
    expect(() => injectFaults(healthy(['cni=calico-bgp']), [{ type: 'wrong-mtu' }], 1)).toThrow(/has no visible effect/);
    expect(() => injectFaults(healthy(), [{ type: 'unplug' }], 1)).toThrow(/unknown fault type "unplug"/);
  });

  it('kernel faults come with the commands that repair them', () => {
    const r = injectFaults(healthy(), [{ type: 'delete-route', node: 'node-2', peer: 'node-1' }], 1);
    expect(r.repair).toEqual({ 'node-2': ['ip route add 10.244.1.0/26 via 10.244.1.0 dev vxlan.calico onlink'] });
  });

  it('random faults are reproducible per seed, skip faults that do not apply, and cover the pool', () => {
    const pool = Object.keys(FAULTS).map((type) => ({ type }));
    const h = healthy(['cni=calico-bgp']);
    const seen = new Set<string>();
    for (let seed = 1; seed <= 60; seed++) {
      const a = injectRandomFaults(h, pool, 1, seed);
      const b = injectRandomFaults(h, pool, 1, seed);
      expect(b.faults.map((f) => f.description)).toEqual(a.faults.map((f) => f.description));
      expect(a.picked[0].type).not.toBe('wrong-mtu'); // no tunnel in BGP mode: never picked
      seen.add(a.picked[0].type);
    }
    expect(seen.size).toBe(pool.length - 1);
    const two = injectRandomFaults(h, pool, 2, 9);
    expect(two.faults).toHaveLength(2);
    expect(new Set(two.picked.map((p) => p.type)).size).toBe(2);
  });

  it('symptomsBetween finds route, endpoint and reachability differences', () => {
    const h = new LabWorld(healthy());
    expect(symptomsBetween(h, h)).toEqual([]);
  });
});
