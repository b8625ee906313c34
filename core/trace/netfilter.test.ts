// The compiled evaluator must give exactly what core/dataplane's runHook
// gives: verdict, every step (table, chain, rule number, text), NAT, marks,
// notes and the count of rules evaluated — on kube-proxy's real rule sets
// (iptables and IPVS modes, Local traffic policies, ClientIP affinity,
// Services without endpoints) and random packets.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecentTable, parseIptablesSave, randomNatPort, runHook, scriptedRandom, type EvalContext, type Hook, type HookResult, type Packet, type Ruleset } from '../dataplane';
import { kubeProxyIpvs, nodeIptablesRuleset } from '../kubeproxy';
import type { Topology } from '../model/types';
import { compileRuleset, hookKey, runHookCompiled } from './netfilter';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');

const EXTRA = `
---
apiVersion: v1
kind: Service
metadata: { name: sticky, namespace: default }
spec:
  clusterIP: 10.96.7.7
  selector: { app: backend }
  sessionAffinity: ClientIP
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: local-np, namespace: default }
spec:
  type: NodePort
  clusterIP: 10.96.8.8
  externalTrafficPolicy: Local
  internalTrafficPolicy: Local
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: v1
kind: Service
metadata: { name: empty, namespace: default }
spec:
  clusterIP: 10.96.9.9
  selector: { app: nothing }
  ports: [{ name: web, port: 80, protocol: TCP }, { name: dns, port: 53, protocol: UDP }]
`;

function view(r: HookResult) {
  return {
    verdict: r.verdict,
    rejectWith: r.rejectWith,
    packet: r.packet,
    steps: r.steps.map((s) => [s.table, s.chain, s.index, s.event, s.text]),
    nat: r.nat,
    rulesEvaluated: r.rulesEvaluated,
    notes: r.notes,
    logs: r.logs,
  };
}

function addressPool(t: Topology): string[] {
  return [
    ...t.pods.flatMap((p) => p.ips),
    ...t.services.flatMap((s) => s.clusterIPs).filter((x) => x !== 'None'),
    ...t.nodes.flatMap((n) => n.ips),
    '8.8.8.8',
    '127.0.0.1',
  ];
}

function check(t: Topology, rs: Ruleset, node: string, ipsets?: EvalContext['ipsets'], runs = 300): void {
  const compiled = compileRuleset(rs);
  const pool = addressPool(t);
  const nodeIPs = new Set(t.nodes.find((n) => n.name === node)!.ips);
  const hooks: Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];
  const packet = fc.record({
    proto: fc.constantFrom('tcp', 'udp', 'icmp'),
    src: fc.constantFrom(...pool),
    dst: fc.constantFrom(...pool),
    sport: fc.integer({ min: 1024, max: 65535 }),
    dport: fc.constantFrom(53, 80, 443, 8080, 9153, 30080),
    inIface: fc.constantFrom(undefined, 'eth0', 'cali123', 'vxlan.calico'),
    outIface: fc.constantFrom(undefined, 'eth0', 'cali456'),
    mark: fc.constantFrom(0, 0x4000),
    ctstate: fc.constantFrom('NEW' as const, 'ESTABLISHED' as const, 'RELATED' as const, 'INVALID' as const),
    ctConfirmed: fc.boolean(),
    ctDnat: fc.boolean(),
  });
  fc.assert(
    fc.property(packet, fc.constantFrom(...hooks), fc.array(fc.boolean(), { maxLength: 4 }), fc.integer({ min: 0, max: 20000 }), (pk, hook, decisions, now) => {
      const p: Packet = { family: 4, ...pk };
      const ctx = (recent: RecentTable): EvalContext => ({
        isLocal: (ip) => nodeIPs.has(ip) || ip.startsWith('127.'),
        ipsets,
        random: scriptedRandom(decisions),
        recent,
        now,
        masqueradeAddress: () => [...nodeIPs][0],
      });
      const seedRecent = new RecentTable();
      seedRecent.set('KUBE-SEP-X', pk.src, 0);
      const a = runHook(rs, hook, p, ctx(seedRecent.clone()));
      const b = runHookCompiled(compiled, hook, p, ctx(seedRecent.clone()));
      expect(view(b)).toEqual(view(a));
    }),
    { numRuns: runs, seed: 42 },
  );
}

describe('compiled netfilter evaluator = core/dataplane runHook', () => {
  const t = loadText(SEED + EXTRA);
  it('iptables mode, every node of the seed (with affinity, Local and endpoint-less Services)', () => {
    for (const n of t.nodes) check(t, nodeIptablesRuleset(t, n.name, 4).ruleset, n.name);
  });

  it('owner matches (Istio sidecar rules): uid 1337 bypasses the redirect, other traffic goes to 15001, as runHook says', () => {
    const rs = parseIptablesSave(
      ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':ISTIO_OUTPUT - [0:0]', ':ISTIO_REDIRECT - [0:0]',
        '-A OUTPUT -p tcp -j ISTIO_OUTPUT', '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN', '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN', '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
        '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001', 'COMMIT', ''].join('\n'),
    );
    const compiled = compileRuleset(rs);
    const ctx = (): EvalContext => ({ isLocal: (ip) => ip === '10.244.1.5' || ip.startsWith('127.'), random: scriptedRandom([]), recent: new RecentTable(), now: 0 });
    for (const uid of [1337, 1000]) {
      const p: Packet = { family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.96.5.20', sport: 40000, dport: 80, uid, ctstate: 'NEW', mark: 0 };
      const a = runHook(rs, 'OUTPUT', p, ctx());
      const b = runHookCompiled(compiled, 'OUTPUT', p, ctx());
      expect(view(b)).toEqual(view(a));
      expect(b.steps.some((st) => st.chain === 'ISTIO_REDIRECT')).toBe(uid !== 1337);
    }
  });

  it('IPVS mode (ipset matches)', () => {
    const ipvs = loadText(SEED + EXTRA, ['kubeProxy=ipvs']);
    const node = kubeProxyIpvs(ipvs, 'node-2', 4);
    check(ipvs, node.ruleset, 'node-2', node.ipsets);
  });

  it('indexes long chains: a 60-Service cluster still agrees, and skipped rules are counted', () => {
    const svcs = Array.from({ length: 60 }, (_, i) => `---
apiVersion: v1
kind: Service
metadata: { name: s${i}, namespace: default }
spec:
  clusterIP: 10.96.10.${i + 1}
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`).join('');
    const big = loadText(SEED + svcs);
    const { ruleset } = nodeIptablesRuleset(big, 'node-1', 4);
    check(big, ruleset, 'node-1', undefined, 200);
    // The last Service's rule sits deep in KUBE-SERVICES: the count includes every rule before it.
    const c = compileRuleset(ruleset);
    const p: Packet = { family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.96.10.60', sport: 40000, dport: 80, mark: 0, ctstate: 'NEW' };
    const ctx: EvalContext = { isLocal: () => false, random: scriptedRandom([true]) };
    const a = runHook(ruleset, 'PREROUTING', p, ctx);
    const b = runHookCompiled(c, 'PREROUTING', p, { ...ctx, random: scriptedRandom([true]) });
    expect(b.rulesEvaluated).toBe(a.rulesEvaluated);
    expect(a.rulesEvaluated).toBeGreaterThan(60);
  });

  it('memo keys leave out fields no rule reads (kube-proxy never matches source ports; without --random-fully no target reads them either)', () => {
    const c = compileRuleset(nodeIptablesRuleset(t, 'node-1', 4, { randomFully: false }).ruleset);
    expect(c.uses.sport).toBe(false);
    expect(c.uses.dport).toBe(true);
    expect(c.uses.random).toBe(true);
    const p: Packet = { family: 4, proto: 'udp', src: '10.244.1.5', dst: '10.96.0.10', sport: 53241, dport: 53, mark: 0, ctstate: 'NEW' };
    expect(hookKey(c, 'PREROUTING', p)).toBe(hookKey(c, 'PREROUTING', { ...p, sport: 47658 }));
    expect(hookKey(c, 'PREROUTING', p)).not.toBe(hookKey(c, 'PREROUTING', { ...p, dport: 54 }));
    // MASQUERADE --random-fully picks the port from the tuple: flagged, so memo users re-evaluate SNAT results, not keyed on ports.
    const rf = compileRuleset(nodeIptablesRuleset(t, 'node-1', 4).ruleset);
    expect(rf.uses.randomNat).toBe(true);
    expect(c.uses.randomNat).toBe(false);
    expect(rf.uses.sport).toBe(false);
  });

  it('MASQUERADE --random-fully rewrites the source port (kube-proxy\'s KUBE-POSTROUTING); without it the port is kept', () => {
    const run = (randomFully: boolean) => {
      const c = compileRuleset(nodeIptablesRuleset(t, 'node-1', 4, { randomFully }).ruleset);
      const p: Packet = { family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.244.2.8', sport: 40000, dport: 8080, mark: 0x4000, ctstate: 'NEW', outIface: 'eth0' };
      const ctx = { isLocal: () => false, masqueradeAddress: () => '10.0.1.5' };
      const compiled = runHookCompiled(c, 'POSTROUTING', p, ctx);
      expect(compiled).toEqual(runHook(c.source, 'POSTROUTING', p, ctx));
      return compiled;
    };
    const kept = run(false);
    expect(kept.nat[0]).toMatchObject({ kind: 'MASQUERADE', before: { ip: '10.244.1.5', port: 40000 }, after: { ip: '10.0.1.5', port: 40000 } });
    const rf = run(true);
    expect(rf.nat[0]).toMatchObject({ kind: 'MASQUERADE', before: { ip: '10.244.1.5', port: 40000 }, after: { ip: '10.0.1.5' } });
    const port = rf.nat[0].after.port!;
    expect(port).not.toBe(40000);
    expect(port).toBeGreaterThanOrEqual(1024);
    expect(port).toBeLessThanOrEqual(65535);
    expect(rf.notes.join(' ')).toMatch(/--random-fully.*1024–65535/);
  });

  it('random NAT ports stay in the kernel\'s ranges (privileged source ports stay privileged)', () => {
    for (let sport = 1; sport < 65536; sport += 97) {
      const port = randomNatPort({ proto: 'udp', src: '10.244.1.5', dst: '10.96.0.10', sport, dport: 53 }, '10.0.1.5');
      const [lo, hi] = sport < 512 ? [1, 511] : sport < 1024 ? [600, 1023] : [1024, 65535];
      expect(port, `source port ${sport}`).toBeGreaterThanOrEqual(lo);
      expect(port, `source port ${sport}`).toBeLessThanOrEqual(hi);
    }
  });
});
