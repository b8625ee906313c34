import { describe, expect, it } from 'vitest';
import { lintPolicies } from './lint';
import { IPBLOCK_POD_IP_NOTE, POLICY_TYPES_DEFAULT_NOTE } from './notes';
import { mkTopology, np } from './testkit';
import type { NetworkPolicyModel } from '../model/types';

function topo(policies: NetworkPolicyModel[]) {
  return {
    ...mkTopology({
      namespaces: { app: { team: 'x' }, 'kube-system': {} },
      pods: [
        { id: 'app/web', labels: { app: 'web' }, ip: '10.244.1.2', ports: ['http:80'] },
        { id: 'kube-system/coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.2', ports: ['dns:53/UDP', 'dns-tcp:53/TCP'] },
      ],
      policies: policies.map((p, i) => ({ ...p, origin: { file: 'p.yaml', line: 10 * i + 1, column: 1, path: `items[${i}]` } })),
    }),
    settings: { clusterCIDRs: ['10.244.0.0/16'] },
  };
}

const codes = (ps: NetworkPolicyModel[]) => lintPolicies(topo(ps)).map((d) => d.code).sort();

describe('lintPolicies', () => {
  it('is quiet for a well-formed policy with DNS over UDP and TCP', () => {
    expect(
      codes([
        np('app/ok', {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }],
        }),
      ]),
    ).toEqual([]);
  });

  it('flags egress isolation without DNS, with the policy origin', () => {
    const d = lintPolicies(topo([np('app/deny-egress', { podSelector: {}, policyTypes: ['Egress'] })]));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ severity: 'error', code: 'egress-without-dns', file: 'p.yaml', line: 1, column: 1, path: 'items[0].spec.egress' });
    expect(d[0].message).toBe('NetworkPolicy app/deny-egress: app/web is isolated for egress by app/deny-egress and can reach kube-dns (kube-system/coredns) on neither UDP nor TCP 53');
  });

  it('flags policyTypes left out, explaining the egress: [] trap', () => {
    const d = lintPolicies(topo([np('app/p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}], egress: [] })]));
    expect(d.map((x) => x.code)).toEqual(['policy-types-omitted']);
    expect(d[0].message).toContain('defaults to [Ingress]; its "egress: []" does not make it affect egress');
    expect(d[0].hint).toContain(POLICY_TYPES_DEFAULT_NOTE);
  });

  it('flags selectors matching nothing and the seed\'s name label', () => {
    expect(
      codes([
        np('app/p', {
          podSelector: { matchLabels: { app: 'nope' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: 'kube-system' } } }, { namespaceSelector: { matchLabels: { team: 'zzz' } } }, { podSelector: { matchLabels: { app: 'ghost' } } }] }],
        }),
      ]),
    ).toEqual(['namespace-label-missing', 'namespace-selector-matches-nothing', 'peer-selects-no-pod', 'selects-no-pod']);
    const d = lintPolicies(topo([np('app/p', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: 'kube-system' } } }] }] })]));
    expect(d[0].hint).toContain('Use kubernetes.io/metadata.name: kube-system instead');
    expect(d[0].path).toBe('items[0].spec.ingress[0].from[0].namespaceSelector');
  });

  it('flags except outside cidr, ipBlocks over pod CIDRs, numeric string ports and unresolvable named ports', () => {
    const d = lintPolicies(
      topo([
        np('app/p', {
          podSelector: {},
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['10.0.0.0/24'] } }] },
            { from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] },
            { ports: [{ port: '80' }] },
            { ports: [{ port: 'grpc' }] },
          ],
        }),
      ]),
    );
    expect(d.map((x) => [x.code, x.severity, x.path])).toEqual([
      ['except-outside-cidr', 'error', 'items[0].spec.ingress[0].from[0].ipBlock.except[0]'],
      ['ipblock-contains-pod-cidr', 'warning', 'items[0].spec.ingress[1].from[0].ipBlock'],
      ['numeric-string-port', 'error', 'items[0].spec.ingress[2].ports[0].port'],
      ['named-port-unresolved', 'warning', 'items[0].spec.ingress[3].ports[0].port'],
    ]);
    expect(d[1].hint).toBe(IPBLOCK_POD_IP_NOTE);
  });
});
