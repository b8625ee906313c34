// Kubernetes manifests → model objects. Each converter has already had its
// object shape-checked (schemas.ts); it adds the semantic checks Kubernetes
// validation would make and records where every object came from.

import { parseIP, tryParseCidr } from '../net';
import type {
  ContainerPort,
  DeploymentModel,
  EndpointModel,
  EndpointSliceModel,
  LabelSelector,
  LabelSelectorRequirement,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NodeModel,
  PodModel,
  Protocol,
  ServiceModel,
  ServicePort,
} from './types';
import type { DiagnosticSink, ObjRef, PathSeg } from './source';

/* eslint-disable @typescript-eslint/no-explicit-any -- shape-checked YAML objects */
type Obj = any;

export interface Converted<T> {
  model: T;
  /** Path (relative to the object) of a model field, for diagnostics found later. */
  fieldPath: (field: string, index?: number) => PathSeg[];
}

const strMap = (m: unknown): Record<string, string> => (m && typeof m === 'object' ? { ...(m as Record<string, string>) } : {});

export function ownerName(o: Obj): string {
  return `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
}

export function containerPorts(spec: Obj): ContainerPort[] {
  const out: ContainerPort[] = [];
  const add = (containers: Obj[] | null | undefined) => {
    for (const c of containers ?? []) {
      for (const p of c.ports ?? []) {
        const cp: ContainerPort = { container: c.name, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP') as Protocol };
        if (p.name !== undefined) cp.name = p.name;
        if (p.hostPort !== undefined) cp.hostPort = p.hostPort;
        out.push(cp);
      }
    }
  };
  add(spec.containers);
  // Native sidecars (init containers with restartPolicy: Always) serve ports too.
  add((spec.initContainers ?? []).filter((c: Obj) => c.restartPolicy === 'Always'));
  return out;
}

/** Checks duplicate container port names inside one pod (Kubernetes rejects them). */
function checkPortNames(spec: Obj, sink: DiagnosticSink, ref: ObjRef, base: PathSeg[], what: string): void {
  const seen = new Map<string, PathSeg[]>();
  (spec.containers ?? []).forEach((c: Obj, ci: number) => {
    (c.ports ?? []).forEach((p: Obj, pi: number) => {
      if (p.name === undefined) return;
      const here = [...base, 'containers', ci, 'ports', pi, 'name'];
      if (seen.has(p.name)) sink.error('duplicate-name', `${what}: container port name "${p.name}" is used twice in the pod`, ref, here, 'Port names must be unique across all containers of a pod.');
      else seen.set(p.name, here);
    });
  });
}

export function convertPod(o: Obj, sink: DiagnosticSink, ref: ObjRef): Converted<PodModel> | null {
  const md = o.metadata;
  const spec = o.spec;
  const status = o.status ?? {};
  const what = `Pod ${md.namespace ?? 'default'}/${md.name}`;
  checkPortNames(spec, sink, ref, ['spec'], what);
  let ips: string[] = [];
  if (Array.isArray(status.podIPs) && status.podIPs.length) ips = status.podIPs.map((x: Obj) => x.ip);
  else if (status.podIP) ips = [status.podIP];
  if (status.podIP && Array.isArray(status.podIPs) && status.podIPs.length && status.podIPs[0].ip !== status.podIP) {
    sink.error('inconsistent-ips', `${what}: status.podIP ${status.podIP} differs from status.podIPs[0] ${status.podIPs[0].ip}`, ref, ['status', 'podIP'], 'podIP must equal podIPs[0].ip.');
  }
  const annotations = strMap(md.annotations);
  const pod: PodModel = {
    namespace: md.namespace ?? 'default',
    name: md.name,
    labels: strMap(md.labels),
    annotations,
    nodeName: spec.nodeName ?? '',
    ips,
    hostNetwork: spec.hostNetwork === true,
    ports: containerPorts(spec),
    serviceAccountName: spec.serviceAccountName ?? spec.serviceAccount ?? 'default',
  };
  const readyCond = (status.conditions ?? []).find((c: Obj) => c.type === 'Ready');
  if ((readyCond && readyCond.status !== 'True') || annotations['netlab.dev/ready'] === 'false') pod.ready = false;
  if (md.deletionTimestamp) pod.terminating = true;
  return {
    model: pod,
    fieldPath: (field, index = 0) => {
      if (field === 'ips') {
        if (Array.isArray(status.podIPs) && status.podIPs.length) return ['status', 'podIPs', index, 'ip'];
        if (status.podIP) return ['status', 'podIP'];
        return [];
      }
      if (field === 'nodeName') return ['spec', 'nodeName'];
      return [];
    },
  };
}

export function convertDeployment(o: Obj, sink: DiagnosticSink, ref: ObjRef): Converted<DeploymentModel> | null {
  const md = o.metadata;
  const spec = o.spec;
  const tmd = spec.template.metadata ?? {};
  const tspec = spec.template.spec;
  const what = `Deployment ${md.namespace ?? 'default'}/${md.name}`;
  checkPortNames(tspec, sink, ref, ['spec', 'template', 'spec'], what);
  const d: DeploymentModel = {
    namespace: md.namespace ?? 'default',
    name: md.name,
    replicas: spec.replicas ?? 1,
    labels: strMap(md.labels),
    template: {
      labels: strMap(tmd.labels),
      annotations: strMap(tmd.annotations),
      hostNetwork: tspec.hostNetwork === true,
      ports: containerPorts(tspec),
      serviceAccountName: tspec.serviceAccountName ?? tspec.serviceAccount ?? 'default',
    },
  };
  if (tspec.nodeName) d.template.nodeName = tspec.nodeName;
  if (tspec.nodeSelector && Object.keys(tspec.nodeSelector).length) d.template.nodeSelector = strMap(tspec.nodeSelector);
  const nodesAnn = md.annotations?.['netlab.dev/nodes'];
  if (typeof nodesAnn === 'string' && nodesAnn.trim()) d.nodes = nodesAnn.split(',').map((x: string) => x.trim()).filter(Boolean);
  return { model: d, fieldPath: (f) => (f === 'nodes' ? ['metadata', 'annotations', 'netlab.dev/nodes'] : []) };
}

export function convertNode(o: Obj, sink: DiagnosticSink, ref: ObjRef): Converted<NodeModel> | null {
  const md = o.metadata;
  // kubelet always sets these two; hand-written Node objects get them too.
  const labels: Record<string, string> = { 'kubernetes.io/hostname': md.name, 'kubernetes.io/os': 'linux', ...strMap(md.labels) };
  const addrs: Obj[] = o.status?.addresses ?? [];
  const internal: number[] = [];
  addrs.forEach((a, i) => {
    if (a.type === 'InternalIP') internal.push(i);
  });
  const ips = internal.map((i) => addrs[i].address as string);
  internal.forEach((ai, k) => {
    if (!parseIP(ips[k])) sink.error('invalid-ip', `Node ${md.name}: InternalIP "${ips[k]}" is not an IP address`, ref, ['status', 'addresses', ai, 'address']);
  });
  const spec = o.spec ?? {};
  const podCIDRs: string[] = Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? [...spec.podCIDRs] : spec.podCIDR ? [spec.podCIDR] : [];
  const n: NodeModel = { name: md.name, ips: ips.filter((x) => parseIP(x)), labels, podCIDRs };
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'];
  if (zone) n.zone = zone;
  return {
    model: n,
    fieldPath: (f, index = 0) => {
      if (f === 'ips') return internal.length ? ['status', 'addresses', internal[index] ?? internal[0], 'address'] : [];
      if (f === 'podCIDRs') return Array.isArray(spec.podCIDRs) && spec.podCIDRs.length ? ['spec', 'podCIDRs', index] : spec.podCIDR ? ['spec', 'podCIDR'] : [];
      return [];
    },
  };
}

export interface ServiceContext {
  /** Families of the cluster's service CIDRs, primary first. */
  families: ('IPv4' | 'IPv6')[];
}

export function convertService(o: Obj, sink: DiagnosticSink, ref: ObjRef, ctx: ServiceContext): Converted<ServiceModel> | null {
  const md = o.metadata;
  const spec = o.spec;
  const ns = md.namespace ?? 'default';
  const what = `Service ${ns}/${md.name}`;
  let ok = true;
  const type = spec.type ?? (spec.externalName ? 'ExternalName' : 'ClusterIP');
  const portsIn: Obj[] = spec.ports ?? [];
  if (portsIn.length > 1) {
    portsIn.forEach((p, i) => {
      if (p.name === undefined || p.name === '') {
        sink.error('missing-field', `${what}: spec.ports[${i}].name is required when a Service has more than one port`, ref, ['spec', 'ports', i], 'Name every port (e.g. name: http).');
        ok = false;
      }
    });
  }
  const seenName = new Map<string, number>();
  const seenPort = new Map<string, number>();
  portsIn.forEach((p, i) => {
    if (p.name) {
      if (seenName.has(p.name)) sink.error('duplicate-name', `${what}: port name "${p.name}" is used by spec.ports[${seenName.get(p.name)}] and spec.ports[${i}]`, ref, ['spec', 'ports', i, 'name']);
      else seenName.set(p.name, i);
    }
    const k = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (seenPort.has(k)) sink.error('duplicate-port', `${what}: port ${k} is listed twice (spec.ports[${seenPort.get(k)}] and spec.ports[${i}])`, ref, ['spec', 'ports', i, 'port']);
    else seenPort.set(k, i);
  });
  const ports: ServicePort[] = portsIn.map((p) => {
    const sp: ServicePort = { protocol: (p.protocol ?? 'TCP') as Protocol, port: p.port, targetPort: p.targetPort ?? p.port };
    if (p.name !== undefined && p.name !== '') sp.name = p.name;
    if (p.nodePort !== undefined) sp.nodePort = p.nodePort;
    if (p.appProtocol !== undefined) sp.appProtocol = p.appProtocol;
    return sp;
  });
  let clusterIPs: string[] = [];
  const hasList = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0;
  if (hasList) clusterIPs = [...spec.clusterIPs];
  else if (spec.clusterIP !== undefined && spec.clusterIP !== '') clusterIPs = [spec.clusterIP];
  if (hasList && spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== spec.clusterIPs[0]) {
    sink.error('inconsistent-ips', `${what}: spec.clusterIP ${spec.clusterIP} differs from spec.clusterIPs[0] ${spec.clusterIPs[0]}`, ref, ['spec', 'clusterIP'], 'clusterIP must equal clusterIPs[0].');
  }
  const headless = clusterIPs.length > 0 && clusterIPs[0] === 'None';
  if (headless && clusterIPs.length > 1) {
    sink.error('invalid-value', `${what}: spec.clusterIPs must be just [None] for a headless Service`, ref, ['spec', 'clusterIPs']);
    clusterIPs = ['None'];
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
    sink.error('invalid-value', `${what}: a ${type} Service cannot be headless (clusterIP: None)`, ref, ['spec', 'clusterIP'], 'Use type ClusterIP for a headless Service, or drop clusterIP: None.');
    ok = false;
  }
  if (type === 'ExternalName') {
    if (!spec.externalName) {
      sink.error('missing-field', `${what}: spec.externalName is required for type ExternalName`, ref, ['spec'], 'Add externalName: <DNS name>.');
      ok = false;
    }
    clusterIPs = [];
  } else if (spec.externalName) {
    sink.warn('ignored-field', `${what}: spec.externalName is ignored unless type is ExternalName`, ref, ['spec', 'externalName']);
  }
  if (!headless && type !== 'ExternalName' && ports.length === 0) {
    sink.error('missing-field', `${what}: spec.ports is required (a Service with a cluster IP needs at least one port)`, ref, ['spec'], 'Add ports: [{port: 80, targetPort: 8080}].');
    ok = false;
  }
  // IP families.
  let ipFamilies: ('IPv4' | 'IPv6')[];
  const ipsFam = clusterIPs.filter((x) => x !== 'None').map((x) => parseIP(x)?.family);
  if (Array.isArray(spec.ipFamilies) && spec.ipFamilies.length) {
    ipFamilies = [...spec.ipFamilies];
    if (ipFamilies.length === 2 && ipFamilies[0] === ipFamilies[1]) {
      sink.error('invalid-value', `${what}: spec.ipFamilies lists ${ipFamilies[0]} twice`, ref, ['spec', 'ipFamilies', 1]);
      ipFamilies = [ipFamilies[0]];
    }
    ipsFam.forEach((f, i) => {
      if (f && ipFamilies[i] && `IPv${f}` !== ipFamilies[i]) {
        sink.error('inconsistent-ips', `${what}: clusterIPs[${i}] is IPv${f} but ipFamilies[${i}] is ${ipFamilies[i]}`, ref, ['spec', hasList ? 'clusterIPs' : 'clusterIP', ...(hasList ? [i] : [])]);
      }
    });
  } else if (ipsFam.length && ipsFam.every((f) => f)) {
    ipFamilies = ipsFam.map((f) => `IPv${f}` as 'IPv4' | 'IPv6');
  } else if ((spec.ipFamilyPolicy === 'PreferDualStack' || spec.ipFamilyPolicy === 'RequireDualStack') && ctx.families.length === 2) {
    ipFamilies = [...ctx.families];
  } else {
    ipFamilies = [ctx.families[0] ?? 'IPv4'];
  }
  if (type === 'ExternalName') ipFamilies = [];
  if (spec.ipFamilyPolicy === 'RequireDualStack' && ctx.families.length < 2 && type !== 'ExternalName') {
    sink.error('family-not-configured', `${what}: ipFamilyPolicy RequireDualStack needs a dual-stack cluster, but serviceCIDR has only ${ctx.families.join('')}`, ref, ['spec', 'ipFamilyPolicy'], `Add an ${ctx.families[0] === 'IPv6' ? 'IPv4' : 'IPv6'} serviceCIDR and clusterCIDR, or use PreferDualStack.`);
  }
  if (spec.ipFamilyPolicy === 'SingleStack' && ipFamilies.length > 1) {
    sink.error('invalid-value', `${what}: ipFamilyPolicy SingleStack with two ipFamilies`, ref, ['spec', 'ipFamilyPolicy']);
  }
  ipFamilies.forEach((f, i) => {
    if (!ctx.families.includes(f)) {
      sink.error('family-not-configured', `${what}: IP family ${f} is not configured (serviceCIDR families: ${ctx.families.join(', ')})`, ref, ['spec', spec.ipFamilies ? 'ipFamilies' : hasList ? 'clusterIPs' : 'clusterIP', ...(spec.ipFamilies || hasList ? [i] : [])], 'Add a serviceCIDR of that family, or change the Service.');
    }
  });
  const eTP = spec.externalTrafficPolicy ?? 'Cluster';
  if (spec.healthCheckNodePort !== undefined && !(type === 'LoadBalancer' && eTP === 'Local')) {
    sink.error('invalid-value', `${what}: healthCheckNodePort is only allowed for type LoadBalancer with externalTrafficPolicy Local`, ref, ['spec', 'healthCheckNodePort']);
  }
  if (spec.externalTrafficPolicy !== undefined && type !== 'NodePort' && type !== 'LoadBalancer' && !(spec.externalIPs ?? []).length) {
    sink.warn('ignored-field', `${what}: externalTrafficPolicy has no effect on a ${type} Service without externalIPs`, ref, ['spec', 'externalTrafficPolicy']);
  }
  const externalIPs: string[] = [];
  (spec.externalIPs ?? []).forEach((ip: string, i: number) => {
    const p = parseIP(ip);
    if (!p) sink.error('invalid-ip', `${what}: externalIPs[${i}] "${ip}" is not an IP address`, ref, ['spec', 'externalIPs', i]);
    else externalIPs.push(ip);
  });
  const sourceRanges: string[] = [];
  (spec.loadBalancerSourceRanges ?? []).forEach((r: string, i: number) => {
    const c = tryParseCidr(r.trim());
    if (!c) sink.error('invalid-cidr', `${what}: loadBalancerSourceRanges[${i}] "${r}" is not a CIDR`, ref, ['spec', 'loadBalancerSourceRanges', i]);
    else sourceRanges.push(r.trim());
  });
  const lbIPs: string[] = [];
  (o.status?.loadBalancer?.ingress ?? []).forEach((ing: Obj, i: number) => {
    if (ing.ip === undefined) return;
    if (!parseIP(ing.ip)) sink.error('invalid-ip', `${what}: status.loadBalancer.ingress[${i}].ip "${ing.ip}" is not an IP address`, ref, ['status', 'loadBalancer', 'ingress', i, 'ip']);
    else lbIPs.push(ing.ip);
  });
  const svc: ServiceModel = {
    namespace: ns,
    name: md.name,
    labels: strMap(md.labels),
    type,
    clusterIPs,
    ports,
    sessionAffinity: spec.sessionAffinity ?? 'None',
    sessionAffinityTimeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800,
    internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
    externalTrafficPolicy: eTP,
    externalIPs,
    loadBalancerIPs: lbIPs,
    loadBalancerSourceRanges: sourceRanges,
    ipFamilies,
  };
  if (spec.selector && Object.keys(spec.selector).length) svc.selector = strMap(spec.selector);
  if (type === 'ExternalName' && spec.externalName) svc.externalName = spec.externalName;
  if (spec.healthCheckNodePort !== undefined) svc.healthCheckNodePort = spec.healthCheckNodePort;
  if (spec.publishNotReadyAddresses === true) svc.publishNotReadyAddresses = true;
  if (!ok) return null;
  return {
    model: svc,
    fieldPath: (f, index = 0) => {
      if (f === 'clusterIPs') return hasList ? ['spec', 'clusterIPs', index] : spec.clusterIP !== undefined ? ['spec', 'clusterIP'] : [];
      if (f === 'nodePort') return ['spec', 'ports', index, ...(portsIn[index]?.nodePort !== undefined ? ['nodePort'] : [])];
      if (f === 'healthCheckNodePort') return spec.healthCheckNodePort !== undefined ? ['spec', 'healthCheckNodePort'] : [];
      if (f === 'selector') return ['spec', 'selector'];
      if (f === 'targetPort') return ['spec', 'ports', index, ...(portsIn[index]?.targetPort !== undefined ? ['targetPort'] : [])];
      return [];
    },
  };
}

export function convertEndpointSlice(o: Obj, sink: DiagnosticSink, ref: ObjRef): Converted<EndpointSliceModel> | null {
  const md = o.metadata;
  const ns = md.namespace ?? 'default';
  const what = `EndpointSlice ${ns}/${md.name}`;
  const serviceName = md.labels?.['kubernetes.io/service-name'];
  if (!serviceName) {
    sink.warn('missing-field', `${what}: no kubernetes.io/service-name label, so no Service uses it`, ref, ['metadata', 'labels'], 'Add the label kubernetes.io/service-name: <service>.');
    return null;
  }
  if (o.addressType === 'FQDN') {
    sink.warn('unsupported', `${what}: addressType FQDN is deprecated and ignored by kube-proxy; the slice is left out`, ref, ['addressType']);
    return null;
  }
  const fam = o.addressType === 'IPv4' ? 4 : 6;
  const endpoints: EndpointModel[] = [];
  (o.endpoints ?? []).forEach((e: Obj, i: number) => {
    const addrs: string[] = [];
    e.addresses.forEach((a: string, j: number) => {
      const p = parseIP(a);
      if (!p) sink.error('invalid-ip', `${what}: endpoints[${i}].addresses[${j}] "${a}" is not an IP address`, ref, ['endpoints', i, 'addresses', j]);
      else if (p.family !== fam) sink.error('invalid-ip', `${what}: ${a} is not an ${o.addressType} address (addressType ${o.addressType})`, ref, ['endpoints', i, 'addresses', j]);
      else addrs.push(a);
    });
    if (!addrs.length) return;
    const c = e.conditions ?? {};
    const ep: EndpointModel = { addresses: addrs, conditions: {} };
    if (c.ready !== undefined && c.ready !== null) ep.conditions.ready = c.ready;
    if (c.serving !== undefined && c.serving !== null) ep.conditions.serving = c.serving;
    if (c.terminating !== undefined && c.terminating !== null) ep.conditions.terminating = c.terminating;
    if (e.nodeName) ep.nodeName = e.nodeName;
    if (e.zone) ep.zone = e.zone;
    if (e.targetRef?.kind === 'Pod' && e.targetRef.name) ep.targetRef = { kind: 'Pod', namespace: e.targetRef.namespace ?? ns, name: e.targetRef.name };
    endpoints.push(ep);
  });
  const ports = (o.ports ?? []).map((p: Obj) => {
    const sp: EndpointSliceModel['ports'][number] = { port: p.port ?? 0, protocol: (p.protocol ?? 'TCP') as Protocol };
    if (p.name !== undefined && p.name !== '') sp.name = p.name;
    if (p.appProtocol !== undefined) sp.appProtocol = p.appProtocol;
    return sp;
  });
  return {
    model: { namespace: ns, name: md.name, serviceName, addressType: o.addressType, ports, endpoints, derived: false },
    fieldPath: () => [],
  };
}

/** v1 Endpoints → one EndpointSlice per address family (as the EndpointSlice mirroring controller does). */
export function convertEndpoints(o: Obj, sink: DiagnosticSink, ref: ObjRef, sliceName: (family: 'IPv4' | 'IPv6') => string): EndpointSliceModel[] {
  const md = o.metadata;
  const ns = md.namespace ?? 'default';
  const byFam = new Map<'IPv4' | 'IPv6', EndpointSliceModel>();
  (o.subsets ?? []).forEach((sub: Obj, si: number) => {
    const ports = (sub.ports ?? []).map((p: Obj) => {
      const sp: EndpointSliceModel['ports'][number] = { port: p.port, protocol: (p.protocol ?? 'TCP') as Protocol };
      if (p.name) sp.name = p.name;
      return sp;
    });
    const add = (list: Obj[] | null | undefined, ready: boolean, key: string) => {
      (list ?? []).forEach((a: Obj, ai: number) => {
        const p = parseIP(a.ip);
        if (!p) {
          sink.error('invalid-ip', `Endpoints ${ns}/${md.name}: "${a.ip}" is not an IP address`, ref, ['subsets', si, key, ai, 'ip']);
          return;
        }
        const fam = p.family === 4 ? 'IPv4' : 'IPv6';
        let s = byFam.get(fam);
        if (!s) byFam.set(fam, (s = { namespace: ns, name: sliceName(fam), serviceName: md.name, addressType: fam, ports, endpoints: [], derived: false }));
        const ep: EndpointModel = { addresses: [a.ip], conditions: { ready } };
        if (a.nodeName) ep.nodeName = a.nodeName;
        if (a.targetRef?.kind === 'Pod' && a.targetRef.name) ep.targetRef = { kind: 'Pod', namespace: a.targetRef.namespace ?? ns, name: a.targetRef.name };
        s.endpoints.push(ep);
      });
    };
    add(sub.addresses, true, 'addresses');
    add(sub.notReadyAddresses, false, 'notReadyAddresses');
  });
  return [...byFam.values()];
}

// ---- NetworkPolicy ------------------------------------------------------------

function convertSelector(sel: Obj): LabelSelector {
  const out: LabelSelector = {};
  if (sel.matchLabels !== undefined && sel.matchLabels !== null) out.matchLabels = strMap(sel.matchLabels);
  if (sel.matchExpressions !== undefined && sel.matchExpressions !== null) {
    out.matchExpressions = (sel.matchExpressions as Obj[]).map((e) => {
      const r: LabelSelectorRequirement = { key: e.key, operator: e.operator };
      if (e.values !== undefined && e.values !== null) r.values = [...e.values];
      return r;
    });
  }
  return out;
}

function convertPeers(list: Obj[]): NetworkPolicyPeer[] {
  return list.map((p) => {
    const peer: NetworkPolicyPeer = {};
    if (p.podSelector !== undefined && p.podSelector !== null) peer.podSelector = convertSelector(p.podSelector);
    if (p.namespaceSelector !== undefined && p.namespaceSelector !== null) peer.namespaceSelector = convertSelector(p.namespaceSelector);
    if (p.ipBlock !== undefined && p.ipBlock !== null) {
      const block: { cidr: string; except?: string[] } = { cidr: p.ipBlock.cidr };
      if (p.ipBlock.except !== undefined && p.ipBlock.except !== null) block.except = [...p.ipBlock.except];
      peer.ipBlock = block;
    }
    return peer;
  });
}

function convertPorts(list: Obj[]): NetworkPolicyPort[] {
  return list.map((p) => {
    const out: NetworkPolicyPort = {};
    if (p.protocol !== undefined) out.protocol = p.protocol;
    if (p.port !== undefined) out.port = p.port;
    if (p.endPort !== undefined) out.endPort = p.endPort;
    return out;
  });
}

/** networking.k8s.io/v1 NetworkPolicy, shape- and semantics-checked by NetworkPolicySchema; absent and empty lists stay apart. */
export function convertNetworkPolicy(o: Obj): Converted<NetworkPolicyModel> | null {
  const md = o.metadata;
  const ns = md.namespace ?? 'default';
  const spec = o.spec;
  const np: NetworkPolicyModel = {
    namespace: ns,
    name: md.name,
    podSelector: spec.podSelector ? convertSelector(spec.podSelector) : {},
  };
  if (spec.policyTypes !== undefined && spec.policyTypes !== null) np.policyTypes = [...spec.policyTypes];
  if (spec.ingress !== undefined && spec.ingress !== null) {
    np.ingress = (spec.ingress as Obj[]).map((r) => {
      const rule: NetworkPolicyIngressRule = {};
      if (r?.from !== undefined && r?.from !== null) rule.from = convertPeers(r.from);
      if (r?.ports !== undefined && r?.ports !== null) rule.ports = convertPorts(r.ports);
      return rule;
    });
  }
  if (spec.egress !== undefined && spec.egress !== null) {
    np.egress = (spec.egress as Obj[]).map((r) => {
      const rule: NetworkPolicyEgressRule = {};
      if (r?.to !== undefined && r?.to !== null) rule.to = convertPeers(r.to);
      if (r?.ports !== undefined && r?.ports !== null) rule.ports = convertPorts(r.ports);
      return rule;
    });
  }
  return { model: np, fieldPath: () => [] };
}
