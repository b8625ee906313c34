// compareNode's pure helpers: which request the probe checks send.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../../core/model';
import { expectProbe, type ProbeSpec } from '../../../core/compare';
import { chooseProbe } from './compare';

const SAMPLES = join(__dirname, '..', '..', '..', 'resources', 'samples');

function load(file: string, set: string[] = []): Topology {
  const r = loadTopology([{ file, text: readFileSync(join(SAMPLES, file), 'utf8') }], { set });
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.topology;
}

describe('chooseProbe', () => {
  it('IPv4-only topology: the first ClusterIP Service with a TCP port and endpoints, from a pod on the node that is not one of them', () => {
    expect(chooseProbe(load('seed.yaml'), 'node-1')).toEqual({ client: 'default/pod-a', host: 'backend.default.svc.cluster.local', port: 80 });
  });
  it('dual-stack: the first Service (web, A and AAAA) from a pod that is not one of its endpoints; the model then expects the request over IPv6', () => {
    const t = load('dual-stack.yaml', ['podIPOffset=2']);
    const choice = chooseProbe(t, 'node-1');
    expect(choice).toEqual({ client: 'kube-system/coredns-7df496f6c4-vfgjj', host: 'web.default.svc.cluster.local', port: 80 });
    const e = expectProbe(t, choice as ProbeSpec);
    expect([e.clientIP, e.clientIP6, e.target]).toEqual(['10.244.1.4', 'fd00:10:244:1::4', 'fd00:10:96::b']);
    const req = e.flows.find((f) => f.purpose === 'request')!;
    expect([req.src, req.dst]).toEqual(['fd00:10:244:1::4', 'fd00:10:96::b']);
    // the endpoint on node-2 is reached through vxlan-v6.calico, outer header between the nodes' IPv6 addresses
    const remote = req.alternatives.find((a) => a.endpointNode === 'node-2')!;
    expect(remote.egress).toMatchObject({ dev: 'vxlan-v6.calico', encapsulation: 'vxlan', outer: { src: 'fd00:10::1:5', dst: 'fd00:10::1:6', dport: 4789, vni: 4096 } });
    expect(e.notes.join(' ')).toMatch(/glibc sorts the IPv6 answer first, so the request goes to fd00:10:96::b/);
    // a name with an A record only stays IPv4; DNS goes to the IPv4 kube-dns address in every case
    const v4 = expectProbe(t, { client: 'kube-system/coredns-7df496f6c4-vfgjj', host: 'web-v4.default.svc.cluster.local', port: 80 });
    expect(v4.flows.find((f) => f.purpose === 'request')!.src).toBe('10.244.1.4');
    expect(v4.flows.filter((f) => f.purpose === 'dns').every((f) => f.dst === '10.96.0.10')).toBe(true);
  });
});
