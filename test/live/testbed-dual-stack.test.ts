// Live dual-stack suite: builds resources/samples/dual-stack.yaml on the local
// test-bed with both families (calico-vxlan, calico-bgp, flannel-vxlan), then
// sends real IPv6 traffic: a pod on node-1 pings and curls a pod on node-2 at
// its IPv6 address (through vxlan-v6.calico / BIRD's IPv6 routes /
// flannel-v6.1), curls the IPv6-only Service web-v6 through kube-proxy's
// ip6tables DNAT (conntrack -f ipv6 shows the translation), and asks the
// cluster DNS for AAAA records over the IPv6 kube-dns ClusterIP. A
// NetworkPolicy (web accepts app=web pods, and 8080 from node-1's IPv6 pod
// range and from the IPv4 cluster range) is programmed by the test-bed in
// ip6tables (felix's cali- chains, cali60 sets with family inet6) as well as
// iptables: the kernel drops the IPv6 connection the model denies (the
// cali-tw- DROP counter moves), passes the allowed ones (through the IPv6
// ipBlock and through the cali60s set) and passes the same pod's IPv4
// connection (the IPv4 block has no IPv6 counterpart); flannel enforces
// nothing. compare --via testbed finds no unexplained difference in node-1's
// IPv4 and IPv6 routes (node and pod namespaces), iptables and ip6tables
// (KUBE- and, for Calico, cali- chains), and the CNI results with both
// addresses; a deleted IPv6 route is named. The root namespace (ip -6 route,
// ip -6 addr included) is unchanged and down leaves nothing.
//
// Nothing is skipped: without root or a needed package every test fails with
// the reason. The test-bed is shared (fixed nl- names): the suite waits while
// another process has one up.

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../core/model';
import type { CheckName, NodeReport } from '../../core/compare';
import { buildCalicoDataplane, calicoInterfaceName } from '../../core/policy';
import { compareNode, NetnsRunner } from '../../electron/host/remote';
import { nodeNetns, podNetns, preflight, testbedDown, testbedUp, type TestbedState } from '../../electron/host/testbed';
import { leftovers, rootText, upKilledMidBuild, waitForFreeTestbed } from './testbed-helpers';

const execFileP = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const DUAL = join(ROOT, 'resources', 'samples', 'dual-stack.yaml');
const NETLAB = join(ROOT, 'bin', 'netlab.mjs');
/** host-local keeps each range's first host address as its gateway: start the pods at .2 / ::2. */
const SET = ['podIPOffset=2'];

/**
 * Ingress to the web pods: anything from app=web pods (cali40s/cali60s sets; no ports, so ping -6
 * between web pods passes), and 8080 from node-1's IPv6 pod range (an IPv6 ipBlock: ip6tables only)
 * and from the IPv4 cluster range (iptables only). Every request the other tests make (from a web
 * pod, and compare's probe from the kube-dns pod on node-1) stays allowed; the kube-dns pod on
 * node-2 may connect over IPv4 but not over IPv6.
 */
const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-ingress, namespace: default }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: { matchLabels: { app: web } }
    - from:
        - ipBlock: { cidr: "fd00:10:244:1::/64" }
        - ipBlock: { cidr: 10.244.0.0/16 }
      ports: [{ port: 8080 }]
`;

function load(set: string[]): Topology {
  const r = loadTopology([{ file: DUAL, text: readFileSync(DUAL, 'utf8') }, { file: 'web-ingress.yaml', text: POLICY }], { set });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.topology || errors.length) throw new Error(`dual-stack.yaml does not load: ${errors.map((d) => d.message).join('; ')}`);
  return r.topology;
}

async function inNs(ns: string, argv: string[], timeout = 15_000): Promise<{ stdout: string; stderr: string }> {
  return execFileP('ip', ['netns', 'exec', ns, ...argv], { maxBuffer: 16 * 1024 * 1024, timeout });
}

/** curl from a pod namespace; a connection that times out (exit 28) is a result, not an error. */
async function connect(ns: string, url: string): Promise<{ code: number; out: string }> {
  try {
    const r = await inNs(ns, ['curl', '-sS', '--connect-timeout', '2', '-m', '5', '-w', ' %{http_code}', url]);
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Lines of `ip6tables-save`/`iptables-save` output without counters and header comments. */
const ruleLines = (s: string): string[] => s.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/^\[\d+:\d+\] /, '').replace(/\[\d+:\d+\]$/, '[0:0]'));

/** `ipset list` blocks by name, the random initval masked and members sorted (the kernel lists them in hash order). */
function ipsetBlocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split(/\n\n+/).map((b) => b.trim()).filter(Boolean)) {
    const lines = block.split('\n');
    const at = lines.indexOf('Members:');
    const head = lines.slice(0, at + 1).map((l) => l.replace(/ initval 0x[0-9a-f]+/, ' initval <random>'));
    out.set(lines[0], [...head, ...lines.slice(at + 1).sort()].join('\n'));
  }
  return out;
}

function unexplained(r: NodeReport): { check: string; where?: string; explanation: string }[] {
  return r.checks.flatMap((c) => c.items.filter((i) => !i.explained).map((i) => ({ check: c.check, where: i.where, explanation: i.explanation })));
}

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope: string;
  tentative?: boolean;
  dadfailed?: boolean;
}

function addrs(ns: string, dev: string): AddrInfo[] {
  const j = JSON.parse(execFileSync('ip', ['-n', ns, '-6', '-j', 'addr', 'show', 'dev', dev]).toString()) as { addr_info: AddrInfo[] }[];
  return j.flatMap((l) => l.addr_info);
}

/**
 * Every mode runs the request checks. With flannel the client (CoreDNS) may get its own DNS queries back
 * through kube-dns, masqueraded to cni0's address, and a SYN bridged to a web pod on the same node may show
 * as `cni0 Out` before `veth… Out`; the model predicts and explains both.
 */
const CHECKS: CheckName[] = ['routes', 'rules', 'iptables', 'conntrack', 'tcpdump', 'dns', 'cni'];

describe.sequential('dual-stack test-bed (live): the IPv6 half of resources/samples/dual-stack.yaml', () => {
  beforeAll(async () => {
    preflight(load([...SET, 'cni=calico-bgp']));
    await waitForFreeTestbed();
    await testbedDown();
  }, 200_000);

  afterAll(async () => {
    await testbedDown();
  });

  for (const mode of ['calico-vxlan', 'calico-bgp', 'flannel-vxlan'] as const) {
    describe.sequential(mode, () => {
      const t = load([...SET, `cni=${mode}`]);
      const client = t.pods.find((p) => p.nodeName === 'node-1' && p.namespace === 'default')!;
      const server = t.pods.find((p) => p.nodeName === 'node-2' && p.namespace === 'default')!;
      const v6 = (ips: string[]) => ips.find((ip) => ip.includes(':'))!;
      const clientNs = podNetns(client.namespace, client.name);
      const webV6 = t.services.find((s) => s.namespace === 'default' && s.name === 'web-v6')!;
      const kubeDns = t.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns')!;
      let state: TestbedState;
      let before: ReturnType<typeof rootText>;
      let rootForwarding = '';

      it('testbed up builds both families: IPv6 node addresses, pods with both addresses from one CNI ADD', async () => {
        before = rootText();
        rootForwarding = readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim();
        const t0 = Date.now();
        state = await testbedUp(t);
        console.log(`[dual-stack ${mode}] up in ${Date.now() - t0} ms`);
        expect(state.phase).toBe('up');
        expect(state.families).toEqual([4, 6]);
        expect(state.warnings.filter((w) => /IPv6|dual-stack/.test(w))).toEqual([]);
        expect(state.nodes.map((n) => [n.name, n.ip6])).toEqual([
          ['node-1', 'fd00:10::1:5'],
          ['node-2', 'fd00:10::1:6'],
        ]);
        for (const p of state.pods) expect(p.ip6, `${p.namespace}/${p.name}`).toBe(v6(t.pods.find((x) => x.name === p.name)!.ips));
        const result = JSON.parse(readFileSync(state.pods.find((p) => p.name === client.name)!.cniResultPath!, 'utf8')) as { ips: { address: string }[] };
        expect(result.ips.map((i) => i.address.split('/')[0])).toEqual(client.ips);
      }, 120_000);

      it('addresses are usable at once (DAD off in the namespaces: nothing tentative); Calico pods have a /128, flannel pods a /64', () => {
        const eth0 = addrs(nodeNetns('node-1'), 'eth0');
        expect(eth0.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['fd00:10::1:5/64']);
        const pod = addrs(clientNs, 'eth0');
        expect(pod.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${v6(client.ips)}/${mode.startsWith('calico') ? 128 : 64}`]);
        for (const a of [...eth0, ...pod]) expect(a.tentative ?? false, a.local).toBe(false);
        // forwarding only inside the node namespaces
        expect(readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim()).toBe(rootForwarding);
        expect(execFileSync('ip', ['netns', 'exec', nodeNetns('node-1'), 'cat', '/proc/sys/net/ipv6/conf/all/forwarding']).toString().trim()).toBe('1');
        expect(execFileSync('ip', ['netns', 'exec', 'nl-net', 'cat', '/proc/sys/net/ipv6/conf/all/forwarding']).toString().trim()).toBe('0');
      });

      it('a pod on node-1 reaches a pod on node-2 over IPv6: ping -6 and curl http://[v6]:8080/', async () => {
        const dst = v6(server.ips);
        const ping = await inNs(clientNs, ['ping', '-6', '-c', '1', '-W', '3', dst]);
        expect(ping.stdout).toMatch(new RegExp(`64 bytes from ${dst.replace(/:/g, ':')}: icmp_seq=1`));
        const curl = await inNs(clientNs, ['curl', '-sS', '-m', '5', '-w', '%{http_code} %{remote_ip} %{local_ip}', `http://[${dst}]:8080/`]);
        expect(curl.stdout).toBe(`${server.name}\n200 ${dst} ${v6(client.ips)}`);
        // the pod's route to it: Calico's default via the host veth's link-local, flannel's via cni0's address
        const route = (await inNs(clientNs, ['ip', '-6', 'route', 'get', dst])).stdout;
        expect(route).toContain(mode.startsWith('calico') ? 'via fe80::ecee:eeff:feee:eeee dev eth0' : 'via fd00:10:244:1::1 dev eth0');
      });

      it('the IPv6-only Service web-v6 answers through kube-proxy\'s ip6tables DNAT (conntrack -f ipv6 shows the translation)', async () => {
        const vip = webV6.clusterIPs[0];
        expect(vip).toMatch(/^fd00:10:96::/);
        const backends = new Set(t.pods.filter((p) => p.labels.app === 'web').map((p) => v6(p.ips)));
        const r = await inNs(clientNs, ['curl', '-sS', '-m', '5', '-w', '%{http_code} %{remote_ip} %{local_port}', `http://[${vip}]/`]);
        const [body, status] = r.stdout.split('\n');
        const [code, remote, port] = status.split(' ');
        expect(code).toBe('200');
        expect(remote).toBe(vip);
        expect(t.pods.some((p) => p.name === body)).toBe(true);
        const ct = (await inNs(nodeNetns('node-1'), ['conntrack', '-L', '-f', 'ipv6', '-p', 'tcp', '--orig-dst', vip])).stdout;
        const line = ct.split('\n').find((l) => l.includes(`sport=${port} `));
        expect(line, ct).toBeDefined();
        const replySrc = /src=(\S+) dst=\S+ sport=8080/.exec(line!)?.[1];
        expect(backends.has(replySrc!), line).toBe(true);
        const save = (await inNs(nodeNetns('node-1'), ['ip6tables-save', '-t', 'nat'])).stdout;
        expect(save).toContain(`-A KUBE-SERVICES -d ${vip}/128 -p tcp -m comment --comment "default/web-v6:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-`);
      });

      it('the cluster DNS answers AAAA over the IPv6 kube-dns ClusterIP (dnsmasq in every kube-dns endpoint pod)', async () => {
        const dns6 = kubeDns.clusterIPs.find((ip) => ip.includes(':'))!;
        for (let i = 0; i < 4; i++) {
          const r = await inNs(clientNs, ['dig', '+short', '+tries=1', '+time=2', `@${dns6}`, 'AAAA', 'web-v6.default.svc.cluster.local']);
          expect(r.stdout.trim()).toBe(webV6.clusterIPs[0]);
        }
        const both = await inNs(clientNs, ['dig', '+short', '+tries=1', '+time=2', `@${dns6}`, 'AAAA', 'web.default.svc.cluster.local']);
        expect(both.stdout.trim()).toBe(t.services.find((s) => s.name === 'web')!.clusterIPs.find((ip) => ip.includes(':')));
      });

      const dnsPod = (node: string) => t.pods.find((p) => p.labels['k8s-app'] === 'kube-dns' && p.nodeName === node)!;
      const key = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;
      const v4addr = (ips: string[]) => ips.find((ip) => !ip.includes(':'))!;

      if (mode.startsWith('calico')) {
        /** Packets the "Drop if no policies passed packet" rule of the pod's cali-tw- chain dropped (ip6tables-save -c). */
        const dropped = async (pod: { namespace: string; name: string; nodeName: string }): Promise<number> => {
          const save = (await inNs(nodeNetns(pod.nodeName), ['ip6tables-save', '-c', '-t', 'filter'])).stdout;
          const tw = `cali-tw-${calicoInterfaceName(pod.namespace, pod.name)}`;
          const line = save.split('\n').find((l) => l.includes(`-A ${tw} `) && l.includes('Drop if no policies passed packet'));
          if (!line) throw new Error(`no policy DROP rule in ${tw} on ${pod.nodeName}:\n${save}`);
          return Number(/^\[(\d+):\d+\]/.exec(line)![1]);
        };

        it('NetworkPolicy over IPv6: the kernel drops the IPv6 connection the model denies and passes the allowed ones (IPv6 ipBlock, cali60s set), as core/policy\'s ip6tables walk says', async () => {
          const dp = buildCalicoDataplane(t);
          const dns1 = dnsPod('node-1');
          const dns2 = dnsPod('node-2');
          const attempts = [
            { from: dns2, to: server, family: 6 as const, why: 'node-2\'s kube-dns pod is in no peer of the IPv6 rules' },
            { from: dns2, to: server, family: 4 as const, why: 'the same pod over IPv4: 10.244.0.0/16 (iptables only)' },
            { from: dns1, to: server, family: 6 as const, why: 'ipBlock fd00:10:244:1::/64 (ip6tables only), across the nodes' },
            { from: server, to: client, family: 6 as const, why: 'app=web: the cali60s set (fd00:10:244:2::2 is outside the IPv6 block)' },
            { from: dns2, to: client, family: 6 as const, why: 'denied across the nodes, at node-1\'s cali-tw-' },
          ];
          const before = [await dropped(server), await dropped(client)];
          const results: { from: string; to: string; family: number; model: boolean; kernel: string }[] = [];
          for (const a of attempts) {
            const ip = a.family === 6 ? v6(a.to.ips) : v4addr(a.to.ips);
            const url = a.family === 6 ? `http://[${ip}]:8080/` : `http://${ip}:8080/`;
            const r = await connect(podNetns(a.from.namespace, a.from.name), url);
            const kernel = r.code === 0 && r.out === `${a.to.name}\n 200` ? 'allowed' : r.code === 28 ? 'timed out' : `curl exit ${r.code}: ${r.out}`;
            const model = dp.verdict({ from: key(a.from), to: key(a.to), port: 8080, protocol: 'TCP', family: a.family }).allowed;
            results.push({ from: key(a.from), to: key(a.to), family: a.family, model, kernel });
          }
          expect(results).toEqual([
            { from: key(dns2), to: key(server), family: 6, model: false, kernel: 'timed out' },
            { from: key(dns2), to: key(server), family: 4, model: true, kernel: 'allowed' },
            { from: key(dns1), to: key(server), family: 6, model: true, kernel: 'allowed' },
            { from: key(server), to: key(client), family: 6, model: true, kernel: 'allowed' },
            { from: key(dns2), to: key(client), family: 6, model: false, kernel: 'timed out' },
          ]);
          // ip6tables dropped them: the DROP rule of each destination's cali-tw- chain counted the SYNs
          const after = [await dropped(server), await dropped(client)];
          expect(after[0]).toBeGreaterThan(before[0]);
          expect(after[1]).toBeGreaterThan(before[1]);
          // the model's walk ends on that rule too
          const walk = dp.verdict({ from: key(dns2), to: key(server), port: 8080, protocol: 'TCP', family: 6 });
          expect(walk.hops.at(-1)!.trace.at(-1)).toMatch(new RegExp(`^-A cali-tw-${calicoInterfaceName(server.namespace, server.name)} .*Drop if no policies passed packet.* -j DROP$`));
          // ICMPv6 echo: the app=web rule has no ports (every protocol), the ipBlock rule TCP 8080 only
          const ping = async (from: typeof server): Promise<string> => {
            try {
              await inNs(podNetns(from.namespace, from.name), ['ping', '-6', '-c', '1', '-W', '2', v6(server.ips)]);
              return 'replied';
            } catch {
              return 'no reply';
            }
          };
          const echo = (from: typeof server): string =>
            dp.walk('node-2', 'FORWARD', { src: v6(from.ips), dst: v6(server.ips), proto: 'ipv6-icmp', icmpType: 128, dport: 0, in: 'eth0', out: calicoInterfaceName(server.namespace, server.name) }).verdict;
          expect([await ping(client), echo(client)]).toEqual(['replied', 'ACCEPT']);
          expect([await ping(dns1), echo(dns1)]).toEqual(['no reply', 'DROP']);
          // compare's policy check: nc -z from node-2's pods to every other pod, over IPv4 and IPv6, against the model
          const rep = await compareNode({ topology: t, node: 'node-2', runner: new NetnsRunner(nodeNetns('node-2'), { defaults: { allowProbe: true } }), via: 'testbed', checks: ['policy'], testbed: state });
          expect(unexplained(rep)).toEqual([]);
          const pol = rep.checks.find((c) => c.check === 'policy')!;
          expect(pol.summary).toMatch(/over IPv4 and IPv6\): the model allows \d+ and denies [1-9]\d*$/);
        }, 60_000);

        it('ip6tables-save and ipset list on node-2 hold the model\'s IPv6 policy data plane: the cali- chains line for line, the cali60 sets with family inet6', async () => {
          const dp = buildCalicoDataplane(t);
          const byChain = (save: string): Record<string, string[]> => {
            const out: Record<string, string[]> = {};
            for (const l of ruleLines(save)) {
              const m = /^(?::(cali-\S+) |-A (cali-\S+) )/.exec(l);
              if (m) (out[m[1] ?? m[2]] ??= []).push(l);
            }
            return out;
          };
          const real6 = (await inNs(nodeNetns('node-2'), ['ip6tables-save', '-t', 'filter'])).stdout;
          const real4 = (await inNs(nodeNetns('node-2'), ['iptables-save', '-t', 'filter'])).stdout;
          const model6 = dp.iptablesSave('node-2', undefined, 6, ['filter']);
          expect(Object.keys(byChain(model6)).length).toBeGreaterThan(15);
          expect(byChain(real6)).toEqual(byChain(model6));
          expect(byChain(real4)).toEqual(byChain(dp.iptablesSave('node-2', undefined, 4, ['filter'])));
          // the IPv6 block is in ip6tables only, the IPv4 block in iptables only
          expect(real6).toMatch(/^-A cali-pi-\S+ -s fd00:10:244:1::\/64 -p tcp .*--dports 8080 -j MARK --set-xmark 0x10000\/0x10000$/m);
          expect(real6).not.toContain('10.244.0.0/16');
          expect(real4).toMatch(/^-A cali-pi-\S+ -s 10\.244\.0\.0\/16 -p tcp /m);
          expect(real4).not.toContain('fd00:10:244:1::/64');
          expect(real6).toMatch(/^-A cali-wl-to-host -p ipv6-icmp -m comment --comment "cali:\S+" -m icmp6 --icmpv6-type 133 -j ACCEPT$/m);
          // ipset list: the model's sets of both families, with the kernel's headers and members
          const sets = ipsetBlocks((await inNs(nodeNetns('node-2'), ['ipset', 'list'])).stdout);
          const model = new Map([...ipsetBlocks(dp.ipsetList('node-2', 6)), ...ipsetBlocks(dp.ipsetList('node-2', 4))]);
          expect([...model.keys()].sort()).toEqual([...sets.keys()].sort());
          for (const [name, block] of model) expect(sets.get(name), name).toBe(block);
          const six = [...sets.values()].filter((b) => b.includes('family inet6'));
          expect(six.length).toBeGreaterThan(0);
          expect(six.every((b) => /^Name: cali60([sn]:|all-vxlan-net\n|(all|masq)-ipam-pools\n)/.test(b))).toBe(true); // selector/named-port sets, felix's VXLAN tunnel-source set and its natOutgoing pool sets
          const webs6 = t.pods.filter((p) => p.labels.app === 'web').map((p) => v6(p.ips)).sort();
          expect(six.some((b) => b.endsWith(`Members:\n${webs6.join('\n')}`))).toBe(true);
        });
      } else {
        it('flannel enforces no NetworkPolicy: the IPv6 connection the policy denies passes, ip6tables has no cali- chains', async () => {
          const dns2 = dnsPod('node-2');
          const r = await connect(podNetns(dns2.namespace, dns2.name), `http://[${v6(server.ips)}]:8080/`);
          expect(r).toEqual({ code: 0, out: `${server.name}\n 200` });
          expect((await inNs(nodeNetns('node-2'), ['ip6tables-save', '-t', 'filter'])).stdout).not.toContain('cali-');
        });
      }

      it('compare via testbed: node-1\'s IPv4 and IPv6 routes (node and pod namespaces) and ip rules, iptables and ip6tables, a request (conntrack, tcpdump, DNS), CNI results: no unexplained difference', async () => {
        const checks = CHECKS;
        const report = await compareNode({ topology: t, node: 'node-1', runner: new NetnsRunner(nodeNetns('node-1'), { defaults: { allowProbe: true } }), via: 'testbed', checks, testbed: state });
        expect(report.skipped ?? []).toEqual([]);
        expect(report.checks.map((c) => c.check)).toEqual(checks);
        expect(unexplained(report)).toEqual([]);
        if (checks.includes('conntrack')) {
          // the probe asks for web (A and AAAA): the dual-stack client connects to its IPv6 ClusterIP, as the model says
          expect(report.checks.find((c) => c.check === 'conntrack')!.notes?.join(' ')).toMatch(/curl web\.default\.svc\.cluster\.local:80 .*exit 0, 200 fd00:10:96::b /);
          expect(report.checks.find((c) => c.check === 'tcpdump')!.summary).not.toMatch(/: 0 packets/);
          // and web-v4 (A only) over IPv4
          const v4 = await compareNode({ topology: t, node: 'node-1', runner: new NetnsRunner(nodeNetns('node-1'), { defaults: { allowProbe: true } }), via: 'testbed', checks: ['conntrack', 'tcpdump', 'dns'], testbed: state, probe: { host: 'web-v4.default.svc.cluster.local', port: 80 } });
          expect(unexplained(v4)).toEqual([]);
          expect(v4.checks.find((c) => c.check === 'conntrack')!.notes?.join(' ')).toMatch(/curl web-v4\.default\.svc\.cluster\.local:80 .*exit 0, 200 10\.96\./);
        }
        const routes = report.checks.find((c) => c.check === 'routes')!;
        expect(routes.summary).toMatch(/\(table main, IPv6\)/);
        expect(routes.summary).toMatch(/IPv4 and IPv6 routes of 3 pod namespace\(s\)/);
        const iptables = report.checks.find((c) => c.check === 'iptables')!;
        expect(iptables.summary).toMatch(/IPv6 \(ip6tables-save\): \d+ chains compared/);
        // Calico: felix's IPv6 chains are compared too (the policy chains with the IPv6 ipBlock, the cali60 sets' rules)
        if (mode.startsWith('calico')) expect(iptables.summary).toMatch(/IPv6 \(ip6tables-save\): \d+ chains compared \(KUBE-, cali- and/);
        expect(report.checks.find((c) => c.check === 'cni')!.status).toBe('match');
        if (mode === 'calico-bgp') {
          // BIRD 2's kernel metric; nothing else
          expect(routes.items.length).toBeGreaterThan(0);
          expect(routes.items.every((i) => /metric (0|1024) → 32/.test(i.explanation))).toBe(true);
          expect(routes.items.some((i) => (i.where ?? '').includes('fd00:10:244:2::/122'))).toBe(true);
        }
        if (mode === 'calico-vxlan') expect(routes.status).toBe('match');
      }, 60_000);

      if (mode === 'calico-vxlan') {
        it('an IPv6 route deleted with ip -6 route del is named, with the route that now catches its traffic', async () => {
          execFileSync('ip', ['-n', nodeNetns('node-1'), '-6', 'route', 'del', 'fd00:10:244:2::/122']);
          const report = await compareNode({ topology: t, node: 'node-1', runner: new NetnsRunner(nodeNetns('node-1')), via: 'testbed', checks: ['routes'], testbed: state });
          expect(unexplained(report)).toEqual([
            {
              check: 'routes',
              where: 'main fd00:10:244:2::/122',
              explanation: 'the route `fd00:10:244:2::/122 via fd00:10:244:2:: dev vxlan-v6.calico metric 1024 onlink pref medium` is missing on the node; on the node, packets to fd00:10:244:2:: now follow `default via fd00:10::1 dev eth0`',
            },
          ]);
        });
      }

      it('left the root namespace untouched (ip route, ip -6 route, ip addr, ip -6 addr identical)', () => {
        expect(rootText()).toEqual(before);
      });

      it('down removes every namespace, process and file', async () => {
        const t0 = Date.now();
        const r = await testbedDown();
        console.log(`[dual-stack ${mode}] down in ${Date.now() - t0} ms`);
        expect(r.leftovers).toEqual([]);
        expect(r.namespaces.length).toBe(1 + 2 + 5);
        expect(leftovers()).toEqual([]);
        expect(rootText()).toEqual(before);
      });
    });
  }

  it('cleans up after a dual-stack `netlab testbed up` (calico-bgp) is killed with SIGKILL mid-build; IPv6 routes and addresses of the root namespace unchanged', async () => {
    const before = rootText();
    // Killed at step 8 (the servers): BIRD with its IPv6 sessions and dnsmasq already run.
    await upKilledMidBuild(NETLAB, ROOT, [DUAL, ...SET.flatMap((x) => ['--set', x]), '--set', 'cni=calico-bgp']);
    expect(execFileSync('ip', ['netns', 'list']).toString()).toMatch(/nl-n-node-1/);
    expect(execFileSync('ip', ['-n', 'nl-n-node-1', '-6', 'addr', 'show', 'dev', 'eth0']).toString()).toContain('fd00:10::1:5/64');
    expect(leftovers().some((l) => l.startsWith('process'))).toBe(true);
    const down = await execFileP(process.execPath, [NETLAB, 'testbed', 'down'], { cwd: ROOT });
    expect(down.stdout).toMatch(/^removed \d+ namespaces, stopped \d+ processes/);
    expect(leftovers()).toEqual([]);
    expect(rootText()).toEqual(before);
  }, 90_000);
});
