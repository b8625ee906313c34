// Topology → YAML: a Topology document (cluster settings and nodes) followed
// by one Kubernetes manifest per object, in a form loadTopology reads back to
// an equal Topology. Objects the loader derives (pods expanded from
// workloads, derived EndpointSlices, Calico blocks) are left out: loading
// derives them again, identically.

import { stringify } from 'yaml';
import type { ContainerPort, DeploymentModel, EndpointSliceModel, NetworkPolicyModel, PodModel, ServiceModel, Topology } from './types';
import { TOPOLOGY_API_VERSION } from './load';

/* eslint-disable @typescript-eslint/no-explicit-any -- building plain YAML objects */
type Obj = Record<string, any>;

function nonEmpty<T extends object>(o: T): T | undefined {
  return Object.keys(o).length ? o : undefined;
}

function clean(o: Obj): Obj {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function containers(ports: ContainerPort[], fallback: string): Obj[] {
  const byName = new Map<string, Obj[]>();
  for (const p of ports) {
    let l = byName.get(p.container);
    if (!l) byName.set(p.container, (l = []));
    l.push(clean({ name: p.name, containerPort: p.containerPort, protocol: p.protocol, hostPort: p.hostPort }));
  }
  if (byName.size === 0) return [{ name: fallback }];
  return [...byName].map(([name, ps]) => ({ name, ports: ps }));
}

function podDoc(p: PodModel): Obj {
  const status: Obj = {};
  if (p.ips.length) {
    status.podIP = p.ips[0];
    status.podIPs = p.ips.map((ip) => ({ ip }));
  }
  if (p.ready === false) status.conditions = [{ type: 'Ready', status: 'False' }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: clean({
      name: p.name,
      namespace: p.namespace,
      labels: nonEmpty({ ...p.labels }),
      annotations: nonEmpty({ ...p.annotations }),
      deletionTimestamp: p.terminating ? '1970-01-01T00:00:00Z' : undefined,
    }),
    spec: clean({
      nodeName: p.nodeName || undefined,
      hostNetwork: p.hostNetwork || undefined,
      serviceAccountName: p.serviceAccountName !== 'default' ? p.serviceAccountName : undefined,
      containers: containers(p.ports, 'main'),
    }),
    status: nonEmpty(status),
  };
}

function deploymentDoc(d: DeploymentModel): Obj {
  const annotations: Record<string, string> = {};
  if (d.nodes?.length) annotations['netlab.dev/nodes'] = d.nodes.join(',');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: clean({ name: d.name, namespace: d.namespace, labels: nonEmpty({ ...d.labels }), annotations: nonEmpty(annotations) }),
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { ...d.template.labels } },
      template: {
        metadata: clean({ labels: { ...d.template.labels }, annotations: nonEmpty({ ...d.template.annotations }) }),
        spec: clean({
          nodeName: d.template.nodeName,
          nodeSelector: d.template.nodeSelector ? { ...d.template.nodeSelector } : undefined,
          hostNetwork: d.template.hostNetwork || undefined,
          serviceAccountName: d.template.serviceAccountName !== 'default' ? d.template.serviceAccountName : undefined,
          containers: containers(d.template.ports, d.name),
        }),
      },
    },
  };
}

function serviceDoc(s: ServiceModel): Obj {
  const external = s.type === 'NodePort' || s.type === 'LoadBalancer' || s.externalIPs.length > 0;
  const spec: Obj = { type: s.type };
  if (s.type !== 'ExternalName') {
    if (s.clusterIPs.length) {
      spec.clusterIP = s.clusterIPs[0];
      spec.clusterIPs = [...s.clusterIPs];
    }
    if (s.ipFamilies.length) spec.ipFamilies = [...s.ipFamilies];
    spec.ipFamilyPolicy = s.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack';
  }
  if (s.selector) spec.selector = { ...s.selector };
  if (s.ports.length) {
    spec.ports = s.ports.map((p) => clean({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.targetPort, nodePort: p.nodePort, appProtocol: p.appProtocol }));
  }
  spec.sessionAffinity = s.sessionAffinity;
  if (s.sessionAffinity === 'ClientIP' || s.sessionAffinityTimeoutSeconds !== 10800) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: s.sessionAffinityTimeoutSeconds } };
  }
  spec.internalTrafficPolicy = s.internalTrafficPolicy;
  if (external || s.externalTrafficPolicy !== 'Cluster') spec.externalTrafficPolicy = s.externalTrafficPolicy;
  if (s.externalName) spec.externalName = s.externalName;
  if (s.externalIPs.length) spec.externalIPs = [...s.externalIPs];
  if (s.loadBalancerSourceRanges.length) spec.loadBalancerSourceRanges = [...s.loadBalancerSourceRanges];
  if (s.healthCheckNodePort !== undefined) spec.healthCheckNodePort = s.healthCheckNodePort;
  if (s.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
  const doc: Obj = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: clean({ name: s.name, namespace: s.namespace, labels: nonEmpty({ ...s.labels }) }),
    spec,
  };
  if (s.loadBalancerIPs.length) doc.status = { loadBalancer: { ingress: s.loadBalancerIPs.map((ip) => ({ ip })) } };
  return doc;
}

function sliceDoc(s: EndpointSliceModel): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: s.name, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.serviceName } },
    addressType: s.addressType,
    ports: s.ports.map((p) => clean({ name: p.name, port: p.port, protocol: p.protocol, appProtocol: p.appProtocol })),
    endpoints: s.endpoints.map((e) =>
      clean({
        addresses: [...e.addresses],
        conditions: { ...e.conditions },
        nodeName: e.nodeName,
        zone: e.zone,
        targetRef: e.targetRef ? { ...e.targetRef } : undefined,
      }),
    ),
  };
}

function policyDoc(p: NetworkPolicyModel): Obj {
  const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
  const spec: Obj = { podSelector: strip(p.podSelector) };
  if (p.policyTypes) spec.policyTypes = [...p.policyTypes];
  if (p.ingress) spec.ingress = strip(p.ingress);
  if (p.egress) spec.egress = strip(p.egress);
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace }, spec };
}

/** YAML that loads back (loadTopology) to a Topology equal to `t` (origins aside). */
export function serializeTopology(t: Topology): string {
  const s = t.settings;
  const cni: Obj = { plugin: s.cni.plugin, mode: s.cni.mode, natOutgoing: s.cni.natOutgoing, encryption: s.cni.encryption };
  if (s.cni.mtu !== undefined) cni.mtu = s.cni.mtu;
  if (s.cni.l7Proxy !== undefined) cni.l7Proxy = s.cni.l7Proxy;
  const header: Obj = {
    apiVersion: TOPOLOGY_API_VERSION,
    kind: 'Topology',
    metadata: { name: s.name },
    cluster: {
      cni,
      clusterCIDR: s.clusterCIDRs.length === 1 ? s.clusterCIDRs[0] : [...s.clusterCIDRs],
      serviceCIDR: s.serviceCIDRs.length === 1 ? s.serviceCIDRs[0] : [...s.serviceCIDRs],
      nodeCIDR: s.nodeCIDRs.length === 1 ? s.nodeCIDRs[0] : [...s.nodeCIDRs],
      nodeCIDRMaskSize: { ...s.nodeCIDRMaskSize },
      blockSize: { ...s.blockSize },
      firstNodeCIDRIndex: s.firstNodeCIDRIndex,
      podIPOffset: s.podIPOffset,
      nodeMTU: s.nodeMTU,
      kubeProxy: { mode: s.kubeProxy.mode, scheduler: s.kubeProxy.ipvsScheduler, masqueradeAll: s.kubeProxy.masqueradeAll, masqueradeBit: s.kubeProxy.masqueradeBit },
      clusterDomain: s.dns.clusterDomain,
      ndots: s.dns.ndots,
      nodeLocalDNS: s.dns.nodeLocalDNS,
      nodeLocalIP: s.dns.nodeLocalIP,
      dnsTTL: s.dns.ttl,
      mesh: s.mesh.enabled,
      conntrackMax: s.conntrack.max,
    },
    nodes: t.nodes.map((n) => clean({ name: n.name, ips: n.ips.length ? [...n.ips] : undefined, zone: n.zone, labels: nonEmpty({ ...n.labels }), podCIDRs: n.podCIDRs.length ? [...n.podCIDRs] : undefined })),
  };
  const docs: Obj[] = [header];
  for (const n of t.namespaces) docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: { ...n.labels } } });
  for (const p of t.pods) if (!p.owner) docs.push(podDoc(p));
  for (const d of t.deployments) docs.push(deploymentDoc(d));
  for (const svc of t.services) docs.push(serviceDoc(svc));
  for (const sl of t.endpointSlices) if (!sl.derived) docs.push(sliceDoc(sl));
  for (const np of t.networkPolicies) docs.push(policyDoc(np));
  for (const x of t.extra) docs.push(x.object);
  return docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
