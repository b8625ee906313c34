// tcpdump -n output for walks, line by line against tcpdump's printf formats
// (tool-output-formats.md §3) and the fixtures quoted there.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { render } from '../render';
import { trace } from './index';
import { captureLines, renderTcpdump } from './tcpdump';
import type { PacketHeaders } from './types';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const TS = String.raw`\d\d:\d\d:\d\d\.\d{6}`;

describe('captureLines', () => {
  it('reproduces the reference VXLAN example (without -e: outer line, inner on the next line)', () => {
    const h: PacketHeaders = {
      ip: { version: 4, src: '192.168.203.3', dst: '192.168.203.5', ttl: 64, df: false, length: 84, protocol: 'ICMP' },
      icmp: { type: 8, code: 0, id: 1292, seq: 1, text: 'echo request, id 1292, seq 1', length: 64 },
      outer: { kind: 'vxlan', eth: { src: '36:dc:85:1e:b3:40', dst: '00:16:3e:08:71:cf' }, ip: { src: '192.168.203.1', dst: '192.168.202.1', protocol: 17, ttl: 64, df: false, length: 134 }, udp: { sport: 45149, dport: 4789, length: 114 }, vxlan: { flags: 8, vni: 100 } },
    };
    const seconds = 20 * 3600 + 21 * 60 + 44.837063;
    expect(captureLines(h, seconds)).toEqual(['20:21:44.837063 IP 192.168.203.1.45149 > 192.168.202.1.4789: VXLAN, flags [I] (0x08), vni 100', 'IP 192.168.203.3 > 192.168.203.5: ICMP echo request, id 1292, seq 1, length 64']);
  });

  it('IP-in-IP prints the inner packet on the same line', () => {
    const h: PacketHeaders = {
      ip: { version: 4, src: '10.244.1.5', dst: '10.244.2.8', ttl: 63, df: true, length: 60, protocol: 'TCP' },
      tcp: { sport: 52345, dport: 8080, flags: ['S'], seq: 1, window: 64800, options: 'mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7', payload: 0 },
      outer: { kind: 'ipip', eth: { src: 'a', dst: 'b' }, ip: { src: '10.0.1.5', dst: '10.0.1.6', protocol: 4, ttl: 64, df: false, length: 80 } },
    };
    expect(captureLines(h, 0)).toEqual(['00:00:00.000000 IP 10.0.1.5 > 10.0.1.6: IP 10.244.1.5.52345 > 10.244.2.8.8080: Flags [S], seq 1, win 64800, options [mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0']);
  });
});

describe('tcpdump for the seed walk (Calico BGP)', () => {
  const t = loadText(SEED);
  const r = trace(t, 'default/pod-a', 'curl http://backend.default.svc.cluster.local', { endpoint: '10.244.2.8' });

  it("in pod-a's namespace: DNS to the Service address, the handshake and the HTTP exchange with 10.96.5.20", () => {
    const lines = renderTcpdump(r, { pod: 'default/pod-a', iface: 'eth0' }).trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${TS} IP 10\\.244\\.1\\.5\\.53241 > 10\\.96\\.0\\.10\\.53: \\d+\\+ A\\? backend\\.default\\.svc\\.cluster\\.local\\.default\\.svc\\.cluster\\.local\\. \\(77\\)$`));
    expect(lines[1]).toMatch(/ AAAA\? backend\.default\.svc\.cluster\.local\.default\.svc\.cluster\.local\. \(77\)$/);
    expect(lines.filter((l) => l.includes('10.96.0.10.53 > 10.244.1.5')).length).toBe(8);
    const http = lines.filter((l) => l.includes('10.96.5.20.80') || l.includes('> 10.96.5.20.80'));
    expect(http.map((l) => /Flags \[([^\]]+)\]/.exec(l)![1])).toEqual(['S', 'S.', '.', 'P.', '.', 'P.', '.', 'F.', 'F.', '.']);
    expect(http[5]).toMatch(/IP 10\.96\.5\.20\.80 > 10\.244\.1\.5\.52345: Flags \[P\.\], seq 1:854, ack 98, win \d+, options \[nop,nop,TS val \d+ ecr \d+\], length 853: HTTP: HTTP\/1\.1 200 OK$/);
    // Time never goes backwards.
    const stamps = lines.filter((l) => /^\d/.test(l)).map((l) => l.slice(0, 15));
    expect([...stamps].sort()).toEqual(stamps);
  });

  it('on node-2 eth0 the request arrives DNATed (10.244.2.8.8080), and -e adds the MAC header', () => {
    const d = renderTcpdump(r, { node: 'node-2', iface: 'eth0', link: true });
    expect(d).toMatch(new RegExp(`^${TS} [0-9a-f:]{17} > [0-9a-f:]{17}, ethertype IPv4 \\(0x0800\\), length 74: 10\\.244\\.1\\.5\\.52345 > 10\\.244\\.2\\.8\\.8080: Flags \\[S\\]`, 'm'));
    expect(d).not.toContain('10.96.5.20.80');
  });

  it('netlab render tcpdump goes through the renderer registry', () => {
    const out = render('tcpdump', t, { node: 'node-1', iface: 'eth0', from: 'default/pod-a', to: 'http://backend.default.svc.cluster.local', endpoint: '10.244.2.8' });
    expect(out).toBe(renderTcpdump(r, { node: 'node-1', iface: 'eth0' }));
    expect(render('trace-conntrack', t, { node: 'node-1', from: 'default/pod-a', to: 'http://backend.default.svc.cluster.local', endpoint: '10.244.2.8' })).toBe(`${r.conntrack['node-1'].join('\n')}\n`);
  });

  it('ICMP: echo request and reply lines', () => {
    const p = trace(t, 'default/pod-a', 'ping 10.244.2.8');
    const d = renderTcpdump(p, { node: 'node-2', iface: 'eth0' });
    expect(d).toMatch(/IP 10\.244\.1\.5 > 10\.244\.2\.8: ICMP echo request, id \d+, seq 1, length 64/);
    expect(d).toMatch(/IP 10\.244\.2\.8 > 10\.244\.1\.5: ICMP echo reply, id \d+, seq 1, length 64/);
  });
});

describe('tcpdump for a Flannel VXLAN walk', () => {
  it('prints flannel.1\'s VXLAN (UDP 8472) as tcpdump 4.99 does, as OTV with the VNI as the instance; Calico\'s 4789 stays VXLAN', () => {
    const t = loadText(SEED, ['cni=flannel-vxlan']);
    const r = trace(t, 'default/pod-a', 'curl http://backend.default.svc.cluster.local', { endpoint: '10.244.2.8' });
    const lines = renderTcpdump(r, { node: 'node-1', iface: 'eth0' }).trimEnd().split('\n');
    const i = lines.findIndex((l) => /^IP 10\.244\.1\.5\.52345 > 10\.244\.2\.8\.8080: Flags \[S\],/.test(l));
    expect(i).toBeGreaterThan(0);
    // the SYN's outer line, then the inner packet without a timestamp (the form the test-bed's tcpdump 4.99.3 printed)
    expect(lines[i - 1]).toMatch(new RegExp(`^${TS} IP 10\\.0\\.1\\.5\\.\\d+ > 10\\.0\\.1\\.6\\.8472: OTV, flags \\[I\\] \\(0x08\\), overlay 0, instance 1$`));
    expect(lines[i]).toMatch(/^IP 10\.244\.1\.5\.52345 > 10\.244\.2\.8\.8080: Flags \[S\],/);
    expect(lines.some((l) => l.includes('VXLAN'))).toBe(false);
    const c = trace(loadText(SEED, ['cni=calico-vxlan']), 'default/pod-a', 'curl http://backend.default.svc.cluster.local', { endpoint: '10.244.2.8' });
    expect(renderTcpdump(c, { node: 'node-1', iface: 'eth0' })).toMatch(/> 10\.0\.1\.6\.4789: VXLAN, flags \[I\] \(0x08\), vni 4096$/m);
  });
});
