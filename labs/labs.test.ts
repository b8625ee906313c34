// Every lab of labs/: it loads without errors, its own answer scores 100%,
// its starting state scores less, and wrong answers of every task kind are
// rejected by the check that should catch them (table-driven).

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradeLab, gradeTask, type LabInstance, type LoadedLab, type Submission, type TaskResult } from '../core/labs';
import { loadTopology, serializeTopology } from '../core/model';
import { LABS_DIR, loadLibrary, readLabsDir } from '../electron/host/labs/library';
import { gradersFor } from './graders';

const library = loadLibrary();
const byId = new Map(library.map((e) => [e.bundle.id, e]));

function lab(id: string): LoadedLab {
  const e = byId.get(id);
  if (!e?.lab) throw new Error(`lab ${id} did not load: ${e?.diagnostics.map((d) => d.message).join('; ')}`);
  return e.lab;
}

async function task(inst: LabInstance, taskId: string, sub: Submission): Promise<TaskResult> {
  return gradeTask(inst, taskId, sub, { graders: gradersFor(inst.lab.def.id) });
}

/** The lab's answer submission with one task's typed answer replaced. */
function withAnswer(inst: LabInstance, taskId: string, value: unknown): Submission {
  return { ...inst.answer, answers: { ...inst.answer.answers, [taskId]: value as never } };
}

/** The starting topology with extra manifests appended / documents edited. */
function studentTopology(inst: LabInstance, edit: (yaml: string) => string, set: string[] = []): Submission {
  // The YAML the student starts from (what the UI loads into the editor).
  const text = edit(inst.startYaml);
  const r = loadTopology({ file: 'student.yaml', text }, { set });
  if (!r.topology) throw new Error(`student topology does not load: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return { topology: [{ file: 'student.yaml', text: serializeTopology(r.topology) }] };
}

function answerTopology(inst: LabInstance): string {
  return inst.answer.topology![0].text;
}

function failed(r: TaskResult): string[] {
  return r.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id);
}

describe('the lab library', () => {
  it('holds at least 16 labs, one per part of the seed, all valid', () => {
    expect(library.length).toBeGreaterThanOrEqual(16);
    for (const e of library) {
      const errors = e.diagnostics.filter((d) => d.severity === 'error');
      expect(errors, `${e.bundle.id}: ${errors.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`).join('; ')}`).toEqual([]);
      expect(e.lab, e.bundle.id).not.toBeNull();
    }
    const kinds = new Set(library.flatMap((e) => e.lab!.def.tasks.map((t) => t.kind)));
    expect([...kinds].sort()).toEqual(['build', 'fix', 'live', 'predict', 'trace']);
  });

  it('reads the folder names as lab ids', () => {
    expect(readLabsDir(LABS_DIR).map((b) => b.id)).toEqual(library.map((e) => e.bundle.id));
    for (const e of library) expect(e.lab!.def.id).toBe(e.bundle.id);
  });
});

describe.each(library.map((e) => e.bundle.id))('lab %s', (id) => {
  let inst: LabInstance;
  beforeAll(() => {
    inst = lab(id).instance();
  });

  it('scores 100% with its own answer', async () => {
    const r = await gradeLab(inst, inst.answer, { graders: gradersFor(id) });
    const notFull = r.tasks.filter((t) => !t.skipped && t.score < 1).map((t) => `${t.taskId}: ${t.feedback.join(' | ')}`);
    expect(notFull).toEqual([]);
    expect(r.percent).toBe(100);
    // Only live tasks may be left ungraded offline.
    expect(r.tasks.filter((t) => t.skipped).map((t) => t.kind).every((k) => k === 'live')).toBe(true);
  });

  it('scores less from its starting state, and every build/fix/trace task bites', async () => {
    const r = await gradeLab(inst, {}, { graders: gradersFor(id) });
    expect(r.percent).toBeLessThan(100);
    for (const t of r.tasks) {
      if (t.skipped) continue;
      if (['build', 'fix', 'trace'].includes(t.kind)) expect(t.score, `${id}/${t.taskId} passes from the start`).toBeLessThan(1);
    }
  });

  it('feedback for one task never shows another task\'s expected values', async () => {
    const answers = inst.answer.answers ?? {};
    const wrong: Submission = { answers: Object.fromEntries(Object.keys(answers).map((k) => [k, 'wrong'])) };
    const r = await gradeLab(inst, wrong, { graders: gradersFor(id) });
    for (const t of r.tasks) {
      for (const c of t.checks) {
        for (const d of c.diffs ?? []) {
          if (d.expected === undefined) continue;
          for (const [other, v] of Object.entries(answers)) {
            if (other === t.taskId || typeof v !== 'string' || v.length < 8) continue;
            expect(d.expected.includes(v), `${id}: task ${t.taskId} shows the answer of ${other}`).toBe(false);
          }
        }
      }
    }
  });
});

describe('build: wrong answers are rejected by the right check', () => {
  const policy = (ns: string, name: string, spec: string) => `\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}`;
  const denyAll = policy('shop', 'deny', '  podSelector: {}\n  policyTypes: [Ingress, Egress]\n');
  const fe2be = policy('shop', 'fe', '  podSelector: {matchLabels: {app: frontend}}\n  policyTypes: [Egress]\n  egress: [{to: [{podSelector: {matchLabels: {app: backend}}}], ports: [{protocol: TCP, port: 8080}]}]\n') + policy('shop', 'be', '  podSelector: {matchLabels: {app: backend}}\n  policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{protocol: TCP, port: 8080}]}]\n');
  const seedDns = policy('shop', 'dns', '  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{namespaceSelector: {matchLabels: {name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{protocol: UDP, port: 53}]}]\n');
  const anyDns = policy('shop', 'dns', '  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]\n');
  const udpOnlyDns = policy('shop', 'dns', '  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{protocol: UDP, port: 53}]}]\n');
  const ingressOnly = policy('shop', 'be', '  podSelector: {matchLabels: {app: backend}}\n  policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{protocol: TCP, port: 8080}]}]\n');

  it.each([
    ['default-deny-dns', 'default-deny', 'ingress only', ingressOnly, ['ingress-isolated', 'egress-isolated']],
    ['default-deny-dns', 'allow-frontend-backend', 'deny all, nothing opened', denyAll, ['only-frontend']],
    ['default-deny-dns', 'allow-frontend-backend', 'ingress rule without the egress rule', denyAll + ingressOnly, ['only-frontend']],
    ['default-deny-dns', 'dns', 'the seed\'s name: kube-system selector', denyAll + fe2be + seedDns, ['frontend-resolves', 'backend-resolves', 'dns-over-tcp']],
    ['default-deny-dns', 'dns', 'DNS to anywhere', denyAll + fe2be + anyDns, ['no-public-dns']],
    ['default-deny-dns', 'dns', 'UDP only', denyAll + fe2be + udpOnlyDns, ['dns-over-tcp']],
    ['default-deny-dns', 'dns', 'DNS fixed by deleting the deny', fe2be, ['deny-kept']],
  ])('%s/%s: %s', async (id, taskId, _what, extra, expected) => {
    const inst = lab(id).instance();
    const r = await task(inst, taskId, studentTopology(inst, (y) => y + extra));
    for (const c of expected) expect(failed(r), `${c} should fail`).toContain(c);
    expect(r.score).toBeLessThan(1);
  });

  it.each([
    ['vxlan-mtu', 'switch-vxlan', 'VXLAN without fixing the MTU: the trap', ['cni=calico-vxlan'], ['full-size-fits']],
    ['vxlan-mtu', 'switch-vxlan', 'VXLAN only across subnets (all nodes share one)', ['cni=calico-vxlan-crosssubnet', 'cni.mtu=1450'], ['vxlan-between-nodes']],
    ['vxlan-mtu', 'switch-vxlan', 'IPIP instead', ['cni=calico-ipip', 'cni.mtu=1480'], ['vxlan-between-nodes']],
    ['choose-cni', 'choose', 'Calico VXLAN: no L7', ['cni=calico-vxlan'], ['l7']],
    ['choose-cni', 'choose', 'Cilium native routing: needs routable pod IPs', ['cni=cilium-native'], ['udp-tunnel']],
    ['choose-cni', 'choose', 'Flannel VXLAN', ['cni=flannel-vxlan'], ['l7']],
    ['dns-ndots', 'fewer-queries', 'ndots 2 still searches api.github.com', ['ndots=3'], ['two-queries']],
    ['kubeproxy-ipvs-scale', 'switch-ipvs', 'IPVS with rr', ['kubeProxy=ipvs'], ['lc']],
    ['reply-path-rnat', 'masquerade', 'no masquerade', ['kubeProxy.masqueradeAll=false'], ['masquerade-all', 'snat-on-node-1']],
  ])('%s/%s: %s', async (id, taskId, _what, set, expected) => {
    const inst = lab(id).instance();
    const r = await task(inst, taskId, { ...studentTopology(inst, (y) => y, set), answers: inst.answer.answers });
    for (const c of expected) expect(failed(r), `${c} should fail`).toContain(c);
  });

  it('egress-ipblock: an ipBlock without except, and a policy on every pod', async () => {
    const inst = lab('egress-ipblock').instance();
    const noExcept = await task(inst, 'whitelist', { topology: [{ file: 'a.yaml', text: answerTopology(inst).replace(/\n\s*except:\n\s*- 52\.45\.67\.128\/25/, '') }] });
    expect(failed(noExcept)).toEqual(['management-blocked']);
    const everyPod = await task(inst, 'whitelist', { topology: [{ file: 'a.yaml', text: answerTopology(inst).replace(/podSelector:\n\s*matchLabels:\n\s*app: payment-service/, 'podSelector: {}') }] });
    expect(failed(everyPod)).toEqual(['reporting-untouched']);
  });

  it('cilium-l7: the seed\'s header regex, and a rule without the header', async () => {
    const inst = lab('cilium-l7').instance();
    const seed = await task(inst, 'fix-orders', {});
    expect(failed(seed)).toEqual(['token-accepted']);
    const noHeader = await task(inst, 'fix-orders', { topology: [{ file: 'a.yaml', text: answerTopology(inst).replace(/\n\s*headers:\n\s*- Authorization/, '') }] });
    expect(failed(noHeader)).toEqual(['no-token-denied']);
  });

  it('three-tier: deleting every policy passes DNS but not least privilege', async () => {
    const inst = lab('three-tier').instance();
    const t = loadTopology({ file: 's', text: inst.startYaml }).topology!;
    t.networkPolicies = [];
    const r = await task(inst, 'fix', { topology: [{ file: 'open.yaml', text: serializeTopology(t) }] });
    expect(failed(r)).toEqual(expect.arrayContaining(['ingress-to-frontend', 'frontend-to-backend', 'backend-to-database', 'database-no-internet', 'matrix']));
    expect(failed(r)).not.toContain('dns-everywhere');
  });

  it('ipam-planning: a plan inside the partner VPC, and one too small', async () => {
    const inst = lab('ipam-planning').instance();
    const overlap = await task(inst, 'replan', studentTopology(inst, (y) => y, ['clusterCIDR=10.244.0.0/15']));
    expect(overlap.checks[0].message).toMatch(/overlaps the reserved range 10\.240\.0\.0\/13/);
    expect(overlap.score).toBeGreaterThan(0);
    expect(overlap.score).toBeLessThan(1);
    const tooSmall = await task(inst, 'replan', studentTopology(inst, (y) => y, ['clusterCIDR=10.128.0.0/16']));
    expect(tooSmall.checks[0].message).toMatch(/only 256 node pod CIDRs/);
  });
});

describe('fix: symptoms gone and nothing else broken', () => {
  it('calico-bgp-routes: the right route fixes it; a wrong next hop or a removed route does not', async () => {
    const inst = lab('calico-bgp-routes').instance();
    const ok = await task(inst, 'restore-route', { commands: { 'node-1': ['ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0'] } });
    expect(ok.score).toBe(1);
    const viaGw = await task(inst, 'restore-route', { commands: { 'node-1': ['ip route add 10.244.3.0/26 via 10.0.1.6 dev eth0'] } });
    expect(failed(viaGw)).toContain('symptom-gone');
    const broke = await task(inst, 'restore-route', { commands: { 'node-1': ['ip route add 10.244.3.0/26 via 10.0.1.7', 'ip route del 10.244.2.0/26'] } });
    expect(failed(broke)).toEqual(['nothing-else']);
    const bad = await task(inst, 'restore-route', { commands: { 'node-1': ['route add -net 10.244.3.0/26 gw 10.0.1.7'] } });
    expect(bad.score).toBe(0);
    expect(bad.checks[0].message).toMatch(/only ip route and ip link commands/);
    const refused = await task(inst, 'restore-route', { commands: { 'node-1': ['ip route add 10.244.3.0/26 via 10.0.1.7 dev eth9'] } });
    expect(refused.feedback.join('\n')).toMatch(/Cannot find device "eth9"/);
  });

  it('troubleshoot-random: every fault of the pool shows up over the seeds, and each seed\'s answer repairs it', async () => {
    const l = lab('troubleshoot-random');
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40 && seen.size < 8; seed++) {
      const inst = l.instance(seed);
      const type = inst.faults[0].spec.type;
      if (seen.has(type)) continue;
      seen.add(type);
      const good = await gradeLab(inst, inst.answer, { graders: {} });
      expect(good.percent, `seed ${seed} (${type})`).toBe(100);
      const start = await task(inst, 'fix', {});
      expect(failed(start), `seed ${seed} (${type})`).toContain('symptoms-gone');
      // Naming another fault class is wrong.
      const wrong = await task(inst, 'diagnose', { answers: { diagnose: type === 'delete-route' ? 'wrong-mtu' : 'delete-route' } });
      expect(wrong.score).toBe(0);
    }
    expect([...seen].sort()).toEqual(['delete-route', 'drop-dns-egress', 'link-mtu', 'pod-label', 'pod-not-ready', 'service-selector', 'wrong-mtu', 'wrong-target-port']);
  });

  it('troubleshoot-random is reproducible per seed', () => {
    const l = lab('troubleshoot-random');
    const a = l.instance(7);
    const b = loadLibrary().find((e) => e.bundle.id === 'troubleshoot-random')!.lab!.instance(7);
    expect(b.faults.map((f) => f.description)).toEqual(a.faults.map((f) => f.description));
    expect(b.startYaml).toBe(a.startYaml);
    expect(b.start.changes).toEqual(a.start.changes);
  });

  it('troubleshoot-random: a wrong-mtu fault fixed by removing the tunnel instead is caught', async () => {
    const l = lab('troubleshoot-random');
    let seed = 1;
    while (l.instance(seed).faults[0].spec.type !== 'wrong-mtu') seed++;
    const inst = l.instance(seed);
    const r = await task(inst, 'fix', studentTopology(inst, (y) => y, ['cni=calico-bgp']));
    expect(failed(r)).toContain('nothing-else');
  });
});

describe('predict: tolerant of harmless differences, precise about the rest', () => {
  it('conntrack: field order, timeout, the ephemeral port and flags do not matter; the reply source does', async () => {
    const inst = lab('service-lb-conntrack').instance();
    const model = String(inst.answer.answers!.conntrack);
    expect(model).toMatch(/^tcp +6 \d+ ESTABLISHED src=10\.244\.1\.5 dst=10\.96\.5\.20 sport=52345 dport=80 src=10\.244\.2\.8 dst=10\.244\.1\.5 sport=8080 dport=52345 \[ASSURED\] mark=0 use=1$/);
    const reordered = 'tcp 6 86399 ESTABLISHED dst=10.96.5.20 src=10.244.1.5 dport=80 sport=40001  src=10.244.2.8 dst=10.244.1.5 dport=40001 sport=8080   ';
    expect((await task(inst, 'conntrack', withAnswer(inst, 'conntrack', reordered))).score).toBe(1);
    const seedStyle = 'src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 src=10.96.5.20 dst=10.244.1.5 sport=80 dport=52345';
    const r = await task(inst, 'conntrack', withAnswer(inst, 'conntrack', seedStyle));
    expect(r.checks[0].message).toMatch(/^your conntrack entry's (protocol|reply tuple src) is wrong/);
    expect(r.checks[0].diffs!.map((d) => d.field)).toEqual(expect.arrayContaining(['reply tuple src', 'reply tuple sport']));
    expect(r.checks[0].diffs!.find((d) => d.field === 'reply tuple src')).toEqual({ field: 'reply tuple src', got: '10.96.5.20', expected: '10.244.2.8' });
    const mismatchedPorts = 'tcp 6 1 ESTABLISHED src=10.244.1.5 dst=10.96.5.20 sport=1111 dport=80 src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=2222';
    expect(failed(await task(inst, 'conntrack', withAnswer(inst, 'conntrack', mismatchedPorts)))).toEqual(['predict-1']);
  });

  it('exam mode names the field but hides the expected value', async () => {
    const inst = lab('service-lb-conntrack').instance();
    const r = await gradeTask(inst, 'conntrack', withAnswer(inst, 'conntrack', 'tcp 6 1 ESTABLISHED src=10.244.1.5 dst=10.96.5.20 sport=1 dport=80 src=10.96.5.20 dst=10.244.1.5 sport=80 dport=1'), { exam: true });
    expect(r.checks[0].diffs!.every((d) => d.expected === undefined)).toBe(true);
    expect(JSON.stringify(r)).not.toContain('10.244.2.8');
  });

  it('probabilities: 10 or 11 decimals, one per line or comma-separated', async () => {
    const inst = lab('service-lb-conntrack').instance();
    for (const good of ['0.33333333333\n0.50000000000', '0.3333333333, 0.5', ' 0.3333333333 \n0.5000000000 \n']) expect((await task(inst, 'probabilities', withAnswer(inst, 'probabilities', good))).score, good).toBe(1);
    for (const bad of ['0.3333333333', '0.5\n0.3333333333', '0.33\n0.5', '0.3333333333\n0.5\n1']) expect((await task(inst, 'probabilities', withAnswer(inst, 'probabilities', bad))).score, bad).toBeLessThan(1);
  });

  it('iptables rule: quoting, option order and /32 do not matter; the target does', async () => {
    const inst = lab('service-lb-conntrack').instance();
    const saveForm = '-A KUBE-SEP-VRC24LD4YC7V7GAR -p tcp -m comment --comment "default/backend:http" -m tcp -j DNAT --to-destination 10.244.2.8:8080';
    const model = String(inst.answer.answers!['dnat-rule']);
    expect(model).toMatch(/^-A KUBE-SEP-\w{16} -m comment --comment default\/backend:http -m tcp -p tcp -j DNAT --to-destination 10\.244\.2\.8:8080$/);
    const chain = /^-A (\S+)/.exec(model)![1];
    expect((await task(inst, 'dnat-rule', withAnswer(inst, 'dnat-rule', saveForm.replace('KUBE-SEP-VRC24LD4YC7V7GAR', chain)))).score).toBe(1);
    const wrongTarget = await task(inst, 'dnat-rule', withAnswer(inst, 'dnat-rule', model.replace('10.244.2.8:8080', '10.96.5.20:80')));
    expect(wrongTarget.checks[0].diffs).toEqual([{ field: '--to-destination', got: '10.96.5.20:80', expected: '10.244.2.8:8080' }]);
  });

  it('routes: proto and metric are ignored, the prefix is not; ip route get output is accepted', async () => {
    const inst = lab('calico-bgp-routes').instance();
    for (const good of ['10.244.2.0/26 via 10.0.1.6 dev eth0', '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird metric 32 ', '10.244.2.8 via 10.0.1.6 dev eth0 src 10.0.1.5 uid 0\n    cache'])
      expect((await task(inst, 'remote-block', withAnswer(inst, 'remote-block', good))).score, good).toBe(1);
    const seed = await task(inst, 'remote-block', withAnswer(inst, 'remote-block', '10.244.2.0/24 via 10.0.1.6 dev eth0'));
    expect(seed.checks[0].diffs).toEqual([{ field: 'destination', got: '10.244.2.0/24', expected: '10.244.2.0/26' }]);
    const wrongDev = await task(inst, 'remote-block', withAnswer(inst, 'remote-block', '10.244.2.0/26 via 10.0.1.6 dev tunl0 onlink'));
    expect(wrongDev.checks[0].diffs!.map((d) => d.field)).toEqual(['device (dev)', 'onlink flag']);
  });

  it('DNS queries: trailing dots, case and A/AAAA pairs as names; a missing search step is caught', async () => {
    const inst = lab('dns-ndots').instance();
    const names = ['backend.default.svc.cluster.local.default.svc.cluster.local', 'backend.default.svc.cluster.local.svc.cluster.local', 'backend.default.svc.cluster.local.cluster.local', 'backend.default.svc.cluster.local'];
    expect((await task(inst, 'fqdn-queries', withAnswer(inst, 'fqdn-queries', names.map((n) => n.toUpperCase()).join('\n')))).score).toBe(1);
    expect((await task(inst, 'fqdn-queries', withAnswer(inst, 'fqdn-queries', names.flatMap((n) => [`A? ${n}.`, `AAAA? ${n}.`]).join('\n')))).score).toBe(1);
    const seedAnswer = await task(inst, 'fqdn-queries', withAnswer(inst, 'fqdn-queries', 'backend.default.svc.cluster.local'));
    expect(seedAnswer.checks[0].diffs![0]).toEqual({ field: 'query 1', got: 'backend.default.svc.cluster.local.', expected: 'backend.default.svc.cluster.local.default.svc.cluster.local.' });
    const onlyA = await task(inst, 'fqdn-queries', withAnswer(inst, 'fqdn-queries', names.map((n) => `A? ${n}`).join('\n')));
    expect(onlyA.score).toBeLessThan(1);
  });

  it('chains, numbers, choices and mapped answers', async () => {
    const lb = lab('service-lb-conntrack').instance();
    const chains = String(lb.answer.answers!.chains);
    expect(chains).toMatch(/^PREROUTING -> KUBE-SERVICES -> KUBE-SVC-\w{16} -> KUBE-SEP-\w{16}$/);
    expect((await task(lb, 'chains', withAnswer(lb, 'chains', chains.toLowerCase().replace(/ -> /g, ' → ').replace('prerouting', 'nat:PREROUTING')))).score).toBe(1);
    expect((await task(lb, 'chains', withAnswer(lb, 'chains', 'PREROUTING -> KUBE-SVC-BACKEND -> KUBE-SEP-1'))).score).toBeLessThan(1);
    expect((await task(lb, 'share', withAnswer(lb, 'share', '0.333'))).score).toBe(1);
    expect((await task(lb, 'share', withAnswer(lb, 'share', '0.5'))).score).toBe(0);
    const cni = lab('cni-add').instance();
    expect((await task(cni, 'who-creates-netns', withAnswer(cni, 'who-creates-netns', 'b'))).score).toBe(1);
    expect((await task(cni, 'who-creates-netns', withAnswer(cni, 'who-creates-netns', 'the CNI plugin'))).score).toBe(0);
    const seedResult = await task(cni, 'cni-result', withAnswer(cni, 'cni-result', { cniVersion: '0.4.0', address: '10.244.1.5/24' }));
    expect(seedResult.checks.map((c) => c.passed)).toEqual([false, false]);
    expect(seedResult.score).toBe(0);
    const half = await task(cni, 'cni-result', withAnswer(cni, 'cni-result', { cniVersion: '0.3.1', address: '10.244.1.5/24' }));
    expect(half.score).toBeCloseTo(1 / 3, 3);
    const tt = lab('three-tier').instance();
    expect((await task(tt, 'dns-as-written', withAnswer(tt, 'dns-as-written', 'yes'))).score).toBe(0);
    expect((await task(tt, 'dns-as-written', withAnswer(tt, 'dns-as-written', 'No'))).score).toBe(1);
  });

  it('graders: steady-state entries within 2%, the dmesg line with its timestamp', async () => {
    const inst = lab('conntrack-full').instance();
    expect((await task(inst, 'steady-entries', withAnswer(inst, 'steady-entries', '5,950'))).score).toBe(1);
    expect((await task(inst, 'steady-entries', withAnswer(inst, 'steady-entries', 1500))).score).toBe(0);
    expect((await task(inst, 'dmesg', withAnswer(inst, 'dmesg', '[12345.678901] nf_conntrack: nf_conntrack: table full, dropping packet'))).score).toBe(1);
    expect((await task(inst, 'dmesg', withAnswer(inst, 'dmesg', 'nf_conntrack: table overflow'))).score).toBe(0);
    const huge = await task(inst, 'no-drops', studentTopology(inst, (y) => y, ['conntrackMax=4000000']));
    expect(huge.score).toBe(0.5);
    const small = await task(inst, 'no-drops', studentTopology(inst, (y) => y, ['conntrackMax=5000']));
    expect(small.score).toBeGreaterThan(0);
    expect(small.score).toBeLessThan(1);
    expect(small.checks[0].message).toMatch(/still drops new connections/);
  });
});

describe('trace: path checks on the packet walk', () => {
  it('vxlan-mtu: BGP does not use vxlan.calico; VXLAN does', async () => {
    const inst = lab('vxlan-mtu').instance();
    const bgp = await task(inst, 'vxlan-path', {});
    expect(bgp.checks[0].message).toMatch(/hop 1 of 3 is not reached/);
    const vx = await task(inst, 'vxlan-path', studentTopology(inst, (y) => y, ['cni=calico-vxlan', 'cni.mtu=1450']));
    expect(vx.score).toBe(1);
    const flannel = await task(inst, 'vxlan-path', studentTopology(inst, (y) => y, ['cni=flannel-vxlan']));
    expect(flannel.score).toBe(0);
  });
});

describe('live: checks through a LiveRunner', () => {
  const runner = (outputs: Record<string, { exitCode: number; stdout: string; stderr?: string; timedOut?: boolean }>) => ({
    calls: [] as string[],
    async run(target: string, argv: string[]) {
      this.calls.push(`${target} ${argv.join(' ')}`);
      const o = outputs[`${target} ${argv.join(' ')}`] ?? { exitCode: 127, stdout: '', stderr: 'not found' };
      return { stderr: '', ...o };
    },
    describe: () => 'a fake runner',
  });

  it('cni-add: the pod routes of the model pass; the seed\'s /24 wiring fails', async () => {
    const inst = lab('cni-add').instance();
    const good = runner({ 'pod:default/pod-a ip route show': { exitCode: 0, stdout: 'default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link \n' } });
    const r = await gradeTask(inst, 'live-pod-routes', {}, { live: good });
    expect(r.score).toBe(1);
    expect(good.calls).toEqual(['pod:default/pod-a ip route show']);
    const bridge = runner({ 'pod:default/pod-a ip route show': { exitCode: 0, stdout: 'default via 10.244.1.1 dev eth0 \n10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.5 \n' } });
    const b = await gradeTask(inst, 'live-pod-routes', {}, { live: bridge });
    expect(b.score).toBe(0);
    expect(b.checks[0].message).toMatch(/has no route default via 169\.254\.1\.1 dev eth0/);
  });

  it('calico-bgp-routes: BIRD\'s route in the test-bed, a failing command and a timeout', async () => {
    const inst = lab('calico-bgp-routes').instance();
    const key = 'node:node-1 ip route show proto bird';
    const ok = await gradeTask(inst, 'live-bird', {}, { live: runner({ [key]: { exitCode: 0, stdout: '10.244.2.0/24 via 10.0.1.6 dev eth0 proto bird metric 32 \n' } }) });
    expect(ok.score).toBe(1);
    const none = await gradeTask(inst, 'live-bird', {}, { live: runner({ [key]: { exitCode: 0, stdout: '' } }) });
    expect(none.checks[0].message).toMatch(/does not match what is required/);
    const down = await gradeTask(inst, 'live-bird', {}, { live: runner({ [key]: { exitCode: 1, stdout: '', stderr: 'Cannot open network namespace "nl-n-node-1"' } }) });
    expect(down.checks[0].message).toMatch(/exited with 1 \(Cannot open network namespace/);
    const slow = await gradeTask(inst, 'live-bird', {}, { live: runner({ [key]: { exitCode: 124, stdout: '', timedOut: true } }) });
    expect(slow.checks[0].message).toMatch(/did not finish in time/);
  });
});

describe('lab files', () => {
  it('every referenced file exists in its folder', () => {
    for (const e of library) {
      const text = readFileSync(join(LABS_DIR, e.bundle.id, 'lab.yaml'), 'utf8');
      for (const m of text.matchAll(/\b(?:file|add): \[?([\w./-]+\.ya?ml)/g)) expect(e.bundle.files[m[1]], `${e.bundle.id}: ${m[1]}`).toBeDefined();
    }
  });
});
