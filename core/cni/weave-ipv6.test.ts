// Weave on a dual-stack cluster CIDR: pods are IPv4-only (core/model loads
// them so, with a cni-ipv4-only warning), and nothing in the data plane — pod
// interfaces, the CNI ADD result, routes, the weave bridge — carries an IPv6
// pod address; the node says its IPv6 pod CIDR is unused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderIpRoute } from '../render/iproute';
import { loadText } from '../trace/testing';
import { buildDataplane, cniModelFor } from './index';

const DUAL = readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8');

describe.each(['weave', 'weave-sleeve'])('%s on dual-stack.yaml', (cni) => {
  const t = loadText(DUAL, [`cni=${cni}`]);
  const dp = buildDataplane(t);
  const pods = t.pods.filter((p) => !p.hostNetwork);

  it('pods, their eth0 and the CNI ADD result hold IPv4 only', () => {
    for (const p of pods) {
      expect(p.ips.filter((ip) => ip.includes(':')), p.name).toEqual([]);
      const eth0 = dp.pod(p.namespace, p.name).interfaces.find((i) => i.name === 'eth0')!;
      expect(eth0.addresses.filter((a) => a.family === 6 && a.scope === 'global')).toEqual([]);
      const r = cniModelFor(t).cniAddResult(t, p) as { ips: { address: string }[]; routes: { dst: string }[] };
      expect(r.ips.map((i) => i.address)).toEqual([`${p.ips[0]}/16`]);
      expect(JSON.stringify(r)).not.toContain('fd00:');
      expect(renderIpRoute(dp.pod(p.namespace, p.name), { family: 6 })).not.toMatch(/fd00:|default/);
    }
  });

  it('the weave bridge has no IPv6 pod-range address, the node no IPv6 pod route; the note says the IPv6 pod CIDR is unused', () => {
    const node = dp.node('node-1');
    expect(node.interfaces.find((i) => i.name === 'weave')!.addresses.filter((a) => a.family === 6 && a.scope === 'global')).toEqual([]);
    expect(renderIpRoute(node, { family: 6 })).not.toContain('fd00:10:244:');
    expect(node.notes.join(' ')).toMatch(/Weave Net has no IPv6 support.*node-1's IPv6 pod CIDR \(fd00:10:244:1::\/64, from kube-controller-manager\) is unused/);
  });
});
