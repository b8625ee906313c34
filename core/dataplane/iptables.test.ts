import { describe, expect, it } from 'vitest';
import {
  IptablesParseError,
  base32,
  enumerateOutcomes,
  formatProbability11,
  parseIptablesSave,
  parseRuleArgs,
  probabilityToU32,
  renderIptablesRestore,
  renderIptablesSave,
  runHook,
  saveRule,
  saveString,
  scriptedRandom,
  seededRandom,
  sha256,
  toHex,
  walkIncoming,
  type EvalContext,
  type Packet,
  IpsetStore,
  RecentTable,
} from './index';

const DATE = new Date(Date.UTC(2003, 2, 17, 19, 59, 10));

describe('sha256 / base32', () => {
  it('matches FIPS 180-4 test vectors', () => {
    expect(toHex(sha256('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });
  it('base32 pads like Go StdEncoding', () => {
    expect(base32(new TextEncoder().encode('f'))).toBe('MY======');
    expect(base32(new TextEncoder().encode('foobar'))).toBe('MZXW6YTBOI======');
  });
});

describe('save-form details', () => {
  it('prints statistic probabilities from the kernel u32 with 11 decimals', () => {
    expect(formatProbability11(probabilityToU32(0.5))).toBe('0.50000000000');
    expect(formatProbability11(probabilityToU32(Number('0.3333333333')))).toBe('0.33333333349');
    expect(formatProbability11(probabilityToU32(Number('0.2000000000')))).toBe('0.20000000019');
    expect(formatProbability11(probabilityToU32(0.25))).toBe('0.25000000000');
    // exact tie at the 12th decimal: glibc rounds half to even
    expect(formatProbability11(1 << 19)).toBe('0.00024414062');
  });
  it('quotes strings as xtables_save_string does', () => {
    expect(saveString('ns1_svc-1')).toBe('ns1_svc-1');
    expect(saveString('ns1/svc1:p80')).toBe('"ns1/svc1:p80"');
    expect(saveString('say "hi"')).toBe('"say \\"hi\\""');
    expect(saveString("it's")).toBe('"it\\\'s"');
  });
  it('reorders kube-proxy restore lines into iptables-save order (reference examples)', () => {
    const r1 = parseRuleArgs(['-m', 'comment', '--comment', 'ns1/svc1:p80 cluster IP', '-m', 'tcp', '-p', 'tcp', '-d', '172.30.0.41', '--dport', '80', '-j', 'KUBE-SVC-XPGD46QRK7WJZT7O'], 4);
    expect(saveRule('KUBE-SERVICES', r1)).toBe('-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O');
    const r2 = parseRuleArgs('-m comment --comment ns1/svc1:p80 -m recent --name KUBE-SEP-X --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80'.split(' '), 4);
    expect(saveRule('KUBE-SEP-X', r2)).toBe('-A KUBE-SEP-X -p tcp -m comment --comment "ns1/svc1:p80" -m recent --set --name KUBE-SEP-X --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.1:80');
  });
  it('saves MARK as --set-xmark and REJECT with its default --reject-with', () => {
    const or = parseRuleArgs(['-j', 'MARK', '--or-mark', '0x00004000'], 4);
    expect(saveRule('KUBE-MARK-MASQ', or)).toBe('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
    const xor = parseRuleArgs(['-j', 'MARK', '--xor-mark', '0x4000'], 4);
    expect(saveRule('KUBE-POSTROUTING', xor)).toBe('-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0');
    const and = parseRuleArgs(['-j', 'MARK', '--and-mark', '0xffffbfff'], 4);
    expect(saveRule('X', and)).toBe('-A X -j MARK --set-xmark 0x0/0x4000');
    const rej = parseRuleArgs(['-m', 'comment', '--comment', 'ns/svc has no endpoints', '-m', 'tcp', '-p', 'tcp', '-d', '10.96.0.9', '--dport', '80', '-j', 'REJECT'], 4);
    expect(saveRule('KUBE-SERVICES', rej)).toBe('-A KUBE-SERVICES -d 10.96.0.9/32 -p tcp -m comment --comment "ns/svc has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable');
    const rej6 = parseRuleArgs(['-j', 'REJECT'], 6);
    expect(saveRule('X', rej6)).toBe('-A X -j REJECT --reject-with icmp6-port-unreachable');
  });
  it('saves the recent rcheck rule and conntrack states in iptables order', () => {
    const r = parseRuleArgs('-m recent --name KUBE-SEP-A --rcheck --seconds 10800 --reap -j KUBE-SEP-A'.split(' '), 4);
    expect(saveRule('KUBE-SVC-A', r)).toBe('-A KUBE-SVC-A -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A');
    const c = parseRuleArgs(['-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'DNAT,ESTABLISHED,RELATED', '-j', 'DROP'], 4);
    expect(saveRule('KUBE-FIREWALL', c)).toBe('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  });
  it('loads the protocol match implicitly for -p tcp --dport', () => {
    const r = parseRuleArgs(['-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'], 4);
    expect(saveRule('INPUT', r)).toBe('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
  });
  it('keeps unknown matches and targets verbatim', () => {
    const r = parseRuleArgs(['-m', 'physdev', '!', '--physdev-is-in', '-m', 'addrtype', '!', '--src-type', 'LOCAL', '-j', 'ACCEPT'], 4);
    expect(r.matches[0]).toEqual({ kind: 'opaque', module: 'physdev', args: ['!', '--physdev-is-in'] });
    expect(saveRule('KUBE-SERVICES', r)).toBe('-A KUBE-SERVICES -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT');
    const ct = parseRuleArgs(['-p', 'udp', '-d', '169.254.20.10', '--dport', '53', '-j', 'CT', '--notrack'], 4);
    expect(saveRule('PREROUTING', ct)).toBe('-A PREROUTING -d 169.254.20.10/32 -p udp -m udp --dport 53 -j CT --notrack');
    const cm = parseRuleArgs(['-m', 'conntrack', '--ctorigdst', '10.0.0.1', '-j', 'ACCEPT'], 4);
    expect(cm.matches[0].kind).toBe('opaque');
  });
});

const SAVE = `# Generated by iptables-save v1.8.9 on Mon Mar 17 19:59:10 2003
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
:WLAN - [0:0]
-A INPUT -s 127.0.0.1/32 -d 127.0.0.1/32 -i lo -j ACCEPT
-A FORWARD -d 192.168.100.77/32 -i ppp0 -p udp -m udp --dport 4166 -j ACCEPT
-A FORWARD -i wlan+ -j WLAN
-A WLAN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A WLAN -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT
-A WLAN -j RETURN
COMMIT
# Completed on Mon Mar 17 19:59:10 2003
# Generated by iptables-save v1.8.9 on Mon Mar 17 19:59:10 2003
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
-A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j SVC
-A POSTROUTING -o eth0 -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully
-A SVC -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.0.0.1:6443
-A SVC -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.0.2:6443
-A SVC -j DNAT --to-destination 10.0.0.3:6443
COMMIT
# Completed on Mon Mar 17 19:59:10 2003
`;

describe('iptables-save parse → render', () => {
  it('round-trips byte for byte', () => {
    const rs = parseIptablesSave(SAVE);
    expect(renderIptablesSave(rs, { date: DATE })).toBe(SAVE);
  });
  it('renders the restore form from the rules as written', () => {
    const rs = parseIptablesSave('*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment "a b" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j ACCEPT\nCOMMIT\n');
    expect(renderIptablesRestore(rs, ['nat'], { skipBuiltins: true })).toBe('*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment "a b" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j ACCEPT\nCOMMIT\n');
  });
  it.each([
    ['-A INPUT -j ACCEPT\n', 1, /outside a table/],
    ['*filter\n-A NOPE -j ACCEPT\nCOMMIT\n', 2, /chain "NOPE" does not exist/],
    ['*filter\n:X - [0:0]\n-A X -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n', 3, /above 65535/],
    ['*filter\n-A INPUT -j KUBE-MISSING\nCOMMIT\n', 2, /no chain or target named "KUBE-MISSING"/],
    ['*filter\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n', 2, /not an IPv4 address/],
    ['*filter\n-A INPUT -j ACCEPT\n', 1, /has no COMMIT/],
    ['*bogus\nCOMMIT\n', 1, /unknown table "bogus"/],
    ['*filter\n:INPUT - [0:0]\nCOMMIT\n', 2, /needs policy ACCEPT or DROP/],
    ['*filter\n-A INPUT -m comment --comment "open\nCOMMIT\n', 2, /unterminated double quote/],
    ['*filter\n-A INPUT --frobnicate -j ACCEPT\nCOMMIT\n', 2, /unknown option "--frobnicate"/],
  ])('rejects malformed input with its line: %j', (text, line, msg) => {
    let err: unknown;
    try {
      parseIptablesSave(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IptablesParseError);
    expect((err as IptablesParseError).line).toBe(line);
    expect((err as Error).message).toMatch(msg);
  });
  it('names the column of the bad argument', () => {
    expect.assertions(1);
    try {
      parseIptablesSave('*filter\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n');
    } catch (e) {
      expect((e as IptablesParseError).column).toBe('-A INPUT -p tcp --dport '.length + 1);
    }
  });
});

const pkt = (over: Partial<Packet> = {}): Packet => ({ family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.96.0.1', sport: 40000, dport: 443, mark: 0, ctstate: 'NEW', inIface: 'cali1', ...over });
const ctx = (over: Partial<EvalContext> = {}): EvalContext => ({ isLocal: (ip) => ip === '10.0.1.5', ...over });

describe('evaluator', () => {
  const rs = parseIptablesSave(SAVE);
  it('follows jumps, returns and policies and records matched rules', () => {
    const r = runHook(rs, 'FORWARD', pkt({ inIface: 'wlan0', dst: '8.8.8.8', dport: 8080 }), ctx());
    expect(r.verdict).toBe('ACCEPT');
    expect(r.steps.map((s) => `${s.table}/${s.chain}#${s.index}`)).toEqual(['filter/FORWARD#2', 'filter/WLAN#2']);
    const d = runHook(rs, 'FORWARD', pkt({ inIface: 'wlan0', dst: '8.8.8.8', dport: 22 }), ctx());
    expect(d.verdict).toBe('DROP');
    expect(d.steps.map((s) => s.event)).toEqual(['match', 'match', 'policy']);
    expect(d.rulesEvaluated).toBe(5);
  });
  it('DNATs with statistic decisions and enumerates every outcome with its probability', () => {
    const outcomes = enumerateOutcomes((random) => runHook(rs, 'PREROUTING', pkt(), ctx({ random })).packet.dst);
    expect(outcomes.map((o) => o.result)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const p = outcomes.map((o) => o.probability);
    expect(p[0]).toBeCloseTo(0.33333333349, 10);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    const second = runHook(rs, 'PREROUTING', pkt(), ctx({ random: scriptedRandom([false, true]) }));
    expect(second.nat).toEqual([{ kind: 'DNAT', table: 'nat', chain: 'SVC', index: 2, before: { ip: '10.96.0.1', port: 443 }, after: { ip: '10.0.0.2', port: 6443 } }]);
    const a = runHook(rs, 'PREROUTING', pkt(), ctx({ random: seededRandom(7) })).packet.dst;
    expect(runHook(rs, 'PREROUTING', pkt(), ctx({ random: seededRandom(7) })).packet.dst).toBe(a);
  });
  it('skips the nat table for packets of a known connection', () => {
    const r = runHook(rs, 'PREROUTING', pkt({ ctstate: 'ESTABLISHED' }), ctx());
    expect(r.nat).toEqual([]);
    expect(r.steps[0].event).toBe('skip');
  });
  it('applies MARK and MASQUERADE on the way out', () => {
    const out = runHook(rs, 'POSTROUTING', pkt({ outIface: 'eth0', mark: 0x4000 }), ctx({ masqueradeAddress: () => '10.0.1.5' }));
    expect(out.packet.src).toBe('10.0.1.5');
    expect(out.nat[0].kind).toBe('MASQUERADE');
    const m = parseIptablesSave('*mangle\n-A PREROUTING -j MARK --set-xmark 0x4000/0x4000\n-A PREROUTING -m mark --mark 0x4000/0x4000 -j MARK --xor-mark 0x4000\nCOMMIT\n');
    const r = runHook(m, 'PREROUTING', pkt({ mark: 0x1 }), ctx());
    expect(r.packet.mark).toBe(0x1);
    expect(r.steps.filter((s) => s.event === 'match')).toHaveLength(2);
  });
  it('matches ipsets, addrtype, recent and interface wildcards', () => {
    const sets = new IpsetStore();
    sets.create('KUBE-CLUSTER-IP', 'hash:ip,port').add('10.96.0.1,tcp:443');
    const text = `*nat
:M - [0:0]
-A PREROUTING -m set --match-set KUBE-CLUSTER-IP dst,dst -j M
-A PREROUTING -m addrtype --dst-type LOCAL -j ACCEPT
-A PREROUTING -i cali+ -m recent --name R --rcheck --seconds 10 --reap -j DROP
-A PREROUTING -i cali+ -m recent --name R --set
-A M -j MARK --set-xmark 0x1/0x1
COMMIT
`;
    const r2 = parseIptablesSave(text);
    const recent = new RecentTable();
    const a = runHook(r2, 'PREROUTING', pkt(), ctx({ ipsets: sets, recent }));
    expect(a.packet.mark).toBe(1);
    expect(runHook(r2, 'PREROUTING', pkt({ dst: '10.0.1.5' }), ctx({ ipsets: sets, recent })).steps[0].text).toBe('-A PREROUTING -m addrtype --dst-type LOCAL -j ACCEPT');
    // recent: first packet sets, second within 10 s is dropped, after 10 s it passes again
    expect(runHook(r2, 'PREROUTING', pkt({ dst: '1.1.1.1' }), ctx({ recent, now: 100 })).verdict).toBe('ACCEPT');
    expect(runHook(r2, 'PREROUTING', pkt({ dst: '1.1.1.1' }), ctx({ recent, now: 105 })).verdict).toBe('DROP');
    expect(runHook(r2, 'PREROUTING', pkt({ dst: '1.1.1.1' }), ctx({ recent, now: 120 })).verdict).toBe('ACCEPT');
  });
  it('rpfilter (felix raw cali-PREROUTING): parsed, printed in libxt_rpfilter order, and evaluated through the caller\'s reverse-path lookup with the mark', () => {
    const r = parseRuleArgs(['-m', 'mark', '--mark', '0x40000/0x40000', '-m', 'rpfilter', '--invert', '--validmark', '-j', 'DROP'], 4);
    expect(r.matches[1]).toEqual({ kind: 'rpfilter', loose: false, validmark: true, acceptLocal: false, invert: true });
    expect(saveRule('cali-PREROUTING', r)).toBe('-A cali-PREROUTING -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP');
    expect(saveRule('X', parseRuleArgs(['-m', 'rpfilter', '--accept-local', '--loose', '-j', 'ACCEPT'], 4))).toBe('-A X -m rpfilter --loose --accept-local -j ACCEPT');
    expect(() => parseRuleArgs(['-m', 'rpfilter', '!', '--invert', '-j', 'DROP'], 4)).toThrow(/--invert/);
    const rs2 = parseIptablesSave('*raw\n-A PREROUTING -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP\nCOMMIT\n');
    const asked: { src: string; iface?: string; mark: number; loose: boolean }[] = [];
    // the source routes back out of cali1 only
    const reversePath: EvalContext['reversePath'] = (src, iface, o) => {
      asked.push({ src, iface, mark: o.mark, loose: o.loose });
      return iface === 'cali1';
    };
    expect(runHook(rs2, 'PREROUTING', pkt({ mark: 0x40000 }), ctx({ reversePath })).verdict).toBe('ACCEPT');
    expect(runHook(rs2, 'PREROUTING', pkt({ mark: 0x40000, inIface: 'cali2' }), ctx({ reversePath })).verdict).toBe('DROP');
    expect(asked).toEqual([
      { src: '10.244.1.5', iface: 'cali1', mark: 0x40000, loose: false },
      { src: '10.244.1.5', iface: 'cali2', mark: 0x40000, loose: false },
    ]);
    // without a lookup the check passes, and the step says so
    const n = runHook(rs2, 'PREROUTING', pkt({ mark: 0x40000, inIface: 'cali2' }), ctx());
    expect(n.verdict).toBe('ACCEPT');
    expect(n.notes.join(' ')).toMatch(/rpfilter: the reverse-path lookup is not modelled here/);
  });
  it("addrtype --limit-iface-out: LOCAL means an address of the outgoing interface (felix's tunnel MASQUERADE)", () => {
    const rs3 = parseIptablesSave('*nat\n-A POSTROUTING -o vxlan.calico -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE\nCOMMIT\n');
    const local = new Set(['10.0.1.5', '10.244.1.0']);
    const onIface: Record<string, string[]> = { eth0: ['10.0.1.5'], 'vxlan.calico': ['10.244.1.0'] };
    const c = ctx({ isLocal: (ip) => local.has(ip), isLocalOn: (ip, iface) => (onIface[iface ?? ''] ?? []).includes(ip), masqueradeAddress: () => '10.244.1.0' });
    // the node's eth0 address leaving through the tunnel: local, but not the tunnel's own → masqueraded to the tunnel's
    const a = runHook(rs3, 'POSTROUTING', pkt({ src: '10.0.1.5', dst: '10.244.2.8', outIface: 'vxlan.calico', inIface: undefined }), c);
    expect(a.nat.map((n) => n.kind)).toEqual(['MASQUERADE']);
    expect(a.packet.src).toBe('10.244.1.0');
    // the tunnel's own address, and a forwarded pod packet (not local at all): untouched
    for (const src of ['10.244.1.0', '10.244.1.5']) expect(runHook(rs3, 'POSTROUTING', pkt({ src, dst: '10.244.2.8', outIface: 'vxlan.calico' }), c).nat).toEqual([]);
  });
  it('walks PREROUTING → FORWARD → POSTROUTING with the route of the translated packet', () => {
    const w = walkIncoming(rs, pkt({ inIface: 'wlan0', ctstate: 'ESTABLISHED', dst: '1.2.3.4', dport: 80 }), ctx(), () => ({ local: false, outIface: 'eth0' }));
    expect(w.hooks.map((h) => h.hook)).toEqual(['PREROUTING', 'FORWARD', 'POSTROUTING']);
    expect(w.delivered).toBe('forwarded');
  });
});
