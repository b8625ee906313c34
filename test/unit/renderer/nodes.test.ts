// The Nodes panel's logic: the modelled-only note agrees with the test-bed's
// real preflight for every CNI mode, kube-proxy mode and encryption setting;
// "Build as" overrides make a topology buildable; the step list follows
// testbed-step events; errors keep their hint and detail.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LabApiError } from '../../../core/api';
import { CNI_MODES, loadTopology, type CniPlugin, type Topology } from '../../../core/model';
import { TESTBED_MODES, TestbedError, UP_STEPS, preflight } from '../../../electron/host/testbed';
import {
  CHECKS,
  TESTBED_BUILDABLE,
  applyStep,
  compareCounts,
  finishProgress,
  hostKeyFile,
  modelledOnly,
  overridesFor,
  shownError,
  splitArgs,
  sshCommand,
  startProgress,
  viaOptions,
} from '../../../renderer/src/lib/nodes';
import { CHECK_NAMES } from '../../../core/compare';

const SEED = readFileSync(new URL('../../../resources/samples/seed.yaml', import.meta.url), 'utf8');

function seedWith(set: string[]): Topology {
  const r = loadTopology({ file: 'seed.yaml', text: SEED }, { set });
  if (!r.topology || r.diagnostics.some((d) => d.severity === 'error')) throw new Error(`seed with ${set.join(' ')}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.topology;
}

/** What the real preflight says about the mode (root and every binary assumed present). */
function preflightSays(t: Topology): 'ok' | string {
  try {
    preflight(t, { uid: 0, exists: () => true });
    return 'ok';
  } catch (e) {
    if (e instanceof TestbedError) return e.code;
    throw e;
  }
}

const ALL_MODES = (Object.keys(CNI_MODES) as CniPlugin[]).flatMap((p) => CNI_MODES[p].map((m) => `${p}-${m}`));

describe('modelled-only note', () => {
  it('lists exactly the modes the test-bed builds', () => {
    expect([...TESTBED_BUILDABLE].sort()).toEqual(Object.keys(TESTBED_MODES).sort());
  });

  it.each(ALL_MODES)('%s: the note and the real preflight agree (iptables and IPVS, with and without encryption)', (mode) => {
    for (const kp of ['iptables', 'ipvs', 'ebpf']) {
      for (const enc of [false, true]) {
        const t = seedWith([`cni=${mode}`, `kubeProxy=${kp}`, `cni.encryption=${enc}`]);
        const note = modelledOnly(t.settings);
        const said = preflightSays(t);
        expect(note.buildable, `${mode} ${kp} encryption=${enc}: preflight says ${said}`).toBe(said === 'ok');
        if (said !== 'ok') expect(said).toBe('unsupported-mode');
        expect(note.features.length === 0).toBe(note.buildable);
        if (kp === 'ipvs') expect(note.features).toContain('IPVS');
        if (enc) expect(note.features).toContain('WireGuard');
      }
    }
  });

  it('names the kernel feature per mode', () => {
    const f = (mode: string) => modelledOnly(seedWith([`cni=${mode}`]).settings).features;
    expect(f('calico-ipip')).toEqual(['IPIP']);
    expect(f('calico-ipip-crosssubnet')).toEqual(['IPIP']);
    expect(f('antrea-geneve')).toEqual(['Open vSwitch', 'Geneve']);
    expect(f('antrea-noencap')).toEqual(['Open vSwitch']);
    expect(f('weave-fastdp')).toEqual(['Open vSwitch']);
    expect(f('cilium-geneve')).toEqual(['Geneve', 'eBPF (Cilium)']);
    expect(f('calico-bgp')).toEqual([]);
    expect(f('flannel-vxlan')).toEqual([]);
  });

  it('"Build as" overrides make any topology buildable, and nothing is overridden when building as written', () => {
    for (const mode of ALL_MODES) {
      const t = seedWith([`cni=${mode}`, 'kubeProxy=ipvs', 'cni.encryption=true']);
      expect(overridesFor(t.settings, '')).toEqual([]);
      for (const target of TESTBED_BUILDABLE) {
        const set = overridesFor(t.settings, target);
        expect(set).toContain('kubeProxy=iptables');
        const built = seedWith([`cni=${mode}`, 'kubeProxy=ipvs', 'cni.encryption=true', ...set]);
        expect(preflightSays(built)).toBe('ok');
        expect(`${built.settings.cni.plugin}-${built.settings.cni.mode}`).toBe(target);
      }
    }
    expect(overridesFor(seedWith([]).settings, 'calico-vxlan')).toEqual(['cni=calico-vxlan']);
  });
});

describe('step list', () => {
  it('marks earlier steps done, the current one running, and the end', () => {
    let p = startProgress();
    p = applyStep(p, { step: 1, total: UP_STEPS.length, message: UP_STEPS[0] });
    expect(p.rows).toEqual([{ step: 1, message: UP_STEPS[0], state: 'running' }]);
    expect(p.fraction).toBe(0);
    p = applyStep(p, { step: 2, total: UP_STEPS.length, message: UP_STEPS[1] });
    p = applyStep(p, { step: 3, total: UP_STEPS.length, message: UP_STEPS[2] });
    expect(p.rows.map((r) => r.state)).toEqual(['done', 'done', 'running']);
    expect(p.fraction).toBeCloseTo(2 / UP_STEPS.length);
    const failed = finishProgress(p, false);
    expect(failed.rows.map((r) => r.state)).toEqual(['done', 'done', 'failed']);
    expect(failed.finished).toBe('failed');
    expect(applyStep(failed, { step: 4, total: 11, message: 'late' })).toBe(failed);
    const done = finishProgress(p, true);
    expect(done.rows.every((r) => r.state === 'done')).toBe(true);
    expect(done.fraction).toBe(1);
  });

  it('keeps one row per step when a step is announced twice', () => {
    let p = applyStep(startProgress(), { step: 1, total: 3, message: 'a' });
    p = applyStep(p, { step: 1, total: 3, message: 'a' });
    expect(p.rows).toHaveLength(1);
  });
});

describe('small helpers', () => {
  it('keeps the code, hint and detail of host errors', () => {
    expect(shownError(new LabApiError('missing-binary', 'missing: bird (Debian package bird2, …)', 'install them with: apt-get install bird2', 'x'))).toEqual({
      code: 'missing-binary',
      message: 'missing: bird (Debian package bird2, …)',
      hint: 'install them with: apt-get install bird2',
      detail: 'x',
    });
    expect(shownError('boom')).toEqual({ code: 'error', message: 'boom' });
  });

  it('builds the ssh command of a forward, the host key path, and splits argv', () => {
    expect(sshCommand('127.0.0.1:22201', '/run/netlab/ssh/id_ed25519')).toBe('ssh -i /run/netlab/ssh/id_ed25519 -p 22201 root@127.0.0.1');
    expect(sshCommand(undefined, 'k')).toBeNull();
    expect(hostKeyFile('ssh-ed25519')).toBe('/etc/ssh/ssh_host_ed25519_key.pub');
    expect(hostKeyFile('ecdsa-sha2-nistp256')).toBe('/etc/ssh/ssh_host_ecdsa_key.pub');
    expect(hostKeyFile('ssh-rsa')).toBe('/etc/ssh/ssh_host_rsa_key.pub');
    expect(splitArgs(`tcpdump -n -c 5 -i any 'port 53'`)).toEqual(['tcpdump', '-n', '-c', '5', '-i', 'any', 'port 53']);
    expect(splitArgs(`  ip  "" route `)).toEqual(['ip', '', 'route']);
  });
});

describe('compare helpers', () => {
  it('offers every check core/compare knows', () => {
    expect([...CHECKS]).toEqual([...CHECK_NAMES]);
  });

  it('offers the test-bed only when it is up with that node, and connected remote nodes', () => {
    const remotes = [
      { name: 'kind-worker', target: 'ssh://root@172.18.0.3:22', connected: true },
      { name: 'vm', target: 'ssh://admin@vm:22', connected: false },
    ];
    const up = { up: true, nodes: [{ name: 'node-1' }], topology: 'seed', mode: 'calico-bgp' };
    expect(viaOptions(up, remotes, 'node-1').map((v) => [v.id, v.remote])).toEqual([
      ['testbed', false],
      ['remote:kind-worker', true],
    ]);
    expect(viaOptions(up, remotes, 'node-2').map((v) => v.id)).toEqual(['remote:kind-worker']);
    expect(viaOptions({ ...up, up: false }, [], 'node-1')).toEqual([]);
  });

  it('counts checks by status and unexplained items', () => {
    const r = {
      checks: [
        { status: 'match' as const, items: [] },
        { status: 'explained' as const, items: [{ explained: true }] },
        { status: 'different' as const, items: [{ explained: true }, { explained: false }, { explained: false }] },
      ],
      skipped: [{}],
    };
    expect(compareCounts(r)).toEqual({ match: 1, explained: 1, different: 1, skipped: 1, unexplainedItems: 2 });
  });
});
