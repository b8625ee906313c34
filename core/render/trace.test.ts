// conntrack -L after a walk lists one address family, as the real tool does:
// IPv4 by default, IPv6 with -f ipv6 (the walk's own family unless --ct-family).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadText } from '../trace/testing';
import { render, RenderError } from './index';

const DUAL = loadText(readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8'));
const web = DUAL.pods.find((p) => p.labels.app === 'web' && p.nodeName === 'node-1')!;
const from = `${web.namespace}/${web.name}`;
const isV6 = (l: string) => / src=[0-9a-f]*:/.test(l);

describe('trace-conntrack', () => {
  it('an IPv6 walk (AAAA-only Service) lists the IPv6 flows; --ct-family 4 lists its IPv4 DNS flow', () => {
    const v6 = render('trace-conntrack', DUAL, { from, to: 'http://web-v6', node: 'node-1' }).trimEnd().split('\n');
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every(isV6)).toBe(true);
    expect(v6.some((l) => l.includes('dport=80'))).toBe(true);
    const v4 = render('trace-conntrack', DUAL, { from, to: 'http://web-v6', node: 'node-1', 'ct-family': '4' }).trimEnd().split('\n');
    expect(v4.every((l) => !isV6(l))).toBe(true);
    expect(v4.some((l) => l.startsWith('udp      17 ') && l.includes('dport=53'))).toBe(true);
  });

  it('an IPv4 walk lists IPv4 flows only, and a bad family is refused', () => {
    const v4 = render('trace-conntrack', DUAL, { from, to: 'http://web-v4', node: 'node-1' }).trimEnd().split('\n');
    expect(v4.every((l) => !isV6(l))).toBe(true);
    expect(() => render('trace-conntrack', DUAL, { from, to: 'http://web-v4', 'ct-family': 'ipv5' })).toThrow(RenderError);
  });
});
