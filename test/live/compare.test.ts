// Live model-vs-real suite: builds the seed topology on the local test-bed
// (calico-bgp, then calico-vxlan), sends a real request, and compares every
// node-1 check with the model — through `ip netns exec` and once through
// SSH to the node's sshd (host key checked against a fresh known_hosts).
// With flannel-vxlan every node's request checks are compared: a request
// across flannel.1 (printed by tcpdump 4.99 as OTV on UDP 8472) and pods
// reaching themselves through their Service (masqueraded to cni0's address).
// Then breaks node-1 on purpose (a route deleted with `ip route del`, a
// KUBE-SEP DNAT rule deleted with `iptables -t nat -D`) and expects compare
// to name exactly what was removed. Finally the three-tier policies:
// real nc -z attempts between every pod pair on the policy ports agree with
// the model, and an ACCEPT rule inserted on purpose shows up.
//
// Nothing is skipped: without root or a needed package every test fails with
// the reason. The test-bed is shared (fixed nl- names): the suite waits while
// another process has one up, and runs with the other live suites serially
// (npm run test:live).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../core/model';
import { tokenizeRuleLine } from '../../core/dataplane';
import type { CheckName, CheckResult, NodeReport } from '../../core/compare';
import { main } from '../../cli/netlab';
import { CommandRejected, compareNode, connectSsh, NetnsRunner, type SshRunner } from '../../electron/host/remote';
import { nodeNetns, podNetns, preflight, testbedDown, testbedUp, type TestbedState } from '../../electron/host/testbed';
import { waitForFreeTestbed } from './testbed-helpers';

const ROOT = resolve(__dirname, '..', '..');
const SEED = join(ROOT, 'resources', 'samples', 'seed.yaml');
const THREE_TIER = join(ROOT, 'resources', 'samples', 'three-tier.yaml');
/**
 * three-tier.yaml leaves pod IPs to IPAM, which (Calico IPAM) hands out the
 * blocks' first addresses (10.244.1.0, .1 …); the test-bed wires pods with
 * host-local, which never assigns a subnet's network address. Start at .2 as
 * host-local does.
 */
const THREE_TIER_SET = ['podIPOffset=2'];

function load(file: string, set: string[]): Topology {
  const r = loadTopology([{ file, text: readFileSync(file, 'utf8') }], { set });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.topology || errors.length) throw new Error(`${file} does not load: ${errors.map((d) => d.message).join('; ')}`);
  return r.topology;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t), cwd: ROOT });
  return { code, out, err };
}

/** What the test-bed built (its state's namespaces and files) that is still there, plus its run directory. */
function leftovers(built: { netns: string[]; files: string[] }): string[] {
  const out: string[] = [];
  const present = new Set(execFileSync('ip', ['netns', 'list']).toString().split('\n').map((l) => l.split(' ')[0]));
  for (const ns of built.netns) if (present.has(ns)) out.push(`netns ${ns}`);
  for (const f of built.files) if (existsSync(f)) out.push(f);
  if (existsSync('/run/netlab')) out.push('/run/netlab exists');
  if (existsSync('/etc/netns')) for (const f of readdirSync('/etc/netns')) if (built.netns.includes(f)) out.push(`/etc/netns/${f}`);
  return out;
}

function unexplained(r: NodeReport, checks?: CheckName[]): { check: string; where?: string; explanation: string }[] {
  return r.checks
    .filter((c) => !checks || checks.includes(c.check))
    .flatMap((c) => c.items.filter((i) => !i.explained).map((i) => ({ check: c.check, where: i.where, explanation: i.explanation })));
}

function check(r: NodeReport, name: CheckName): CheckResult {
  const c = r.checks.find((x) => x.check === name);
  if (!c) throw new Error(`no ${name} check in the report (skipped: ${JSON.stringify(r.skipped)})`);
  return c;
}

const FULL: CheckName[] = ['routes', 'rules', 'iptables', 'conntrack', 'tcpdump', 'dns', 'cni'];

describe.sequential('compare: model vs the live test-bed', () => {
  let tmp: string;
  beforeAll(async () => {
    // fails every test, with the reason, when not root or a package (sshd, bird, dnsmasq, CNI plugins…) is missing
    preflight(load(SEED, ['cni=calico-bgp']));
    await waitForFreeTestbed();
    tmp = mkdtempSync(join(tmpdir(), 'netlab-compare-live-'));
  }, 200_000);

  afterAll(async () => {
    await testbedDown();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const mode of ['calico-bgp', 'calico-vxlan'] as const) {
    describe.sequential(mode, () => {
      const t = load(SEED, [`cni=${mode}`]);
      let state: TestbedState;

      it('testbed up', async () => {
        state = await testbedUp(t);
        expect(state.phase).toBe('up');
        expect(state.mode).toBe(mode);
      }, 120_000);

      it('a real curl from pod A to http://backend.default.svc.cluster.local succeeds', async () => {
        const pod = new NetnsRunner(podNetns('default', 'pod-a'), { defaults: { allowProbe: true } });
        const r = await pod.run(['curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code} %{remote_ip}', 'http://backend.default.svc.cluster.local/']);
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('200 10.96.5.20');
      });

      it('compare via testbed: no unexplained difference in routes, ip rules, iptables, conntrack, tcpdump, DNS; CNI results match', async () => {
        const report = await compareNode({ topology: t, node: 'node-1', runner: new NetnsRunner(nodeNetns('node-1'), { defaults: { allowProbe: true } }), via: 'testbed', checks: FULL, testbed: state });
        expect(report.skipped ?? []).toEqual([]);
        expect(report.checks.map((c) => c.check)).toEqual(FULL);
        expect(unexplained(report)).toEqual([]);
        for (const c of report.checks) expect(c.compared, c.check).toBeGreaterThan(0);
        // the request really happened and was compared (not an empty capture or table)
        expect(check(report, 'tcpdump').summary).not.toMatch(/: 0 packets/);
        expect(check(report, 'conntrack').notes?.join(' ')).toMatch(/exit 0, 200 10\.96\.5\.20/);
        expect(check(report, 'cni').status).toBe('match');
        expect(check(report, 'cni').compared).toBeGreaterThanOrEqual(3 * 10);
        expect(check(report, 'dns').status).toBe('match');
        if (mode === 'calico-bgp') expect(check(report, 'routes').items.every((i) => /metric 0 → 32/.test(i.explanation))).toBe(true);
      }, 60_000);

      it('compare via ssh://root@127.0.0.1:<forwarded port>: the host key is asked for, then the same result', async () => {
        const n1 = state.nodes.find((n) => n.name === 'node-1')!;
        expect(n1.sshPort).toBeGreaterThan(0);
        const kh = join(tmp, `known_hosts-${mode}`);
        const base = { host: '127.0.0.1', port: n1.sshPort!, user: 'root', knownHostsPath: kh, privateKeyPath: state.clientKey!, agent: false as const, defaults: { allowProbe: true } };
        const first = await connectSsh(base);
        expect(first.status).toBe('host-key-unknown');
        expect(first.hostKey.fingerprint).toBe(n1.hostKeyFingerprint);
        const ok = await connectSsh({ ...base, acceptHostKey: first.hostKey.fingerprint });
        expect(ok.status).toBe('connected');
        const runner = (ok as { runner: SshRunner }).runner;
        try {
          const report = await compareNode({ topology: t, node: 'node-1', runner, checks: FULL, testbed: state });
          expect(report.via).toBe(`ssh://root@127.0.0.1:${n1.sshPort}`);
          expect(report.skipped ?? []).toEqual([]);
          expect(unexplained(report)).toEqual([]);
          expect(check(report, 'conntrack').notes?.join(' ')).toMatch(/exit 0, 200 10\.96\.5\.20/);
        } finally {
          await runner.close();
        }
        // the CLI over the same path, JSON, exit 0
        const r = await cli(['compare', SEED, '--set', `cni=${mode}`, '--node', 'node-1', '--via', `ssh://root@127.0.0.1:${n1.sshPort}`, '--known-hosts', kh, '--check', 'routes,iptables,cni', '--json']);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        const json = JSON.parse(r.out) as NodeReport;
        expect(json.node).toBe('node-1');
        expect(json.checks.map((c) => c.check)).toEqual(['routes', 'iptables', 'cni']);
      }, 60_000);

      it('a route deleted with ip route del shows up as the missing route, named', async () => {
        const node = new NetnsRunner(nodeNetns('node-1'));
        const victim = mode === 'calico-bgp' ? '10.244.1.6' : '10.244.3.0/26';
        // read-only by default: the runner refuses without the confirmation
        await expect(node.run(['ip', 'route', 'del', victim])).rejects.toBeInstanceOf(CommandRejected);
        const del = await node.run(['ip', 'route', 'del', victim], { allowWrite: true });
        expect(del.code).toBe(0);
        const report = await compareNode({ topology: t, node: 'node-1', runner: node, checks: ['routes'], testbed: state });
        const bad = unexplained(report);
        expect(bad).toHaveLength(1);
        const item = check(report, 'routes').items.find((i) => !i.explained)!;
        expect(item.kind).toBe('missing');
        if (mode === 'calico-bgp') {
          expect(item.model).toBe('10.244.1.6 dev cali2f5353dd8c5 scope link');
          expect(item.explanation).toContain('blackhole 10.244.1.0/26');
        } else {
          expect(item.model).toBe('10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink');
          expect(item.explanation).toContain('default via 10.0.0.1 dev eth0');
        }
        await node.run(mode === 'calico-bgp' ? ['ip', 'route', 'add', '10.244.1.6', 'dev', 'cali2f5353dd8c5', 'scope', 'link'] : ['ip', 'route', 'add', '10.244.3.0/26', 'via', '10.244.3.0', 'dev', 'vxlan.calico', 'onlink'], { allowWrite: true });
      }, 30_000);

      it('a KUBE-SEP rule removed with iptables -t nat -D shows up as the missing rule, named', async () => {
        const node = new NetnsRunner(nodeNetns('node-1'));
        const save = (await node.run(['iptables-save', '-t', 'nat'])).stdout;
        const line = save.split('\n').find((l) => l.startsWith('-A KUBE-SEP-') && l.includes('--to-destination 10.244.2.8:8080'));
        expect(line, 'the DNAT rule of backend-1 in iptables-save').toBeTruthy();
        const args = tokenizeRuleLine(line!).map((x) => x.text);
        const chain = args[1];
        const del = ['iptables', '-t', 'nat', '-D', ...args.slice(1)];
        await expect(node.run(del)).rejects.toBeInstanceOf(CommandRejected);
        expect((await node.run(del, { allowWrite: true })).code).toBe(0);
        const report = await compareNode({ topology: t, node: 'node-1', runner: node, checks: ['iptables'], testbed: state });
        const items = check(report, 'iptables').items;
        expect(items).toHaveLength(1);
        expect(items[0]).toMatchObject({ kind: 'missing', where: `nat ${chain}`, explained: false });
        expect(items[0].model).toMatch(/-j DNAT --to-destination 10\.244\.2\.8:8080$/);
        expect(items[0].explanation).toContain('no longer DNATed to 10.244.2.8:8080');
        // the CLI exits 1 and names it too
        const r = await cli(['compare', SEED, '--set', `cni=${mode}`, '--node', 'node-1', '--via', 'testbed', '--check', 'iptables', '--brief']);
        expect(r.code).toBe(1);
        expect(r.out).toContain(`- -A ${chain} -p tcp -m comment --comment "default/backend:http" -m tcp -j DNAT --to-destination 10.244.2.8:8080`);
        expect(r.out).toContain('result: unexplained differences (exit 1)');
      }, 30_000);

      it('testbed down leaves nothing', async () => {
        const built = { netns: [...state.netns], files: [...state.files] };
        expect(built.netns.length).toBeGreaterThan(6);
        await testbedDown();
        expect(leftovers(built)).toEqual([]);
      }, 60_000);
    });
  }

  describe.sequential('flannel-vxlan: every node\'s request checks', () => {
    const t = load(SEED, ['cni=flannel-vxlan']);
    let state: TestbedState;

    it('testbed up', async () => {
      state = await testbedUp(t);
      expect(state.phase).toBe('up');
      expect(state.mode).toBe('flannel-vxlan');
    }, 120_000);

    // node-1: pod-a's request crosses flannel.1 (tcpdump 4.99 prints UDP 8472 as OTV); node-2: CoreDNS's own
    // queries to kube-dns hairpin back to it and are masqueraded to cni0's address; node-3: backend-2 may be
    // DNATed to itself (bridged back out of its own port, hairpinMode).
    it('compare via testbed on node-1, node-2 and node-3: no unexplained difference in routes, iptables, conntrack, tcpdump, DNS, CNI results', async () => {
      for (const node of ['node-1', 'node-2', 'node-3']) {
        const report = await compareNode({ topology: t, node, runner: new NetnsRunner(nodeNetns(node), { defaults: { allowProbe: true } }), via: 'testbed', checks: FULL, testbed: state });
        expect(report.skipped ?? [], node).toEqual([]);
        expect(report.checks.map((c) => c.check)).toEqual(FULL);
        expect(unexplained(report), node).toEqual([]);
        expect(check(report, 'conntrack').notes?.join(' '), node).toMatch(/exit 0, 200 10\.96\.5\.20/);
        expect(check(report, 'tcpdump').summary, node).not.toMatch(/: 0 packets/);
        if (node === 'node-1') {
          // 8 DNS questions, the SYN to the ClusterIP, the SYN after DNAT and the flannel.1 outer header (VNI 1, UDP 8472)
          expect(check(report, 'tcpdump').compared).toBe(8 + 3);
        }
      }
      // the hairpin really happened on node-2 and the kernel masqueraded it to cni0's address, as the model says
      const ct = await new NetnsRunner(nodeNetns('node-2')).run(['conntrack', '-L', '-p', 'udp', '--orig-dst', '10.96.0.10']);
      expect(ct.stdout).toMatch(/src=10\.244\.2\.15 dst=10\.96\.0\.10 sport=\d+ dport=53 src=10\.244\.2\.15 dst=10\.244\.2\.1 sport=53/);
    }, 120_000);

    it('testbed down leaves nothing', async () => {
      const built = { netns: [...state.netns], files: [...state.files] };
      await testbedDown();
      expect(leftovers(built)).toEqual([]);
    }, 60_000);
  });

  describe.sequential('three-tier NetworkPolicies (resources/samples/three-tier.yaml)', () => {
    const t = load(THREE_TIER, THREE_TIER_SET);
    let state: TestbedState;

    it('testbed up', async () => {
      state = await testbedUp(t);
      expect(state.phase).toBe('up');
      expect(state.pods.length).toBe(t.pods.length);
    }, 120_000);

    it('real connection attempts between every pod pair on the policy ports give the model\'s verdict for every pair', async () => {
      const reports: NodeReport[] = [];
      for (const n of t.nodes) {
        reports.push(await compareNode({ topology: t, node: n.name, runner: new NetnsRunner(nodeNetns(n.name), { defaults: { allowProbe: true } }), checks: ['policy'], testbed: state }));
      }
      const pods = t.pods.filter((p) => !p.hostNetwork).length;
      const attempts = reports.reduce((s, r) => s + check(r, 'policy').compared, 0);
      // every ordered pair of distinct pods, on TCP 80, 8080 and 5432
      expect(attempts).toBe(pods * (pods - 1) * 3);
      for (const r of reports) expect(unexplained(r), r.node).toEqual([]);
      const allowed = reports.reduce((s, r) => s + Number(/allows (\d+)/.exec(check(r, 'policy').summary)![1]), 0);
      expect(allowed).toBeGreaterThan(0);
      expect(allowed).toBeLessThan(attempts);
    }, 120_000);

    it('an ACCEPT inserted on purpose before the policy chains shows up as pairs the model denies', async () => {
      const db = t.pods.find((p) => p.name === 'database-0')!;
      const node = new NetnsRunner(nodeNetns(db.nodeName));
      expect((await node.run(['iptables', '-I', 'FORWARD', '1', '-d', `${db.ips[0]}/32`, '-p', 'tcp', '--dport', '5432', '-j', 'ACCEPT'], { allowWrite: true })).code).toBe(0);
      // ingress-nginx (node-1) has no egress policy: only the database's ingress rule (backends only) denied it
      const ing = t.pods.find((p) => p.name.startsWith('ingress-nginx-controller'))!;
      expect(ing.nodeName).toBe('node-1');
      const report = await compareNode({ topology: t, node: 'node-1', runner: new NetnsRunner(nodeNetns('node-1'), { defaults: { allowProbe: true } }), checks: ['policy'], testbed: state });
      const bad = check(report, 'policy').items.filter((i) => !i.explained);
      expect(bad.map((i) => i.where)).toEqual([`ingress-nginx/${ing.name} → production/database-0 tcp/5432`]);
      expect(bad[0]).toMatchObject({ model: 'denied', real: 'allowed (connected)' });
      expect(bad[0].explanation).toMatch(/the model denies it, the node let it through/);
      const ipt = await compareNode({ topology: t, node: db.nodeName, runner: node, checks: ['iptables'], testbed: state });
      // a rule into no KUBE-/cali- chain: outside the compared chains, counted in a note
      expect(check(ipt, 'iptables').notes?.join(' ')).toMatch(/1 node rule\(s\) outside/);
    }, 60_000);

    it('testbed down leaves nothing', async () => {
      const built = { netns: [...state.netns], files: [...state.files] };
      expect(built.netns.length).toBeGreaterThan(8);
      await testbedDown();
      expect(leftovers(built)).toEqual([]);
    }, 60_000);
  });
});
