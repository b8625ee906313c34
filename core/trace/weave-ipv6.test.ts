// Walks on a dual-stack Weave topology: Weave pods have no IPv6 address, so
// every IPv6 request (an IPv6 literal, an AAAA-only name, --family 6) is
// refused with Weave's reason instead of sending IPv4 to an IPv6 address; a
// name with A and AAAA answers connects over IPv4.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trace, TraceInputError } from './index';
import { loadText } from './testing';

const DUAL = readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8');

describe('dual-stack Weave: IPv4-only pods', () => {
  const t = loadText(DUAL, ['cni=weave']);
  const web = t.pods.filter((p) => p.labels.app === 'web');
  const from = `${web[0].namespace}/${web[0].name}`;
  const refused = (req: string, family?: 4 | 6): TraceInputError => {
    try {
      trace(t, from, req, family ? { family } : {});
    } catch (e) {
      return e as TraceInputError;
    }
    throw new Error(`${req} was not refused`);
  };

  it('the pods have no IPv6 address', () => {
    for (const p of web) expect(p.ips.some((ip) => ip.includes(':')), p.name).toBe(false);
  });

  it.each([
    ['an IPv6 ClusterIP literal', 'tcp://[fd00:10:96::c]:80', undefined],
    ['an IPv6 pod address', 'tcp://[fd00:10:244:2::2]:8080', undefined],
    ['an AAAA-only Service name', 'curl http://web-v6', undefined],
    ['--family 6', 'curl http://web', 6],
  ] as const)('%s is refused with Weave\'s reason', (_what, req, family) => {
    const e = refused(req, family);
    expect(e).toBeInstanceOf(TraceInputError);
    expect(e.message).toMatch(/^Weave Net has no IPv6 support/);
  });

  it('a dual-stack Service name connects over IPv4 from the pod\'s only address', () => {
    const r = trace(t, from, 'curl http://web');
    expect(r.ok).toBe(true);
    expect(r.family).toBe(4);
    expect(r.events.filter((e) => e.phase === 'request').every((e) => e.headers.ip.version !== 6)).toBe(true);
  });
});
