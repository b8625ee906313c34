// compareNode's pure helpers: which request the probe checks send.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../../core/model';
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
  it('dual-stack: a Service whose name has an A record only (a dual-stack client connects to an A+AAAA name over IPv6, the probe model follows IPv4)', () => {
    const t = load('dual-stack.yaml', ['podIPOffset=2']);
    const choice = chooseProbe(t, 'node-1');
    expect(choice).toMatchObject({ host: 'web-v4.default.svc.cluster.local', port: 80 });
    // the first Service of the file is the dual-stack web: it comes after single-stack IPv4 ones
    expect(t.services.find((s) => s.name === 'web')!.clusterIPs.some((ip) => ip.includes(':'))).toBe(true);
    expect(chooseProbe(t, 'node-1', { host: 'web.default.svc.cluster.local', port: 80 })).toMatchObject({ host: 'web.default.svc.cluster.local' });
  });
});
