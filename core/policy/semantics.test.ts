import { describe, expect, it } from 'vitest';
import type { NetworkPolicyModel } from '../model/types';
import { compilePolicies } from './compiled';
import { evaluateNaive } from './naive';
import { HOST_LOCAL_NOTE, IPBLOCK_POD_IP_NOTE } from './notes';
import { AGREE, checkMatrix } from './policy-testutil';
import { effectiveTypes } from './semantics';
import { mkTopology, np } from './testkit';

// Two namespaces x 3 pods. Every case below writes its full matrix by hand;
// checkMatrix runs the naive evaluator, the compiled evaluator (single
// verdicts and the bitset matrix), the Calico iptables walk and the Cilium
// map (when the Cilium semantics give the same table) against it.
function base(policies: NetworkPolicyModel[], extraPods: Parameters<typeof mkTopology>[0]['pods'] = []) {
  return mkTopology({
    namespaces: { x: { team: 'x' }, y: { team: 'y' } },
    pods: [
      { id: 'x/a', labels: { app: 'a' }, ip: '10.244.1.2', node: 'node-1', ports: ['http:80'] },
      { id: 'x/b', labels: { app: 'b' }, ip: '10.244.1.3', node: 'node-1', ports: ['http:8080'] },
      { id: 'x/c', labels: { app: 'c', tier: 'db' }, ip: '10.244.2.2', node: 'node-2' },
      { id: 'y/a', labels: { app: 'a' }, ip: '10.244.2.3', node: 'node-2' },
      { id: 'y/b', labels: { app: 'b' }, ip: '10.244.1.4', node: 'node-1' },
      { id: 'y/c', labels: { app: 'c' }, ip: '10.244.2.4', node: 'node-2' },
      ...extraPods,
    ],
    policies,
  });
}

const ALL_OPEN = `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  .   .   .   .   .   .
y/a  .   .   .   .   .   .
y/b  .   .   .   .   .   .
y/c  .   .   .   .   .   .`;

describe('NetworkPolicy matrices (hand-written, all evaluators)', () => {
  it('no policies: everything allowed', () => {
    expect(checkMatrix(base([]), 80, 'TCP', ALL_OPEN)).toEqual(AGREE);
  });

  it('default deny ingress in x isolates x pods for ingress only', () => {
    const t = base([np('x/deny', { podSelector: {}, policyTypes: ['Ingress'] })]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   X   X   .   .   .
x/b  X   .   X   .   .   .
x/c  X   X   .   .   .   .
y/a  X   X   X   .   .   .
y/b  X   X   X   .   .   .
y/c  X   X   X   .   .   .`),
    ).toEqual(AGREE);
  });

  it('default deny egress in x isolates x pods for egress only', () => {
    const t = base([np('x/deny', { podSelector: {}, policyTypes: ['Egress'] })]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   X   X   X   X   X
x/b  X   .   X   X   X   X
x/c  X   X   .   X   X   X
y/a  .   .   .   .   .   .
y/b  .   .   .   .   .   .
y/c  .   .   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('podSelector alone selects pods of the policy namespace only', () => {
    const t = base([np('x/to-a', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  X   .   .   .   .   .
y/a  X   .   .   .   .   .
y/b  X   .   .   .   .   .
y/c  X   .   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('namespaceSelector alone selects every pod of matching namespaces', () => {
    const t = base([np('x/to-a', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }] }] })]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  X   .   .   .   .   .
x/c  X   .   .   .   .   .
y/a  .   .   .   .   .   .
y/b  .   .   .   .   .   .
y/c  .   .   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('namespaceSelector and podSelector in one peer are ANDed', () => {
    const t = base([
      np('x/to-a', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'b' } } }] }] }),
    ]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  X   .   .   .   .   .
x/c  X   .   .   .   .   .
y/a  X   .   .   .   .   .
y/b  .   .   .   .   .   .
y/c  X   .   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('namespaceSelector and podSelector in two peers are ORed', () => {
    const t = base([
      np('x/to-a', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }, { podSelector: { matchLabels: { app: 'b' } } }] }] }),
    ]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  X   .   .   .   .   .
y/a  .   .   .   .   .   .
y/b  .   .   .   .   .   .
y/c  .   .   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('matchExpressions In and DoesNotExist', () => {
    const t = base([
      np('x/expr', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }],
      }),
    ]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  X   X   .   .   .   .
y/a  X   X   .   .   .   .
y/b  X   X   .   .   .   .
y/c  X   X   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('matchExpressions NotIn and Exists on egress', () => {
    const t = base([
      np('y/expr', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['a'] }] },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] },
                podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['c'] }] },
              },
            ],
          },
        ],
      }),
    ]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  .   .   .   .   .   .
y/a  .   .   .   .   .   .
y/b  X   X   .   X   .   .
y/c  X   X   .   X   X   .`),
    ).toEqual(AGREE);
  });

  const cidrPolicy = np('y/egress-cidr', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '10.244.1.0/24', except: ['10.244.1.4/32'] } }] }],
  });

  it('ipBlock with except matches pod IPs (reference reading, Calico)', () => {
    expect(
      checkMatrix(base([cidrPolicy]), 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  .   .   .   .   .   .
y/a  .   .   X   .   X   X
y/b  .   .   X   X   .   X
y/c  .   .   X   X   X   .`),
    ).toEqual(AGREE);
    const v = evaluateNaive(base([cidrPolicy]), { from: 'y/a', to: 'x/a', port: 80 });
    expect(v.allowed).toBe(true);
    expect(v.notes).toContain(IPBLOCK_POD_IP_NOTE);
    expect(evaluateNaive(base([cidrPolicy]), { from: 'y/a', to: 'ip:10.244.1.200', port: 80 }).allowed).toBe(true);
    expect(evaluateNaive(base([cidrPolicy]), { from: 'y/a', to: 'ip:8.8.8.8', port: 80 }).allowed).toBe(false);
  });

  it('ipBlock ignores cluster addresses in Cilium mode', () => {
    expect(
      checkMatrix(
        base([cidrPolicy]),
        80,
        'TCP',
        `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  .   .   .   .   .   .
y/a  X   X   X   .   X   X
y/b  X   X   X   X   .   X
y/c  X   X   X   X   X   .`,
        { ipBlockClusterIPs: 'ignore' },
      ),
    ).toEqual(AGREE);
    // External addresses still match.
    expect(evaluateNaive(base([cidrPolicy]), { from: 'y/a', to: 'ip:10.244.1.200', port: 80 }, { ipBlockClusterIPs: 'ignore' }).allowed).toBe(true);
  });

  const namedIngress = np('x/named', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http' }] }] });

  it('named ports resolve per destination pod (port 80)', () => {
    expect(
      checkMatrix(base([namedIngress]), 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   X   X   .   .   .
x/b  .   .   X   .   .   .
x/c  .   X   .   .   .   .
y/a  .   X   X   .   .   .
y/b  .   X   X   .   .   .
y/c  .   X   X   .   .   .`),
    ).toEqual(AGREE);
  });

  it('named ports resolve per destination pod (port 8080)', () => {
    expect(
      checkMatrix(base([namedIngress]), 8080, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   X   .   .   .
x/b  X   .   X   .   .   .
x/c  X   .   .   .   .   .
y/a  X   .   X   .   .   .
y/b  X   .   X   .   .   .
y/c  X   .   X   .   .   .`),
    ).toEqual(AGREE);
  });

  it('a named port on egress to an ipBlock matches pods that declare it, never external addresses', () => {
    const t = base([np('y/named-egress', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 'http' }] }] })]);
    expect(evaluateNaive(t, { from: 'y/a', to: 'x/a', port: 80 }).allowed).toBe(true);
    expect(evaluateNaive(t, { from: 'y/a', to: 'x/b', port: 80 }).allowed).toBe(false);
    expect(evaluateNaive(t, { from: 'y/a', to: 'x/b', port: 8080 }).allowed).toBe(true);
    const ext = evaluateNaive(t, { from: 'y/a', to: 'ip:1.2.3.4', port: 80 });
    expect(ext.allowed).toBe(false);
    expect(ext.egress.deniedBy?.reasons[0].rules[0].reason).toContain('named port "http" cannot match 1.2.3.4');
  });

  it('ports: numeric, protocol, endPort range, protocol-only, empty list', () => {
    const t = base([
      np('x/ports', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 80 }] },
          { from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
          { from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ protocol: 'TCP', port: 9000, endPort: 9010 }] },
          { from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ protocol: 'SCTP' }] },
          { from: [{ podSelector: { matchLabels: { app: 'c' } } }], ports: [] },
        ],
      }),
    ]);
    const c = compilePolicies(t);
    const cases: [string, number, 'TCP' | 'UDP' | 'SCTP', boolean][] = [
      ['x/b', 80, 'TCP', true],
      ['x/b', 80, 'UDP', false],
      ['x/b', 53, 'UDP', true],
      ['x/b', 53, 'TCP', false],
      ['x/b', 9000, 'TCP', true],
      ['x/b', 9005, 'TCP', true],
      ['x/b', 9010, 'TCP', true],
      ['x/b', 9011, 'TCP', false],
      ['x/b', 8999, 'TCP', false],
      ['x/b', 1234, 'SCTP', true],
      ['x/b', 22, 'TCP', false],
      ['x/c', 22, 'TCP', true],
      ['x/c', 5000, 'UDP', true],
      ['y/b', 80, 'TCP', false],
    ];
    for (const [from, port, protocol, want] of cases) {
      const q = { from, to: 'x/a', port, protocol };
      expect([from, port, protocol, evaluateNaive(t, q).allowed]).toEqual([from, port, protocol, want]);
      expect([from, port, protocol, c.verdict(q)]).toEqual([from, port, protocol, want]);
    }
    const denied = evaluateNaive(t, { from: 'x/b', to: 'x/a', port: 22, protocol: 'TCP' });
    expect(denied.ingress.text).toBe(
      "ingress to x/a denied: isolated by x/ports (Ingress); no rule's ports include 22/TCP (rules 0, 1, 2, 3 match x/b); rule 4: peer 0 (podSelector app=c) does not match x/b [peer (podSelector app=c) does not select x/b]",
    );
    const onlyPorts = evaluateNaive(t, { from: 'x/b', to: 'x/a', port: 22, protocol: 'TCP' }, {});
    expect(onlyPorts.ingress.deniedBy?.reasons[0].rules.map((r) => r.failed)).toEqual(['ports', 'ports', 'ports', 'ports', 'peers']);
    const simple = base([np('x/p2', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 5433 }] }] })]);
    expect(evaluateNaive(simple, { from: 'x/b', to: 'x/a', port: 5432 }).ingress.text).toBe("ingress to x/a denied: isolated by x/p2 (Ingress); no rule's ports include 5432/TCP");
  });

  it('union of policies: either policy allowing is enough', () => {
    const t = base([
      np('x/u1', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] }),
      np('x/u2', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'c' } } }] }] }),
    ]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   .   .   .   .
x/b  .   .   .   .   .   .
x/c  X   .   .   .   .   .
y/a  X   .   .   .   .   .
y/b  X   .   .   .   .   .
y/c  .   .   .   .   .   .`),
    ).toEqual(AGREE);
    const v = evaluateNaive(t, { from: 'y/c', to: 'x/a', port: 80 });
    expect(v.ingress.allowedBy).toEqual([{ policy: 'x/u2', direction: 'Ingress', ruleIndex: 0, peerIndex: 0, portIndex: null }]);
  });

  it('a connection needs source egress AND destination ingress', () => {
    const t = base([
      np('y/eg', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'x' } } }] }] }),
      np('x/in', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'b' } } }] }] }),
    ]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   X   .   .   .   .
x/b  .   .   .   .   .   .
x/c  .   X   .   .   .   .
y/a  .   X   .   .   X   X
y/b  .   .   .   .   .   .
y/c  .   X   .   .   .   .`),
    ).toEqual(AGREE);
    const v = evaluateNaive(t, { from: 'y/a', to: 'x/b', port: 80 });
    expect(v.egress.allowed).toBe(true);
    expect(v.ingress.allowed).toBe(false);
    expect(v.ingress.text).toBe(
      'ingress to x/b denied: isolated by x/in (Ingress); rule 0: peer 0 (namespaceSelector team=y + podSelector app=b) does not match y/a [peer (namespaceSelector team=y + podSelector app=b) does not select y/a]',
    );
  });

  it('explains a podSelector miss with the selector and the pod', () => {
    const t = mkTopology({
      namespaces: { production: {} },
      pods: [
        { id: 'production/frontend', labels: { tier: 'frontend' }, ip: '10.244.1.10' },
        { id: 'production/database', labels: { tier: 'database' }, ip: '10.244.1.11' },
      ],
      policies: [np('production/database-policy', { podSelector: { matchLabels: { tier: 'database' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'backend' } } }], ports: [{ port: 5432 }] }] })],
    });
    const v = evaluateNaive(t, { from: 'production/frontend', to: 'production/database', port: 5432 });
    expect(v.allowed).toBe(false);
    expect(v.ingress.text).toContain('ingress to production/database denied: isolated by production/database-policy (Ingress); rule 0: peer 0 (podSelector tier=backend) does not match production/frontend');
    expect(v.ingress.deniedBy).toEqual({
      isolatingPolicies: ['production/database-policy'],
      reasons: [{ policy: 'production/database-policy', noRules: false, rules: [{ ruleIndex: 0, failed: 'peers', reason: expect.stringContaining('does not select production/frontend') }] }],
    });
    expect(v.egress.notIsolated).toBe(true);
  });
});

describe('policyTypes defaults (SetDefaults_NetworkPolicy)', () => {
  it('absent policyTypes: Ingress, plus Egress only for a non-empty egress list', () => {
    expect(effectiveTypes(np('x/p', { podSelector: {} }))).toEqual({ ingress: true, egress: false, defaulted: true });
    expect(effectiveTypes(np('x/p', { podSelector: {}, egress: [] }))).toEqual({ ingress: true, egress: false, defaulted: true });
    expect(effectiveTypes(np('x/p', { podSelector: {}, egress: [{}] }))).toEqual({ ingress: true, egress: true, defaulted: true });
    expect(effectiveTypes(np('x/p', { podSelector: {}, policyTypes: [], egress: [{ to: [] }] }))).toEqual({ ingress: true, egress: true, defaulted: true });
    expect(effectiveTypes(np('x/p', { podSelector: {}, policyTypes: ['Egress'] }))).toEqual({ ingress: false, egress: true, defaulted: false });
  });

  it('a policy with only egress rules and no policyTypes also isolates ingress', () => {
    const t = base([np('x/eg', { podSelector: { matchLabels: { app: 'a' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })]);
    expect(
      checkMatrix(t, 80, 'TCP', `
-    x/a x/b x/c y/a y/b y/c
x/a  .   .   X   X   X   X
x/b  X   .   .   .   .   .
x/c  X   .   .   .   .   .
y/a  X   .   .   .   .   .
y/b  X   .   .   .   .   .
y/c  X   .   .   .   .   .`),
    ).toEqual(AGREE);
  });

  it('egress: [] without policyTypes does not affect egress', () => {
    const t = base([np('x/empty-egress', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{}], egress: [] })]);
    expect(checkMatrix(t, 80, 'TCP', ALL_OPEN)).toEqual(AGREE);
  });

  it('policyTypes [Ingress, Egress] with an empty egress list denies all egress', () => {
    const t = base([np('x/no-egress', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [] })]);
    const v = evaluateNaive(t, { from: 'x/a', to: 'y/a', port: 80 });
    expect(v.allowed).toBe(false);
    expect(v.egress.text).toBe('egress from x/a denied: isolated by x/no-egress (Egress); no egress rules, so all egress is denied');
  });
});

describe('traffic from nodes and hostNetwork pods', () => {
  const hn = [{ id: 'kube-system/hn', labels: { app: 'agent' }, ip: '10.0.1.6', node: 'node-2', hostNetwork: true }];
  const deny = np('x/deny', { podSelector: {}, policyTypes: ['Ingress'] });

  it('the own node is always allowed in; other nodes are denied unless an ipBlock allows their IP', () => {
    const t = base([deny], hn);
    const local = evaluateNaive(t, { from: 'node:node-1', to: 'x/a', port: 8080 });
    expect(local.allowed).toBe(true);
    expect(local.ingress.hostLocal).toBe(true);
    expect(local.ingress.text).toBe(`ingress to x/a allowed: ${HOST_LOCAL_NOTE}`);
    expect(local.notes).toContain(HOST_LOCAL_NOTE);
    expect(evaluateNaive(t, { from: 'node:node-2', to: 'x/a', port: 8080 }).allowed).toBe(false);
    expect(evaluateNaive(t, { from: 'kube-system/hn', to: 'x/c', port: 8080 }).allowed).toBe(true); // same node (node-2)
    expect(evaluateNaive(t, { from: 'kube-system/hn', to: 'x/a', port: 8080 }).allowed).toBe(false); // node-2 -> node-1
    const allow = np('x/allow-node2', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.1.6/32' } }] }] });
    const t2 = base([deny, allow], hn);
    expect(evaluateNaive(t2, { from: 'node:node-2', to: 'x/a', port: 8080 }).allowed).toBe(true);
    expect(evaluateNaive(t2, { from: 'kube-system/hn', to: 'x/a', port: 8080 }).allowed).toBe(true);
    expect(evaluateNaive(t2, { from: 'node:node-2', to: 'x/a', port: 8080 }, { ipBlockClusterIPs: 'ignore' }).allowed).toBe(false);
    const c = compilePolicies(t2);
    expect(c.verdict({ from: 'node:node-2', to: 'x/a', port: 8080 })).toBe(true);
    expect(c.verdict({ from: 'node:node-1', to: 'x/c', port: 8080 })).toBe(false);
  });

  it('hostNetwork pods are never selected as policy targets', () => {
    const t = base([np('kube-system/deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })], hn);
    const v = evaluateNaive(t, { from: 'x/a', to: 'kube-system/hn', port: 10250 });
    expect(v.allowed).toBe(true);
    expect(v.ingress.notApplicable).toContain('host-networked');
  });

  it('a pod reaching itself is loopback and never policed', () => {
    const t = base([np('x/deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })]);
    const v = evaluateNaive(t, { from: 'x/a', to: 'x/a', port: 80 });
    expect(v.allowed).toBe(true);
    expect(v.ingress.loopback).toBe(true);
  });

  it('resolves ip: endpoints to pods and nodes', () => {
    const t = base([deny], hn);
    expect(evaluateNaive(t, { from: 'ip:10.244.1.3', to: 'ip:10.244.1.2', port: 80 }).allowed).toBe(false);
    expect(evaluateNaive(t, { from: 'ip:10.0.1.5', to: 'x/a', port: 80 }).ingress.hostLocal).toBe(true);
    expect(() => evaluateNaive(t, { from: 'nope', to: 'x/a', port: 80 })).toThrow(/not an endpoint/);
    expect(() => evaluateNaive(t, { from: 'x/zz', to: 'x/a', port: 80 })).toThrow(/no pod "x\/zz"/);
  });
});

describe('address family of the query', () => {
  // Dual-stack pods: ipBlock matches the address of the packet's family.
  const dual = (): ReturnType<typeof mkTopology> => {
    const t = mkTopology({
      namespaces: { x: {} },
      pods: [
        { id: 'x/a', labels: { app: 'a' }, ip: '10.244.1.4' },
        { id: 'x/b', labels: { app: 'b' }, ip: '10.244.2.5' },
      ],
      policies: [np('x/b-from-v6', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: 'fd00:10:244::/56' } }] }] })],
    });
    t.pods[0].ips.push('fd00:10:244:1::4');
    t.pods[1].ips.push('fd00:10:244:2::5');
    return t;
  };

  it('family 6 matches the IPv6 ipBlock; the default (IPv4 when both ends have it) and family 4 do not', () => {
    const t = dual();
    expect(evaluateNaive(t, { from: 'x/a', to: 'x/b', port: 80, family: 6 }).allowed).toBe(true);
    expect(evaluateNaive(t, { from: 'x/a', to: 'x/b', port: 80, family: 4 }).allowed).toBe(false);
    expect(evaluateNaive(t, { from: 'x/a', to: 'x/b', port: 80 }).allowed).toBe(false);
    const c = compilePolicies(t);
    expect(c.verdict({ from: 'x/a', to: 'x/b', port: 80, family: 6 })).toBe(true);
    expect(c.verdict({ from: 'x/a', to: 'x/b', port: 80, family: 4 })).toBe(false);
  });
});
