import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { kubeProxyIptables, nodeIptablesRuleset } from '../kubeproxy';
import { renderIptablesSave, restoreInto, newRuleset } from '../dataplane';
import { compareIptables } from './iptables';

const TOPO = `apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata: { name: t }
cluster: { cni: calico-bgp, clusterCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, nodeCIDR: 10.0.0.0/16, kubeProxy: iptables }
nodes:
  - { name: node-1, ip: 10.0.1.5 }
  - { name: node-2, ip: 10.0.1.6 }
---
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: default, labels: { app: web } }
spec: { nodeName: node-1, containers: [ { name: c, image: x, ports: [ { containerPort: 8080 } ] } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: default, labels: { app: web } }
spec: { nodeName: node-2, containers: [ { name: c, image: x, ports: [ { containerPort: 8080 } ] } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: c, namespace: default, labels: { app: web } }
spec: { nodeName: node-2, containers: [ { name: c, image: x, ports: [ { containerPort: 8080 } ] } ] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { selector: { app: web }, ports: [ { name: http, port: 80, targetPort: 8080 } ], type: NodePort }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: default }
spec: { selector: { app: web }, ports: [ { port: 81, targetPort: 8080 } ] }
`;
const t = loadTopology([{ file: 't.yaml', text: TOPO }]).topology!;
const model = nodeIptablesRuleset(t, 'node-1', 4).ruleset;
const save = renderIptablesSave(model, { date: new Date(0) });

function lines(s: string): string[] {
  return s.split('\n');
}

describe('compareIptables', () => {
  it('the node\'s iptables-save of the model matches, with or without counters', () => {
    expect(compareIptables(model, save).status).toBe('match');
    const counted = renderIptablesSave(model, { date: new Date(0), counters: true }).replace(/\[0:0\] -A/g, '[17:1234] -A');
    expect(compareIptables(model, counted).status).toBe('match');
  });

  it('kube-proxy\'s own spelling (bare comments, 10-decimal probabilities, --or-mark) equals iptables-save\'s', () => {
    const sync = kubeProxyIptables(t, 'node-1', 4);
    expect(sync.restore).toContain('--probability 0.3333333333');
    expect(sync.restore).toMatch(/--or-mark 0x0*4000/);
    expect(save).toContain('--probability 0.33333333349');
    expect(save).toContain('--set-xmark 0x4000/0x4000');
    // a ruleset built only from kube-proxy's restore text
    const fromRestore = restoreInto(newRuleset(4, ['filter', 'nat']), sync.restore, true);
    const res = compareIptables(fromRestore, save, { chainPrefixes: ['KUBE-SVC-', 'KUBE-SEP-', 'KUBE-MARK-MASQ'] });
    expect(res.items).toEqual([]);
  });

  it('Service order in KUBE-SERVICES does not matter, but the nodeports rule must stay last', () => {
    const l = lines(save);
    const idx = l.map((x, i) => (x.startsWith('-A KUBE-SERVICES') && l.slice(0, i).some((y) => y === '*nat') ? i : -1)).filter((i) => i >= 0);
    expect(idx.length).toBeGreaterThanOrEqual(3);
    const shuffled = [...l];
    [shuffled[idx[0]], shuffled[idx[1]]] = [shuffled[idx[1]], shuffled[idx[0]]];
    expect(compareIptables(model, shuffled.join('\n')).status).toBe('match');
    const last = [...l];
    const np = idx[idx.length - 1];
    [last[idx[0]], last[np]] = [last[np], last[idx[0]]];
    const res = compareIptables(model, last.join('\n'));
    expect(res.status).toBe('different');
    expect(res.items[0].explanation).toMatch(/nodeports rule is not the last rule/);
  });

  it('order inside a KUBE-SVC chain matters (the probabilities depend on it)', () => {
    const l = lines(save);
    const svc = l.map((x, i) => (/^-A KUBE-SVC-\S+ .*-j KUBE-SEP-/.test(x) ? i : -1)).filter((i) => i >= 0);
    const chain = l[svc[0]].split(' ')[1];
    const same = svc.filter((i) => l[i].split(' ')[1] === chain);
    expect(same.length).toBe(3);
    const swapped = [...l];
    [swapped[same[0]], swapped[same[2]]] = [swapped[same[2]], swapped[same[0]]];
    const res = compareIptables(model, swapped.join('\n'));
    expect(res.status).toBe('different');
    expect(res.items.some((i) => i.kind === 'changed' && /probabilities are written for the model's order/.test(i.explanation))).toBe(true);
  });

  it('a missing endpoint chain and an extra rule are named', () => {
    const l = lines(save);
    const sep = l.find((x) => x.startsWith(':KUBE-SEP-'))!.slice(1).split(' ')[0];
    const gone = l.filter((x) => !x.includes(sep)).join('\n');
    const res = compareIptables(model, gone);
    expect(res.items.some((i) => i.kind === 'missing' && i.where === `nat ${sep}`)).toBe(true);
    expect(res.items.some((i) => i.kind === 'missing' && /KUBE-SVC-/.test(i.where ?? '') && /is no longer reached/.test(i.explanation))).toBe(true);
    const extra = save.replace('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-MARK-MASQ -j DROP');
    const res2 = compareIptables(model, extra);
    expect(res2.items).toMatchObject([{ kind: 'extra', where: 'nat KUBE-MARK-MASQ', real: '-A KUBE-MARK-MASQ -j DROP' }]);
  });

  it('rules outside the compared chains are counted, not compared', () => {
    const [head, filter] = save.split('*filter\n');
    const withDocker = `${head}*filter\n:DOCKER - [0:0]\n${filter.replace('COMMIT', '-A DOCKER -j RETURN\n-A FORWARD -j DOCKER\nCOMMIT')}`;
    const res = compareIptables(model, withDocker);
    expect(res.status).toBe('match');
    expect(res.notes?.join(' ')).toMatch(/2 node rule\(s\) outside/);
  });

  it('unreadable iptables-save is one unexplained item naming the line', () => {
    const res = compareIptables(model, '*nat\n:KUBE-X - [0:0]\n-A KUBE-X --bogus-option\nCOMMIT\n');
    expect(res.status).toBe('different');
    expect(res.items.filter((i) => i.where === 'nat KUBE-X').map((i) => i.explanation).join(' | ')).toMatch(/line 3 of the node's iptables-save could not be read: unknown option "--bogus-option"/);
    const broken = compareIptables(model, '*nat\n:KUBE-X - [0:0]\n-A KUBE-Y -j ACCEPT\nCOMMIT\n');
    expect(broken.items).toHaveLength(1);
    expect(broken.items[0].explanation).toMatch(/line 3.*KUBE-Y/);
  });
});
