// Policy: real connection attempts between pod namespaces (`nc -z -w 1`)
// against the model's NetworkPolicy verdicts. A connection that opens, or is
// refused by the destination (a RST: the SYN reached a pod where nothing
// listens on the port), was let through by policy; one that times out was
// dropped — Calico and the test-bed drop denied packets rather than reject.

import type { Protocol, Topology } from '../model/types';
import { ipFamily } from '../net';
import { buildContext, evaluateWith } from '../policy';
import { checkResult, type CheckResult, type DiffItem } from './types';

export type AttemptResult = 'connected' | 'refused' | 'timeout' | 'error';

export interface PolicyAttempt {
  /** `namespace/pod` */
  from: string;
  /** `namespace/pod` */
  to: string;
  /** The address connected to (the destination pod's IP). */
  toIP: string;
  port: number;
  protocol: Protocol;
  result: AttemptResult;
  /** What the tool printed (stderr of nc). */
  detail?: string;
}

export function attemptAllowed(r: AttemptResult): boolean | undefined {
  if (r === 'connected' || r === 'refused') return true;
  if (r === 'timeout') return false;
  return undefined;
}

/** Reads `nc -z -v -w N` output and exit status into an attempt result. */
export function classifyNc(code: number | null, output: string): AttemptResult {
  if (code === 0 || /succeeded|open|Connected to/i.test(output)) return 'connected';
  if (/refused/i.test(output)) return 'refused';
  if (/timed out|timeout/i.test(output) || code === 1) return 'timeout';
  return 'error';
}

export function comparePolicy(t: Topology, attempts: readonly PolicyAttempt[], scope = ''): CheckResult {
  const ctx = buildContext(t);
  const items: DiffItem[] = [];
  let allowed = 0;
  let denied = 0;
  for (const a of attempts) {
    // the family of the address connected to: ipBlock peers match that family's address (Calico: iptables vs ip6tables)
    const family = ipFamily(a.toIP) ?? undefined;
    const v = evaluateWith(ctx, { from: a.from, to: a.to, port: a.port, protocol: a.protocol, family });
    const real = attemptAllowed(a.result);
    const where = `${a.from} → ${a.to} ${a.protocol.toLowerCase()}/${a.port}${family === 6 ? ' over IPv6' : ''}`;
    const modelText = v.allowed ? 'allowed' : 'denied';
    if (v.allowed) allowed++;
    else denied++;
    if (real === undefined) {
      items.push({ kind: 'changed', where, model: modelText, real: `error: ${a.detail ?? 'the attempt failed'}`, explanation: 'the connection attempt itself failed, so the verdict is unknown', explained: false });
      continue;
    }
    if (real !== v.allowed) {
      const realText = a.result === 'timeout' ? 'denied (timed out)' : `allowed (${a.result})`;
      items.push({
        kind: 'changed',
        where,
        model: modelText,
        real: realText,
        explanation: `${v.allowed ? 'the model allows it' : 'the model denies it'}, the node ${real ? 'let it through' : 'dropped it'}. Model: ${v.text ?? ''}`.trim(),
        explained: false,
      });
    }
  }
  return checkResult('policy', items, attempts.length, `${attempts.length} connection attempts${scope ? ` (${scope})` : ''}: the model allows ${allowed} and denies ${denied}`, [
    'refused (RST) counts as allowed by policy: the SYN reached the pod and nothing listened; a timeout counts as denied',
  ]);
}
