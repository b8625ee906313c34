import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../netlab';
import type { CliIO } from '../types';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), cwd: root };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('netlab trace', () => {
  it('prints numbered steps, the chosen endpoint, the result and the latency table', async () => {
    const r = await run('trace', 'resources/samples/seed.yaml', '--from', 'default/pod-a', '--to', 'curl http://backend.default.svc.cluster.local', '--endpoint', '10.244.3.9');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^default\/pod-a \(10\.244\.1\.5 on node-1\) → curl http:\/\/backend\.default\.svc\.cluster\.local\nCNI calico-bgp/);
    expect(r.out).toMatch(/^ {2}1\. \[dns\] pod\/default\/pod-a: getaddrinfo\("backend\.default\.svc\.cluster\.local"\): 4 candidate names/m);
    expect(r.out).toMatch(/\[request\] node\/node-1 cali5e1c4d6c68c: DNAT 10\.96\.5\.20:80 → 10\.244\.3\.9:8080 {2}\(dnat, /);
    expect(r.out).toContain('       conntrack: tcp      6 120 SYN_SENT src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 [UNREPLIED] src=10.244.3.9 dst=10.244.1.5 sport=8080 dport=52345 mark=0 use=1');
    expect(r.out).toContain('Service default/backend:80 (iptables): 10.244.2.8:8080 p=0.5, 10.244.3.9:8080 p=0.5 ←');
    expect(r.out).toContain('Result: answered.');
    expect(r.out).toMatch(/^Total:\s+\S+ms$/m);
  });

  it('--json prints the event list; --set switches the CNI', async () => {
    const r = await run('trace', 'resources/samples/seed.yaml', '--set', 'cni=calico-vxlan', '--json', '--from', 'default/pod-a', '--to', 'tcp://10.96.5.20:80', '--seed', '3');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.cni).toEqual({ plugin: 'calico', mode: 'vxlan', encapsulation: 'vxlan' });
    expect(j.events[0]).toMatchObject({ seq: 1, phase: 'request', kind: 'socket' });
    expect(j.events.some((e: { kind: string; headers: { outer?: { vxlan?: { vni: number } } } }) => e.kind === 'encap' && e.headers.outer?.vxlan?.vni === 4096)).toBe(true);
    expect(j.captures).toBeUndefined();
  });

  it('a drop exits 0 and says where and why; bad input is an error with a hint', async () => {
    const d = await run('trace', 'resources/samples/three-tier.yaml', '--from', 'production/frontend-5f8fc75b55-vhzjk', '--to', 'curl http://backend:8080');
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/Result: dropped at step \d+ \(policy\): NetworkPolicy egress denied/);
    const bad = await run('trace', 'resources/samples/seed.yaml', '--from', 'default/nope', '--to', 'tcp://10.96.5.20:80');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('no pod "default/nope"');
    expect(bad.err).toContain('hint:');
    const usage = await run('trace', 'resources/samples/seed.yaml', '--to', 'tcp://10.96.5.20:80');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('give --from');
  });

  it('netlab render … tcpdump uses the walk', async () => {
    const r = await run('render', 'resources/samples/seed.yaml', 'tcpdump', '--node', 'node-2', '--iface', 'eth0', '--from', 'default/pod-a', '--to', 'tcp://10.96.5.20:80', '--endpoint', '10.244.2.8');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.244\.1\.5\.52345 > 10\.244\.2\.8\.8080: Flags \[S\], seq \d+, win 64240, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7\], length 0$/m);
  });
});
