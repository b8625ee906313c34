import { describe, expect, it } from 'vitest';
import { parseConntrack } from './index';

// Quoted in the reference from weaveworks/scope's captured `conntrack -L -p tcp -o id` output.
const SCOPE_1 =
  'tcp      6 431998 ESTABLISHED src=10.0.2.2 dst=10.0.2.15 sport=49911 dport=22 src=10.0.2.15 dst=10.0.2.2 sport=22 dport=49911 [ASSURED] mark=0 use=1 id=2993966208';
const SCOPE_2 =
  'tcp      6 431970 ESTABLISHED src=192.168.35.116 dst=216.58.213.227 sport=49862 dport=443 packets=11 bytes=1337 src=216.58.213.227 dst=192.168.35.116 sport=443 dport=49862 packets=8 bytes=716 [ASSURED] mark=0 secctx=system_u:object_r:unlabeled_t:s0 use=1 id=943643840';
const EVENT = '    [NEW] tcp      6 120 SYN_SENT src=10.0.0.1 dst=127.0.0.1 sport=36898 dport=28107 [UNREPLIED] src=10.0.0.2 dst=127.0.0.2 sport=28107 dport=36898 id=347275904';

describe('parseConntrack', () => {
  it('reads the reference entries field by field', () => {
    const r = parseConntrack(`${SCOPE_1}\n${SCOPE_2}\n`);
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toEqual({
      line: 1,
      l4: { name: 'tcp', num: 6 },
      timeout: 431998,
      state: 'ESTABLISHED',
      original: { src: '10.0.2.2', dst: '10.0.2.15', sport: 49911, dport: 22 },
      reply: { src: '10.0.2.15', dst: '10.0.2.2', sport: 22, dport: 49911 },
      unreplied: false,
      assured: true,
      offload: false,
      mark: 0,
      use: 1,
      id: 2993966208,
    });
    expect(r.records[1].original).toMatchObject({ packets: 11, bytes: 1337 });
    expect(r.records[1].reply).toMatchObject({ packets: 8, bytes: 716 });
    expect(r.records[1].secctx).toBe('system_u:object_r:unlabeled_t:s0');
  });

  it('reads conntrack -E events with [UNREPLIED]', () => {
    const r = parseConntrack(EVENT);
    expect(r.records[0]).toMatchObject({ event: 'NEW', state: 'SYN_SENT', unreplied: true, assured: false, id: 347275904 });
  });

  it('reads a DNATed UDP Service flow (no state), ICMP, IPv6, -o extended and zone', () => {
    const text = [
      'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=40000 dport=53 src=10.244.2.15 dst=10.244.1.5 sport=53 dport=40000 mark=0 use=1',
      'icmp     1 29 src=10.244.1.5 dst=10.244.2.8 type=8 code=0 id=11937 src=10.244.2.8 dst=10.244.1.5 type=0 code=0 id=11937 mark=0 zone=3 use=1',
      'ipv6     10 tcp      6 117 SYN_SENT src=fd00::1 dst=fd00::2 sport=41000 dport=80 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=80 dport=41000 mark=0 use=1',
      'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.',
    ].join('\n');
    const r = parseConntrack(text);
    expect(r.diagnostics).toEqual([]);
    expect(r.records[0]).toMatchObject({ l4: { name: 'udp', num: 17 }, timeout: 29, original: { dst: '10.96.0.10', dport: 53 }, reply: { src: '10.244.2.15' } });
    expect(r.records[0].state).toBeUndefined();
    expect(r.records[1].original).toEqual({ src: '10.244.1.5', dst: '10.244.2.8', type: 8, code: 0, id: 11937 });
    expect(r.records[1].zone).toBe(3);
    expect(r.records[2]).toMatchObject({ l3: { name: 'ipv6', num: 10 }, l4: { name: 'tcp', num: 6 }, unreplied: true, original: { src: 'fd00::1' } });
    expect(r.summary).toEqual({ line: 4, program: 'conntrack', version: '1.4.7', count: 3, verb: 'flow entries have been shown' });
  });

  it('reads -o timestamp brackets that contain spaces', () => {
    const r = parseConntrack(
      'tcp      6 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [ASSURED] [start=Mon Nov 24 05:35:40 2026] [stop=Mon Nov 24 05:36:40 2026] mark=0 use=1',
    );
    expect(r.records[0]).toMatchObject({ start: 'Mon Nov 24 05:35:40 2026', stop: 'Mon Nov 24 05:36:40 2026', assured: true });
  });

  it('flags a summary that does not match the entries (truncated output)', () => {
    const r = parseConntrack(`${SCOPE_1}\nconntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n`);
    expect(r.diagnostics[0]).toMatchObject({ line: 2, severity: 'error' });
    expect(r.diagnostics[0].message).toMatch(/says 2 flow entries but 1 were parsed/);
  });

  it('rejects truncated and malformed entries naming the line', () => {
    const text = [SCOPE_1, SCOPE_1.slice(0, 70), 'tcp six 1 ESTABLISHED src=1 dst=2', 'tcp      6 1 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=x dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1'].join('\n');
    const r = parseConntrack(text);
    expect(r.records).toHaveLength(1);
    expect(r.diagnostics.map((d) => d.line)).toEqual([2, 3, 4]);
    expect(r.diagnostics[0].message).toMatch(/no reply tuple/);
    expect(r.diagnostics[1].message).toMatch(/expected "<protocol> <number>"/);
    expect(r.diagnostics[2].message).toMatch(/"sport=x" is not a number/);
  });
});
