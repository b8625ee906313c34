// Services and EndpointSlices as kube-proxy sees them for one node and one IP
// family: service ports with their policies (pkg/proxy/serviceport.go,
// pkg/api/v1/service/util.go) and endpoints categorized (pkg/proxy/topology.go).

import { Cidr, canonicalIP, ipFamily, joinHostPort } from '../net';
import type { EndpointSliceModel, Protocol, ServiceModel, Topology } from '../model/types';
import { endpointChain, serviceChains, servicePortName, type ServiceChains } from './names';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** `ip:port` (net.JoinHostPort). */
  key: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The endpoint's nodeName is this node. */
  local: boolean;
  nodeName?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string };
  /** KUBE-SEP-* chain. */
  chain: string;
}

export interface ProxyServicePort {
  service: ServiceModel;
  namespace: string;
  name: string;
  portName?: string;
  /** ServicePortName string. */
  spn: string;
  /** tcp | udp | sctp */
  protocol: string;
  Protocol: Protocol;
  family: 4 | 6;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  sourceRanges: string[];
  healthCheckNodePort: number;
  affinityTimeout: number;
  clientIPAffinity: boolean;
  iTPLocal: boolean;
  eTPLocal: boolean;
  externallyAccessible: boolean;
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
  chains: ServiceChains;
  /** All endpoints of this family and port, sorted by `ip:port` string, deduplicated. */
  endpoints: ProxyEndpoint[];
}

export interface Categorized {
  clusterEndpoints: ProxyEndpoint[];
  localEndpoints: ProxyEndpoint[];
  allReachable: ProxyEndpoint[];
  hasAnyEndpoints: boolean;
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** externallyAccessible(svc): LoadBalancer, NodePort, or ClusterIP with externalIPs. */
function serviceExternallyAccessible(s: ServiceModel): boolean {
  return s.type === 'LoadBalancer' || s.type === 'NodePort' || (s.type === 'ClusterIP' && s.externalIPs.length > 0);
}

function slicePortMatches(slice: EndpointSliceModel['ports'][number], name: string | undefined, proto: Protocol): boolean {
  return (slice.name ?? '') === (name ?? '') && (slice.protocol ?? 'TCP') === proto;
}

/**
 * Service ports kube-proxy programs on `nodeName` for one family, sorted by
 * ServicePortName then protocol. (Real kube-proxy walks a Go map, so its
 * output order differs between syncs; compare rule sets per chain.)
 */
export function proxyServicePorts(topo: Topology, nodeName: string, family: 4 | 6): ProxyServicePort[] {
  const out: ProxyServicePort[] = [];
  const slicesBySvc = new Map<string, EndpointSliceModel[]>();
  for (const sl of topo.endpointSlices) {
    if (sl.addressType !== (family === 4 ? 'IPv4' : 'IPv6')) continue;
    const k = `${sl.namespace}/${sl.serviceName}`;
    const list = slicesBySvc.get(k) ?? [];
    list.push(sl);
    slicesBySvc.set(k, list);
  }
  for (const s of topo.services) {
    if (s.type === 'ExternalName') continue;
    const clusterIP = s.clusterIPs.find((ip) => ip !== 'None' && ipFamily(ip) === family);
    if (!clusterIP) continue; // headless, or not of this family
    const extAccessible = serviceExternallyAccessible(s);
    const eTPLocal = extAccessible && s.externalTrafficPolicy === 'Local';
    const iTPLocal = s.internalTrafficPolicy === 'Local';
    const externalIPs = s.externalIPs.filter((ip) => ipFamily(ip) === family).map(canonicalIP);
    const lbVIPs = s.type === 'LoadBalancer' ? s.loadBalancerIPs.filter((ip) => ipFamily(ip) === family).map(canonicalIP) : [];
    const sourceRanges = s.loadBalancerSourceRanges
      .map((r) => r.trim())
      .map((r) => Cidr.tryParse(r))
      .filter((c): c is Cidr => !!c && c.family === family)
      .map((c) => c.text);
    for (const p of s.ports) {
      const spn = servicePortName(s.namespace, s.name, p.name);
      const protocol = p.protocol.toLowerCase();
      const nodePort = (s.type === 'NodePort' || s.type === 'LoadBalancer') && p.nodePort ? p.nodePort : 0;
      const portExternallyAccessible = nodePort !== 0 || lbVIPs.length > 0 || externalIPs.length > 0;
      const endpoints = new Map<string, ProxyEndpoint>();
      for (const sl of slicesBySvc.get(`${s.namespace}/${s.name}`) ?? []) {
        const sp = sl.ports.find((x) => slicePortMatches(x, p.name, p.protocol));
        if (!sp) continue;
        for (const e of sl.endpoints) {
          const addr = e.addresses[0];
          if (!addr || ipFamily(addr) !== family) continue;
          const ip = canonicalIP(addr);
          const key = joinHostPort(ip, sp.port);
          if (endpoints.has(key)) continue;
          const c = e.conditions ?? {};
          endpoints.set(key, {
            ip,
            port: sp.port,
            key,
            ready: c.ready === undefined || c.ready,
            serving: c.serving === undefined || c.serving,
            terminating: c.terminating === true,
            local: e.nodeName === nodeName,
            nodeName: e.nodeName,
            targetRef: e.targetRef,
            chain: endpointChain(spn, protocol, key),
          });
        }
      }
      out.push({
        service: s,
        namespace: s.namespace,
        name: s.name,
        portName: p.name,
        spn,
        protocol,
        Protocol: p.protocol,
        family,
        clusterIP: canonicalIP(clusterIP),
        port: p.port,
        nodePort,
        externalIPs,
        loadBalancerVIPs: lbVIPs,
        sourceRanges,
        healthCheckNodePort: s.type === 'LoadBalancer' && eTPLocal ? (s.healthCheckNodePort ?? 0) : 0,
        affinityTimeout: s.sessionAffinityTimeoutSeconds || 10800,
        clientIPAffinity: s.sessionAffinity === 'ClientIP',
        iTPLocal,
        eTPLocal,
        externallyAccessible: portExternallyAccessible,
        usesClusterEndpoints: !iTPLocal || portExternallyAccessible,
        usesLocalEndpoints: iTPLocal || (eTPLocal && portExternallyAccessible),
        chains: serviceChains(spn, protocol),
        endpoints: [...endpoints.values()].sort((a, b) => cmpStr(a.key, b.key)),
      });
    }
  }
  return out.sort((a, b) => cmpStr(a.spn, b.spn) || cmpStr(a.protocol, b.protocol));
}

/** CategorizeEndpoints (pkg/proxy/topology.go), without topology hints. */
export function categorizeEndpoints(sp: ProxyServicePort): Categorized {
  const eps = sp.endpoints;
  let clusterEndpoints: ProxyEndpoint[] = [];
  let localEndpoints: ProxyEndpoint[] = [];
  let hasAnyEndpoints = false;
  if (sp.usesClusterEndpoints) {
    clusterEndpoints = eps.filter((e) => e.ready);
    if (clusterEndpoints.length === 0) clusterEndpoints = eps.filter((e) => e.serving && e.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }
  if (!sp.usesLocalEndpoints) return { clusterEndpoints, localEndpoints, allReachable: clusterEndpoints, hasAnyEndpoints };
  let localReady = false;
  let localServingTerminating = false;
  for (const e of eps) {
    if (e.ready) {
      hasAnyEndpoints = true;
      if (e.local) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAnyEndpoints = true;
      if (e.local) localServingTerminating = true;
    }
  }
  let useServingTerminating = false;
  if (localReady) localEndpoints = eps.filter((e) => e.local && e.ready);
  else if (localServingTerminating) {
    useServingTerminating = true;
    localEndpoints = eps.filter((e) => e.local && e.serving && e.terminating);
  }
  if (!sp.usesClusterEndpoints) return { clusterEndpoints, localEndpoints, allReachable: localEndpoints, hasAnyEndpoints };
  if (!useServingTerminating) return { clusterEndpoints, localEndpoints, allReachable: clusterEndpoints, hasAnyEndpoints };
  // Real kube-proxy builds this union from a Go map (random order); sorted here.
  const m = new Map<string, ProxyEndpoint>();
  for (const e of [...clusterEndpoints, ...localEndpoints]) m.set(e.key, e);
  return { clusterEndpoints, localEndpoints, allReachable: [...m.values()].sort((a, b) => cmpStr(a.key, b.key)), hasAnyEndpoints };
}
