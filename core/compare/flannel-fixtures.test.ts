// Real output of the Flannel VXLAN test-bed (core/compare/fixtures/flannel-vxlan:
// seed topology, `netlab compare --node all --via testbed --save-raw`) against
// the model. Two things the comparison used to leave unexplained:
// - the capture of a cross-node request: tcpdump 4.99 prints flannel.1's VXLAN
//   (UDP 8472) as `OTV, flags [I] (0x08), overlay 0, instance 1`, inner packet
//   on the next line;
// - a pod reaching itself through its Service (CoreDNS asking kube-dns on
//   node-2, backend-2 curling backend on node-3): br_netfilter DNATs the frame
//   back to the pod's own bridge port (hairpinMode) and KUBE-POSTROUTING's
//   MASQUERADE gives it cni0's address (10.244.2.1), not the node's.
// The dual-stack capture (dual-stack-flannel-vxlan/*-request.txt) adds a bridged DNAT whose first
// frame also shows as `cni0 Out`: the pod's IPv6 neighbour entry was not resolved yet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../model';
import { parseTcpdump } from '../parse';
import { compareConntrack, compareDns, compareTcpdump, expectProbe } from './index';

const ROOT = join(__dirname, '..', '..');
const FIX = join(__dirname, 'fixtures', 'flannel-vxlan');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');

function seed(cni: string): Topology {
  const r = loadTopology({ file: 'seed.yaml', text: readFileSync(join(ROOT, 'resources', 'samples', 'seed.yaml'), 'utf8') }, { set: [`cni=${cni}`] });
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.topology;
}

const HOST = 'backend.default.svc.cluster.local';
const t = seed('flannel-vxlan');
const unexplained = (r: { items: { explained: boolean }[] }) => r.items.filter((i) => !i.explained);

describe('flannel-vxlan test-bed output against the model', () => {
  it('node-1: the SYN to backend-1 rides flannel.1 (tcpdump 4.99 prints VNI 1 on UDP 8472 as OTV instance 1); nothing unexplained', () => {
    const cap = parseTcpdump(read('tcpdump-any-node-1.txt'));
    const outer = cap.records.find((p) => p.vxlan?.inner?.tcp?.flags === 'S')!;
    expect(outer.summary).toBe('OTV, flags [I] (0x08), overlay 0, instance 1');
    expect(outer.vxlan).toMatchObject({ vni: 1, flags: 'I', printedAs: 'OTV' });
    expect(outer.vxlan!.inner).toMatchObject({ src: '10.244.1.5', dst: '10.244.2.8', dport: 8080 });
    const exp = expectProbe(t, { client: 'default/pod-a', host: HOST, port: 80 });
    const r = compareTcpdump(exp, read('tcpdump-any-node-1.txt'));
    expect(r.items).toEqual([]);
    expect(r.status).toBe('match');
    // 8 DNS questions, the SYN to the ClusterIP, the SYN after DNAT and the VXLAN header: compared, not skipped
    expect(r.compared).toBe(8 + 3);
    expect(unexplained(compareConntrack(exp, read('conntrack-L-node-1.txt')))).toEqual([]);
  });

  it('a wrong VNI or port in the OTV-printed outer header is still named', () => {
    const exp = expectProbe(t, { client: 'default/pod-a', host: HOST, port: 80 });
    const r = compareTcpdump(exp, read('tcpdump-any-node-1.txt').replace(/overlay 0, instance 1/g, 'overlay 0, instance 7'));
    expect(unexplained(r)).toEqual([expect.objectContaining({ where: 'VXLAN outer header', model: 'IP 10.0.1.5.* > 10.0.1.6.8472: OTV, flags [I] (0x08), overlay 0, instance 1', explanation: 'VNI 7 (model 1)' })]);
  });

  it('node-2: CoreDNS asking kube-dns reaches itself; the node masquerades it to cni0\'s address 10.244.2.1, as the model now says', () => {
    const exp = expectProbe(t, { client: 'kube-system/coredns-7db6d8ff4d-x5wq2', host: HOST, port: 80 });
    const dns = exp.flows.filter((f) => f.purpose === 'dns');
    expect(dns.length).toBe(8);
    expect(dns[0].alternatives).toEqual([expect.objectContaining({ replySrc: '10.244.2.15', replyDst: '10.244.2.1', endpointNode: 'node-2' })]);
    // bridged DNAT: the query goes back out of the pod's own bridge port, never across cni0
    expect(dns[0].alternatives[0].egress.dev).toMatch(/^veth[0-9a-f]{8}$/);
    const ct = compareConntrack(exp, read('conntrack-L-node-2.txt'));
    expect(unexplained(ct)).toEqual([]);
    expect(ct.compared).toBeGreaterThan(0);
    // the request itself went to backend-2 on node-3 over flannel.1
    const cap = compareTcpdump(exp, read('tcpdump-any-node-2.txt'));
    expect(cap.items).toEqual([]);
    const rc = read('resolv.conf-coredns');
    expect(compareDns(exp, { resolvConf: rc, packets: parseTcpdump(read('tcpdump-any-node-2.txt')).records, connectedTo: '10.96.5.20' }).items).toEqual([]);
  });

  it('node-3: backend-2 curling its own Service leaves on its own veth already masqueraded to cni0\'s 10.244.3.1 (explained: host veth names differ)', () => {
    const exp = expectProbe(t, { client: 'default/backend-2', host: HOST, port: 80 });
    const req = exp.flows.find((f) => f.purpose === 'request')!;
    const self = req.alternatives.find((a) => a.replySrc === '10.244.3.9')!;
    expect(self).toMatchObject({ replyDst: '10.244.3.1', endpointNode: 'node-3', egress: { encapsulation: 'none' } });
    const remote = req.alternatives.find((a) => a.replySrc === '10.244.2.8')!;
    expect(remote).toMatchObject({ replyDst: '10.244.3.9', egress: { dev: 'flannel.1', encapsulation: 'vxlan', outer: { src: '10.0.1.7', dst: '10.0.1.6', dport: 8472, vni: 1 } } });
    const cap = compareTcpdump(exp, read('tcpdump-any-node-3.txt'));
    expect(unexplained(cap)).toEqual([]);
    expect(cap.items).toEqual([expect.objectContaining({ where: 'egress of 10.244.3.9 → 10.244.3.9.8080', explained: true, explanation: 'the SYN leaves through the endpoint pod\'s veth; the host veth names differ' })]);
    expect(cap.items[0].real).toMatch(/^veth[0-9a-f]{8} Out IP 10\.244\.3\.1\.\d+ > 10\.244\.3\.9\.8080: Flags \[S\]/);
    expect(unexplained(compareConntrack(exp, read('conntrack-L-node-3.txt')))).toEqual([]);
  });

  it('a hairpin reply address other than cni0\'s is still an unexplained difference', () => {
    const exp = expectProbe(t, { client: 'kube-system/coredns-7db6d8ff4d-x5wq2', host: HOST, port: 80 });
    const text = read('conntrack-L-node-2.txt').replace(/src=10\.244\.2\.15 dst=10\.244\.2\.1 sport=53/g, 'src=10.244.2.15 dst=10.0.1.6 sport=53');
    const bad = unexplained(compareConntrack(exp, text));
    expect(bad.length).toBeGreaterThan(0);
    expect((bad[0] as { explanation?: string }).explanation).toContain('replies go to 10.0.1.6 on the node, to 10.244.2.1 in the model');
  });

  it('Calico hairpins keep the node address (the host veth has none: inet_select_addr falls back to eth0\'s)', () => {
    const c = seed('calico-vxlan');
    const exp = expectProbe(c, { client: 'kube-system/coredns-7db6d8ff4d-x5wq2', host: HOST, port: 80 });
    expect(exp.flows[0].alternatives[0]).toMatchObject({ replySrc: '10.244.2.15', replyDst: '10.0.1.6' });
    expect(exp.flows[0].alternatives[0].egress.dev).toMatch(/^cali/);
  });
});

describe('dual-stack flannel-vxlan test-bed output against the model', () => {
  const DS = join(__dirname, 'fixtures', 'dual-stack-flannel-vxlan');
  const rd = (f: string) => readFileSync(join(DS, f), 'utf8');
  const r = loadTopology([{ file: 'dual-stack.yaml', text: readFileSync(join(ROOT, 'resources', 'samples', 'dual-stack.yaml'), 'utf8') }], { set: ['podIPOffset=2', 'cni=flannel-vxlan'] });
  const ds = r.topology!;
  const exp = expectProbe(ds, { client: 'kube-system/coredns-7df496f6c4-vfgjj', host: 'web.default.svc.cluster.local', port: 80 });

  it('a SYN bridged to a web pod on the same node shows as cni0 Out then veth Out (neighbour not resolved yet): explained', () => {
    const cap = compareTcpdump(exp, rd('tcpdump-any-node-1-request.txt'));
    expect(unexplained(cap)).toEqual([]);
    expect(cap.items).toEqual([expect.objectContaining({ where: 'egress of fd00:10:244:1::4 → fd00:10:244:1::3.8080', explained: true })]);
    expect(cap.items[0].real).toMatch(/^cni0 Out IP6 .* \| veth[0-9a-f]{8} Out IP6 /);
    expect(cap.items[0].explanation).toContain('cni0 Out is the same frame handed to the bridge device');
    // a SYN leaving on some other device is not explained away
    const wrong = compareTcpdump(exp, rd('tcpdump-any-node-1-request.txt').replace(/ (vethe3ce4a4c) Out /g, ' eth0 Out '));
    expect(unexplained(wrong).map((i) => (i as { where?: string }).where)).toEqual(['egress of fd00:10:244:1::4 → fd00:10:244:1::3.8080']);
  });

  it('the DNS queries CoreDNS sent to kube-dns and got back itself are masqueraded to cni0\'s 10.244.1.1; conntrack and DNS agree', () => {
    const ct = compareConntrack(exp, rd('conntrack-L-node-1-request.txt'));
    expect(unexplained(ct)).toEqual([]);
    expect(rd('conntrack-L-node-1-request.txt')).toMatch(/src=10\.244\.1\.4 dst=10\.96\.0\.10 sport=\d+ dport=53 src=10\.244\.1\.4 dst=10\.244\.1\.1 sport=53/);
    const dns = compareDns(exp, { resolvConf: rd('resolv.conf-coredns-vfgjj'), packets: parseTcpdump(rd('tcpdump-any-node-1-request.txt')).records, connectedTo: 'fd00:10:96::b' });
    expect(dns.items).toEqual([]);
  });
});
