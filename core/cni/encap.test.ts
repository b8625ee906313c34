import { describe, expect, it } from 'vitest';
import { encapOverhead, encapsulate, getCniModel, mtuCheck, tunnelSourcePort, type InnerPacket } from './index';
import { testTopology } from './testing';
import type { CniPlugin } from '../model/types';

const inner: InnerPacket = { srcIP: '10.244.1.5', dstIP: '10.244.2.8', protocol: 'TCP', srcPort: 52345, dstPort: 8080, length: 1400 };

function enc(cni: string, o: Parameters<typeof testTopology>[0] = {}) {
  const [plugin, mode] = cni.split(/-(.*)/s) as [CniPlugin, string];
  const t = testTopology({ plugin, mode, ...o });
  return encapsulate(getCniModel(plugin, mode), t, 'node-1', 'node-2', inner);
}

describe('encapsulation overheads and pod MTUs (node MTU 1500)', () => {
  it.each([
    ['calico-bgp', 'none', 0, 1500],
    ['calico-vxlan', 'vxlan', 50, 1450],
    ['calico-ipip', 'ipip', 20, 1480],
    ['flannel-vxlan', 'vxlan', 50, 1450],
    ['flannel-host-gw', 'none', 0, 1500],
    ['cilium-vxlan', 'vxlan', 50, 1450],
    ['cilium-geneve', 'geneve', 50, 1450],
    ['cilium-native', 'none', 0, 1500],
    ['antrea-geneve', 'geneve', 50, 1450],
    ['antrea-noencap', 'none', 0, 1500],
    ['weave-fastdp', 'vxlan', 50, 1376],
  ])('%s: %s, +%i bytes, pod MTU %i', (cni, kind, overhead, podMtu) => {
    const e = enc(cni);
    expect(e.kind).toBe(kind);
    expect(e.overhead).toBe(overhead);
    expect(e.podMtu).toBe(podMtu);
    expect(e.maxInner).toBe(1500 - overhead);
    if (kind === 'none') expect(e.outer).toBeUndefined();
    else expect(e.outer!.ip.length).toBe(1400 + overhead);
  });

  it('WireGuard adds 60 bytes over IPv4 (Calico: MTU 1440; Cilium keeps its own 80-byte reserve)', () => {
    const calico = enc('calico-bgp', { encryption: true });
    expect(calico).toMatchObject({ kind: 'wireguard', overhead: 60, podMtu: 1440, device: 'wireguard.cali' });
    expect(calico.outer!.udp).toMatchObject({ srcPort: 51820, dstPort: 51820 });
    const cilium = enc('cilium-native', { encryption: true });
    expect(cilium).toMatchObject({ kind: 'wireguard', overhead: 60, podMtu: 1420 });
  });

  it('IPv6 underlays add 20 more bytes: WireGuard 60/80, VXLAN 50/70, IPIP 20/40', () => {
    expect([encapOverhead('wireguard', 4), encapOverhead('wireguard', 6)]).toEqual([60, 80]);
    expect([encapOverhead('vxlan', 4), encapOverhead('vxlan', 6)]).toEqual([50, 70]);
    expect([encapOverhead('geneve', 4), encapOverhead('ipip', 4), encapOverhead('ipip', 6), encapOverhead('none', 6)]).toEqual([50, 20, 40, 0]);
  });

  it('a configured MTU wins over the derived one', () => {
    expect(enc('calico-vxlan', { mtu: 1400 }).podMtu).toBe(1400);
    expect(enc('flannel-vxlan', { nodeMTU: 9001 }).podMtu).toBe(8951);
  });
});

describe('outer headers', () => {
  it('Calico VXLAN: node IPs, UDP 4789 from a flow-hash port, VNI 4096, inner Ethernet between VTEP MACs', () => {
    const e = enc('calico-vxlan');
    expect(e.device).toBe('vxlan.calico');
    expect(e.outer!.ip).toMatchObject({ src: '10.0.1.5', dst: '10.0.1.6', protocol: 17, ttl: 64, df: false });
    expect(e.outer!.udp!.dstPort).toBe(4789);
    expect(e.outer!.udp!.srcPort).toBe(tunnelSourcePort(inner));
    expect(e.outer!.udp!.length).toBe(1400 + 50 - 20);
    expect(e.outer!.vxlan).toEqual({ flags: 0x08, vni: 4096 });
    expect(e.outer!.innerEth!.src).not.toBe(e.outer!.innerEth!.dst);
  });

  it('flannel VXLAN uses VNI 1 on 8472; Cilium carries the source identity in the VNI', () => {
    expect(enc('flannel-vxlan').outer).toMatchObject({ udp: { dstPort: 8472 }, vxlan: { vni: 1 } });
    const c = enc('cilium-geneve');
    expect(c.outer!.udp!.dstPort).toBe(6081);
    expect(c.outer!.geneve!.vni).toBeGreaterThanOrEqual(256);
  });

  it('IPIP is IP protocol 4 without UDP', () => {
    const e = enc('calico-ipip');
    expect(e.outer!.ip).toMatchObject({ protocol: 4, protocolName: 'IPIP' });
    expect(e.outer!.udp).toBeUndefined();
    expect(e.device).toBe('tunl0');
  });

  it('the flow-hash source port stays in 32768-60999 and differs between flows', () => {
    const ports = new Set<number>();
    for (let p = 40000; p < 40200; p++) {
      const sp = tunnelSourcePort({ ...inner, srcPort: p });
      expect(sp).toBeGreaterThanOrEqual(32768);
      expect(sp).toBeLessThanOrEqual(60999);
      ports.add(sp);
    }
    expect(ports.size).toBeGreaterThan(150);
  });

  it('CrossSubnet encapsulates only across subnets', () => {
    const o = {
      nodeCIDRs: ['10.0.1.0/24', '10.0.2.0/24'],
      nodes: [
        { name: 'node-1', ip: '10.0.1.5', podCIDR: '10.244.1.0/24' },
        { name: 'node-2', ip: '10.0.2.6', podCIDR: '10.244.2.0/24' },
      ],
      pods: [],
    };
    expect(enc('calico-vxlan-crosssubnet', o).kind).toBe('vxlan');
    expect(enc('calico-vxlan-crosssubnet').kind).toBe('none');
  });
});

describe('mtuCheck', () => {
  it('fits', () => {
    expect(mtuCheck(1450, true, { mtu: 1450 }).verdict).toBe('fits');
  });
  it('IPv4 without DF is fragmented', () => {
    const r = mtuCheck(1500, false, { mtu: 1450 });
    expect(r).toMatchObject({ verdict: 'fragmented', fragments: 2 });
    expect(mtuCheck(4000, false, { mtu: 1500 }).fragments).toBe(3);
  });
  it('IPv4 with DF: ICMP fragmentation needed with the next-hop MTU', () => {
    const r = mtuCheck(1500, true, { mtu: 1450, where: 'vxlan.calico' });
    expect(r.verdict).toBe('icmp-frag-needed');
    expect(r.icmp).toEqual({ type: 3, code: 4, nextHopMtu: 1450, text: 'unreachable - need to frag (mtu 1450)' });
    expect(r.message).toContain('vxlan.calico');
  });
  it('IPv6 is never fragmented on the path: packet too big', () => {
    expect(mtuCheck(1500, false, { mtu: 1450, family: 6 })).toMatchObject({ verdict: 'icmp-packet-too-big', icmp: { type: 2, code: 0 } });
  });
  it('a black hole when the ICMP error is filtered', () => {
    const r = mtuCheck(1500, true, { mtu: 1450, icmpBlocked: true });
    expect(r.verdict).toBe('black-hole');
    expect(r.message).toMatch(/stalls/);
  });
});
