// core/cni: one model per CNI plugin behind the CniModel interface, a
// registry keyed by `<plugin>-<mode>`, route lookup and encapsulation for
// the packet walk.

import { CNI_MODES, type CniPlugin, type PodModel, type Topology } from '../model/types';
import { AntreaModel, type AntreaMode } from './antrea';
import { CalicoModel, type CalicoMode } from './calico';
import { CiliumModel, type CiliumMode } from './cilium';
import { FlannelModel, type FlannelMode } from './flannel';
import { WeaveModel, type WeaveMode } from './weave';
import { CniModelError, type CniModel, type NodeDataplane, type PodDataplane } from './types';

export * from './types';
export { routeLookup, interfaceByName, masqueradeSource, type RouteLookup, type LookupVerdict } from './routing';
export { encapsulate, encapOverhead, mtuCheck, tunnelSourcePort, type Encapsulation, type InnerPacket, type MtuCheck, type MtuVerdict, type OuterHeaders } from './encap';
export { formatCniResult, printCniResult, bridgePluginResult, ptpPluginResult, type ResultInterface, type ResultIP, type ResultRoute } from './result';
export { calicoVethName, calicoBlocks, CalicoModel, CALICO_WIREGUARD_MARK, CALICO_WIREGUARD_RULE_PRIORITY, CALICO_WIREGUARD_TABLE, CALICO_WIREGUARD_PORT, CALICO_WIREGUARD_PORT_V6, type CalicoMode } from './calico';
export { ciliumVethName, ciliumIdentityFor, ciliumL7Proxy, CiliumModel, CILIUM_TO_PROXY_MARK, CILIUM_MARK_HOST_MASK, CILIUM_TO_PROXY_TABLE, CILIUM_TO_PROXY_RULE_PRIORITY, CILIUM_LOCAL_RULE_PRIORITY, type CiliumMode } from './cilium';
export { flannelVethName, FlannelModel, type FlannelMode } from './flannel';
export { weaveVethName, WeaveModel, type WeaveMode } from './weave';
export { antreaCtZone, antreaInterfaceName, AntreaModel, type AntreaMode } from './antrea';
export { ptpPod, ptpHostSide, type PtpPodSpec } from './ptp';
export { sha1Hex, sha256Hex, syntheticMac } from './hash';
export { sameSubnet, nodeSubnet, nodeGateway, containerIdFor, netnsNameFor, sortRoutes } from './common';

type Factory = (mode: string) => CniModel;

const FACTORIES: Record<CniPlugin, Factory> = {
  calico: (m) => new CalicoModel(m as CalicoMode),
  cilium: (m) => new CiliumModel(m as CiliumMode),
  flannel: (m) => new FlannelModel(m as FlannelMode),
  weave: (m) => new WeaveModel(m as WeaveMode),
  antrea: (m) => new AntreaModel(m as AntreaMode),
};

const cache = new Map<string, CniModel>();

/** The model for `plugin` in `mode`. Throws CniModelError (with a hint) for unknown combinations. */
export function getCniModel(plugin: CniPlugin, mode: string): CniModel {
  const key = `${plugin}-${mode}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const modes = CNI_MODES[plugin];
  if (!modes) {
    throw new CniModelError(`unknown CNI plugin "${plugin}"`, `use one of: ${Object.keys(CNI_MODES).join(', ')}`);
  }
  if (!modes.includes(mode)) {
    throw new CniModelError(`${plugin} has no mode "${mode}"`, `use one of: ${modes.map((m) => `${plugin}-${m}`).join(', ')}`);
  }
  const model = FACTORIES[plugin](mode);
  cache.set(key, model);
  return model;
}

/** The model selected by the topology's settings.cni. */
export function cniModelFor(topology: Topology): CniModel {
  return getCniModel(topology.settings.cni.plugin, topology.settings.cni.mode);
}

/** Every plugin/mode pair, in CNI_MODES order. */
export function listCniModels(): CniModel[] {
  return (Object.keys(CNI_MODES) as CniPlugin[]).flatMap((p) => CNI_MODES[p].map((m) => getCniModel(p, m)));
}

export interface ClusterDataplane {
  model: CniModel;
  nodes: Map<string, NodeDataplane>;
  /** Keyed `namespace/name`; hostNetwork pods share their node's namespace and are not listed. */
  pods: Map<string, PodDataplane>;
  node(name: string): NodeDataplane;
  pod(namespace: string, name: string): PodDataplane;
  /** The pod namespace holding `ip` (undefined for node IPs, hostNetwork pods and unknown addresses). */
  podByIP(ip: string): PodDataplane | undefined;
  /** The pod whose veth has `ifname` as its host end on `node` (cali…, lxc…, veth…). */
  podOnInterface(node: string, ifname: string): PodDataplane | undefined;
}

const clusterCache = new WeakMap<Topology, ClusterDataplane>();

/**
 * Every node's and pod's namespace for the topology, built once and cached
 * per Topology object (treat the topology and the result as immutable).
 */
export function buildDataplane(topology: Topology): ClusterDataplane {
  const hit = clusterCache.get(topology);
  if (hit) return hit;
  const model = cniModelFor(topology);
  const nodes = new Map(topology.nodes.map((n) => [n.name, model.buildNode(topology, n.name)]));
  const pods = new Map<string, PodDataplane>();
  for (const p of topology.pods) {
    if (p.hostNetwork) continue;
    pods.set(`${p.namespace}/${p.name}`, model.buildPod(topology, p));
  }
  const byIP = new Map<string, PodDataplane>();
  const byPeer = new Map<string, PodDataplane>();
  for (const p of topology.pods) {
    const dp = pods.get(`${p.namespace}/${p.name}`);
    if (!dp) continue;
    for (const ip of p.ips) byIP.set(ip, dp);
    byPeer.set(`${p.nodeName}/${dp.hostPeer}`, dp);
  }
  const result: ClusterDataplane = {
    model,
    nodes,
    pods,
    podByIP: (ip) => byIP.get(ip),
    podOnInterface: (node, ifname) => byPeer.get(`${node}/${ifname}`),
    node(name) {
      const n = nodes.get(name);
      if (!n) throw new CniModelError(`node "${name}" is not in the topology`, `use one of: ${[...nodes.keys()].join(', ')}`);
      return n;
    },
    pod(namespace, name) {
      const p = pods.get(`${namespace}/${name}`);
      if (!p) {
        const hostNet = topology.pods.find((x) => x.namespace === namespace && x.name === name && x.hostNetwork);
        throw new CniModelError(
          hostNet ? `pod ${namespace}/${name} uses hostNetwork: it has no namespace of its own` : `pod ${namespace}/${name} is not in the topology`,
          hostNet ? `use its node's namespace (node ${hostNet.nodeName})` : 'check the namespace and name (kubectl-style ns/name)',
        );
      }
      return p;
    },
  };
  clusterCache.set(topology, result);
  return result;
}

/** Finds a pod by `namespace/name` (or bare name in `default`). */
export function findPod(topology: Topology, ref: string): PodModel {
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const pod = topology.pods.find((p) => p.namespace === ns && p.name === name);
  if (!pod) {
    throw new CniModelError(`pod ${ns}/${name} is not in the topology`, `use namespace/name, one of: ${topology.pods.slice(0, 10).map((p) => `${p.namespace}/${p.name}`).join(', ')}`);
  }
  return pod;
}
