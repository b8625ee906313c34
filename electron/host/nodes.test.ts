// The test-bed and remote-node LabApi methods with a fake test-bed module:
// progress events in order on both transports' event sink (and over a real
// WebSocket), the test-bed's own errors verbatim (from the real preflight),
// busy refusals, the exec allow-list, zod rejections, and the remote node
// registry in the data directory (no secrets, damaged files named).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEventMap, LabEventName, RpcOutcome, TestbedStatusInfo, TestbedStep } from '../../core/api';
import { LAB_EVENT_SCHEMAS } from '../../core/api';
import type { Topology } from '../../core/model';
import { createHostApi, type HostApi } from './api';
import { createDispatcher, type Dispatch } from './dispatch';
import type { TestbedModule } from './nodes';
import { REMOTE_NODES_FILE } from './nodes';
import { TestbedError } from './testbed/errors';
import { newState, type TestbedState } from './testbed/state';
import { UP_STEPS, preflight } from './testbed';
import { startLabServer } from './ws-server';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');

const DOWN_STATUS: Omit<TestbedStatusInfo, 'busy'> = { up: false, nodes: [], pods: [], processes: [], differences: [], warnings: [] };

interface FakeTestbed extends TestbedModule {
  calls: { up: Topology[]; down: number; exec: { ref: string; argv: string[]; timeoutMs?: number }[] };
  /** What `up` does after announcing its steps (default: succeed). */
  upBody: (t: Topology, onStep: (e: TestbedStep) => void) => Promise<void>;
  status: Omit<TestbedStatusInfo, 'busy'>;
  state: TestbedState | null;
}

function fakeTestbed(): FakeTestbed {
  const fake: FakeTestbed = {
    calls: { up: [], down: 0, exec: [] },
    status: DOWN_STATUS,
    state: null,
    loadState: () => fake.state,
    upBody: async (t, onStep) => {
      for (let i = 1; i < UP_STEPS.length; i++) onStep({ step: i + 1, total: UP_STEPS.length, message: UP_STEPS[i] });
      fake.status = {
        ...DOWN_STATUS,
        up: true,
        phase: 'up',
        topology: t.settings.name,
        mode: `${t.settings.cni.plugin}-${t.settings.cni.mode}`,
        nodes: t.nodes.map((n, i) => ({ name: n.name, ip: n.ips[0], netns: `nl-n-${n.name}`, present: true, ssh: `127.0.0.1:${22201 + i}`, hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })),
      };
    },
    async testbedUp(t, opts) {
      fake.calls.up.push(t);
      const onStep = opts.onStep ?? (() => {});
      onStep({ step: 1, total: UP_STEPS.length, message: UP_STEPS[0] });
      await fake.upBody(t, onStep);
      return fake.status;
    },
    async testbedDown() {
      fake.calls.down++;
      fake.status = DOWN_STATUS;
      return { killed: [101, 102], namespaces: ['nl-net', 'nl-n-node-1'], files: ['/run/netlab'], leftovers: [] };
    },
    testbedStatus: () => fake.status,
    async testbedExec(ref, argv, opts) {
      fake.calls.exec.push({ ref, argv, timeoutMs: opts?.timeoutMs });
      return { code: 0, stdout: `ran ${argv.join(' ')} in ${ref}\n`, stderr: '' };
    },
  };
  return fake;
}

let dataDir: string;
let api: HostApi;
let dispatch: Dispatch;
let tb: FakeTestbed;
let events: { event: LabEventName; data: unknown }[];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'netlab-nodes-'));
  tb = fakeTestbed();
  api = createHostApi({ transport: 'websocket', electron: false, version: '0.0.0-test', resourcesDir: join(import.meta.dirname, '..', '..', 'resources'), dataDir, testbed: tb });
  events = [];
  api.setEventSink((event, data) => events.push({ event, data }));
  dispatch = createDispatcher(api);
});
afterEach(() => {
  api.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function expectError(out: RpcOutcome, code: string, message?: string | RegExp): { code: string; message: string; hint?: string; detail?: string } {
  expect(out.ok).toBe(false);
  if (out.ok) throw new Error('unreachable');
  expect(out.error.code).toBe(code);
  if (typeof message === 'string') expect(out.error.message).toBe(message);
  else if (message) expect(out.error.message).toMatch(message);
  return out.error;
}

describe('testbedUp / testbedDown / testbedStatus (fake test-bed)', () => {
  it('pushes every step as a testbed-step event, in order, before the call resolves with the status', async () => {
    const out = await dispatch('testbedUp', [{ topologyText: SEED, file: 'seed.yaml' }]);
    expect(out.ok).toBe(true);
    const steps = events.filter((e) => e.event === 'testbed-step').map((e) => e.data as TestbedStep);
    expect(steps.map((s) => s.step)).toEqual(UP_STEPS.map((_, i) => i + 1));
    expect(steps.map((s) => s.message)).toEqual([...UP_STEPS]);
    expect(new Set(steps.map((s) => s.total))).toEqual(new Set([UP_STEPS.length]));
    for (const s of steps) expect(LAB_EVENT_SCHEMAS['testbed-step'].safeParse(s).success).toBe(true);
    const status = (out as { result: TestbedStatusInfo }).result;
    expect(status.up).toBe(true);
    expect(status.mode).toBe('calico-bgp');
    expect(status.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(status.busy).toBeUndefined();
    expect(tb.calls.up).toHaveLength(1);
    expect(tb.calls.up[0].pods.length).toBeGreaterThan(3);
  });

  it('applies --set overrides before building', async () => {
    await dispatch('testbedUp', [{ topologyText: SEED, set: ['cni=calico-vxlan'] }]);
    expect(tb.calls.up[0].settings.cni).toMatchObject({ plugin: 'calico', mode: 'vxlan' });
  });

  it('surfaces the real preflight messages verbatim: not root, and missing binaries with their Debian packages', async () => {
    tb.upBody = async (t) => {
      preflight(t, { uid: 1000 });
    };
    let err = expectError(await dispatch('testbedUp', [{ topologyText: SEED }]), 'not-root');
    let expected: TestbedError | undefined;
    try {
      preflight(tb.calls.up[0], { uid: 1000 });
    } catch (e) {
      expected = e as TestbedError;
    }
    expect(err.message).toBe(expected!.message);
    expect(err.message).toContain('the test-bed needs root');
    expect(err.hint).toBe(expected!.hint);

    tb.upBody = async (t) => {
      preflight(t, { uid: 0, exists: (b) => b !== 'bird' && b !== 'dnsmasq' });
    };
    err = expectError(await dispatch('testbedUp', [{ topologyText: SEED }]), 'missing-binary');
    expect(err.message).toBe('missing: dnsmasq (Debian package dnsmasq-base, for cluster DNS (stands in for CoreDNS)); bird (Debian package bird2, for BGP route exchange between nodes)');
    expect(err.hint).toBe('install them with: apt-get install dnsmasq-base bird2');
  });

  it('surfaces a modelled-only mode from the real preflight, and a failing step with its detail', async () => {
    tb.upBody = async (t) => {
      preflight(t, { uid: 0, exists: () => true });
    };
    const err = expectError(await dispatch('testbedUp', [{ topologyText: SEED, set: ['cni=calico-ipip'] }]), 'unsupported-mode');
    expect(err.message).toBe('the local test-bed kernel has no IPIP; this mode (calico-ipip) is modelled only');

    tb.upBody = async (_t, onStep) => {
      onStep({ step: 2, total: UP_STEPS.length, message: UP_STEPS[1] });
      throw new TestbedError('cni-failed', 'the ptp CNI plugin failed to add pod default/pod-a: no IP addresses available', 'check the pod CIDR', 'stderr line 1\nstderr line 2');
    };
    events = [];
    const e2 = expectError(await dispatch('testbedUp', [{ topologyText: SEED }]), 'cni-failed', 'the ptp CNI plugin failed to add pod default/pod-a: no IP addresses available');
    expect(e2.detail).toBe('stderr line 1\nstderr line 2');
    expect(events.map((e) => (e.data as TestbedStep).step)).toEqual([1, 2]);
    // after a failure the service is free again
    expect((await dispatch('testbedStatus', [])).ok).toBe(true);
    expect((await dispatch('testbedDown', [])).ok).toBe(true);
  });

  it('refuses an invalid topology with the place of the first error, before touching the test-bed', async () => {
    const bad = SEED.replace('cni: calico-bgp', 'cni: calico-nope');
    const err = expectError(await dispatch('testbedUp', [{ topologyText: bad, file: 'lab.yaml' }]), 'invalid-topology');
    expect(err.message).toMatch(/^The topology has \d+ errors?; the test-bed builds only a valid one\. First: lab\.yaml:18:\d+: /);
    expect(err.detail).toContain('lab.yaml:18:');
    expect(tb.calls.up).toHaveLength(0);
    const setErr = expectError(await dispatch('testbedUp', [{ topologyText: SEED, set: ['ndots=many'] }]), 'invalid-topology');
    expect(setErr.message).toContain('--set: ');
  });

  it('is busy while up runs: a second up and a down are refused; status says so', async () => {
    let release: () => void = () => {};
    tb.upBody = () => new Promise<void>((r) => (release = r));
    const first = dispatch('testbedUp', [{ topologyText: SEED }]);
    await new Promise((r) => setTimeout(r, 10));
    expectError(await dispatch('testbedUp', [{ topologyText: SEED }]), 'testbed-busy', 'testbed up is still running.');
    expectError(await dispatch('testbedDown', []), 'testbed-busy');
    expect(((await dispatch('testbedStatus', [])) as { result: TestbedStatusInfo }).result.busy).toBe('up');
    release();
    expect((await first).ok).toBe(true);
    expect(tb.calls.down).toBe(0);
    expect(((await dispatch('testbedStatus', [])) as { result: TestbedStatusInfo }).result.busy).toBeUndefined();
  });

  it('down returns what was removed', async () => {
    const out = await dispatch('testbedDown', []);
    expect(out).toEqual({ ok: true, result: { killed: [101, 102], namespaces: ['nl-net', 'nl-n-node-1'], files: ['/run/netlab'], leftovers: [] } });
  });

  it('pushes the steps over a real WebSocket before the result arrives', async () => {
    const server = await startLabServer({ dispatch, rendererDir: dataDir, token: 'test-token-0123456789abcdefghij' });
    api.setEventSink((event, data) => server.broadcast(event, data));
    try {
      const ws = await new Promise<WebSocket>((res, rej) => {
        const w = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
        w.once('open', () => res(w));
        w.once('error', rej);
      });
      const seen: Record<string, unknown>[] = [];
      const done = new Promise<void>((res) => {
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as Record<string, unknown>;
          seen.push(m);
          if (m.id === 1) res();
        });
      });
      ws.send(JSON.stringify({ id: 1, method: 'testbedUp', params: [{ topologyText: SEED }] }));
      await done;
      ws.close();
      const stepMsgs = seen.filter((m) => m.event === 'testbed-step');
      expect(stepMsgs).toHaveLength(UP_STEPS.length);
      expect(seen.at(-1)).toMatchObject({ id: 1, result: { up: true } });
      expect((stepMsgs[0].data as LabEventMap['testbed-step']).message).toBe('Checking requirements');
    } finally {
      await server.close();
    }
  });
});

describe('testbedExec (fake test-bed)', () => {
  it('runs read-only commands and probes as given', async () => {
    const out = await dispatch('testbedExec', [{ target: 'node-1', argv: ['ip', '-j', 'route'] }]);
    expect(out).toMatchObject({ ok: true, result: { command: 'ip -j route', stdout: 'ran ip -j route in node-1\n', code: 0, classification: { class: 'read' } } });
    const probe = await dispatch('testbedExec', [{ target: 'default/pod-a', argv: ['curl', '-s', '-m', '5', 'http://backend'], timeoutMs: 5000 }]);
    expect(probe).toMatchObject({ ok: true, result: { classification: { class: 'probe' } } });
    expect(tb.calls.exec).toEqual([
      { ref: 'node-1', argv: ['ip', '-j', 'route'], timeoutMs: 30_000 },
      { ref: 'default/pod-a', argv: ['curl', '-s', '-m', '5', 'http://backend'], timeoutMs: 5000 },
    ]);
  });

  it('refuses a command off the read-only list unless confirmed', async () => {
    const err = expectError(await dispatch('testbedExec', [{ target: 'node-1', argv: ['ip', 'route', 'add', '10.9.0.0/16', 'dev', 'eth0'] }]), 'command-rejected');
    expect(err.message).toMatch(/^refused "ip route add 10\.9\.0\.0\/16 dev eth0": not read-only/);
    expect(err.hint).toContain('confirmation');
    expectError(await dispatch('testbedExec', [{ target: 'node-1', argv: ['rm', '-rf', '/'] }]), 'command-rejected');
    expect(tb.calls.exec).toHaveLength(0);
    const ok = await dispatch('testbedExec', [{ target: 'node-1', argv: ['ip', 'route', 'add', '10.9.0.0/16', 'dev', 'eth0'], confirm: true }]);
    expect(ok).toMatchObject({ ok: true, result: { classification: { class: 'write' } } });
    expect(tb.calls.exec).toHaveLength(1);
  });

  it('passes the test-bed\'s own errors through', async () => {
    tb.testbedExec = async () => {
      throw new TestbedError('not-up', 'the test-bed is not up', 'run netlab testbed up FILE first');
    };
    const err = expectError(await dispatch('testbedExec', [{ target: 'node-1', argv: ['ip', 'route'] }]), 'not-up', 'the test-bed is not up');
    expect(err.hint).toBe('run netlab testbed up FILE first');
  });
});

describe('argument validation (zod, shared by IPC and WebSocket)', () => {
  const bad: [string, unknown[], RegExp][] = [
    ['testbedUp', [{}], /params\[0\]\.topologyText/],
    ['testbedUp', [{ topologyText: '' }], /the topology is empty/],
    ['testbedUp', [{ topologyText: SEED, extra: 1 }], /invalid arguments/],
    ['testbedUp', [{ topologyText: SEED, set: ['cni calico'] }], /key=value/],
    ['testbedUp', [{ topologyText: SEED, set: 'cni=calico-vxlan' }], /params\[0\]\.set/],
    ['testbedUp', [SEED], /params\[0\]/],
    ['testbedDown', [true], /invalid arguments/],
    ['testbedExec', [{ target: '../etc', argv: ['ip', 'route'] }], /a target is a node name/],
    ['testbedExec', [{ target: 'node-1', argv: [] }], /give a command/],
    ['testbedExec', [{ target: 'node-1', argv: 'ip route' }], /params\[0\]\.argv/],
    ['testbedExec', [{ target: 'node-1', argv: ['ip', 'a\0b'] }], /NUL/],
    ['testbedExec', [{ target: 'node-1', argv: ['ip'], confirm: 'yes' }], /params\[0\]\.confirm/],
    ['testbedExec', [{ target: 'node-1', argv: ['ip'], timeoutMs: 10_000_000 }], /600000/],
    ['remoteAdd', [{ name: 'n1', host: '10.0.0.5', port: 22, user: 'root', keyFile: '/k', passphrase: 'secret' }], /invalid arguments/],
    ['remoteAdd', [{ name: 'n1', host: '10.0.0.5', port: 22, user: 'root' }], /either a key file/],
    ['remoteAdd', [{ name: 'n1', host: '10.0.0.5', port: 22, user: 'root', keyFile: '/k', agent: true }], /either a key file/],
    ['remoteAdd', [{ name: 'n1', host: '10.0.0.5', port: 0, user: 'root', agent: true }], /params\[0\]\.port/],
    ['remoteAdd', [{ name: 'n1', host: 'a b', port: 22, user: 'root', agent: true }], /params\[0\]\.host/],
    ['remoteAdd', [{ name: 'n1', host: 'h', port: 22, user: 'root; rm', agent: true }], /params\[0\]\.user/],
    ['remoteAdd', [{ name: '../x', host: 'h', port: 22, user: 'root', agent: true }], /params\[0\]\.name/],
    ['remoteAdd', [{ name: 'n1', host: 'h', port: 22, user: 'root', keyFile: 'id_ed25519' }], /absolute path/],
    ['remoteRemove', [''], /must not be empty/],
    ['remoteConnect', ['n1', { passphrase: 1 }], /params\[1\]\.passphrase/],
    ['remoteAcceptHostKey', [{ name: 'n1', fingerprint: 'MD5:aa:bb' }], /SHA256:/],
    ['remoteAcceptHostKey', [{ name: 'n1' }], /params\[0\]\.fingerprint/],
    ['remoteRun', [{ name: 'n1', command: '' }], /give a command/],
    ['remoteRun', [{ name: 'n1', command: 'ip route', confirm: 1 }], /params\[0\]\.confirm/],
  ];
  it.each(bad)('%s %j is refused', async (method, params, message) => {
    expectError(await dispatch(method, params), 'invalid-params', message);
  });

  it('accepts the valid forms', async () => {
    expect((await dispatch('testbedStatus', [])).ok).toBe(true);
    expect((await dispatch('remoteList', [])).ok).toBe(true);
    expect((await dispatch('remoteAdd', [{ name: 'kind-worker', host: 'fd00::5', port: 2222, user: 'root', agent: true }])).ok).toBe(true);
  });
});

describe('remote node registry (data directory)', () => {
  it('stores names, hosts, ports, users and key file paths only, 0600', async () => {
    const key = join(dataDir, 'id_ed25519');
    writeFileSync(key, 'not really a key');
    expect(await dispatch('remoteAdd', [{ name: 'node-a', host: '10.0.0.5', port: 22, user: 'root', keyFile: key }])).toEqual({
      ok: true,
      result: { name: 'node-a', host: '10.0.0.5', port: 22, user: 'root', keyFile: key, target: 'ssh://root@10.0.0.5:22', connected: false },
    });
    expect((await dispatch('remoteAdd', [{ name: 'node-b', host: 'kind-worker', port: 2222, user: 'admin', agent: true }])).ok).toBe(true);
    const path = join(dataDir, REMOTE_NODES_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      kind: 'NetlabRemoteNodes',
      version: 1,
      nodes: [
        { name: 'node-a', host: '10.0.0.5', port: 22, user: 'root', keyFile: key },
        { name: 'node-b', host: 'kind-worker', port: 2222, user: 'admin', agent: true },
      ],
    });
    // another host process over the same data directory sees them
    const again = createHostApi({ transport: 'ipc', electron: true, version: 't', resourcesDir: dataDir, dataDir, testbed: tb });
    expect((await again.remoteList()).map((n) => [n.name, n.target, n.connected])).toEqual([
      ['node-a', 'ssh://root@10.0.0.5:22', false],
      ['node-b', 'ssh://admin@kind-worker:2222', false],
    ]);
    again.close();
    expectError(await dispatch('remoteAdd', [{ name: 'node-a', host: 'x', port: 22, user: 'root', agent: true }]), 'exists');
    expect(await dispatch('remoteRemove', ['node-a'])).toEqual({ ok: true, result: null });
    expect(((await dispatch('remoteList', [])) as { result: { name: string }[] }).result.map((n) => n.name)).toEqual(['node-b']);
    expectError(await dispatch('remoteRemove', ['node-a']), 'not-found');
  });

  it('refuses a missing key file, an unreadable one and a .pub file, naming the path', async () => {
    const missing = join(dataDir, 'nope');
    expectError(await dispatch('remoteAdd', [{ name: 'n', host: 'h', port: 22, user: 'u', keyFile: missing }]), 'not-found', `The key file ${missing} does not exist.`);
    const pub = join(dataDir, 'id.pub');
    writeFileSync(pub, 'ssh-ed25519 AAAA');
    const e = expectError(await dispatch('remoteAdd', [{ name: 'n', host: 'h', port: 22, user: 'u', keyFile: pub }]), 'invalid-params', `${pub} is a public key.`);
    expect(e.hint).toContain(join(dataDir, 'id'));
    if (process.getuid?.() !== 0) {
      const locked = join(dataDir, 'locked');
      writeFileSync(locked, 'k');
      chmodSync(locked, 0);
      expectError(await dispatch('remoteAdd', [{ name: 'n', host: 'h', port: 22, user: 'u', keyFile: locked }]), 'not-found', /cannot be read/);
    }
    expect(((await dispatch('remoteList', [])) as { result: unknown[] }).result).toEqual([]);
  });

  it('names a damaged registry file and what to do', async () => {
    writeFileSync(join(dataDir, REMOTE_NODES_FILE), '{"kind":"NetlabRemoteNodes","version":1,"nodes":[{"name":"x"}]}');
    const e = expectError(await dispatch('remoteList', []), 'invalid-file', new RegExp(`${REMOTE_NODES_FILE}: nodes\\.0\\.host: `));
    expect(e.hint).toContain('delete it');
    writeFileSync(join(dataDir, REMOTE_NODES_FILE), '{oops');
    expectError(await dispatch('remoteList', []), 'invalid-file', /is not valid JSON/);
  });

  it('asks to connect first before running, accepting, or when a node is unknown', async () => {
    expect((await dispatch('remoteAdd', [{ name: 'n', host: '127.0.0.1', port: 9, user: 'root', agent: true }])).ok).toBe(true);
    expectError(await dispatch('remoteRun', [{ name: 'n', command: 'ip route' }]), 'not-connected');
    expectError(await dispatch('remoteAcceptHostKey', [{ name: 'n', fingerprint: `SHA256:${'A'.repeat(43)}` }]), 'host-key-not-shown');
    expectError(await dispatch('remoteConnect', ['ghost']), 'not-found', 'There is no remote node "ghost".');
  });

  it('says when an agent node has no ssh-agent', async () => {
    const host = createHostApi({ transport: 'ipc', electron: true, version: 't', resourcesDir: dataDir, dataDir, testbed: tb });
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      await host.remoteAdd({ name: 'agent-node', host: '127.0.0.1', port: 9, user: 'root', agent: true });
      const d = createDispatcher(host);
      expectError(await d('remoteConnect', ['agent-node']), 'auth-failed', /SSH_AUTH_SOCK is not set/);
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
      host.close();
    }
  });
});

describe('compareNode: refusals before anything runs', () => {
  const args = (extra: Record<string, unknown> = {}) => [{ topologyText: SEED, node: 'node-1', via: 'testbed', ...extra }];

  it('needs the test-bed up, the node in the topology and in the test-bed', async () => {
    expectError(await dispatch('compareNode', args()), 'not-up', 'The local test-bed is not up.');
    tb.state = { ...newState('seed', 'calico-bgp'), phase: 'up', nodes: [{ name: 'node-2', ip: '10.0.1.6', netns: 'nl-n-node-2' }] };
    const e = expectError(await dispatch('compareNode', args()), 'not-found', 'The test-bed has no node node-1.');
    expect(e.hint).toBe('Its nodes: node-2.');
    expectError(await dispatch('compareNode', args({ node: 'node-9' })), 'not-found', 'The topology has no node "node-9".');
    expectError(await dispatch('compareNode', args({ topologyText: SEED.replace('cni: calico-bgp', 'cni: nope') })), 'invalid-topology', /only a valid topology can be compared/);
  });

  it('needs a registered, connected remote node', async () => {
    expectError(await dispatch('compareNode', args({ via: 'remote:ghost' })), 'not-found', 'There is no remote node "ghost".');
    await api.remoteAdd({ name: 'kind-worker', host: '172.18.0.3', port: 22, user: 'root', agent: true });
    expectError(await dispatch('compareNode', args({ via: 'remote:kind-worker' })), 'not-connected');
  });

  it('validates via and checks', async () => {
    expectError(await dispatch('compareNode', args({ via: 'ssh://root@h:22' })), 'invalid-params', /via is testbed or remote:NAME/);
    expectError(await dispatch('compareNode', args({ checks: ['bogus'] })), 'invalid-params', /params\[0\]\.checks\[0\]/);
    expectError(await dispatch('compareNode', args({ checks: [] })), 'invalid-params', /at least one check/);
    expectError(await dispatch('compareNode', args({ node: 'Node_1' })), 'invalid-params', /params\[0\]\.node/);
  });
});
