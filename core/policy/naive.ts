// The naive evaluator: for one connection, scan every policy. It is the
// semantic reference (and the baseline of bench/policy.ts) and produces the
// full explanation.

import type { NetworkPolicyModel, Protocol } from '../model/types';
import { HOST_LOCAL_NOTE, IPBLOCK_POD_IP_NOTE, LOOPBACK_NOTE } from './notes';
import {
  buildContext,
  describePeer,
  describePortEntry,
  endpointText,
  peerMatches,
  peerMatchesFast,
  podKey,
  policyAffects,
  policyKey,
  policySelectsPod,
  portEntryMatches,
  portEntryMatchesFast,
  queryFamily,
  resolveEndpoint,
  rulesOf,
  type PolicyContext,
  type PolicyTopology,
} from './semantics';
import type { Direction, Endpoint, EvalOptions, PolicyDenial, ReachQuery, RuleMiss, RuleRef, SideVerdict, Verdict } from './types';

export interface SideInput {
  /** The pod the direction is judged for (source for Egress, destination for Ingress). */
  subject: Endpoint;
  /** The other end. */
  peer: Endpoint;
  /** The destination (for named ports). */
  dst: Endpoint;
  port: number;
  protocol: Protocol;
}

function portText(port: number, protocol: Protocol): string {
  return `${port}/${protocol}`;
}

/** Judges one direction for one pod against all policies. */
export function evaluateSide(ctx: PolicyContext, dir: Direction, s: SideInput, notes: Set<string>): SideVerdict {
  const label = dir === 'Ingress' ? 'ingress to' : 'egress from';
  if (s.subject.kind !== 'pod') {
    const why =
      s.subject.kind === 'host'
        ? s.subject.pod
          ? `${endpointText(s.subject)} is host-networked: NetworkPolicy does not select it`
          : `${endpointText(s.subject)} is a node: NetworkPolicy selects pods only`
        : `${s.subject.ip} is outside the cluster: no policy applies to it`;
    return { direction: dir, allowed: true, subject: endpointText(s.subject), notApplicable: why, text: `${label} ${endpointText(s.subject)} not policed: ${why}` };
  }
  const pod = s.subject.pod;
  const subject = podKey(pod);
  const isolating: NetworkPolicyModel[] = [];
  for (const p of ctx.policies) {
    if (policyAffects(p, dir) && policySelectsPod(p, pod)) isolating.push(p);
  }
  if (isolating.length === 0) {
    return { direction: dir, allowed: true, subject, notIsolated: true, text: `${label} ${subject} allowed: no policy selects it for ${dir}` };
  }
  const allowedBy: RuleRef[] = [];
  const reasons: PolicyDenial[] = [];
  for (const p of isolating) {
    const rules = rulesOf(p, dir);
    const misses: RuleMiss[] = [];
    rules.forEach((r, ruleIndex) => {
      // Peers: absent or empty list = every peer.
      let peerIndex: number | null = null;
      let peerOk = false;
      const peerWhy: string[] = [];
      if (!r.peers || r.peers.length === 0) {
        peerOk = true;
      } else {
        for (let i = 0; i < r.peers.length; i++) {
          const m = peerMatches(ctx, r.peers[i], p.namespace, s.peer);
          if (m.matched) {
            peerOk = true;
            peerIndex = i;
            if (m.ipBlockOnClusterIP) notes.add(IPBLOCK_POD_IP_NOTE);
            break;
          }
          peerWhy.push(`peer ${i} (${describePeer(r.peers[i])}) does not match ${endpointText(s.peer)}${m.reason ? ` [${m.reason}]` : ''}`);
        }
      }
      // Ports: absent or empty list = every port.
      let portIndex: number | null = null;
      let portOk = false;
      const portWhy: string[] = [];
      if (!r.ports || r.ports.length === 0) {
        portOk = true;
      } else {
        for (let i = 0; i < r.ports.length; i++) {
          const m = portEntryMatches(r.ports[i], s.dst, s.port, s.protocol);
          if (m.matched) {
            portOk = true;
            portIndex = i;
            break;
          }
          portWhy.push(`port ${i} (${describePortEntry(r.ports[i])}): ${m.reason}`);
        }
      }
      if (peerOk && portOk) {
        allowedBy.push({ policy: policyKey(p), direction: dir, ruleIndex, peerIndex, portIndex });
      } else {
        const failed = !peerOk && !portOk ? 'both' : !peerOk ? 'peers' : 'ports';
        const parts: string[] = [];
        if (!peerOk) parts.push(peerWhy.join('; '));
        if (!portOk) parts.push(`no port entry includes ${portText(s.port, s.protocol)} (${portWhy.join('; ')})`);
        misses.push({ ruleIndex, failed, reason: `rule ${ruleIndex}: ${parts.join('; and ')}` });
      }
    });
    reasons.push({ policy: policyKey(p), noRules: rules.length === 0, rules: misses });
  }
  const isolatingPolicies = isolating.map(policyKey);
  if (allowedBy.length > 0) {
    const by = allowedBy.map((a) => `${a.policy} rule ${a.ruleIndex}${a.peerIndex !== null ? ` peer ${a.peerIndex}` : ''}${a.portIndex !== null ? ` port ${a.portIndex}` : ''}`);
    return { direction: dir, allowed: true, subject, allowedBy, text: `${label} ${subject} allowed by ${by.join(', ')}` };
  }
  return {
    direction: dir,
    allowed: false,
    subject,
    deniedBy: { isolatingPolicies, reasons },
    text: `${label} ${subject} denied: ${denialText(dir, isolating, reasons, s)}`,
  };
}

function denialText(dir: Direction, isolating: NetworkPolicyModel[], reasons: PolicyDenial[], s: SideInput): string {
  const iso = `isolated by ${isolating.map((p) => `${policyKey(p)} (${dir})`).join(', ')}`;
  const allMisses = reasons.flatMap((r) => r.rules);
  if (allMisses.length === 0) return `${iso}; no ${dir.toLowerCase()} rules, so all ${dir.toLowerCase()} is denied`;
  // Every rule had a matching peer but no port: say it once.
  if (allMisses.every((m) => m.failed === 'ports')) {
    return `${iso}; no rule's ports include ${portText(s.port, s.protocol)}`;
  }
  const portOnly = allMisses.filter((m) => m.failed === 'ports');
  if (portOnly.length > 0 && reasons.length === 1) {
    const others = allMisses.filter((m) => m.failed !== 'ports').map((m) => m.reason);
    return `${iso}; no rule's ports include ${portText(s.port, s.protocol)} (rule${portOnly.length > 1 ? 's' : ''} ${portOnly.map((m) => m.ruleIndex).join(', ')} match${portOnly.length > 1 ? '' : 'es'} ${endpointText(s.peer)}); ${others.join('; ')}`;
  }
  const per = reasons
    .filter((r) => r.rules.length > 0 || r.noRules)
    .map((r) => (r.noRules ? `${r.policy}: no ${dir.toLowerCase()} rules` : `${reasons.length > 1 ? `${r.policy} ` : ''}${r.rules.map((m) => m.reason).join('; ')}`));
  return `${iso}; ${per.join('; ')}`;
}

/** The full verdict for one query: source egress AND destination ingress. */
export function evaluateWith(ctx: PolicyContext, q: ReachQuery): Verdict {
  const protocol = q.protocol ?? 'TCP';
  const fam = q.family ?? queryFamily(ctx, q.from, q.to);
  const src = resolveEndpoint(ctx, q.from, fam);
  const dst = resolveEndpoint(ctx, q.to, fam);
  const notes = new Set<string>();
  const base = { from: q.from, to: q.to, port: q.port, protocol };

  if (src.kind === 'pod' && dst.kind === 'pod' && src.pod === dst.pod) {
    const subject = podKey(src.pod);
    const side = (direction: Direction): SideVerdict => ({ direction, allowed: true, subject, loopback: true, text: `${direction === 'Ingress' ? 'ingress to' : 'egress from'} ${subject} allowed: ${LOOPBACK_NOTE}` });
    notes.add(LOOPBACK_NOTE);
    const egress = side('Egress');
    const ingress = side('Ingress');
    return { ...base, allowed: true, egress, ingress, text: `allowed: ${LOOPBACK_NOTE}`, notes: [...notes] };
  }

  const egress = evaluateSide(ctx, 'Egress', { subject: src, peer: dst, dst, port: q.port, protocol }, notes);
  let ingress: SideVerdict;
  if (src.kind === 'host' && dst.kind === 'pod' && src.nodeName === dst.pod.nodeName) {
    const subject = podKey(dst.pod);
    ingress = { direction: 'Ingress', allowed: true, subject, hostLocal: true, text: `ingress to ${subject} allowed: ${HOST_LOCAL_NOTE}` };
    notes.add(HOST_LOCAL_NOTE);
  } else {
    ingress = evaluateSide(ctx, 'Ingress', { subject: dst, peer: src, dst, port: q.port, protocol }, notes);
  }
  const allowed = egress.allowed && ingress.allowed;
  const text = `${allowed ? 'allowed' : 'denied'} ${q.from} -> ${q.to} ${q.port}/${protocol}: ${egress.text}; ${ingress.text}`;
  return { ...base, allowed, egress, ingress, text, notes: [...notes] };
}

/**
 * Naive evaluator: builds the indexes and scans every policy for one query.
 * For many queries on one topology, build a context once and use evaluateWith.
 */
export function evaluateNaive(topology: PolicyTopology, q: ReachQuery, opts: EvalOptions = {}): Verdict {
  return evaluateWith(buildContext(topology, opts), q);
}

function sideAllowedFast(ctx: PolicyContext, dir: Direction, subject: Endpoint, peer: Endpoint, dst: Endpoint, port: number, protocol: Protocol): boolean {
  if (subject.kind !== 'pod') return true;
  let isolated = false;
  for (const p of ctx.policies) {
    if (!policyAffects(p, dir) || !policySelectsPod(p, subject.pod)) continue;
    isolated = true;
    for (const r of rulesOf(p, dir)) {
      const peerOk = !r.peers || r.peers.length === 0 || r.peers.some((x) => peerMatchesFast(ctx, x, p.namespace, peer));
      if (!peerOk) continue;
      if (!r.ports || r.ports.length === 0 || r.ports.some((x) => portEntryMatchesFast(x, dst, port, protocol))) return true;
    }
  }
  return !isolated;
}

/**
 * The naive boolean verdict: the same scan over every policy as evaluateWith,
 * without building explanations. This is the baseline the compiled evaluator
 * is measured against.
 */
export function naiveAllowed(ctx: PolicyContext, q: ReachQuery): boolean {
  const protocol = q.protocol ?? 'TCP';
  const fam = q.family ?? queryFamily(ctx, q.from, q.to);
  const src = resolveEndpoint(ctx, q.from, fam);
  const dst = resolveEndpoint(ctx, q.to, fam);
  return naiveAllowedEndpoints(ctx, src, dst, q.port, protocol);
}

export function naiveAllowedEndpoints(ctx: PolicyContext, src: Endpoint, dst: Endpoint, port: number, protocol: Protocol): boolean {
  if (src.kind === 'pod' && dst.kind === 'pod' && src.pod === dst.pod) return true;
  if (!sideAllowedFast(ctx, 'Egress', src, dst, dst, port, protocol)) return false;
  if (src.kind === 'host' && dst.kind === 'pod' && src.nodeName === dst.pod.nodeName) return true;
  return sideAllowedFast(ctx, 'Ingress', dst, src, dst, port, protocol);
}
