import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CNI_MODES } from '../model/types';
import { loadTopology } from '../model';
import { renderIpRoute } from '../render/iproute';
import { buildDataplane, cniModelFor, CniModelError, findPod, getCniModel, listCniModels, printCniResult } from './index';
import { testTopology } from './testing';

const MODELLED_ONLY = 'the local test-bed kernel has no Open vSwitch / IPIP / WireGuard / Geneve; this mode is modelled only';

describe('registry', () => {
  it('has a model for every plugin and mode of CNI_MODES', () => {
    const names = listCniModels().map((m) => `${m.plugin}-${m.mode}`);
    const expected = Object.entries(CNI_MODES).flatMap(([p, modes]) => modes.map((m) => `${p}-${m}`));
    expect(names).toEqual(expected);
  });

  it('rejects unknown modes with the valid ones as the hint', () => {
    expect(() => getCniModel('calico', 'gre')).toThrow(CniModelError);
    try {
      getCniModel('flannel', 'udp');
    } catch (e) {
      expect((e as Error).message).toBe('flannel has no mode "udp"');
      expect((e as CniModelError).hint).toBe('use one of: flannel-vxlan, flannel-host-gw');
    }
  });

  it('describes each mode; IPIP, Geneve, Weave and Antrea are modelled only', () => {
    for (const m of listCniModels()) {
      const d = m.describe();
      expect(d.summary.length).toBeGreaterThan(40);
      expect(d.defaultMtu).toBe(m.podMtu(testTopology({ plugin: m.plugin, mode: m.mode })));
      expect(d.seedNotes.length).toBeGreaterThan(0);
      const modelledOnly = m.plugin === 'weave' || m.plugin === 'antrea' || m.mode.startsWith('ipip') || (m.plugin === 'cilium' && m.mode === 'geneve');
      if (modelledOnly) {
        expect(d.testbedSupported).toBe(false);
        expect(d.testbedNote).toBe(MODELLED_ONLY);
      }
    }
    expect(getCniModel('calico', 'bgp').describe().testbedSupported).toBe(true);
    expect(getCniModel('flannel', 'vxlan').describe().testbedSupported).toBe(true);
    expect(getCniModel('calico', 'vxlan').describe()).toMatchObject({ encapsulation: 'vxlan', overheadBytes: 50, defaultMtu: 1450 });
    expect(getCniModel('calico', 'ipip').describe()).toMatchObject({ encapsulation: 'ipip', overheadBytes: 20, defaultMtu: 1480 });
  });

  it('buildDataplane caches per topology and explains hostNetwork pods', () => {
    const t = testTopology({ pods: [{ name: 'a', node: 'node-1', ip: '10.244.1.5' }, { name: 'h', node: 'node-1', ip: '10.0.1.5', hostNetwork: true }] });
    const dp = buildDataplane(t);
    expect(buildDataplane(t)).toBe(dp);
    expect(dp.pods.size).toBe(1);
    expect(() => dp.pod('default', 'h')).toThrow(/hostNetwork/);
    expect(() => dp.node('node-9')).toThrow(CniModelError);
    expect(dp.podByIP('10.244.1.5')).toBe(dp.pod('default', 'a'));
    expect(dp.podByIP('10.0.1.5')).toBeUndefined();
    expect(dp.podOnInterface('node-1', dp.pod('default', 'a').hostPeer)).toBe(dp.pod('default', 'a'));
    expect(dp.podOnInterface('node-2', dp.pod('default', 'a').hostPeer)).toBeUndefined();
    expect(findPod(t, 'default/a').name).toBe('a');
    expect(findPod(t, 'a').name).toBe('a');
    expect(() => findPod(t, 'x/y')).toThrow(/not in the topology/);
  });

  it('explains missing inputs', () => {
    const t = testTopology({ nodeCIDRs: ['192.168.0.0/24'] });
    expect(() => buildDataplane(t)).toThrow(/outside every node network/);
  });
});

describe('the seed topology (resources/samples/seed.yaml)', () => {
  const source = { file: 'seed.yaml', text: readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8') };

  it('Calico BGP: node-1 routes', () => {
    const { topology } = loadTopology(source);
    expect(topology).not.toBeNull();
    expect(cniModelFor(topology!).plugin).toBe('calico');
    const routes = renderIpRoute(buildDataplane(topology!).node('node-1'));
    expect(routes).toMatch(/^default via 10\.0\.0\.1 dev eth0 \n10\.0\.0\.0\/16 dev eth0 proto kernel scope link src 10\.0\.1\.5 \nblackhole 10\.244\.1\.0\/26 proto bird \n/);
    expect(routes).toContain('10.244.1.5 dev cali5e1c4d6c68c scope link \n');
    expect(routes).toContain('10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird \n');
    expect(routes).toContain('10.244.3.0/26 via 10.0.1.7 dev eth0 proto bird \n');
    expect(routes).not.toContain('vxlan');
  });

  it('Calico VXLAN (--set cni=calico-vxlan): node-1 routes via the VTEPs', () => {
    const { topology } = loadTopology(source, { set: ['cni=calico-vxlan'] });
    const routes = renderIpRoute(buildDataplane(topology!).node('node-1'));
    expect(routes).toContain('blackhole 10.244.1.0/26 proto 80 \n');
    expect(routes).toContain('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink \n');
    expect(routes).toContain('10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink \n');
  });

  it('every CNI builds every node and pod of the seed and prints a CNI result for pod-a', () => {
    for (const m of listCniModels()) {
      const { topology } = loadTopology(source, { set: [`cni=${m.plugin}-${m.mode}`] });
      const dp = buildDataplane(topology!);
      expect(dp.nodes.size).toBe(3);
      const pod = findPod(topology!, 'default/pod-a');
      expect(JSON.parse(printCniResult(m.cniAddResult(topology!, pod)))).toHaveProperty('cniVersion');
    }
  });
});
