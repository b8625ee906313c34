import { describe, expect, it } from 'vitest';
import { parseIptablesSave, parseRuleArgs, tokenizeRuleLine } from './iptables-parse';
import { saveRule } from './iptables-save';
import { ownerMatches, parseOwnerArgs } from './owner';
import { runHook, type Packet } from './evaluate';

const rule = (line: string) => parseRuleArgs(tokenizeRuleLine(line).map((t) => t.text), 4);

describe('-m owner (xt_owner)', () => {
  it('keeps the match verbatim and prints it as iptables-save does', () => {
    for (const line of [
      '-o lo -m owner ! --uid-owner 1337 -j RETURN',
      '-m owner --gid-owner 1337 -j RETURN',
      '! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
      '-m owner --uid-owner 1000-2000 -j ACCEPT',
    ]) {
      expect(saveRule('ISTIO_OUTPUT', rule(line))).toBe(`-A ISTIO_OUTPUT ${line}`);
    }
  });

  it('reads numeric ids and ranges, and refuses names', () => {
    expect(parseOwnerArgs(['!', '--uid-owner', '1337'])).toEqual([{ what: 'uid', from: 1337, to: 1337, neg: true }]);
    expect(parseOwnerArgs(['--gid-owner', '10-20'])).toEqual([{ what: 'gid', from: 10, to: 20, neg: false }]);
    expect(parseOwnerArgs(['--uid-owner', 'istio-proxy'])).toBeUndefined();
  });

  it('applies the kernel semantics with and without a socket', () => {
    expect(ownerMatches(['--uid-owner', '1337'], { uid: 1337, gid: 1337 })).toBe(true);
    expect(ownerMatches(['--uid-owner', '1337'], { uid: 1000, gid: 1000 })).toBe(false);
    expect(ownerMatches(['!', '--uid-owner', '1337'], { uid: 1000, gid: 1000 })).toBe(true);
    expect(ownerMatches(['--uid-owner', '1000-2000'], { uid: 1500 })).toBe(true);
    // no local socket: only fully inverted tests hold ((match ^ invert) == 0)
    expect(ownerMatches(['--uid-owner', '1337'], {})).toBe(false);
    expect(ownerMatches(['!', '--uid-owner', '1337'], {})).toBe(true);
  });

  it('decides rules in the evaluator by the packet owner', () => {
    const rs = parseIptablesSave(['*nat', ':OUTPUT ACCEPT [0:0]', '-A OUTPUT -m owner --uid-owner 1337 -j RETURN', '-A OUTPUT -p tcp -j REDIRECT --to-ports 15001', 'COMMIT', ''].join('\n'));
    const base: Packet = { family: 4, proto: 'tcp', src: '10.244.1.5', dst: '10.96.5.20', sport: 40000, dport: 80, mark: 0, ctstate: 'NEW' };
    const ctx = { isLocal: () => false };
    const app = runHook(rs, 'OUTPUT', { ...base, uid: 1000, gid: 1000 }, ctx);
    expect(app.nat.map((n) => [n.kind, n.after.port])).toEqual([['REDIRECT', 15001]]);
    expect(app.notes).toEqual([]);
    const envoy = runHook(rs, 'OUTPUT', { ...base, uid: 1337, gid: 1337 }, ctx);
    expect(envoy.nat).toEqual([]);
    expect(envoy.steps.map((s) => s.text)).toContain('-A OUTPUT -m owner --uid-owner 1337 -j RETURN');
  });
});
