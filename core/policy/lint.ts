// Policy lint: the mistakes that make NetworkPolicies behave differently
// from what their authors meant, each tied to the policy's place in its file.

import { Cidr, parseIP } from '../net';
import { formatSelector, selectorMatches } from '../model/labels';
import type { Diagnostic, LabelSelector, NetworkPolicyModel, NetworkPolicyPeer, Topology } from '../model/types';
import { evaluateSide } from './naive';
import { DNS_TCP_NOTE, IPBLOCK_POD_IP_NOTE, POLICY_TYPES_DEFAULT_NOTE, SEED_NAMESPACE_LABEL_NOTE } from './notes';
import { buildContext, effectiveTypes, namespaceLabels, NS_NAME_LABEL, podKey, policyKey, policySelectsPod, rulesOf, type PolicyTopology } from './semantics';
import type { Direction, Endpoint } from './types';

export type LintTopology = PolicyTopology & { settings?: Pick<Topology['settings'], 'clusterCIDRs'> };

function diag(p: NetworkPolicyModel, severity: 'error' | 'warning', code: string, message: string, field: string, hint?: string): Diagnostic {
  const base = p.origin?.path ? `${p.origin.path}.` : '';
  return {
    severity,
    code,
    message: `NetworkPolicy ${policyKey(p)}: ${message}`,
    file: p.origin?.file,
    line: p.origin?.line,
    column: p.origin?.column,
    path: `${base}${field}`,
    hint,
  };
}

function selectorUsesMissingNameLabel(sel: LabelSelector, namespaces: Map<string, Record<string, string>>): string | null {
  const v = sel.matchLabels?.name;
  if (v === undefined) return null;
  const ns = namespaces.get(v);
  if (ns && ns.name === undefined) return v;
  return null;
}

/** Lints every NetworkPolicy of a topology. */
export function lintPolicies(topology: LintTopology): Diagnostic[] {
  const ctx = buildContext(topology);
  const out: Diagnostic[] = [];
  const nsMap = new Map<string, Record<string, string>>();
  for (const ns of ctx.nsLabels.keys()) nsMap.set(ns, namespaceLabels(ctx, ns));
  const podCidrs = (topology.settings?.clusterCIDRs ?? []).map((c) => Cidr.tryParse(c)).filter((c): c is Cidr => !!c);

  for (const p of topology.networkPolicies) {
    const t = effectiveTypes(p);
    // policyTypes left out
    if (t.defaulted) {
      const egressEmpty = p.egress !== undefined && p.egress.length === 0;
      out.push(
        diag(
          p,
          'warning',
          'policy-types-omitted',
          `policyTypes is not set, so it defaults to [${t.egress ? 'Ingress, Egress' : 'Ingress'}]${egressEmpty ? '; its "egress: []" does not make it affect egress' : ''}${!t.egress && !p.ingress?.length ? ' and the policy denies all ingress to the pods it selects' : ''}`,
          'spec.policyTypes',
          `Write policyTypes explicitly. ${POLICY_TYPES_DEFAULT_NOTE}`,
        ),
      );
    }
    // podSelector matching no pod
    const selected = topology.pods.filter((pod) => policySelectsPod(p, pod));
    if (selected.length === 0) {
      out.push(diag(p, 'warning', 'selects-no-pod', `spec.podSelector ${formatSelector(p.podSelector)} selects no pod in namespace ${p.namespace}`, 'spec.podSelector', 'Check the labels of the pods (kubectl get pods --show-labels) and the namespace of the policy.'));
    }
    for (const dir of ['Ingress', 'Egress'] as const) {
      const field = dir === 'Ingress' ? 'ingress' : 'egress';
      const peerField = dir === 'Ingress' ? 'from' : 'to';
      rulesOf(p, dir).forEach((r, ri) => {
        (r.peers ?? []).forEach((peer, pi) => lintPeer(p, peer, `spec.${field}[${ri}].${peerField}[${pi}]`, nsMap, podCidrs, topology, out));
        (r.ports ?? []).forEach((port, qi) => {
          const at = `spec.${field}[${ri}].ports[${qi}]`;
          if (typeof port.port === 'string' && /^\d+$/.test(port.port)) {
            out.push(diag(p, 'error', 'numeric-string-port', `${at}.port is the string "${port.port}"; the API server rejects it (a string names a container port and must contain a letter)`, `${at}.port`, `Write port: ${port.port}.`));
          } else if (typeof port.port === 'string' && dir === 'Ingress' && selected.length > 0) {
            const proto = port.protocol ?? 'TCP';
            const missing = selected.filter((pod) => !pod.ports.some((cp) => cp.name === port.port && cp.protocol === proto));
            if (missing.length === selected.length) {
              out.push(diag(p, 'warning', 'named-port-unresolved', `${at}: no selected pod declares a ${proto} port named "${port.port}", so the entry allows nothing`, `${at}.port`, 'Named ports resolve per destination pod against its containerPorts (name and protocol).'));
            }
          }
        });
      });
    }
  }

  // Egress isolation without DNS (UDP and TCP 53 to kube-dns pods).
  const dnsPods = topology.pods.filter((pod) => pod.labels['k8s-app'] === 'kube-dns' && !pod.hostNetwork);
  const groups = new Map<string, { policies: NetworkPolicyModel[]; pods: string[]; udp: boolean; tcp: boolean }>();
  for (const pod of topology.pods) {
    if (pod.hostNetwork) continue;
    const iso = topology.networkPolicies.filter((p) => effectiveTypes(p).egress && policySelectsPod(p, pod));
    if (iso.length === 0 || dnsPods.length === 0) continue;
    const src: Endpoint = { kind: 'pod', ref: podKey(pod), pod, ip: pod.ips[0] ?? '' };
    const can = (protocol: 'UDP' | 'TCP'): boolean =>
      dnsPods.some((d) => {
        const dst: Endpoint = { kind: 'pod', ref: podKey(d), pod: d, ip: d.ips[0] ?? '' };
        return evaluateSide(ctx, 'Egress' as Direction, { subject: src, peer: dst, dst, port: 53, protocol }, new Set()).allowed;
      });
    const udp = can('UDP');
    const tcp = can('TCP');
    if (udp && tcp) continue;
    const key = `${iso.map(policyKey).join(',')}|${udp}|${tcp}`;
    const g = groups.get(key);
    if (g) g.pods.push(podKey(pod));
    else groups.set(key, { policies: iso, pods: [podKey(pod)], udp, tcp });
  }
  for (const g of groups.values()) {
    const what = !g.udp && !g.tcp ? 'neither UDP nor TCP 53' : g.udp ? 'UDP 53 but not TCP 53' : 'TCP 53 but not UDP 53';
    out.push(
      diag(
        g.policies[0],
        g.udp ? 'warning' : 'error',
        'egress-without-dns',
        `${g.pods.join(', ')} ${g.pods.length > 1 ? 'are' : 'is'} isolated for egress by ${g.policies.map(policyKey).join(', ')} and can reach kube-dns (${dnsPods.map(podKey).join(', ')}) on ${what}`,
        'spec.egress',
        g.udp
          ? `Add protocol: TCP, port: 53 next to the UDP entry. ${DNS_TCP_NOTE}`
          : `Add an egress rule to namespaceSelector ${NS_NAME_LABEL}: kube-system + podSelector k8s-app: kube-dns with ports UDP 53 and TCP 53.`,
      ),
    );
  }
  return out;
}

function lintPeer(
  p: NetworkPolicyModel,
  peer: NetworkPolicyPeer,
  at: string,
  nsMap: Map<string, Record<string, string>>,
  podCidrs: Cidr[],
  topology: LintTopology,
  out: Diagnostic[],
): void {
  if (peer.namespaceSelector) {
    const matching = [...nsMap.entries()].filter(([, l]) => selectorMatches(peer.namespaceSelector!, l)).map(([n]) => n);
    if (matching.length === 0) {
      const missing = selectorUsesMissingNameLabel(peer.namespaceSelector, nsMap);
      if (missing) {
        out.push(
          diag(p, 'warning', 'namespace-label-missing', `${at}.namespaceSelector selects on label name=${missing}, which namespace ${missing} does not carry; it matches no namespace`, `${at}.namespaceSelector`, `Use ${NS_NAME_LABEL}: ${missing} instead. ${SEED_NAMESPACE_LABEL_NOTE}`),
        );
      } else {
        out.push(diag(p, 'warning', 'namespace-selector-matches-nothing', `${at}.namespaceSelector ${formatSelector(peer.namespaceSelector)} matches no namespace`, `${at}.namespaceSelector`, `Namespace labels: ${[...nsMap.entries()].map(([n, l]) => `${n} {${Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',')}}`).join('; ')}.`));
      }
    }
  }
  if (peer.podSelector) {
    const inScope = topology.pods.filter((pod) => !pod.hostNetwork && (peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, nsMap.get(pod.namespace) ?? {}) : pod.namespace === p.namespace));
    if (inScope.length > 0 && !inScope.some((pod) => selectorMatches(peer.podSelector!, pod.labels))) {
      out.push(diag(p, 'warning', 'peer-selects-no-pod', `${at}.podSelector ${formatSelector(peer.podSelector)} selects no pod${peer.namespaceSelector ? ' in the selected namespaces' : ` in namespace ${p.namespace}`}`, `${at}.podSelector`));
    }
  }
  if (peer.ipBlock) {
    const c = Cidr.tryParse(peer.ipBlock.cidr);
    if (!c) {
      out.push(diag(p, 'error', 'invalid-cidr', `${at}.ipBlock.cidr "${peer.ipBlock.cidr}" is not a CIDR`, `${at}.ipBlock.cidr`));
      return;
    }
    (peer.ipBlock.except ?? []).forEach((e, i) => {
      const ec = Cidr.tryParse(e);
      if (!ec || !c.containsCidr(ec) || ec.prefix <= c.prefix) {
        out.push(diag(p, 'error', 'except-outside-cidr', `${at}.ipBlock.except[${i}] ${e} is not inside ${c.text}`, `${at}.ipBlock.except[${i}]`, 'The API server rejects except ranges outside cidr; an except outside the cidr would exclude nothing.'));
      }
    });
    const overlapsPods = podCidrs.length ? podCidrs.some((pc) => pc.overlaps(c)) : topology.pods.some((pod) => !pod.hostNetwork && pod.ips.some((ip) => { const a = parseIP(ip); return !!a && c.contains(a); }));
    if (overlapsPods) {
      out.push(diag(p, 'warning', 'ipblock-contains-pod-cidr', `${at}.ipBlock ${c.text} contains pod addresses; whether it matches pods depends on the CNI (Calico: yes, Cilium: no)`, `${at}.ipBlock`, IPBLOCK_POD_IP_NOTE));
    }
  }
}
