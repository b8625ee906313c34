// The containernetworking `ptp` plugin with host-local IPAM: a veth pair
// with no bridge, the gateway address as a /32 on the host end, and a /32
// host route to the pod. The test-bed wires Calico-style routed pods with
// it; fixtures/ptp-*.json and tools.txt hold its real output.
//
// Inside the pod ptp replaces the kernel's connected route for the subnet
// with `<subnet> via <gw> dev eth0 src <ip>` and adds `<gw> dev eth0 scope
// link src <ip>` plus the IPAM routes via the gateway.

import { Cidr } from '../net';
import type { PodModel, Topology } from '../model/types';
import { addr4 } from './common';
import { syntheticMac } from './hash';
import { buildVethPod } from './pods';
import type { NetInterface, PodDataplane, Route } from './types';

export interface PtpPodSpec {
  topology: Topology;
  pod: PodModel;
  /** Pod address with the IPAM subnet's prefix, e.g. 10.244.98.2/24. */
  address: string;
  gateway: string;
  /** IPAM routes (host-local `routes`), e.g. ['0.0.0.0/0']. */
  ipamRoutes: string[];
  mtu: number;
  hostVeth: string;
  hostIfindex: number;
}

export function ptpPod(spec: PtpPodSpec): PodDataplane {
  const [ip, len] = spec.address.split('/');
  const subnet = Cidr.parse(spec.address);
  return buildVethPod({
    topology: spec.topology,
    pod: spec.pod,
    hostPeer: spec.hostVeth,
    hostPeerIfindex: spec.hostIfindex,
    ifindex: 2,
    mac: syntheticMac(`pod/${spec.pod.namespace}/${spec.pod.name}/eth0`),
    mtu: spec.mtu,
    addresses: [addr4(ip, Number(len), 'global', true)],
    dropPrefixRoute: true,
    routes: [
      { dst: spec.gateway, scope: 'link', prefsrc: ip, origin: 'ptp plugin: the gateway (host end of the veth) is on-link' },
      { dst: subnet.text, gateway: spec.gateway, prefsrc: ip, origin: 'ptp plugin: the subnet is reached through the gateway, not on-link' },
      ...spec.ipamRoutes.map((dst) => ({ dst, gateway: spec.gateway, origin: `host-local IPAM route ${dst}` })),
    ],
    description: `pod ${spec.pod.namespace}/${spec.pod.name}'s interface (ptp)`,
  });
}

/** What ptp adds in the host namespace: the host veth with the gateway /32 and a scope-host route to the pod. */
export function ptpHostSide(spec: PtpPodSpec): { interface: NetInterface; routes: Route[] } {
  const ip = spec.address.split('/')[0];
  return {
    interface: {
      ifindex: spec.hostIfindex,
      name: spec.hostVeth,
      kind: 'veth',
      link: { kind: 'other-netns', ifindex: 2, netns: undefined, netnsid: 0 },
      linkType: 'ether',
      mac: syntheticMac(`pod/${spec.pod.namespace}/${spec.pod.name}/host`),
      brd: 'ff:ff:ff:ff:ff:ff',
      macSynthetic: true,
      mtu: spec.mtu,
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      qdisc: 'noqueue',
      operstate: 'UP',
      addresses: [addr4(spec.gateway, 32)],
      description: `host end of ${spec.pod.namespace}/${spec.pod.name}'s veth (ptp)`,
    },
    routes: [
      { type: 'unicast', family: 4, dst: `${ip}/32`, dev: spec.hostVeth, table: 'main', protocol: 'boot', scope: 'host', flags: [], origin: `ptp plugin: host route to pod ${spec.pod.namespace}/${spec.pod.name}` },
    ],
  };
}
