// TraceContext shortcuts must not change what the walk sees: nodes that share
// a rule set (equal class keys) really have identical kube-proxy rules, and
// the memoised encapsulation equals core/cni's encapsulate().

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encapsulate } from '../cni';
import { kubeProxyIptables, kubeProxyIpvs } from '../kubeproxy';
import { nodeClassKey, traceContext } from './context';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const LOCAL = `
---
apiVersion: v1
kind: Service
metadata: { name: local-np, namespace: default }
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: v1
kind: Service
metadata: { name: local-it, namespace: default }
spec:
  internalTrafficPolicy: Local
  selector: { app: worker }
  ports: [{ name: http, port: 81, targetPort: 8080 }]
`;

describe('nodeClassKey', () => {
  it('nodes with equal keys get byte-identical iptables-restore documents; different keys differ', () => {
    for (const text of [SEED, SEED + LOCAL]) {
      const t = loadText(text);
      const docs = new Map(t.nodes.map((n) => [n.name, kubeProxyIptables(t, n.name, 4).restore]));
      const keys = new Map(t.nodes.map((n) => [n.name, nodeClassKey(t, n.name)]));
      for (const a of t.nodes)
        for (const b of t.nodes) {
          if (keys.get(a.name) === keys.get(b.name)) expect(docs.get(a.name)).toBe(docs.get(b.name));
          else expect(docs.get(a.name)).not.toBe(docs.get(b.name));
        }
    }
  });

  it('the seed shares one rule set across its three nodes; Local policies split them', () => {
    const t = loadText(SEED);
    const keys = new Set(t.nodes.map((n) => nodeClassKey(t, n.name)));
    expect(keys.size).toBe(1);
    const l = loadText(SEED + LOCAL);
    expect(new Set(l.nodes.map((n) => nodeClassKey(l, n.name))).size).toBe(3);
  });

  it('IPVS mode never shares (KUBE-LOOP-BACK lists each node\'s local endpoints)', () => {
    const t = loadText(SEED, ['kubeProxy=ipvs']);
    expect(new Set(t.nodes.map((n) => nodeClassKey(t, n.name))).size).toBe(3);
    const a = kubeProxyIpvs(t, 'node-2', 4).ipsets;
    const b = kubeProxyIpvs(t, 'node-3', 4).ipsets;
    expect(a.get('KUBE-LOOP-BACK')?.entries()).not.toEqual(b.get('KUBE-LOOP-BACK')?.entries());
  });
});

describe('TraceContext.encapsulate', () => {
  it('equals core/cni encapsulate for every tunnelling CNI, flow and packet size', () => {
    for (const cni of ['calico-vxlan', 'calico-ipip', 'flannel-vxlan', 'cilium-vxlan', 'cilium-geneve', 'antrea-geneve', 'weave-fastdp', 'weave-sleeve']) {
      const t = loadText(SEED, [`cni=${cni}`]);
      const ctx = traceContext(t);
      for (const [src, dst, sport, len] of [
        ['10.244.1.5', '10.244.2.8', 52345, 60],
        ['10.244.2.8', '10.244.1.5', 8080, 1400],
        ['10.244.1.6', '10.244.3.9', 40000, 120],
      ] as const) {
        const inner = { srcIP: src, dstIP: dst, protocol: 'TCP' as const, srcPort: sport, dstPort: 80, length: len };
        const a = ctx.ownerNode(src);
        const b = ctx.ownerNode(dst);
        expect(ctx.encapsulate(a!, b!, inner)).toEqual(encapsulate(ctx.cni, t, a!, b!, inner));
      }
    }
  });
});
