// The request checks (conntrack, tcpdump, DNS) against real `-i any`
// captures and conntrack listings from the test-bed (fixtures/<mode>), as
// captured and with deliberate changes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../model';
import { parseTcpdump } from '../parse';
import { compareConntrack, compareDns, compareTcpdump, expectProbe } from './index';

const ROOT = join(__dirname, '..', '..');
function seed(mode: string): Topology {
  const r = loadTopology([{ file: 'seed.yaml', text: readFileSync(join(ROOT, 'resources', 'samples', 'seed.yaml'), 'utf8') }], { set: [`cni=${mode}`] });
  return r.topology!;
}
const read = (mode: string, f: string) => readFileSync(join(__dirname, 'fixtures', mode, f), 'utf8');
const PROBE = { client: 'default/pod-a', host: 'backend.default.svc.cluster.local', port: 80 };

describe('expectProbe', () => {
  it('walks the search list, DNATs to CoreDNS and to either backend, and ends in TIME_WAIT', () => {
    const e = expectProbe(seed('calico-bgp'), PROBE);
    expect(e.clientIP).toBe('10.244.1.5');
    expect(e.node).toBe('node-1');
    expect(e.dnsServer).toBe('10.96.0.10');
    expect(e.resolution!.queries.map((q) => `${q.qtype} ${q.qname}`)).toEqual([
      'A backend.default.svc.cluster.local.default.svc.cluster.local.',
      'AAAA backend.default.svc.cluster.local.default.svc.cluster.local.',
      'A backend.default.svc.cluster.local.svc.cluster.local.',
      'AAAA backend.default.svc.cluster.local.svc.cluster.local.',
      'A backend.default.svc.cluster.local.cluster.local.',
      'AAAA backend.default.svc.cluster.local.cluster.local.',
      'A backend.default.svc.cluster.local.',
      'AAAA backend.default.svc.cluster.local.',
    ]);
    const req = e.flows.find((f) => f.purpose === 'request')!;
    expect(req.dst).toBe('10.96.5.20');
    expect(req.alternatives.map((a) => `${a.replySrc}:${a.replySport} ${a.egress.dev}`).sort()).toEqual(['10.244.2.8:8080 eth0', '10.244.3.9:8080 eth0']);
    expect(req.final).toEqual({ state: 'TIME_WAIT', assured: true, unreplied: false });
    const dns = e.flows.find((f) => f.purpose === 'dns')!;
    expect(dns.alternatives.map((a) => a.replySrc)).toEqual(['10.244.2.15']);
    expect(dns.final).toEqual({ state: undefined, assured: false, unreplied: false });
  });

  it('in VXLAN mode the forwarded packets leave on vxlan.calico inside VNI 4096 to the endpoint\'s node', () => {
    const e = expectProbe(seed('calico-vxlan'), PROBE);
    const req = e.flows.find((f) => f.purpose === 'request')!;
    const to3 = req.alternatives.find((a) => a.replySrc === '10.244.3.9')!;
    expect(to3.egress).toMatchObject({ dev: 'vxlan.calico', encapsulation: 'vxlan', outer: { src: '10.0.1.5', dst: '10.0.1.7', dport: 4789, vni: 4096 } });
  });
});

describe.each(['calico-bgp', 'calico-vxlan'])('%s capture and conntrack from the test-bed', (mode) => {
  const t = seed(mode);
  const e = expectProbe(t, PROBE);
  const capture = read(mode, 'tcpdump-any-node-1.txt');

  it('the capture matches: questions in order, SYN to the ClusterIP, SYN after DNAT on the model\'s device' + (mode === 'calico-vxlan' ? ', VXLAN VNI 4096' : ''), () => {
    const r = compareTcpdump(e, capture);
    expect(r.items).toEqual([]);
    expect(r.compared).toBe(mode === 'calico-vxlan' ? 11 : 10);
  });

  it('conntrack matches, with the DNS entries per source port explained', () => {
    const r = compareConntrack(e, read(mode, 'conntrack-L-node-1.txt'));
    expect(r.items.filter((i) => !i.explained)).toEqual([]);
  });

  it('resolv.conf and the answers match', () => {
    const r = compareDns(e, { resolvConf: read(mode, 'resolv.conf-pod-a'), packets: parseTcpdump(capture).records, connectedTo: '10.96.5.20' });
    expect(r.items).toEqual([]);
  });

  it('a capture without the SYN to the ClusterIP is a difference', () => {
    const cut = capture
      .split('\n')
      .filter((l) => !/ In {2}IP 10\.244\.1\.5\.\d+ > 10\.96\.5\.20\.80: Flags \[S\]/.test(l))
      .join('\n');
    const r = compareTcpdump(e, cut);
    expect(r.items.map((i) => i.where)).toEqual(['TCP 10.96.5.20:80']);
    expect(r.status).toBe('different');
  });

  it('questions in another order, or a missing one, are differences', () => {
    // the pod's veth only (eth0/vxlan copies after DNAT would keep the original order)
    const lines = capture.split('\n').filter((l) => l.includes(' cali5e1c4d6c68c '));
    const i1 = lines.findIndex((l) => l.includes(' In ') && l.includes('A? backend.default.svc.cluster.local.default.svc.cluster.local.'));
    const i2 = lines.findIndex((l) => l.includes(' In ') && / A\? backend\.default\.svc\.cluster\.local\. /.test(l));
    const swapped = [...lines];
    [swapped[i1], swapped[i2]] = [swapped[i2], swapped[i1]];
    const r = compareTcpdump(e, swapped.join('\n'));
    expect(r.status).toBe('different');
    expect(r.items.some((i) => i.model === 'A? backend.default.svc.cluster.local.default.svc.cluster.local.' || i.real === 'A? backend.default.svc.cluster.local.default.svc.cluster.local.')).toBe(true);
    expect(compareTcpdump(e, lines.join('\n')).items.filter((i) => i.where?.startsWith('DNS'))).toEqual([]);
    const dropped = lines.filter((l) => !l.includes('AAAA? backend.default.svc.cluster.local.svc.cluster.local.'));
    const r2 = compareTcpdump(e, dropped.join('\n'));
    expect(r2.items.filter((i) => i.where?.startsWith('DNS'))).toMatchObject([{ kind: 'missing', model: 'AAAA? backend.default.svc.cluster.local.svc.cluster.local.' }]);
  });

  it('another NXDOMAIN/answer is a DNS difference', () => {
    const changed = capture.replace(/(\d+)\* 1\/0\/0 A 10\.96\.5\.20/g, '$1* 1/0/0 A 10.96.5.99');
    const r = compareDns(e, { packets: parseTcpdump(changed).records });
    expect(r.items.map((i) => `${i.where}: ${i.model} → ${i.real}`)).toEqual(['answer to A? backend.default.svc.cluster.local.: 10.96.5.20 → 10.96.5.99']);
  });

  it('a conntrack entry DNATed to a non-endpoint, or one left UNREPLIED, is unexplained', () => {
    const ct = read(mode, 'conntrack-L-node-1.txt');
    const wrong = ct.replace(/(dst=10\.96\.5\.20 sport=\d+ dport=80 src=)10\.244\.\d+\.\d+/, '$110.244.9.9');
    const r = compareConntrack(e, wrong);
    expect(r.items.filter((i) => !i.explained).map((i) => i.explanation).join(' ')).toMatch(/10\.244\.9\.9:8080, which is not one of the model's endpoints/);
    const unreplied = 'tcp      6 117 SYN_SENT src=10.244.1.5 dst=10.96.5.20 sport=40000 dport=80 [UNREPLIED] src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=40000 mark=0 use=1\n';
    const r2 = compareConntrack(e, unreplied);
    const texts = r2.items.filter((i) => !i.explained).map((i) => i.explanation).join(' ');
    expect(texts).toMatch(/\[UNREPLIED\]/);
    expect(texts).toMatch(/handshake never completed/);
    expect(texts).toMatch(/no conntrack entry for DNS/);
  });

  it('a connection listed before it closed is explained (ESTABLISHED vs TIME_WAIT)', () => {
    const est = 'tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.5.20 sport=40000 dport=80 src=10.244.3.9 dst=10.244.1.5 sport=8080 dport=40000 [ASSURED] mark=0 use=1\n';
    const r = compareConntrack({ ...e, flows: e.flows.filter((f) => f.purpose === 'request') }, est);
    expect(r.status).toBe('explained');
    expect(r.items[0].explanation).toMatch(/had not closed yet/);
  });
});

describe('VXLAN header checks', () => {
  const e = expectProbe(seed('calico-vxlan'), PROBE);
  const capture = read('calico-vxlan', 'tcpdump-any-node-1.txt');
  it('a wrong VNI or outer destination is named', () => {
    const r = compareTcpdump(e, capture.replace(/vni 4096/g, 'vni 1'));
    expect(r.items).toHaveLength(1);
    expect(r.items[0].explanation).toContain('VNI 1 (model 4096)');
  });
  it('VXLAN where the model routes natively is an extra', () => {
    const r = compareTcpdump(expectProbe(seed('calico-bgp'), PROBE), capture);
    expect(r.items.some((i) => i.kind === 'extra' && i.where === 'VXLAN')).toBe(true);
  });
});
