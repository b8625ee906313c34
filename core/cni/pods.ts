// The pod side of a veth pair, shared by every plugin: lo, eth0 with its
// address and MTU, the routes the plugin programs inside the pod, and the
// routes the kernel derives from the address.

import type { PodModel, Topology } from '../model/types';
import { NamespaceBuilder, addLoopback, containerIdFor, netnsNameFor, type NewRoute } from './common';
import type { IfAddress, NetInterface, PodDataplane } from './types';

export interface PodSpec {
  topology: Topology;
  pod: PodModel;
  hostPeer: string;
  /** ifindex of the host-side peer (the `@ifN` inside the pod). */
  hostPeerIfindex: number;
  /** ifindex of eth0 inside the pod. */
  ifindex: number;
  mac: string;
  macSynthetic?: boolean;
  mtu: number;
  addresses: IfAddress[];
  routes: Omit<NewRoute, 'dev'>[];
  description: string;
  /** The plugin deletes the kernel's connected route for the address (ptp replaces it with a route via the gateway). */
  dropPrefixRoute?: boolean;
}

export function buildVethPod(spec: PodSpec): PodDataplane {
  const { pod } = spec;
  const b = new NamespaceBuilder(`pod/${pod.namespace}/${pod.name}`);
  addLoopback(b);
  const eth0: NetInterface = b.addInterface({
    ifindex: spec.ifindex,
    name: 'eth0',
    kind: 'veth',
    link: { kind: 'other-netns', ifindex: spec.hostPeerIfindex, netnsid: 0 },
    mac: spec.mac,
    macSynthetic: spec.macSynthetic ?? true,
    mtu: spec.mtu,
    addresses: spec.addresses,
    description: spec.description,
  });
  if (spec.dropPrefixRoute) b.withoutPrefixRoute.add(eth0.name);
  for (const r of spec.routes) b.addRoute({ ...r, dev: eth0.name });
  const ns = b.finish();
  const netns = netnsNameFor(pod);
  return {
    ...ns,
    kind: 'pod',
    namespace: pod.namespace,
    pod: pod.name,
    node: pod.nodeName,
    ifname: 'eth0',
    hostPeer: spec.hostPeer,
    netnsPath: `/var/run/netns/${netns}`,
    containerId: containerIdFor(pod),
  };
}
