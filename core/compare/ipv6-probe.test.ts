// The probe checks for a request over IPv6: a dual-stack pod resolving a name with A and AAAA records
// connects to the AAAA answer. Real output captured on the dual-stack test-bed (calico-vxlan):
// tcpdump -i any on node-1 (the SYN to the IPv6 ClusterIP, DNAT to a pod on node-2, VXLAN over the
// nodes' IPv6 addresses), conntrack -L plus conntrack -L -f ipv6, and the client's resolv.conf.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { parseTcpdump } from '../parse';
import { compareCapture, compareConntrack, compareDns, expectProbe } from '.';

const FIX = join(__dirname, 'fixtures', 'dual-stack-calico-vxlan');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
const t = loadTopology([{ file: 'dual-stack.yaml', text: readFileSync(join(__dirname, '..', '..', 'resources', 'samples', 'dual-stack.yaml'), 'utf8') }], { set: ['podIPOffset=2'] }).topology!;
const spec = { client: 'kube-system/coredns-7df496f6c4-vfgjj', host: 'web.default.svc.cluster.local', port: 80 };

describe('probe over IPv6 (dual-stack client, A + AAAA name)', () => {
  const expected = expectProbe(t, spec);
  const packets = parseTcpdump(read('tcpdump-any-node-1-ipv6-request.txt')).records;
  it('the model sends DNS over IPv4 (the resolv.conf nameserver) and the request from the pod\'s IPv6 address to the IPv6 ClusterIP', () => {
    expect(expected.target).toBe('fd00:10:96::b');
    expect(expected.flows.filter((f) => f.purpose === 'dns').map((f) => f.src)).toEqual(Array(8).fill('10.244.1.4'));
    expect(expected.flows.find((f) => f.purpose === 'request')).toMatchObject({ src: 'fd00:10:244:1::4', dst: 'fd00:10:96::b', dport: 80 });
  });
  it('tcpdump: the SYN to [fd00:10:96::b]:80, the DNAT to a web pod, the VXLAN outer header between fd00:10::1:5 and fd00:10::1:6 all match', () => {
    const res = compareCapture(expected, packets);
    expect(res.items).toEqual([]);
    expect(res.compared).toBeGreaterThanOrEqual(10);
  });
  it('conntrack: the IPv6 entry (conntrack -L -f ipv6) pairs with the model\'s; a missing -f ipv6 listing shows as the missing entry', () => {
    const text = read('conntrack-L-node-1-ipv6-request.txt');
    const res = compareConntrack(expected, text);
    expect(res.items.filter((i) => !i.explained)).toEqual([]);
    const v4only = text.split('\n').filter((l) => !l.includes('fd00:')).join('\n');
    const miss = compareConntrack(expected, v4only);
    expect(miss.items.filter((i) => !i.explained).map((i) => i.where)).toEqual(['tcp fd00:10:244:1::4 → fd00:10:96::b:80']);
  });
  it('DNS: the client connected to the AAAA answer, as the model resolves it', () => {
    const res = compareDns(expected, { resolvConf: read('resolv.conf-coredns-vfgjj'), packets, connectedTo: 'fd00:10:96::b' });
    expect(res.items).toEqual([]);
    // had it connected to the IPv4 address, the model would disagree
    expect(compareDns(expected, { resolvConf: read('resolv.conf-coredns-vfgjj'), packets, connectedTo: '10.96.0.11' }).status).toBe('different');
  });
});
