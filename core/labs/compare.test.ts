import { describe, expect, it } from 'vitest';
import { compareConntrack, compareIptablesRule, compareResolvConf, compareRoutes, compareValue, parseConntrackLine, shellWords } from './compare';

describe('comparators', () => {
  it('conntrack lines in any key order, with -E events and -o extended', () => {
    const a = parseConntrackLine('    [NEW] ipv4     2 udp      17 30 src=10.0.0.2 dst=172.30.0.10 sport=40000 dport=53 [UNREPLIED] src=10.180.0.3 dst=10.0.0.2 sport=53 dport=40000 mark=0 use=1');
    expect(a).toMatchObject({ proto: 'udp', unreplied: true, orig: { src: '10.0.0.2', dst: '172.30.0.10', sport: '40000', dport: '53' }, reply: { src: '10.180.0.3' } });
    const icmp = parseConntrackLine('icmp 1 29 src=10.244.1.5 dst=10.244.2.8 type=8 code=0 id=77 src=10.244.2.8 dst=10.244.1.5 type=0 code=0 id=77 mark=0 use=1');
    expect(icmp).toMatchObject({ proto: 'icmp', orig: { type: '8' }, reply: { type: '0' } });
    const model = 'udp      17 29 src=10.0.0.2 dst=172.30.0.10 sport=40000 dport=53 src=10.180.0.3 dst=10.0.0.2 sport=53 dport=40000 mark=0 use=1';
    expect(compareConntrack('17 udp src=10.0.0.2 dst=172.30.0.10 sport=1234 dport=53 src=10.180.0.3 dst=10.0.0.2 sport=53 dport=1234', model).diffs).toEqual([]);
    expect(compareConntrack('tcp 6 src=10.0.0.2 dst=172.30.0.10 sport=1234 dport=53 src=10.180.0.3 dst=10.0.0.2 sport=53 dport=1234', model).diffs.map((d) => d.field)).toEqual(['protocol']);
    expect(compareConntrack('', model).score).toBe(0);
    expect(compareConntrack('udp src=10.0.0.2 dst=172.30.0.10 sport=40000 dport=53', model).diffs.map((d) => d.field)).toEqual(['reply tuple src', 'reply tuple dst', 'reply tuple sport', 'ephemeral port (original sport = reply dport)']);
  });

  it('route tables as sets; iptables rules by option', () => {
    const t = 'default via 10.0.0.1 dev eth0 \n10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird \n';
    expect(compareRoutes('10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird metric 20\ndefault via 10.0.0.1 dev eth0 proto dhcp metric 100', t).score).toBe(1);
    const r = compareRoutes('default via 10.0.0.1 dev eth0', t);
    expect(r.diffs).toEqual([{ field: 'missing route', got: '(absent)', expected: '10.244.2.0/26 via 10.0.1.6 dev eth0' }]);
    expect(r.score).toBe(0.5);
    expect(shellWords(`-A X -m comment --comment "a \\"b\\" c" -j 'Y Z'`)).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a "b" c', '-j', 'Y Z']);
    const rule = '-A KUBE-SVC-X -m comment --comment "ns/svc:p -> 10.0.0.1:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-Y';
    expect(compareIptablesRule('-A KUBE-SVC-X -m statistic -m comment --probability 0.33333333333 --mode random --comment "ns/svc:p -> 10.0.0.1:80" -j KUBE-SEP-Y', rule).diffs).toEqual([]);
    expect(compareIptablesRule('-A KUBE-SVC-X -d 10.96.0.1 -j KUBE-SEP-Y', '-A KUBE-SVC-X -d 10.96.0.1/32 -j KUBE-SEP-Y').diffs).toEqual([]);
    expect(compareIptablesRule('-A KUBE-SVC-X ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ', '-A KUBE-SVC-X -s 10.244.0.0/16 -j KUBE-MARK-MASQ').diffs.map((d) => d.field)).toEqual(['--source', '! --source']);
  });

  it('resolv.conf by field', () => {
    const want = 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n';
    expect(compareResolvConf('nameserver 10.96.0.10\nsearch default.svc.cluster.local. svc.cluster.local cluster.local\noptions ndots:5', want).diffs).toEqual([]);
    expect(compareResolvConf('nameserver 169.254.20.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:2', want).diffs.map((d) => d.field)).toEqual(['nameserver', 'options ndots']);
  });

  it.each([
    ['cidr', '10.244.1.5/32', '10.244.1.5/32', 1],
    ['cidr', '10.244.1.0/32', '10.244.1.5/32', 0],
    ['ip', 'fd00:0::1', 'fd00::1', 1],
    ['number', '50 %', '50', 1],
    ['number', '1e3', '1000', 1],
    ['integer', '1,450 bytes', '1450', 1],
    ['integer', '1450.5', '1450', 0],
    ['text', '  Cali5E1C4D6C68C. ', 'cali5e1c4d6c68c', 1],
    ['set', '10.244.1.0/26\n10.244.1.64/26', ['10.244.1.64/26', '10.244.1.0/26'], 1],
    ['set', '10.244.1.0/26', ['10.244.1.64/26', '10.244.1.0/26'], 0.5],
    ['list', 'c, e, b', ['c', 'e', 'b'], 1],
    ['list', 'e, c, b', ['c', 'e', 'b'], 1 / 3],
  ] as const)('%s: %j vs %j', (format, got, exp, score) => {
    expect(compareValue(format, got, exp).score).toBeCloseTo(score, 6);
  });
});
