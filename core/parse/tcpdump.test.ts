import { describe, expect, it } from 'vitest';
import { parseDnsSummary, parseTcpdump, splitHostPort } from './index';

describe('parseTcpdump: timestamps and prefixes', () => {
  it('reads -# and -tttt lines from tcpdump test fixtures (dns_tcp.out)', () => {
    const r = parseTcpdump(
      [
        '    1  2020-06-10 09:21:03.720289 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], seq 603899916, win 64240, options [mss 1460,sackOK,TS val 2044906138 ecr 0,nop,wscale 7], length 0',
        '    2  2020-06-10 09:21:03.846908 IP 209.87.249.18.53 > 192.168.1.11.33779: Flags [S.], seq 2043824403, ack 603899917, win 64240, options [mss 1460], length 0',
        '    3  2020-06-10 09:21:03.847060 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [.], ack 1, win 64240, length 0',
        '    4  2020-06-10 09:21:03.847323 IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [P.], seq 1:59, ack 1, win 64240, length 58 17177+ [1au] A? www.tcpdump.org. (56)',
      ].join('\n'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toMatchObject({
      number: 1,
      timestamp: '2020-06-10 09:21:03.720289',
      protocol: 'IP',
      src: '192.168.1.11',
      sport: 33779,
      dst: '209.87.249.18',
      dport: 53,
      transport: 'tcp',
      tcp: { flags: 'S', seq: '603899916', win: 64240, options: 'mss 1460,sackOK,TS val 2044906138 ecr 0,nop,wscale 7', length: 0 },
    });
    expect(r.records[1].tcp).toMatchObject({ flags: 'S.', ack: 603899917 });
    expect(r.records[2].tcp).toEqual({ flags: '.', ack: 1, win: 64240, length: 0 });
    expect(r.records[3].tcp?.seq).toBe('1:59');
    expect(r.records[3].dns).toMatchObject({ id: 17177, query: true, flags: '+', brackets: ['[1au]'], qtype: 'A', qname: 'www.tcpdump.org.', length: 56 });
  });

  it('reads default HH:MM:SS, -tt epoch, -t (none) and -i any direction', () => {
    const r = parseTcpdump(
      [
        '05:35:40.799861 IP 192.168.1.1.59557 > 192.168.1.2.44935: UDP, length 516',
        '1590000000.123456 IP 192.168.1.1.59557 > 192.168.1.2.44935: UDP, length 4',
        'IP 192.168.1.1.59557 > 192.168.1.2.44935: UDP, length 5',
        '05:35:40.799861 eth0  In  IP 10.0.1.6.179 > 10.0.1.5.36701: Flags [P.], seq 1:20, ack 1, win 502, length 19: BGP',
      ].join('\n'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((p) => p.timestamp)).toEqual(['05:35:40.799861', '1590000000.123456', undefined, '05:35:40.799861']);
    expect(r.records[0].udp).toEqual({ length: 516 });
    expect(r.records[3]).toMatchObject({ interface: 'eth0', direction: 'In', app: 'BGP' });
  });
});

describe('parseTcpdump: ICMP, ARP, VXLAN', () => {
  it('reads ICMP echo and unreachable (tcpdump fixtures)', () => {
    const r = parseTcpdump(
      [
        '    1  2009-11-25 17:27:26.701826 IP 129.146.106.55 > 10.5.233.117: ICMP echo request, id 6901, seq 0, length 64',
        '   14  2004-06-14 10:13:29.333151 IP 12.1.1.1 > 12.4.4.4: ICMP 12.1.1.1 udp port 33441 unreachable, length 36',
      ].join('\n'),
    );
    expect(r.records[0]).toMatchObject({ transport: 'icmp', icmp: { kind: 'echo request', id: 6901, seq: 0, length: 64 } });
    expect(r.records[0].sport).toBeUndefined();
    expect(r.records[1].icmp).toEqual({ kind: '12.1.1.1 udp port 33441 unreachable', length: 36 });
  });

  it('reads ARP requests and replies', () => {
    const r = parseTcpdump('05:34:53.658619 ARP, Request who-has 169.254.1.1 tell 10.244.1.5, length 28\n05:34:53.658700 ARP, Reply 169.254.1.1 is-at ee:ee:ee:ee:ee:ee, length 28\n');
    expect(r.records[0].arp).toEqual({ op: 'request', target: '169.254.1.1', sender: '10.244.1.5', length: 28 });
    expect(r.records[1].arp).toEqual({ op: 'reply', target: '169.254.1.1', mac: 'ee:ee:ee:ee:ee:ee', length: 28 });
  });

  it('attaches the inner packet of a VXLAN frame (captured on the test-bed)', () => {
    const r = parseTcpdump(
      [
        'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode',
        'listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
        '05:35:40.799861 IP 10.0.1.5.35182 > 10.0.1.6.4789: VXLAN, flags [I] (0x08), vni 4096',
        'IP 10.244.1.5 > 10.244.2.0: ICMP echo request, id 11937, seq 1, length 64',
        '05:35:40.800092 IP 10.0.1.6.35182 > 10.0.1.5.4789: VXLAN, flags [I] (0x08), vni 4096',
        'IP 10.244.2.0 > 10.244.1.5: ICMP echo reply, id 11937, seq 1, length 64',
        '2 packets captured',
      ].join('\n'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.meta).toHaveLength(3);
    expect(r.records).toHaveLength(2);
    expect(r.records[0].vxlan).toMatchObject({ flags: 'I', flagsHex: '0x08', vni: 4096 });
    expect(r.records[0].vxlan?.inner).toMatchObject({ src: '10.244.1.5', dst: '10.244.2.0', icmp: { kind: 'echo request', seq: 1 } });
    expect(r.records[1].vxlan?.inner?.icmp?.kind).toBe('echo reply');
  });

  it('reads VXLAN on UDP 8472 as tcpdump 4.99 prints it (OTV: the VNI is the instance), inner packet attached (test-bed, flannel.1)', () => {
    const r = parseTcpdump(
      [
        '12:17:08.208432 flannel.1 Out IP 10.244.1.5.35726 > 10.244.2.8.8080: Flags [S], seq 3094840926, win 64860, options [mss 1410,sackOK,TS val 1220885887 ecr 0,nop,wscale 10], length 0',
        '12:17:08.208442 eth0  Out IP 10.0.1.5.55920 > 10.0.1.6.8472: OTV, flags [I] (0x08), overlay 0, instance 1',
        'IP 10.244.1.5.35726 > 10.244.2.8.8080: Flags [S], seq 3094840926, win 64860, options [mss 1410,sackOK,TS val 1220885887 ecr 0,nop,wscale 10], length 0',
        // OTV wording on another port is not a VXLAN tunnel
        '12:17:08.208450 eth0  Out IP 10.0.1.5.55920 > 10.0.1.6.9999: OTV, flags [I] (0x08), overlay 0, instance 1',
      ].join('\n'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records).toHaveLength(3);
    expect(r.records[1]).toMatchObject({ interface: 'eth0', direction: 'Out', dport: 8472, transport: 'udp', vxlan: { flags: 'I', flagsHex: '0x08', vni: 1, printedAs: 'OTV' } });
    expect(r.records[1].vxlan?.inner).toMatchObject({ src: '10.244.1.5', dst: '10.244.2.8', dport: 8080, tcp: { flags: 'S' } });
    expect(r.records[2].vxlan).toBeUndefined();
    expect(r.records[2].transport).toBe('other');
  });

  it('reads -e link headers (tcpdump vxlan.out)', () => {
    const r = parseTcpdump(
      '    1  2013-05-18 20:21:44.837063 36:dc:85:1e:b3:40 > 00:16:3e:08:71:cf, ethertype IPv4 (0x0800), length 148: 192.168.203.1.45149 > 192.168.202.1.4789: VXLAN, flags [I] (0x08), vni 100\n00:16:3e:37:f6:04 > 00:30:88:01:00:02, ethertype IPv4 (0x0800), length 98: 192.168.203.3 > 192.168.203.5: ICMP echo request, id 1292, seq 1, length 64\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toMatchObject({ link: { src: '36:dc:85:1e:b3:40', dst: '00:16:3e:08:71:cf', ethertype: 'IPv4', length: 148 }, sport: 45149, dport: 4789, vxlan: { vni: 100 } });
    expect(r.records[0].vxlan?.inner).toMatchObject({ link: { length: 98 }, src: '192.168.203.3', icmp: { id: 1292 } });
  });
});

describe('DNS decoder lines', () => {
  it('reads queries in ndots order and answers', () => {
    const r = parseTcpdump(
      [
        '06:00:00.000001 IP 10.244.1.5.41234 > 10.96.0.10.53: 17177+ A? backend.default.svc.cluster.local.default.svc.cluster.local. (77)',
        '06:00:00.000300 IP 10.96.0.10.53 > 10.244.1.5.41234: 17177 NXDomain*- 0/0/0 (77)',
        '06:00:00.000500 IP 10.244.1.5.41234 > 10.96.0.10.53: 17178+ A? backend.default.svc.cluster.local. (51)',
        '06:00:00.000700 IP 10.96.0.10.53 > 10.244.1.5.41234: 17178*- 1/0/0 A 10.96.5.20 (67)',
        '06:00:00.000900 IP 10.96.0.10.53 > 10.244.1.5.41234: 3 2/0/0 CNAME web.example., A 1.2.3.4 (70)',
      ].join('\n'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0].dns).toMatchObject({ query: true, qtype: 'A', qname: 'backend.default.svc.cluster.local.default.svc.cluster.local.', length: 77 });
    expect(r.records[1].dns).toMatchObject({ query: false, id: 17177, rcode: 'NXDomain', flags: '*-', an: 0, ns: 0, ar: 0, answers: [] });
    expect(r.records[3].dns?.rcode).toBeUndefined();
    expect(r.records[3].dns).toMatchObject({ query: false, flags: '*-', an: 1, answers: [{ type: 'A', data: '10.96.5.20' }], length: 67 });
    expect(r.records[4].dns?.answers).toEqual([
      { type: 'CNAME', data: 'web.example.' },
      { type: 'A', data: '1.2.3.4' },
    ]);
  });
  it('returns null for text that is not a DNS summary', () => {
    expect(parseDnsSummary('UDP, length 5')).toBeNull();
    expect(parseDnsSummary('')).toBeNull();
    expect(parseDnsSummary('12345678 A? x.')).toBeNull();
  });
  it('marks truncated DNS', () => {
    expect(parseDnsSummary('17177+ A? www.[|domain]')?.truncated).toBe(true);
  });
});

describe('addresses and ports', () => {
  it('splits IPv4 and IPv6 host.port forms', () => {
    expect(splitHostPort('10.0.1.5.35182', 'IP')).toEqual({ addr: '10.0.1.5', port: 35182 });
    expect(splitHostPort('10.0.1.5', 'IP')).toEqual({ addr: '10.0.1.5' });
    expect(splitHostPort('fe80::1.546', 'IP6')).toEqual({ addr: 'fe80::1', port: 546 });
    expect(splitHostPort('fd00::2', 'IP6')).toEqual({ addr: 'fd00::2' });
    expect(splitHostPort('::ffff:10.0.0.1.80', 'IP6')).toEqual({ addr: '::ffff:10.0.0.1', port: 80 });
    expect(splitHostPort('::ffff:10.0.0.1', 'IP6')).toEqual({ addr: '::ffff:10.0.0.1' });
  });
  it('reads IP6 UDP', () => {
    const r = parseTcpdump('06:00:00.000001 IP6 fd00::1.5353 > ff02::fb.5353: 0 PTR (QM)? _services._dns-sd._udp.local. (45)');
    expect(r.records[0]).toMatchObject({ protocol: 'IP6', src: 'fd00::1', sport: 5353, dst: 'ff02::fb', dport: 5353 });
  });
});

describe('-v continuation lines', () => {
  it('reads the IP header and the addresses from the next line', () => {
    const r = parseTcpdump(
      '06:00:00.000001 IP (tos 0x0, ttl 64, id 4242, offset 0, flags [DF], proto TCP (6), length 60)\n    10.244.1.5.41000 > 10.244.2.8.8080: Flags [S], cksum 0x1234 (incorrect -> 0x5678), seq 1, win 64240, length 0\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toMatchObject({ ipHeader: 'tos 0x0, ttl 64, id 4242, offset 0, flags [DF], proto TCP (6), length 60', src: '10.244.1.5', dport: 8080, tcp: { flags: 'S' } });
  });
});

describe('bad tcpdump input', () => {
  it('names lines it cannot read and keeps the rest', () => {
    const r = parseTcpdump('05:35:40.799861 IP 10.0.0.1 10.0.0.2 UDP\n05:35:40.799861\n05:35:40.799861 IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 1\n');
    expect(r.records).toHaveLength(1);
    expect(r.diagnostics.map((d) => d.line)).toEqual([1, 2]);
    expect(r.diagnostics[0].message).toMatch(/expected "<src> > <dst>: …"/);
  });
});
