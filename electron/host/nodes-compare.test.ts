// compareNode through the LabApi against real nodes: a real network namespace
// standing in for a test-bed node (root; its own nlrt- prefix, never the
// test-bed's nl-), and this machine over a real sshd as a remote node. What
// matches the model is not reported; what is missing is, with its explanation.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareNodeResult, RemoteConnectResult, RpcOutcome } from '../../core/api';
import { createHostApi, type HostApi } from './api';
import { createDispatcher, type Dispatch } from './dispatch';
import type { TestbedModule } from './nodes';
import { startSshd, type Sshd } from './remote/sshd-fixture';
import { newState, type TestbedState } from './testbed/state';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
// Not the test-bed's nl- prefix: its `down` sweeps nl-* namespaces.
const NS = `nlrt-cmp-${process.pid}`;

let dataDir: string;
let api: HostApi;
let call: Dispatch;
let state: TestbedState | null = null;
let sshd: Sshd;

const fake: TestbedModule = {
  testbedUp: async () => null,
  testbedDown: async () => ({ killed: [], namespaces: [], files: [], leftovers: [] }),
  testbedStatus: () => ({ up: false, nodes: [], pods: [], processes: [], differences: [], warnings: [] }),
  testbedExec: async () => ({ code: 0, stdout: '', stderr: '' }),
  loadState: () => state,
};

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (ip netns add): run them as root, as CI does');
  execFileSync('ip', ['netns', 'add', NS]);
  // node-1 of the seed, half built: its node network address and default route, no pod routes
  for (const cmd of ['link set lo up', 'link add eth0 type veth peer name peer0', 'link set peer0 up', 'addr add 10.0.1.5/16 dev eth0', 'link set eth0 up', 'route add default via 10.0.0.1 dev eth0']) {
    execFileSync('ip', ['-n', NS, ...cmd.split(' ')]);
  }
  dataDir = mkdtempSync(join(tmpdir(), 'netlab-nodes-cmp-'));
  api = createHostApi({ transport: 'websocket', electron: false, version: 't', resourcesDir: dataDir, dataDir, testbed: fake });
  call = createDispatcher(api);
  sshd = await startSshd();
});
afterAll(async () => {
  api?.close();
  await sshd?.stop();
  try {
    execFileSync('ip', ['netns', 'del', NS]);
  } catch {
    /* already gone */
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function ok<T>(o: RpcOutcome): T {
  if (!o.ok) throw new Error(`expected success, got ${o.error.code}: ${o.error.message}`);
  return o.result as T;
}

describe('compareNode (real namespace as a test-bed node)', () => {
  it('reports the model routes the node lacks, not the ones it has, with what it printed', async () => {
    state = { ...newState('seed', 'calico-bgp'), phase: 'up', nodes: [{ name: 'node-1', ip: '10.0.1.5', netns: NS }] };
    const r = ok<CompareNodeResult>(await call('compareNode', [{ topologyText: SEED, file: 'seed.yaml', node: 'node-1', via: 'testbed', checks: ['routes', 'iptables'] }]));
    expect(r.report.node).toBe('node-1');
    expect(r.report.via).toBe('testbed');
    expect(r.warnings).toEqual([]);
    expect(r.report.checks.map((c) => c.check)).toEqual(['routes', 'iptables']);
    const routes = r.report.checks[0];
    expect(routes.status).toBe('different');
    const wheres = routes.items.map((i) => i.where);
    // present on the node: not reported
    expect(wheres).not.toContain('main default');
    expect(wheres).not.toContain('main 10.0.0.0/16');
    // the BGP route to node-2's block is missing, explained in words
    const bgp = routes.items.find((i) => i.where === 'main 10.244.2.0/26');
    expect(bgp).toMatchObject({ kind: 'missing', model: '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird', explained: false });
    expect(bgp!.explanation).toContain('missing on the node');
    // what the node printed is returned as is
    const real = JSON.parse(r.raw['ip-j-route.json']) as { dst: string }[];
    expect(real.map((x) => x.dst).sort()).toEqual(['10.0.0.0/16', 'default']);
    expect(JSON.parse(execFileSync('ip', ['-n', NS, '-j', 'route'], { encoding: 'utf8' }))).toEqual(real);
    // no kube-proxy rules in an empty namespace
    const ipt = r.report.checks[1];
    expect(ipt.status).toBe('different');
    expect(ipt.items.some((i) => i.where === 'nat KUBE-SERVICES' && i.kind === 'missing')).toBe(true);
    expect(r.raw['iptables-save.txt']).toBeDefined();
  });

  it('warns when the test-bed runs another topology or mode', async () => {
    state = { ...newState('three-tier', 'calico-vxlan'), phase: 'up', nodes: [{ name: 'node-1', ip: '10.0.1.5', netns: NS }] };
    const r = ok<CompareNodeResult>(await call('compareNode', [{ topologyText: SEED, node: 'node-1', via: 'testbed', checks: ['routes'] }]));
    expect(r.warnings).toEqual(['The test-bed runs three-tier (calico-vxlan); the topology compared is seed (calico-bgp): differences are expected.']);
  });
});

describe('compareNode (this machine over a real sshd as a remote node)', () => {
  it('compares over the connected SSH node; probes are skipped unless allowed', async () => {
    state = null;
    ok(await call('remoteAdd', [{ name: 'this-host', host: '127.0.0.1', port: sshd.port, user: sshd.user, keyFile: sshd.clientKey }]));
    const q = ok<RemoteConnectResult>(await call('remoteConnect', ['this-host']));
    expect(q.status).toBe('unknown-host-key');
    if (q.status !== 'unknown-host-key') return;
    expect(ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'this-host', fingerprint: q.fingerprint }])).status).toBe('ok');
    const r = ok<CompareNodeResult>(await call('compareNode', [{ topologyText: SEED, node: 'node-1', via: 'remote:this-host', checks: ['routes', 'conntrack'] }]));
    expect(r.report.via).toBe(`ssh://${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(r.report.checks.map((c) => c.check)).toEqual(['routes']);
    expect(r.report.skipped?.map((s) => s.check)).toEqual(['conntrack']);
    const hostRoutes = JSON.parse(execFileSync('ip', ['-j', 'route'], { encoding: 'utf8' })) as unknown[];
    expect((JSON.parse(r.raw['ip-j-route.json']) as unknown[]).length).toBe(hostRoutes.length);
    expect(r.report.checks[0].items.find((i) => i.where === 'main 10.244.2.0/26')).toMatchObject({ kind: 'missing', explained: false });
    // the connection stays usable afterwards
    expect(ok<{ code: number }>(await call('remoteRun', [{ name: 'this-host', command: 'ip -j link show lo' }])).code).toBe(0);
  });
});
