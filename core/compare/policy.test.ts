import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { attemptAllowed, classifyNc, comparePolicy, type PolicyAttempt } from './policy';

const t = loadTopology([{ file: 'three-tier.yaml', text: readFileSync(join(__dirname, '..', '..', 'resources', 'samples', 'three-tier.yaml'), 'utf8') }]).topology!;
const pod = (prefix: string) => t.pods.find((p) => p.name.startsWith(prefix))!;
const ref = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

function attempt(from: string, to: string, port: number, result: PolicyAttempt['result']): PolicyAttempt {
  return { from: ref(pod(from)), to: ref(pod(to)), toIP: pod(to).ips[0], port, protocol: 'TCP', result };
}

describe('comparePolicy (three-tier, the seed\'s policies)', () => {
  it('real verdicts equal to the model\'s match; refused counts as allowed, a timeout as denied', () => {
    const r = comparePolicy(t, [
      attempt('frontend', 'backend', 8080, 'connected'),
      attempt('backend', 'database', 5432, 'refused'),
      attempt('backend', 'frontend', 80, 'timeout'),
      attempt('frontend', 'database', 5432, 'timeout'),
      attempt('database', 'backend', 8080, 'timeout'),
    ]);
    expect(r.items).toEqual([]);
    expect(r.summary).toMatch(/the model allows 2 and denies 3/);
  });

  it('a pair the node lets through but the model denies is unexplained, with the model\'s reasoning', () => {
    const r = comparePolicy(t, [attempt('frontend', 'database', 5432, 'connected'), attempt('frontend', 'backend', 8080, 'timeout')]);
    expect(r.status).toBe('different');
    expect(r.items.map((i) => [i.model, i.real])).toEqual([
      ['denied', 'allowed (connected)'],
      ['allowed', 'denied (timed out)'],
    ]);
    expect(r.items[0].explanation).toMatch(/the model denies it, the node let it through/);
    expect(r.items[0].explanation.length).toBeGreaterThan(60);
  });

  it('an attempt that could not run is not a verdict', () => {
    const r = comparePolicy(t, [attempt('frontend', 'backend', 8080, 'error')]);
    expect(r.items[0].explanation).toMatch(/verdict is unknown/);
  });

  it('reads netcat-openbsd output', () => {
    expect(classifyNc(0, 'Connection to 10.244.2.8 8080 port [tcp/*] succeeded!')).toBe('connected');
    expect(classifyNc(1, 'nc: connect to 10.244.2.8 port 81 (tcp) failed: Connection refused')).toBe('refused');
    expect(classifyNc(1, 'nc: connect to 10.244.2.8 port 8080 (tcp) timed out: Operation now in progress')).toBe('timeout');
    expect(classifyNc(2, 'nc: getaddrinfo: Name or service not known')).toBe('error');
    expect(attemptAllowed('refused')).toBe(true);
    expect(attemptAllowed('timeout')).toBe(false);
  });
});

describe('comparePolicy over IPv6 (dual-stack): the attempt\'s address family decides which ipBlocks apply', () => {
  const DUAL = readFileSync(join(__dirname, '..', '..', 'resources', 'samples', 'dual-stack.yaml'), 'utf8');
  const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-in, namespace: default }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ ipBlock: { cidr: "fd00:10:244:1::/64" } }, { ipBlock: { cidr: 10.244.0.0/16 } }]
      ports: [{ port: 8080 }]
`;
  const d = loadTopology([{ file: 'dual-stack.yaml', text: DUAL }, { file: 'policy.yaml', text: POLICY }], { set: ['podIPOffset=2'] }).topology!;
  const dns2 = d.pods.find((p) => p.labels['k8s-app'] === 'kube-dns' && p.nodeName === 'node-2')!;
  const web = d.pods.find((p) => p.labels.app === 'web' && p.nodeName === 'node-2')!;
  const a = (ip: string, result: PolicyAttempt['result']): PolicyAttempt => ({ from: ref(dns2), to: ref(web), toIP: ip, port: 8080, protocol: 'TCP', result });

  it('the same pair is allowed over IPv4 (10.244.0.0/16) and denied over IPv6 (outside fd00:10:244:1::/64)', () => {
    const r = comparePolicy(d, [a(web.ips[0], 'connected'), a(web.ips[1], 'timeout')]);
    expect(r.items).toEqual([]);
    expect(r.summary).toMatch(/the model allows 1 and denies 1/);
  });

  it('a node that lets the IPv6 connection through is named, with "over IPv6"', () => {
    const r = comparePolicy(d, [a(web.ips[1], 'connected')]);
    expect(r.items.map((i) => [i.where, i.model, i.real])).toEqual([[`${ref(dns2)} → ${ref(web)} tcp/8080 over IPv6`, 'denied', 'allowed (connected)']]);
  });
});
