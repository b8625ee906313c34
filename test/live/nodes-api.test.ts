// The real test-bed through the LabApi methods (dispatcher + zod, as both
// transports call them): testbedUp pushes each step as a testbed-step event
// and resolves with the status; a second up is refused by the test-bed
// itself; testbedExec sends a real request; a test-bed node reached as a
// remote SSH node asks about exactly the host key the status shows;
// compareNode finds no unexplained difference; testbedDown removes it all.
//
// Nothing is skipped: without root or a needed package every test fails with
// the reason.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult, CompareNodeResult, LabEventName, RemoteConnectResult, RpcOutcome, TestbedDownReport, TestbedStatusInfo, TestbedStep } from '../../core/api';
import { loadTopology } from '../../core/model';
import { createHostApi, type HostApi } from '../../electron/host/api';
import { createDispatcher, type Dispatch } from '../../electron/host/dispatch';
import { UP_STEPS, loadState, preflight, testbedDown } from '../../electron/host/testbed';

const ROOT = resolve(__dirname, '..', '..');
const SEED = readFileSync(join(ROOT, 'resources', 'samples', 'seed.yaml'), 'utf8');

let dataDir: string;
let api: HostApi;
let call: Dispatch;
const events: { event: LabEventName; data: unknown }[] = [];
let status: TestbedStatusInfo;

function ok<T>(o: RpcOutcome): T {
  if (!o.ok) throw new Error(`expected success, got ${o.error.code}: ${o.error.message}${o.error.hint ? ` (${o.error.hint})` : ''}${o.error.detail ? `\n${o.error.detail}` : ''}`);
  return o.result as T;
}

/** Waits while another process has a test-bed up or is building one (the names are fixed). */
async function waitForFreeTestbed(maxMs = 180_000): Promise<void> {
  const until = Date.now() + maxMs;
  for (;;) {
    const s = loadState();
    const ns = execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith('nl-'));
    const busy = s && s.builderPid !== process.pid && (s.phase === 'up' || s.phase === 'building');
    if (!busy && ns.length === 0) return;
    if (!busy && s === null && ns.length) {
      await testbedDown();
      continue;
    }
    if (Date.now() > until) throw new Error(`another test-bed (${s?.topology ?? '?'}, ${s?.mode ?? '?'}, phase ${s?.phase ?? '?'}) stayed up for ${maxMs / 1000} s; run netlab testbed down`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe.sequential('the test-bed through the LabApi (live)', () => {
  beforeAll(async () => {
    preflight(loadTopology({ file: 'seed.yaml', text: SEED }).topology!);
    await waitForFreeTestbed();
    dataDir = mkdtempSync(join(tmpdir(), 'netlab-nodes-live-'));
    api = createHostApi({ transport: 'websocket', electron: false, version: 't', resourcesDir: join(ROOT, 'resources'), dataDir });
    api.setEventSink((event, data) => events.push({ event, data }));
    call = createDispatcher(api);
  }, 200_000);

  afterAll(async () => {
    api?.close();
    if (loadState()?.builderPid === process.pid) await testbedDown();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('testbedUp pushes every step in order and resolves with the status', async () => {
    status = ok<TestbedStatusInfo>(await call('testbedUp', [{ topologyText: SEED, file: 'seed.yaml' }]));
    const steps = events.filter((e) => e.event === 'testbed-step').map((e) => e.data as TestbedStep);
    expect(steps.map((s) => `${s.step}/${s.total} ${s.message}`)).toEqual(UP_STEPS.map((m, i) => `${i + 1}/${UP_STEPS.length} ${m}`));
    expect(status).toMatchObject({ up: true, phase: 'up', topology: 'seed', mode: 'calico-bgp' });
    expect(status.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    for (const n of status.nodes) {
      expect(n.present).toBe(true);
      expect(n.ssh).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(n.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    }
    expect(status.processes.every((p) => p.running)).toBe(true);
    expect(ok<TestbedStatusInfo>(await call('testbedStatus', []))).toMatchObject({ up: true, mode: 'calico-bgp' });
  }, 180_000);

  it('a second up is refused by the test-bed itself', async () => {
    const out = await call('testbedUp', [{ topologyText: SEED }]);
    expect(out).toMatchObject({ ok: false, error: { code: 'already-up', message: 'a test-bed (seed, calico-bgp) is already up', hint: 'run netlab testbed down first' } });
  });

  it('testbedExec: pod-a reaches the backend Service by name; a write is refused', async () => {
    const r = ok<CommandResult>(await call('testbedExec', [{ target: 'default/pod-a', argv: ['curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code} %{remote_ip}', 'http://backend.default.svc.cluster.local/'] }]));
    expect(r).toMatchObject({ code: 0, stdout: '200 10.96.5.20', classification: { class: 'probe' } });
    const w = await call('testbedExec', [{ target: 'node-1', argv: ['ip', 'route', 'add', '192.0.2.0/24', 'dev', 'eth0'] }]);
    expect(w).toMatchObject({ ok: false, error: { code: 'command-rejected' } });
    const routes = ok<CommandResult>(await call('testbedExec', [{ target: 'node-1', argv: ['ip', '-j', 'route'] }]));
    expect((JSON.parse(routes.stdout) as { dst: string }[]).map((x) => x.dst)).not.toContain('192.0.2.0/24');
  });

  it('a test-bed node as a remote SSH node: the question shows the fingerprint the status shows', async () => {
    const n1 = status.nodes[0];
    const port = Number(n1.ssh!.split(':')[1]);
    ok(await call('remoteAdd', [{ name: 'tb-node-1', host: '127.0.0.1', port, user: 'root', keyFile: status.clientKey }]));
    const q = ok<RemoteConnectResult>(await call('remoteConnect', ['tb-node-1']));
    expect(q).toMatchObject({ status: 'unknown-host-key', fingerprint: n1.hostKeyFingerprint, hostName: `[127.0.0.1]:${port}` });
    expect(ok<RemoteConnectResult>(await call('remoteAcceptHostKey', [{ name: 'tb-node-1', fingerprint: n1.hostKeyFingerprint! }]))).toMatchObject({ status: 'ok', added: true });
    // BIRD's routes on node-1: its own block as a blackhole (as Calico), the other nodes' blocks via them
    const r = ok<CommandResult>(await call('remoteRun', [{ name: 'tb-node-1', command: 'ip -j route show proto bird' }]));
    const bird = (JSON.parse(r.stdout) as { dst: string; type?: string; gateway?: string }[]).map((x) => `${x.type === 'blackhole' ? 'blackhole ' : ''}${x.dst}${x.gateway ? ` via ${x.gateway}` : ''}`);
    expect(bird.sort()).toEqual(['10.244.2.0/26 via 10.0.1.6', '10.244.3.0/26 via 10.0.1.7', 'blackhole 10.244.1.0/26']);
  });

  it('compareNode via the test-bed and via its SSH forward: no unexplained difference in routes and iptables', async () => {
    for (const via of ['testbed', 'remote:tb-node-1']) {
      const r = ok<CompareNodeResult>(await call('compareNode', [{ topologyText: SEED, node: 'node-1', via, checks: ['routes', 'iptables', 'cni'] }]));
      expect(r.warnings).toEqual([]);
      const unexplained = r.report.checks.flatMap((c) => c.items.filter((i) => !i.explained).map((i) => `${c.check} ${i.where}: ${i.explanation}`));
      expect(unexplained, via).toEqual([]);
      for (const c of r.report.checks) expect(c.compared, `${via} ${c.check}`).toBeGreaterThan(0);
      expect(r.raw['iptables-save.txt']).toContain(':KUBE-SERVICES - [0:0]');
    }
  }, 120_000);

  it('testbedDown removes everything', async () => {
    const r = ok<TestbedDownReport>(await call('testbedDown', []));
    expect(r.leftovers).toEqual([]);
    expect(r.namespaces).toContain('nl-n-node-1');
    expect(execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith('nl-'))).toEqual([]);
    expect(ok<TestbedStatusInfo>(await call('testbedStatus', []))).toMatchObject({ up: false });
  }, 60_000);
});
