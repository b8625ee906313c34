// Live test-bed suite: builds the seed topology in network namespaces (as
// root, with the real CNI plugins, BIRD, VXLAN, iptables, dnsmasq, sshd),
// sends a real request, captures what the real tools print and parses it,
// checks the root namespace is untouched and that down removes everything,
// also after the CLI was killed with SIGKILL mid-`up`.
//
// Nothing is skipped: without root or a needed package every test fails with
// the reason. Set NETLAB_UPDATE_FIXTURES=1 to (re)write the parser fixtures
// under core/parse/fixtures/<mode>/ from this run.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../core/model';
import {
  parseBridgeFdb,
  parseBridgeFdbJson,
  parseConntrack,
  parseIpAddr,
  parseIpAddrJson,
  parseIpLink,
  parseIpLinkJson,
  parseIpNeigh,
  parseIpNeighJson,
  parseIpRoute,
  parseIpRouteJson,
  parseIpsetList,
  parseTcpdump,
  type TcpdumpPacket,
} from '../../core/parse';
import {
  type StepEvent,
  type TestbedState,
  preflight,
  testbedDown,
  testbedExec,
  testbedStatus,
  testbedUp,
} from '../../electron/host/testbed';
import { leftovers, rootText, upKilledMidBuild } from './testbed-helpers';

const execFileP = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const NETLAB = join(ROOT, 'bin', 'netlab.mjs');
const FIXTURES = join(ROOT, 'core', 'parse', 'fixtures');
const UPDATE = process.env.NETLAB_UPDATE_FIXTURES === '1';

/** A policy so that the Calico data plane has real ipsets and policy chains: backends accept only app=client on 8080. */
const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-from-client
  namespace: default
spec:
  podSelector:
    matchLabels: { app: backend }
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels: { app: client }
      ports:
        - { protocol: TCP, port: 8080 }
`;

function topology(mode: string): Topology {
  const seed = readFileSync(join(ROOT, 'resources', 'samples', 'seed.yaml'), 'utf8');
  const r = loadTopology(
    [
      { file: 'seed.yaml', text: seed },
      { file: 'policy.yaml', text: POLICY },
    ],
    { set: [`cni=${mode}`] },
  );
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.topology || errors.length) throw new Error(`seed topology does not load: ${errors.map((d) => d.message).join('; ')}`);
  return r.topology;
}

async function inNs(ns: string, argv: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileP('ip', ['netns', 'exec', ns, ...argv], { maxBuffer: 64 * 1024 * 1024 });
}

/** Starts tcpdump in a namespace; resolves once it listens; stop() ends it and returns what it printed. */
async function tcpdump(ns: string, args: string[]): Promise<{ stop: () => Promise<{ stdout: string; stderr: string }> }> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-n', '-l', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`tcpdump did not start: ${stderr}`)), 5000);
    child.stderr.on('data', () => {
      if (stderr.includes('listening on')) {
        clearTimeout(t);
        res();
      }
    });
  });
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      await closed;
      return { stdout, stderr };
    },
  };
}

function fixture(mode: string, name: string, text: string): void {
  if (!UPDATE) return;
  const dir = join(FIXTURES, mode);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
}

function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function sshExec(port: number, keyPath: string, expectFp: string, command: string): Promise<string> {
  return new Promise((resolveP, reject) => {
    const c = new Client();
    let seenFp = '';
    c.on('ready', () => {
      c.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('close', () => {
          c.end();
          resolveP(out);
        });
      });
    });
    c.on('error', (e) => reject(new Error(`${e.message} (host key seen: ${seenFp || 'none'})`)));
    c.connect({
      host: '127.0.0.1',
      port,
      username: 'root',
      privateKey: readFileSync(keyPath),
      hostVerifier: (key: Buffer) => {
        seenFp = sshFingerprint(key);
        return seenFp === expectFp;
      },
      readyTimeout: 10_000,
    });
  });
}

describe.sequential('local test-bed (live: root, real plugins)', () => {
  beforeAll(async () => {
    // fails every test of the suite, with the reason, when not root or a package is missing
    preflight(topology('calico-bgp'));
    await testbedDown();
  });

  afterAll(async () => {
    await testbedDown();
  });

  for (const mode of ['calico-bgp', 'calico-vxlan'] as const) {
    describe.sequential(mode, () => {
      let state: TestbedState;
      let before: ReturnType<typeof rootText>;
      const steps: StepEvent[] = [];
      let upMs = 0;

      beforeAll(async () => {
        before = rootText();
        const t0 = Date.now();
        state = await testbedUp(topology(mode), { onStep: (e) => steps.push(e) });
        upMs = Date.now() - t0;
      });

      it('comes up step by step, all processes running', () => {
        expect(state.phase).toBe('up');
        expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        expect(steps.every((s) => s.total === 11)).toBe(true);
        const st = testbedStatus();
        expect(st.up).toBe(true);
        expect(st.nodes.map((n) => [n.name, n.ip, n.present])).toEqual([
          ['node-1', '10.0.1.5', true],
          ['node-2', '10.0.1.6', true],
          ['node-3', '10.0.1.7', true],
        ]);
        expect(st.nodes.every((n) => /^127\.0\.0\.1:\d+$/.test(n.ssh ?? '') && /^SHA256:[A-Za-z0-9+/]{43}$/.test(n.hostKeyFingerprint ?? ''))).toBe(true);
        expect(st.pods.map((p) => p.pod)).toContain('default/pod-a');
        expect(st.processes.filter((p) => !p.running)).toEqual([]);
        console.log(`[${mode}] up in ${upMs} ms; steps: ${JSON.stringify(state.timings)}`);
      });

      it('refuses a second up while this one is up', async () => {
        await expect(testbedUp(topology(mode))).rejects.toMatchObject({ code: 'already-up' });
        expect(testbedStatus().up).toBe(true);
      });

      it('runs commands in a pod or node through `netlab testbed exec`, with the pod\'s host name', async () => {
        const r = await execFileP(process.execPath, [NETLAB, 'testbed', 'exec', 'default/pod-a', '--', 'sh', '-c', 'hostname; ip -4 -br addr show eth0'], { cwd: ROOT });
        expect(r.stdout).toMatch(/^pod-a\neth0@if\d+ +UP +10\.244\.1\.5\/32 \n$/);
        const n = await execFileP(process.execPath, [NETLAB, 'testbed', 'exec', 'node-2', '--', 'hostname'], { cwd: ROOT });
        expect(n.stdout).toBe('node-2\n');
        const bad = await execFileP(process.execPath, [NETLAB, 'testbed', 'exec', 'default/nope', '--', 'true'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
        expect(bad).toMatchObject({ code: 1 });
        expect(bad.stderr).toMatch(/no node or pod "default\/nope" in the test-bed/);
        const st = JSON.parse((await execFileP(process.execPath, [NETLAB, 'testbed', 'status', '--json'], { cwd: ROOT })).stdout) as { up: boolean; mode: string };
        expect(st).toMatchObject({ up: true, mode });
      });

      it('a real curl from pod A reaches backend.default.svc.cluster.local (DNS via kube-dns DNAT, then the Service DNAT)', async () => {
        const r = await testbedExec('default/pod-a', ['curl', '-sS', '-m', '5', '-D', '-', 'http://backend.default.svc.cluster.local']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(r.stdout).toMatch(/X-Netlab-Pod: default\/backend-[12]\r\n/);
      });

      it('the policy is enforced for real: pod-b (app=worker) cannot reach the backends, pod-a can', async () => {
        const a = await testbedExec('default/pod-a', ['curl', '-sS', '-m', '3', 'http://10.244.2.8:8080']);
        expect(a.stdout).toBe('backend-1\n');
        const b = await testbedExec('default/pod-b', ['curl', '-sS', '-m', '2', 'http://10.244.2.8:8080']);
        expect(b.code).not.toBe(0);
        expect(b.stderr).toMatch(/timed out/i);
      });

      it('captures ip route / ip -j route / ip addr / ip link / ip neigh / bridge fdb on node-1 and parses them cleanly', async () => {
        const ns = 'nl-n-node-1';
        const route = (await inNs(ns, ['ip', 'route'])).stdout;
        const routeJ = (await inNs(ns, ['ip', '-j', 'route'])).stdout;
        const addr = (await inNs(ns, ['ip', 'addr'])).stdout;
        const addrJ = (await inNs(ns, ['ip', '-j', 'addr'])).stdout;
        const link = (await inNs(ns, ['ip', '-s', '-s', '-d', 'link'])).stdout;
        const linkJ = (await inNs(ns, ['ip', '-j', '-s', '-s', '-d', 'link'])).stdout;
        const neigh = (await inNs(ns, ['ip', 'neigh'])).stdout;
        const neighJ = (await inNs(ns, ['ip', '-j', 'neigh'])).stdout;
        const fdb = (await inNs(ns, ['bridge', 'fdb', 'show'])).stdout;
        const fdbJ = (await inNs(ns, ['bridge', '-j', 'fdb', 'show'])).stdout;
        const podRoute = (await inNs('nl-p-default-pod-a', ['ip', 'route'])).stdout;
        const podAddr = (await inNs('nl-p-default-pod-a', ['ip', 'addr'])).stdout;
        for (const [name, text] of Object.entries({ route, routeJ, addr, addrJ, link, linkJ, neigh, neighJ, fdb, fdbJ, podRoute, podAddr })) {
          const file = { route: 'ip-route.txt', routeJ: 'ip-j-route.json', addr: 'ip-addr.txt', addrJ: 'ip-j-addr.json', link: 'ip-s-s-d-link.txt', linkJ: 'ip-j-s-s-d-link.json', neigh: 'ip-neigh.txt', neighJ: 'ip-j-neigh.json', fdb: 'bridge-fdb.txt', fdbJ: 'bridge-j-fdb.json', podRoute: 'pod-a-ip-route.txt', podAddr: 'pod-a-ip-addr.txt' }[name]!;
          fixture(mode, file, text);
        }
        const rt = parseIpRoute(route);
        const rj = parseIpRouteJson(routeJ);
        expect(rt.diagnostics).toEqual([]);
        expect(rj.diagnostics).toEqual([]);
        expect(rt.records.map((r) => r.dst)).toEqual(rj.records.map((r) => r.dst));
        const dsts = rt.records.map((r) => [r.type, r.dst, r.gateway, r.dev, r.protocol, ...r.flags].filter(Boolean).join(' '));
        if (mode === 'calico-bgp') {
          expect(dsts).toContain('blackhole 10.244.1.0/26 bird');
          expect(dsts).toContain('unicast 10.244.2.0/26 10.0.1.6 eth0 bird');
          expect(rt.records.find((r) => r.dst === '10.244.2.0/26')?.metric).toBe(32);
        } else {
          expect(dsts).toContain('blackhole 10.244.1.0/26 80');
          expect(dsts).toContain('unicast 10.244.2.0/26 10.244.2.0 vxlan.calico onlink');
        }
        expect(dsts).toContain('unicast 10.244.1.5 cali5e1c4d6c68c');
        expect(parseIpAddr(addr).diagnostics).toEqual([]);
        expect(parseIpAddrJson(addrJ).diagnostics).toEqual([]);
        const links = parseIpLink(link);
        expect(links.diagnostics).toEqual([]);
        expect(parseIpLinkJson(linkJ).diagnostics).toEqual([]);
        const cali = links.records.find((l) => l.ifname === 'cali5e1c4d6c68c');
        expect(cali).toMatchObject({ address: 'ee:ee:ee:ee:ee:ee', link_netns: 'nl-p-default-pod-a' });
        expect(cali?.stats64?.rx.packets).toBeGreaterThan(0);
        if (mode === 'calico-vxlan') {
          const vx = links.records.find((l) => l.ifname === 'vxlan.calico');
          expect(vx?.linkinfo).toMatchObject({ kind: 'vxlan', data: { id: 4096, local: '10.0.1.5', dstport: 4789, nolearning: true } });
          expect(vx?.mtu).toBe(1450);
          const nb = parseIpNeigh(neigh);
          expect(nb.diagnostics).toEqual([]);
          expect(nb.records.filter((n) => n.dev === 'vxlan.calico').map((n) => [n.dst, n.state])).toEqual(
            expect.arrayContaining([
              ['10.244.2.0', ['PERMANENT']],
              ['10.244.3.0', ['PERMANENT']],
            ]),
          );
          const fd = parseBridgeFdb(fdb);
          expect(fd.diagnostics).toEqual([]);
          expect(fd.records.filter((f) => f.ifname === 'vxlan.calico').map((f) => f.dst).sort()).toEqual(['10.0.1.6', '10.0.1.7']);
        }
        expect(parseIpNeighJson(neighJ).diagnostics).toEqual([]);
        expect(parseBridgeFdbJson(fdbJ).diagnostics).toEqual([]);
        const pr = parseIpRoute(podRoute);
        expect(pr.records.map((r) => [r.dst, r.gateway, r.scope])).toEqual([
          ['default', '169.254.1.1', undefined],
          ['169.254.1.1', undefined, 'link'],
        ]);
        expect(parseIpAddr(podAddr).records.find((l) => l.ifname === 'eth0')?.addr_info[0]).toMatchObject({ local: '10.244.1.5', prefixlen: 32 });
      });

      it('captures tcpdump on node-1 eth0 and in pod A during a request, and conntrack -L after it', async () => {
        const filter = mode === 'calico-vxlan' ? ['udp', 'port', '4789'] : ['not', 'port', '179', 'and', 'not', 'port', '22'];
        const onNode = await tcpdump('nl-n-node-1', ['-i', 'eth0', '-c', '40', ...filter]);
        const inPod = await tcpdump('nl-p-default-pod-a', ['-i', 'eth0', '-c', '40', 'udp', 'port', '53']);
        const r = await testbedExec('default/pod-a', ['curl', '-sS', '-m', '5', 'http://backend.default.svc.cluster.local']);
        expect(r.code).toBe(0);
        const node = await onNode.stop();
        const pod = await inPod.stop();
        const ct = await inNs('nl-n-node-1', ['conntrack', '-L']);
        fixture(mode, 'tcpdump-node-1-eth0.txt', node.stdout);
        fixture(mode, 'tcpdump-pod-a-dns.txt', pod.stdout);
        fixture(mode, 'conntrack-L.txt', `${ct.stdout}${ct.stderr}`);

        const tn = parseTcpdump(node.stdout + node.stderr);
        expect(tn.diagnostics).toEqual([]);
        expect(tn.records.length).toBeGreaterThan(0);
        if (mode === 'calico-vxlan') {
          const vx = tn.records.filter((p) => p.vxlan);
          expect(vx.length).toBe(tn.records.length);
          expect(vx[0].vxlan).toMatchObject({ flags: 'I', flagsHex: '0x08', vni: 4096 });
          expect(vx.every((p) => p.dport === 4789 && ['10.0.1.5', '10.0.1.6', '10.0.1.7'].includes(p.src!))).toBe(true);
          const inner = vx.map((p) => p.vxlan?.inner).filter((x): x is TcpdumpPacket => !!x);
          expect(inner.length).toBe(vx.length);
          // the HTTP request to a backend pod (DNATed on node-1 before encapsulation)
          expect(inner.some((p) => p.src === '10.244.1.5' && p.dport === 8080 && p.tcp?.flags === 'S')).toBe(true);
        } else {
          expect(tn.records.some((p) => p.src === '10.244.1.5' && p.dport === 8080 && p.tcp?.flags === 'S')).toBe(true);
          expect(tn.records.every((p) => !p.vxlan)).toBe(true);
        }

        const tp = parseTcpdump(pod.stdout + pod.stderr);
        expect(tp.diagnostics).toEqual([]);
        const queries = tp.records.filter((p) => p.dns?.query);
        const order = [...new Set(queries.map((p) => p.dns!.qname))];
        // glibc walks the search list first: the name has 4 dots, fewer than ndots:5
        expect(order).toEqual([
          'backend.default.svc.cluster.local.default.svc.cluster.local.',
          'backend.default.svc.cluster.local.svc.cluster.local.',
          'backend.default.svc.cluster.local.cluster.local.',
          'backend.default.svc.cluster.local.',
        ]);
        expect(queries.every((p) => p.dst === '10.96.0.10' && p.dport === 53)).toBe(true);
        const answers = tp.records.filter((p) => p.dns && !p.dns.query);
        expect(answers.filter((p) => p.dns!.rcode === 'NXDomain').length).toBeGreaterThanOrEqual(3);
        expect(answers.some((p) => p.dns!.answers.some((a) => a.type === 'A' && a.data === '10.96.5.20'))).toBe(true);
        expect(answers.every((p) => p.src === '10.96.0.10')).toBe(true);

        const c = parseConntrack(`${ct.stdout}${ct.stderr}`);
        expect(c.diagnostics).toEqual([]);
        expect(c.summary?.count).toBe(c.records.length);
        const svc = c.records.find((e) => e.original.dst === '10.96.5.20' && e.original.dport === 80);
        expect(svc).toBeDefined();
        expect(svc!.reply.src).toMatch(/^10\.244\.[23]\.(8|9)$/);
        expect(svc!.reply.sport).toBe(8080);
        const dns = c.records.find((e) => e.original.dst === '10.96.0.10' && e.l4.name === 'udp');
        expect(dns?.reply.src).toBe('10.244.2.15');
      });

      it('captures ipset list and iptables-save with the Calico policy sets, and the CNI results', async () => {
        // the policy's sets live on the backends' nodes
        const ips = await inNs('nl-n-node-2', ['ipset', 'list']);
        fixture(mode, 'ipset-list-node-2.txt', ips.stdout);
        const p = parseIpsetList(ips.stdout);
        expect(p.diagnostics).toEqual([]);
        expect(p.records.length).toBeGreaterThan(0);
        expect(p.records.every((s) => s.name.startsWith('cali40'))).toBe(true);
        expect(p.records.flatMap((s) => s.members.map((m) => m.element))).toContain('10.244.1.5');
        const save = await inNs('nl-n-node-1', ['iptables-save']);
        fixture(mode, 'iptables-save-node-1.txt', save.stdout);
        expect(save.stdout).toMatch(/-A KUBE-SERVICES .*10\.96\.5\.20\/32 .*-j KUBE-SVC-/);
        for (const pod of state.pods.filter((x) => x.cniResultPath)) {
          const text = readFileSync(pod.cniResultPath!, 'utf8');
          const result = JSON.parse(text) as { ips: { address: string }[]; interfaces: { name: string; sandbox?: string }[] };
          expect(result.ips[0].address).toBe(`${pod.ip}/24`);
          expect(result.interfaces.some((i) => i.sandbox === `/var/run/netns/${pod.netns}`)).toBe(true);
          if (pod.namespace === 'default' && pod.name === 'pod-a') fixture(mode, 'cni-result-ptp-pod-a.json', text);
        }
      });

      it('reaches each node over SSH through its 127.0.0.1 forward, verifying the host key', async () => {
        const st = testbedStatus();
        for (const n of st.nodes) {
          const port = Number(n.ssh!.split(':')[1]);
          const out = await sshExec(port, st.clientKey!, n.hostKeyFingerprint!, 'hostname; ip -j route');
          const [host, json] = [out.slice(0, out.indexOf('\n')), out.slice(out.indexOf('\n') + 1)];
          expect(host).toBe(n.name);
          const routes = parseIpRouteJson(json);
          expect(routes.diagnostics).toEqual([]);
          expect(routes.records.some((r) => r.dst === 'default' && r.gateway === '10.0.0.1')).toBe(true);
        }
        // a wrong fingerprint is refused
        const n = st.nodes[0];
        await expect(sshExec(Number(n.ssh!.split(':')[1]), st.clientKey!, 'SHA256:wrong', 'true')).rejects.toThrow();
      });

      it('left the root namespace untouched (ip route / ip addr identical)', () => {
        const after = rootText();
        expect(after.route).toBe(before.route);
        expect(after.route6).toBe(before.route6);
        expect(after.addr).toBe(before.addr);
      });

      it('down removes every namespace, process and file (and is idempotent)', async () => {
        const t0 = Date.now();
        const r = await testbedDown();
        console.log(`[${mode}] down in ${Date.now() - t0} ms`);
        expect(r.leftovers).toEqual([]);
        expect(r.namespaces.length).toBe(1 + 3 + 6);
        expect(leftovers()).toEqual([]);
        const again = await testbedDown();
        expect(again).toMatchObject({ killed: [], namespaces: [], leftovers: [] });
        expect(rootText()).toEqual(before);
      });
    });
  }

  for (const mode of ['flannel-vxlan', 'flannel-host-gw'] as const) {
    it(`${mode}: pods on cni0 (bridge plugin), a Service request across nodes, and a clean down`, async () => {
      await testbedUp(topology(mode));
      try {
        const r = await testbedExec('default/pod-a', ['curl', '-sS', '-m', '5', 'http://backend.default.svc.cluster.local']);
        expect(r.stdout).toMatch(/^backend-[12]\n$/);
        const pr = parseIpRoute((await inNs('nl-p-default-pod-a', ['ip', 'route'])).stdout).records;
        expect(pr.find((x) => x.dst === 'default')).toMatchObject({ gateway: '10.244.1.1', dev: 'eth0' });
        expect(pr.find((x) => x.dst === '10.244.0.0/16')).toMatchObject({ gateway: '10.244.1.1' });
        const nr = parseIpRoute((await inNs('nl-n-node-1', ['ip', 'route'])).stdout).records;
        expect(nr.find((x) => x.dst === '10.244.1.0/24')).toMatchObject({ dev: 'cni0', protocol: 'kernel', prefsrc: '10.244.1.1' });
        expect(nr.find((x) => x.dst === '10.244.2.0/24')).toMatchObject(mode === 'flannel-vxlan' ? { gateway: '10.244.2.0', dev: 'flannel.1', flags: ['onlink'] } : { gateway: '10.0.1.6', dev: 'eth0' });
      } finally {
        const d = await testbedDown();
        expect(d.leftovers).toEqual([]);
      }
      expect(leftovers()).toEqual([]);
    });
  }

  describe.sequential('crash safety and refusals (CLI)', () => {
    it('cleans up after `netlab testbed up` is killed with SIGKILL mid-build', async () => {
      // Killed at step 8 (the servers): BIRD and dnsmasq are already running, namespaces exist.
      await upKilledMidBuild(NETLAB, ROOT);
      // the build left things behind: the daemons survive their parent
      expect(execFileSync('ip', ['netns', 'list']).toString()).toMatch(/nl-n-node-1/);
      expect(leftovers().some((l) => l.startsWith('process'))).toBe(true);
      const down = await execFileP(process.execPath, [NETLAB, 'testbed', 'down'], { cwd: ROOT });
      expect(down.stdout).toMatch(/^removed \d+ namespaces, stopped \d+ processes/);
      expect(leftovers()).toEqual([]);
    });

    it('removes everything it built when a step fails half-way (here: rules iptables-restore rejects)', async () => {
      const before = rootText();
      const err = await testbedUp(topology('calico-bgp'), { kubeProxy: () => ({ prelude: '*nat\n-A NO-SUCH-CHAIN -j ACCEPT\nCOMMIT\n', restore: '' }) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'command-failed' });
      expect((err as Error).message).toMatch(/kubelet\/kube-proxy chains and jumps on node-\d/);
      expect(leftovers()).toEqual([]);
      expect(rootText()).toEqual(before);
    });

    it('refuses modes the local kernel cannot build, naming what is missing, and builds nothing', async () => {
      const r = await execFileP(process.execPath, [NETLAB, 'testbed', 'up', '--set', 'cni=calico-ipip'], { cwd: ROOT }).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect(r).toMatchObject({ code: 1 });
      expect(r.stderr).toMatch(/error \[unsupported-mode\] the local test-bed kernel has no IPIP; this mode \(calico-ipip\) is modelled only/);
      const v = await execFileP(process.execPath, [NETLAB, 'testbed', 'up', '--set', 'kubeProxy=ipvs'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
      expect(v.stderr).toMatch(/no IPVS; kube-proxy mode ipvs is modelled only/);
      expect(leftovers()).toEqual([]);
    });

    it('refuses to run without root, saying so, and builds nothing', async () => {
      const r = await execFileP('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, NETLAB, 'testbed', 'up'], { cwd: ROOT, env: { ...process.env, HOME: '/tmp' } }).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(r).toMatchObject({ code: 1 });
      expect(r.stderr).toMatch(/error \[not-root\] the test-bed needs root/);
      expect(leftovers()).toEqual([]);
    });
  });
});
