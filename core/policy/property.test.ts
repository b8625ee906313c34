import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelSelector, NetworkPolicyModel, NetworkPolicyPeer, NetworkPolicyPort, Protocol } from '../model/types';
import { buildCalicoDataplane } from './calico';
import { buildCiliumDataplane } from './cilium';
import { compilePolicies } from './compiled';
import { bitGet } from './compiled';
import { naiveAllowed } from './naive';
import { buildContext, podKey } from './semantics';
import { mkTopology, type PodSpec } from './testkit';

// Random clusters, random policies, random queries: the naive evaluator, the
// compiled evaluator (single verdicts and the matrix), the Calico iptables
// walk and the Cilium policy map must agree. Calico follows the reference
// reading (ipBlock matches cluster addresses), Cilium does not; each data
// plane is compared with the semantic evaluator in its mode.

const NS = ['a', 'b', 'c'];
const arbLabels = (keys: Record<string, string[]>): fc.Arbitrary<Record<string, string>> =>
  fc.record(Object.fromEntries(Object.entries(keys).map(([k, vs]) => [k, fc.constantFrom(...vs)])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;

const podLabelKeys = { app: ['web', 'api', 'db'], tier: ['1', '2'] };
const nsLabelKeys = { team: ['x', 'y'], env: ['prod', 'dev'] };

const arbSelector = (keys: Record<string, string[]>): fc.Arbitrary<LabelSelector> =>
  fc.record(
    {
      matchLabels: arbLabels(keys),
      matchExpressions: fc.array(
        fc.record({
          key: fc.constantFrom(...Object.keys(keys)),
          operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const, 'DoesNotExist' as const),
          values: fc.subarray(Object.values(keys).flat(), { minLength: 1, maxLength: 2 }),
        }),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: [] },
  ).map((s) => {
    const out: LabelSelector = {};
    if (s.matchLabels && Object.keys(s.matchLabels).length) out.matchLabels = s.matchLabels;
    if (s.matchExpressions && s.matchExpressions.length)
      out.matchExpressions = s.matchExpressions.map((e) => (e.operator === 'Exists' || e.operator === 'DoesNotExist' ? { key: e.key, operator: e.operator } : e));
    return out;
  });

const CIDRS: [string, string[]][] = [
  ['10.244.0.0/16', ['10.244.2.0/24']],
  ['10.244.1.0/24', ['10.244.1.2/32', '10.244.1.128/25']],
  ['10.0.1.0/24', ['10.0.1.6/32']],
  ['0.0.0.0/0', ['10.0.0.0/8', '192.168.1.0/24']],
  ['192.168.0.0/16', ['192.168.1.0/24']],
  ['10.244.2.3/32', []],
];

const arbPeer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  { arbitrary: arbSelector(podLabelKeys).map((podSelector) => ({ podSelector })), weight: 2 },
  { arbitrary: arbSelector(nsLabelKeys).map((namespaceSelector) => ({ namespaceSelector })), weight: 1 },
  { arbitrary: fc.tuple(arbSelector(nsLabelKeys), arbSelector(podLabelKeys)).map(([namespaceSelector, podSelector]) => ({ namespaceSelector, podSelector })), weight: 1 },
  {
    arbitrary: fc.tuple(fc.constantFrom(...CIDRS), fc.boolean()).chain(([[cidr, ex], useEx]) =>
      (useEx && ex.length ? fc.subarray(ex, { minLength: 1 }) : fc.constant([] as string[])).map((except) => ({ ipBlock: except.length ? { cidr, except } : { cidr } })),
    ),
    weight: 3,
  },
);

const arbPort: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom<Protocol | undefined>(undefined, 'TCP', 'UDP'), port: fc.constantFrom(53, 80, 443, 8080) }, { requiredKeys: ['port'] }),
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP'), port: fc.constantFrom(79, 443, 8000), endPort: fc.constantFrom(81, 1000, 9000) }).map((p) => ({ ...p, endPort: Math.max(p.port, p.endPort) })),
  fc.record({ protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP') }),
  fc.record({ protocol: fc.constantFrom<Protocol | undefined>(undefined, 'TCP', 'UDP'), port: fc.constantFrom('http', 'dns', 'metrics') }, { requiredKeys: ['port'] }),
);

const arbRule = fc.record(
  {
    peers: fc.oneof(fc.constant(undefined), fc.constant([] as NetworkPolicyPeer[]), fc.array(arbPeer, { minLength: 1, maxLength: 2 })),
    ports: fc.oneof(fc.constant(undefined), fc.constant([] as NetworkPolicyPort[]), fc.array(arbPort, { minLength: 1, maxLength: 2 })),
  },
  { requiredKeys: [] },
);

const arbRules = fc.oneof(fc.constant(undefined), fc.constant([]), fc.array(arbRule, { minLength: 1, maxLength: 2 }));

const arbPolicy = (i: number): fc.Arbitrary<NetworkPolicyModel> =>
  fc
    .record({
      ns: fc.constantFrom(...NS),
      podSelector: fc.oneof(fc.constant({} as LabelSelector), arbSelector(podLabelKeys)),
      policyTypes: fc.constantFrom<NetworkPolicyModel['policyTypes']>(undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress'], []),
      ingress: arbRules,
      egress: arbRules,
    })
    .map((p) => ({
      namespace: p.ns,
      name: `p${i}`,
      podSelector: p.podSelector,
      policyTypes: p.policyTypes,
      ingress: p.ingress?.map((r) => ({ from: r.peers, ports: r.ports })),
      egress: p.egress?.map((r) => ({ to: r.peers, ports: r.ports })),
    }));

// Container ports are a function of the pod labels, so pods sharing a Cilium
// identity declare the same named ports (see cilium.ts on named ports).
function portsFor(labels: Record<string, string>): string[] {
  const out: string[] = [];
  if (labels.app === 'web') out.push('http:80/TCP');
  if (labels.app === 'api') out.push('http:8080/TCP', 'metrics:9000/TCP');
  if (labels.tier === '1') out.push('dns:53/UDP');
  if (labels.tier === '2') out.push('dns:53/TCP');
  return out;
}

const arbCluster = fc
  .record({
    nsLabels: fc.tuple(arbLabels(nsLabelKeys), arbLabels(nsLabelKeys), arbLabels(nsLabelKeys)),
    pods: fc.array(fc.record({ ns: fc.constantFrom(...NS), labels: arbLabels(podLabelKeys), node: fc.constantFrom('node-1', 'node-2'), host: fc.constantFrom(false, false, false, false, false, true) }), { minLength: 2, maxLength: 6 }),
    nPolicies: fc.integer({ min: 1, max: 5 }),
  })
  .chain((c) =>
    fc.tuple(fc.constant(c), ...Array.from({ length: c.nPolicies }, (_, i) => arbPolicy(i))).map(([cc, ...policies]) => {
      const counters: Record<string, number> = { 'node-1': 2, 'node-2': 2 };
      const pods: PodSpec[] = cc.pods.map((p, i) => {
        const nodeIP = p.node === 'node-1' ? '10.0.1.5' : '10.0.1.6';
        const ip = p.host ? nodeIP : `10.244.${p.node === 'node-1' ? 1 : 2}.${counters[p.node]++}`;
        return { id: `${p.ns}/pod${i}`, labels: p.labels, ip, node: p.node, hostNetwork: p.host, ports: portsFor(p.labels) };
      });
      return mkTopology({
        namespaces: Object.fromEntries(NS.map((n, i) => [n, cc.nsLabels[i]])),
        pods,
        policies,
      });
    }),
  );

const arbQuery = fc.record({
  from: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 5 }).map((i) => ({ pod: i })), weight: 3 }, { arbitrary: fc.constantFrom('node:node-1', 'node:node-2', 'ip:192.168.1.10', 'ip:192.168.7.7', 'ip:10.244.1.250', 'ip:8.8.8.8'), weight: 1 }),
  to: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 5 }).map((i) => ({ pod: i })), weight: 3 }, { arbitrary: fc.constantFrom('node:node-1', 'ip:10.0.1.6', 'ip:192.168.1.10', 'ip:10.244.2.200', 'ip:1.1.1.1'), weight: 1 }),
  port: fc.constantFrom(53, 80, 443, 8080, 9000, 500),
  protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
});

describe('property: all evaluators agree', () => {
  it('naive, compiled, iptables walk and Cilium map give the same verdicts', () => {
    fc.assert(
      fc.property(arbCluster, fc.array(arbQuery, { minLength: 16, maxLength: 24 }), (topo, queries) => {
        const ctxMatch = buildContext(topo);
        const ctxIgnore = buildContext(topo, { ipBlockClusterIPs: 'ignore' });
        const fastMatch = compilePolicies(topo);
        const fastIgnore = compilePolicies(topo, { ipBlockClusterIPs: 'ignore' });
        const calico = buildCalicoDataplane(topo);
        const cilium = buildCiliumDataplane(topo);
        const ref = (x: string | { pod: number }): string => (typeof x === 'string' ? x : podKey(topo.pods[x.pod % topo.pods.length]));
        for (const q0 of queries) {
          const q = { from: ref(q0.from), to: ref(q0.to), port: q0.port, protocol: q0.protocol };
          const m = naiveAllowed(ctxMatch, q);
          const i = naiveAllowed(ctxIgnore, q);
          expect({ q, fast: fastMatch.verdict(q) }).toEqual({ q, fast: m });
          expect({ q, iptables: calico.verdict(q).allowed }).toEqual({ q, iptables: m });
          expect({ q, fastIgnore: fastIgnore.verdict(q) }).toEqual({ q, fastIgnore: i });
          expect({ q, cilium: cilium.verdict(q).allowed }).toEqual({ q, cilium: i });
        }
        // The bitset matrix against single verdicts for one port.
        const port = queries[0].port;
        const protocol = queries[0].protocol;
        const rows = fastMatch.matrix(port, protocol);
        fastMatch.pods.forEach((s, si) =>
          fastMatch.pods.forEach((d, di) => {
            const q = { from: podKey(s), to: podKey(d), port, protocol };
            expect({ q, matrix: bitGet(rows[si], di) }).toEqual({ q, matrix: naiveAllowed(ctxMatch, q) });
          }),
        );
      }),
      { numRuns: 300 },
    );
  });
});
