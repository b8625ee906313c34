// Designer logic shared by the inspector, the toolbar, the context menu and
// the keyboard: what each element is in the loaded model, what deleting it
// takes with it, and the form values of an element. Pure: no DOM.

import type { Diagnostic, NetworkPolicyModel, PodModel, ServiceModel, Topology } from '../../../core/model/types';
import { selectorMatches } from '../../../core/model';
import { lintPolicies, policySelectsPod } from '../../../core/policy';
import { formatContainerPorts, formatLabels, formatServicePorts } from './forms';
import { describeRef, listElements, refId, type ElementRef } from './topology-edit';

/** Every namespace the topology uses, sorted (declared ones and ones only pods or Services name). */
export function namespaceNames(t: Topology | null): string[] {
  if (!t) return ['default'];
  return [...new Set(['default', ...t.namespaces.map((n) => n.name), ...t.pods.map((p) => p.namespace), ...t.services.map((s) => s.namespace)])].sort();
}

export function findPod(t: Topology | null, ref: ElementRef): PodModel | undefined {
  return t?.pods.find((p) => p.name === ref.name && p.namespace === (ref.namespace ?? 'default'));
}

export function findService(t: Topology | null, ref: ElementRef): ServiceModel | undefined {
  return t?.services.find((s) => s.name === ref.name && s.namespace === (ref.namespace ?? 'default'));
}

export function findPolicy(t: Topology | null, ref: ElementRef): NetworkPolicyModel | undefined {
  return t?.networkPolicies.find((p) => p.name === ref.name && p.namespace === (ref.namespace ?? 'default'));
}

/** The element that defines a canvas element: pods expanded from a Deployment are edited through the Deployment. */
export function definingRef(t: Topology | null, ref: ElementRef): ElementRef {
  if (ref.kind !== 'pod') return ref;
  const pod = findPod(t, ref);
  if (pod?.owner?.kind === 'Deployment') return { kind: 'deployment', namespace: pod.namespace, name: pod.owner.name };
  return ref;
}

/** What a delete of `ref` removes from the text: the element and what cannot live without it. */
export function deletionSet(text: string, t: Topology | null, ref: ElementRef): { refs: ElementRef[]; summary: string } {
  const defined = listElements(text);
  const has = (r: ElementRef) => defined.some((d) => refId(d) === refId(r));
  const refs: ElementRef[] = [];
  const target = definingRef(t, ref);
  if (has(target)) refs.push(target);
  if (ref.kind === 'node') {
    for (const d of defined) if (d.kind === 'pod' && findPod(t, d)?.nodeName === ref.name) refs.push(d);
  }
  if (ref.kind === 'namespace') {
    for (const d of defined) if (d.kind !== 'node' && d.kind !== 'namespace' && d.namespace === ref.name) refs.push(d);
  }
  const extra = refs.length - (has(target) ? 1 : 0);
  const counts = new Map<string, number>();
  for (const r of refs.slice(has(target) ? 1 : 0)) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  const noun: Record<string, [string, string]> = { pod: ['pod', 'pods'], service: ['Service', 'Services'], policy: ['NetworkPolicy', 'NetworkPolicies'], deployment: ['Deployment', 'Deployments'] };
  const parts = [...counts].map(([k, n]) => `${n} ${noun[k]?.[n > 1 ? 1 : 0] ?? k}`);
  const summary = `Delete ${describeRef(target)}${extra ? ` and its ${parts.join(', ')}` : ''}`;
  return { refs, summary };
}

export interface PodForm {
  name: string;
  namespace: string;
  nodeName: string;
  labels: string;
  ports: string;
}

export function podForm(p: PodModel): PodForm {
  return { name: p.name, namespace: p.namespace, nodeName: p.nodeName, labels: formatLabels(p.labels), ports: formatContainerPorts(p.ports) };
}

export interface ServiceForm {
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  selector: string;
  ports: string;
}

export function serviceForm(s: ServiceModel): ServiceForm {
  return {
    name: s.name,
    namespace: s.namespace,
    type: s.type === 'ExternalName' ? 'ClusterIP' : s.type,
    selector: formatLabels(s.selector),
    ports: formatServicePorts(s.ports),
  };
}

/** Pods a Service selects (as the EndpointSlice controller would). */
export function servicePods(t: Topology, s: ServiceModel): PodModel[] {
  if (!s.selector) return [];
  return t.pods.filter((p) => p.namespace === s.namespace && selectorMatches({ matchLabels: s.selector }, p.labels));
}

export function policiesSelecting(t: Topology, pod: PodModel): NetworkPolicyModel[] {
  return t.networkPolicies.filter((np) => policySelectsPod(np, pod));
}

export function servicesSelecting(t: Topology, pod: PodModel): ServiceModel[] {
  return t.services.filter((s) => s.selector && s.namespace === pod.namespace && Object.keys(s.selector).length > 0 && selectorMatches({ matchLabels: s.selector }, pod.labels));
}

/** Lint findings about one policy. */
export function policyLint(t: Topology, np: NetworkPolicyModel): Diagnostic[] {
  const key = `NetworkPolicy ${np.namespace}/${np.name}:`;
  return lintPolicies(t).filter((d) => d.message.startsWith(key));
}

/** New diagnostics an edit introduces (errors only), compared with the diagnostics before it. */
export function newErrors(before: Diagnostic[], after: Diagnostic[]): Diagnostic[] {
  const k = (d: Diagnostic) => `${d.code}|${d.message}`;
  const seen = new Map<string, number>();
  for (const d of before) seen.set(k(d), (seen.get(k(d)) ?? 0) + 1);
  const out: Diagnostic[] = [];
  for (const d of after) {
    if (d.severity !== 'error') continue;
    const n = seen.get(k(d)) ?? 0;
    if (n > 0) seen.set(k(d), n - 1);
    else out.push(d);
  }
  return out;
}
