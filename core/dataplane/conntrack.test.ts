import { describe, expect, it } from 'vitest';
import { CONNTRACK_FULL_MESSAGE, ConntrackTable, conntrackSummary, renderConntrackEntry, renderConntrackList } from './conntrack';

describe('conntrack table', () => {
  it('walks the TCP handshake NEW → ESTABLISHED and marks ASSURED', () => {
    const ct = new ConntrackTable();
    const syn = ct.track({ family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.96.5.20', sport: 52345, dport: 80, tcpFlags: ['SYN'] });
    expect(syn.verdict === 'ok' && syn.created && syn.ctstate).toBe('NEW');
    if (syn.verdict !== 'ok') throw new Error('dropped');
    ct.setNat(syn.entry, { src: '10.244.1.5', dst: '10.244.2.8', sport: 52345, dport: 8080 });
    expect(renderConntrackEntry(syn.entry, ct.now)).toBe(
      'tcp      6 120 SYN_SENT src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 [UNREPLIED] src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=52345 mark=0 use=1',
    );
    // the SYN-ACK comes back from the pod: it belongs to the entry (reply direction)
    const synack = ct.track({ family: 4, proto: 'tcp', src: '10.244.2.8', dst: '10.244.1.5', sport: 8080, dport: 52345, tcpFlags: ['SYN', 'ACK'] });
    if (synack.verdict !== 'ok') throw new Error('dropped');
    expect(synack.direction).toBe('reply');
    expect(synack.ctstate).toBe('ESTABLISHED');
    expect(synack.entry.state).toBe('SYN_RECV');
    // …and is un-DNATed back to the Service address the client used
    expect(ct.translate(synack.entry, 'reply', { src: '10.244.2.8', dst: '10.244.1.5', sport: 8080, dport: 52345 })).toEqual({ src: '10.96.5.20', dst: '10.244.1.5', sport: 80, dport: 52345 });
    const ack = ct.track({ family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.96.5.20', sport: 52345, dport: 80, tcpFlags: ['ACK'] });
    if (ack.verdict !== 'ok') throw new Error('dropped');
    expect(ack.entry.state).toBe('ESTABLISHED');
    expect(ack.entry.assured).toBe(true);
    expect(ct.translate(ack.entry, 'original', { src: '10.244.1.5', dst: '10.96.5.20', sport: 52345, dport: 80 }).dst).toBe('10.244.2.8');
    ct.tick(1);
    // The seed's scenario after DNAT: original dst 10.96.5.20 dport 80, reply src 10.244.2.8 sport 8080.
    expect(renderConntrackList(ct)).toBe(
      'tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=52345 [ASSURED] mark=0 use=1\n',
    );
    expect(conntrackSummary(ct.size)).toBe('conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n');
  });

  it('prints UDP without a state, UNREPLIED until a reply, ASSURED as a stream after 2 s', () => {
    const ct = new ConntrackTable();
    const q = ct.track({ family: 4, proto: 'udp', src: '10.0.0.2', dst: '172.30.0.10', sport: 40000, dport: 53 });
    if (q.verdict !== 'ok') throw new Error('dropped');
    ct.setNat(q.entry, { src: '10.0.0.2', dst: '10.180.0.3', sport: 40000, dport: 53 });
    expect(renderConntrackEntry(q.entry, ct.now)).toBe('udp      17 30 src=10.0.0.2 dst=172.30.0.10 sport=40000 dport=53 [UNREPLIED] src=10.180.0.3 dst=10.0.0.2 sport=53 dport=40000 mark=0 use=1');
    ct.tick(1);
    ct.track({ family: 4, proto: 'udp', src: '10.180.0.3', dst: '10.0.0.2', sport: 53, dport: 40000 });
    expect(renderConntrackEntry(q.entry, ct.now)).toBe('udp      17 30 src=10.0.0.2 dst=172.30.0.10 sport=40000 dport=53 src=10.180.0.3 dst=10.0.0.2 sport=53 dport=40000 mark=0 use=1');
    ct.tick(2);
    ct.track({ family: 4, proto: 'udp', src: '10.0.0.2', dst: '172.30.0.10', sport: 40000, dport: 53 });
    expect(renderConntrackEntry(q.entry, ct.now)).toMatch(/^udp {6}17 120 .* \[ASSURED\] mark=0 use=1$/);
  });

  it('expires entries by timeout', () => {
    const ct = new ConntrackTable();
    ct.track({ family: 4, proto: 'udp', src: '10.0.0.2', dst: '10.0.0.3', sport: 1, dport: 2 });
    expect(ct.tick(29)).toHaveLength(0);
    expect(ct.tick(1)).toHaveLength(1);
    expect(ct.size).toBe(0);
  });

  it('early-drops an unassured entry when full, then drops packets with the kernel message', () => {
    const ct = new ConntrackTable({ max: 3 });
    const ok = (i: number) => ct.track({ family: 4, proto: 'udp', src: '10.0.0.2', dst: '10.0.0.3', sport: 1000 + i, dport: 53 });
    for (let i = 0; i < 3; i++) expect(ok(i).verdict).toBe('ok');
    const fourth = ok(3);
    expect(fourth.verdict === 'ok' && fourth.earlyDropped?.orig.sport).toBe(1000);
    expect(ct.size).toBe(3);
    // make every entry ASSURED: nothing can be evicted any more
    const full = new ConntrackTable({ max: 2 });
    for (let i = 0; i < 2; i++) {
      full.track({ family: 4, proto: 'tcp', src: '10.0.0.2', dst: '10.0.0.3', sport: 2000 + i, dport: 80, tcpFlags: ['SYN'] });
      full.track({ family: 4, proto: 'tcp', src: '10.0.0.3', dst: '10.0.0.2', sport: 80, dport: 2000 + i, tcpFlags: ['SYN', 'ACK'] });
      full.track({ family: 4, proto: 'tcp', src: '10.0.0.2', dst: '10.0.0.3', sport: 2000 + i, dport: 80, tcpFlags: ['ACK'] });
    }
    const dropped = full.track({ family: 4, proto: 'tcp', src: '10.0.0.2', dst: '10.0.0.3', sport: 3000, dport: 80, tcpFlags: ['SYN'] });
    expect(dropped).toEqual({ verdict: 'drop', message: 'nf_conntrack: nf_conntrack: table full, dropping packet' });
    expect(full.kernelLog).toEqual([CONNTRACK_FULL_MESSAGE]);
    expect(full.stats.drop).toBe(1);
    // existing connections keep working
    expect(full.track({ family: 4, proto: 'tcp', src: '10.0.0.2', dst: '10.0.0.3', sport: 2000, dport: 80, tcpFlags: ['ACK'] }).verdict).toBe('ok');
  });

  it('prints ICMP and IPv6 tuples', () => {
    const ct = new ConntrackTable();
    const r = ct.track({ family: 4, proto: 'icmp', src: '10.0.0.1', dst: '10.0.0.2', icmp: { type: 8, code: 0, id: 6901 } });
    if (r.verdict !== 'ok') throw new Error('dropped');
    expect(renderConntrackEntry(r.entry, ct.now)).toBe('icmp     1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=6901 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=6901 mark=0 use=1');
    const v6 = ct.track({ family: 6, proto: 'tcp', src: 'fd00:0:0::1', dst: 'fd00::2', sport: 1, dport: 80, tcpFlags: ['SYN'] });
    if (v6.verdict !== 'ok') throw new Error('dropped');
    expect(renderConntrackEntry(v6.entry, ct.now, { extended: true })).toBe('ipv6     10 tcp      6 120 SYN_SENT src=fd00::1 dst=fd00::2 sport=1 dport=80 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=80 dport=1 mark=0 use=1');
  });
});
