import { describe, expect, it } from 'vitest';
import { effectiveMtls, acceptsTransport } from './peerauth';
import { nsYaml, pod, podYaml, topo } from './testkit';

function pa(ns: string, name: string, o: { mode?: string; selector?: Record<string, string>; ports?: Record<number, string>; created?: string } = {}): string {
  return `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: ${name}
  namespace: ${ns}${o.created ? `\n  creationTimestamp: "${o.created}"` : ''}
spec:${o.selector ? `\n  selector:\n    matchLabels: { ${Object.entries(o.selector).map(([k, v]) => `${k}: ${v}`).join(', ')} }` : ''}${o.mode ? `\n  mtls:\n    mode: ${o.mode}` : ''}${o.ports ? `\n  portLevelMtls:\n${Object.entries(o.ports).map(([p, m]) => `    ${p}:\n      mode: ${m}`).join('\n')}` : ''}${!o.selector && !o.mode && !o.ports ? ' {}' : ''}
---
`;
}

const base = nsYaml('istio-system') + nsYaml('a') + nsYaml('b') + podYaml({ ns: 'a', name: 'w', ip: '10.244.1.2', labels: { app: 'w' } });

function mode(policies: string, port = 8080): { mode: string; by?: string; portLevel: boolean; explanation: string; ignored: string[] } {
  const t = topo(base + policies);
  const m = effectiveMtls(t, pod(t, 'a/w'), port);
  return { mode: m.mode, by: m.decidedBy ? `${m.decidedBy.ref.name}.${m.decidedBy.ref.namespace}` : undefined, portLevel: m.portLevel, explanation: m.explanation, ignored: m.ignored.map((i) => `${i.policy.ref.name}.${i.policy.ref.namespace}: ${i.why}`) };
}

describe('PeerAuthentication precedence', () => {
  const table: [string, string, number, string, string | undefined][] = [
    ['no policy at all: Istio default', '', 8080, 'PERMISSIVE', undefined],
    ['mesh-wide STRICT', pa('istio-system', 'default', { mode: 'STRICT' }), 8080, 'STRICT', 'default.istio-system'],
    ['namespace overrides mesh', pa('istio-system', 'default', { mode: 'STRICT' }) + pa('a', 'ns', { mode: 'PERMISSIVE' }), 8080, 'PERMISSIVE', 'ns.a'],
    ['namespace UNSET inherits mesh', pa('istio-system', 'default', { mode: 'STRICT' }) + pa('a', 'ns', {}), 8080, 'STRICT', 'default.istio-system'],
    ['workload overrides namespace and mesh', pa('istio-system', 'default', { mode: 'PERMISSIVE' }) + pa('a', 'ns', { mode: 'STRICT' }) + pa('a', 'wl', { mode: 'DISABLE', selector: { app: 'w' } }), 8080, 'DISABLE', 'wl.a'],
    ['port-level overrides the workload mode on its port', pa('a', 'ns', { mode: 'DISABLE' }) + pa('a', 'wl', { selector: { app: 'w' }, ports: { 8080: 'STRICT' } }), 8080, 'STRICT', 'wl.a'],
    ['…and not on other ports (workload UNSET → namespace)', pa('a', 'ns', { mode: 'DISABLE' }) + pa('a', 'wl', { selector: { app: 'w' }, ports: { 8080: 'STRICT' } }), 9090, 'DISABLE', 'ns.a'],
    ['port-level UNSET inherits the workload mode', pa('a', 'wl', { mode: 'STRICT', selector: { app: 'w' }, ports: { 8080: 'UNSET' } }), 8080, 'STRICT', 'wl.a'],
    ['a selector that does not match is ignored', pa('a', 'ns', { mode: 'STRICT' }) + pa('a', 'other', { mode: 'DISABLE', selector: { app: 'x' } }), 8080, 'STRICT', 'ns.a'],
    ['a selector policy in the root namespace does not reach other namespaces', pa('istio-system', 'rootsel', { mode: 'DISABLE', selector: { app: 'w' } }), 8080, 'PERMISSIVE', undefined],
    ['another namespace\'s policy is ignored', pa('b', 'ns', { mode: 'STRICT' }), 8080, 'PERMISSIVE', undefined],
    ['two namespace-wide policies: the oldest wins', pa('a', 'newer', { mode: 'STRICT', created: '2024-05-02T00:00:00Z' }) + pa('a', 'older', { mode: 'DISABLE', created: '2024-05-01T00:00:00Z' }), 8080, 'DISABLE', 'older.a'],
    ['portLevelMtls without selector is refused by the webhook, so it does not exist', pa('istio-system', 'default', { mode: 'STRICT' }) + pa('a', 'bad', { mode: 'DISABLE', ports: { 8080: 'DISABLE' } }), 8080, 'STRICT', 'default.istio-system'],
  ];
  for (const [name, yaml, port, want, by] of table) {
    it(name, () => {
      const m = mode(yaml, port);
      expect(m.mode).toBe(want);
      expect(m.by).toBe(by);
    });
  }

  it('explains which scope decided and why others were ignored', () => {
    const m = mode(pa('a', 'ns', { mode: 'DISABLE' }) + pa('a', 'wl', { selector: { app: 'w' }, ports: { 8080: 'STRICT' } }) + pa('istio-system', 'rootsel', { mode: 'DISABLE', selector: { app: 'w' } }));
    expect(m.portLevel).toBe(true);
    expect(m.explanation).toMatch(/^wl\.a portLevelMtls\[8080\]: STRICT/);
    expect(m.ignored.join('\n')).toMatch(/rootsel\.istio-system: a workload selector in the root namespace istio-system applies to no other namespace/);
    const bad = mode(pa('a', 'bad', { mode: 'DISABLE', ports: { 8080: 'DISABLE' } }));
    expect(bad.ignored[0]).toMatch(/bad\.a: refused by Istio's validating webhook \(mesh\/namespace peer authentication cannot have port level mTLS\)/);
  });

  it('what the server sidecar accepts per mode', () => {
    expect(acceptsTransport('STRICT', false).accepted).toBe(false);
    expect(acceptsTransport('STRICT', true).accepted).toBe(true);
    expect(acceptsTransport('PERMISSIVE', false).accepted).toBe(true);
    expect(acceptsTransport('PERMISSIVE', true).accepted).toBe(true);
    expect(acceptsTransport('DISABLE', false).accepted).toBe(true);
    expect(acceptsTransport('DISABLE', true).accepted).toBe(false);
  });
});
