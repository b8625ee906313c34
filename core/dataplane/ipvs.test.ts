import { describe, expect, it } from 'vitest';
import { IpsetStore, IpsetError, renderIpsetSave } from './ipset';
import { IpvsState, dhBucket, hash32, ipvsOutcomes, renderIpvsadm, shBucket, type RealServer, type VirtualServer } from './ipvs';

const rs = (address: string, port: number, weight = 1, activeConns = 0, inactConns = 0): RealServer => ({ address, port, forward: 'Masq', weight, activeConns, inactConns });

describe('ipvsadm -Ln', () => {
  it('prints the Kubernetes IPVS README example exactly (with printf padding)', () => {
    const services: VirtualServer[] = [
      { proto: 'UDP', address: '10.0.0.10', port: 53, scheduler: 'rr', dests: [rs('172.17.0.2', 53)] },
      { proto: 'TCP', address: '10.0.0.10', port: 53, scheduler: 'rr', dests: [rs('172.17.0.2', 53)] },
      { proto: 'TCP', address: '10.0.0.1', port: 443, scheduler: 'rr', persistent: 10800, dests: [rs('192.168.0.1', 6443, 1, 1, 0)] },
    ];
    expect(renderIpvsadm(services)).toBe(
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  10.0.0.1:443 rr persistent 10800',
        '  -> 192.168.0.1:6443             Masq    1      1          0         ',
        'TCP  10.0.0.10:53 rr',
        '  -> 172.17.0.2:53                Masq    1      0          0         ',
        'UDP  10.0.0.10:53 rr',
        '  -> 172.17.0.2:53                Masq    1      0          0         ',
        '',
      ].join('\n'),
    );
  });
  it('sorts like ipvs_cmp_services, including its int-subtraction wrap', () => {
    const out = renderIpvsadm([
      { proto: 'TCP', address: '10.0.0.1', port: 80, scheduler: 'rr', dests: [] },
      { proto: 'TCP', address: '200.0.0.1', port: 80, scheduler: 'rr', dests: [] },
      { proto: 'TCP', address: 'fd00::1', port: 80, scheduler: 'rr', dests: [rs('fd00::10', 8080)] },
    ]);
    // 200.x - 10.x overflows a C int, so 200.0.0.1 sorts first, as the real tool shows it
    expect(out.split('\n').filter((l) => l.startsWith('TCP'))).toEqual(['TCP  200.0.0.1:80 rr', 'TCP  10.0.0.1:80 rr', 'TCP  [fd00::1]:80 rr']);
    expect(out).toContain('  -> [fd00::10]:8080');
  });
});

describe('IPVS schedulers', () => {
  const vs = (scheduler: VirtualServer['scheduler'], dests: RealServer[]): VirtualServer => ({ proto: 'TCP', address: '10.96.0.10', port: 53, scheduler, dests });
  it('rr rotates through destinations, skipping weight 0', () => {
    const v = vs('rr', [rs('10.0.0.1', 53), rs('10.0.0.2', 53, 0), rs('10.0.0.3', 53)]);
    const st = new IpvsState();
    expect([1, 2, 3, 4].map(() => st.schedule(v, { ip: '10.244.1.5' }).dest!.address)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.1', '10.0.0.3']);
  });
  it('wrr follows the kernel gcd stepping', () => {
    const v = vs('wrr', [rs('A', 1, 3), rs('B', 1, 1)].map((d) => ({ ...d, address: d.address === 'A' ? '10.0.0.1' : '10.0.0.2' })));
    const st = new IpvsState();
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => st.schedule(v, { ip: '1.1.1.1' }).dest!.address)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2']);
  });
  it('lc picks the least activeconns*256+inactconns, first on ties', () => {
    const v = vs('lc', [rs('10.0.0.1', 53, 1, 1, 0), rs('10.0.0.2', 53, 1, 0, 200), rs('10.0.0.3', 53, 1, 0, 200)]);
    expect(new IpvsState().schedule(v, { ip: '1.1.1.1' }).dest!.address).toBe('10.0.0.2');
    expect(ipvsOutcomes(v, { ip: '1.1.1.1' })).toHaveLength(1);
  });
  it('dh and sh use the kernel hashes', () => {
    // independent BigInt computations of the kernel formulas
    const ip = 0x0a600001; // 10.96.0.1
    expect(dhBucket('10.96.0.1')).toBe(Number((BigInt(ip) * 2654435761n) & 255n));
    const src = 0x0af40105; // 10.244.1.5
    expect(shBucket('10.244.1.5')).toBe(Number(((BigInt(src) * 0x61c88647n) & 0xffffffffn) >> 24n));
    expect(hash32(1, 8)).toBe(0x61);
    const dests = [rs('10.0.0.1', 53), rs('10.0.0.2', 53), rs('10.0.0.3', 53)];
    const sh = vs('sh', dests);
    const b = shBucket('10.244.1.5');
    expect(new IpvsState().schedule(sh, { ip: '10.244.1.5' }).dest).toBe(dests[b % 3]);
    // sh with weights: each destination fills `weight` consecutive buckets
    const table = IpvsState.shTable(vs('sh', [rs('10.0.0.1', 53, 2), rs('10.0.0.2', 53, 1)]));
    expect(table.slice(0, 6).map((d) => d!.address)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.1', '10.0.0.2']);
    // dh hashes the destination, which is the VIP for every client of a Service
    const dh = vs('dh', dests);
    const a = new IpvsState().schedule(dh, { ip: '10.244.1.5' }).dest;
    expect(new IpvsState().schedule(dh, { ip: '10.244.9.9' }).dest).toBe(a);
  });
  it('persistence keeps a client on its real server until the template expires', () => {
    const v = { ...vs('rr', [rs('10.0.0.1', 53), rs('10.0.0.2', 53)]), persistent: 10800 };
    const st = new IpvsState();
    const first = st.schedule(v, { ip: '10.244.1.5' }, 0).dest;
    const again = st.schedule(v, { ip: '10.244.1.5' }, 100);
    expect(again.dest).toBe(first);
    expect(again.reason).toMatch(/persistence template/);
    expect(st.schedule(v, { ip: '10.244.7.7' }, 100).dest).not.toBe(first);
    // after the template expires the client is scheduled afresh by rr
    expect(st.schedule(v, { ip: '10.244.1.5' }, 100 + 10801).reason).toMatch(/^rr:/);
  });
});

describe('ipset', () => {
  it('tests membership per set type and flags', () => {
    const s = new IpsetStore();
    s.create('KUBE-CLUSTER-IP', 'hash:ip,port').add('10.96.0.10,udp:53').add('10.96.0.1,443');
    s.create('KUBE-LOOP-BACK', 'hash:ip,port,ip').add('10.244.1.5,tcp:8080,10.244.1.5');
    s.create('SRC-CIDR', 'hash:ip,port,net').add('203.0.113.10,tcp:80,198.51.100.0/24');
    s.create('KUBE-NODE-PORT-TCP', 'bitmap:port').add('30080');
    s.create('NETS', 'hash:net').add('10.0.0.0/8');
    const p = { src: '10.244.1.5', dst: '10.96.0.10', proto: 'udp', sport: 40000, dport: 53 };
    expect(s.test('KUBE-CLUSTER-IP', p, ['dst', 'dst'])).toBe(true);
    expect(s.test('KUBE-CLUSTER-IP', { ...p, proto: 'tcp' }, ['dst', 'dst'])).toBe(false);
    expect(s.test('KUBE-CLUSTER-IP', { ...p, dst: '10.96.0.1', proto: 'tcp', dport: 443 }, ['dst', 'dst'])).toBe(true);
    expect(s.test('KUBE-LOOP-BACK', { src: '10.244.1.5', dst: '10.244.1.5', proto: 'tcp', dport: 8080 }, ['dst', 'dst', 'src'])).toBe(true);
    expect(s.test('SRC-CIDR', { src: '198.51.100.7', dst: '203.0.113.10', proto: 'tcp', dport: 80 }, ['dst', 'dst', 'src'])).toBe(true);
    expect(s.test('SRC-CIDR', { src: '192.0.2.7', dst: '203.0.113.10', proto: 'tcp', dport: 80 }, ['dst', 'dst', 'src'])).toBe(false);
    expect(s.test('KUBE-NODE-PORT-TCP', { ...p, dport: 30080 }, ['dst'])).toBe(true);
    expect(s.test('NETS', p, ['src'])).toBe(true);
    expect(s.test('MISSING', p, ['src'])).toBeUndefined();
    expect(() => s.get('KUBE-CLUSTER-IP')!.add('10.96.0.1')).toThrow(IpsetError);
    const saved = renderIpsetSave(s).split('\n');
    // ipset 7.17 adds bucketsize and the random initval (a stand-in here) to hash types.
    expect(saved[0]).toMatch(/^create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x[0-9a-f]{8}$/);
    expect(saved.slice(1, 3)).toEqual(['add KUBE-CLUSTER-IP 10.96.0.10,udp:53', 'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443']);
  });
});
