// What the model says one real request does: a client pod resolves a name
// (glibc search list under ndots, A and AAAA), sends the queries to the
// cluster DNS Service, then opens a TCP connection to the answer. From the
// DNS, Service, CNI and conntrack models this gives the flows the client's
// node must track, the DNAT alternatives (each endpoint kube-proxy may pick),
// the interface the forwarded packets leave on and the tunnel headers — what
// the conntrack, tcpdump and DNS checks compare the node against.

import { canonicalIP, parseIP } from '../net';
import type { PodModel, Topology } from '../model/types';
import { ConntrackTable, type TcpState } from '../dataplane/conntrack';
import { serviceLookup, type ServiceOutcome } from '../kubeproxy';
import { resolveName, type Resolution } from '../dns';
import { buildDataplane, cniModelFor, routeLookup } from '../cni';

export interface ProbeSpec {
  /** The client pod, `namespace/name`. */
  client: string;
  /** What curl is given: a name (resolved through the pod's resolver) or an address. */
  host: string;
  port: number;
  /** Seconds between the request and the conntrack listing (for the timeline; default 1). */
  ageSeconds?: number;
}

export interface FlowAlternative {
  /** The reply tuple: the endpoint that answers (after DNAT), and where the reply goes (the client, or its SNAT address). */
  replySrc: string;
  replySport: number;
  replyDst: string;
  probability: number;
  endpointNode?: string;
  endpointPod?: string;
  /** How the forwarded packet leaves the client's node: device and, for a tunnel, outer headers. */
  egress: {
    dev?: string;
    gateway?: string;
    encapsulation: string;
    outer?: { src: string; dst: string; dport: number; vni?: number };
    /** The bridge whose port `dev` is, when the frame is bridged to a local pod after DNAT (cni0, weave). */
    bridge?: string;
  };
}

export interface ExpectedFlow {
  purpose: 'dns' | 'request';
  proto: 'tcp' | 'udp';
  src: string;
  dst: string;
  dport: number;
  alternatives: FlowAlternative[];
  /** The conntrack state after the exchange (TCP: handshake, request, both FINs). */
  final: { state?: TcpState; assured: boolean; unreplied: boolean };
  /** DNS: the question this flow carries. */
  query?: { qname: string; qtype: 'A' | 'AAAA' };
  description: string;
}

export interface ExpectedProbe {
  spec: ProbeSpec;
  client: PodModel;
  clientIP: string;
  /** The client's IPv6 address (dual-stack pods): the request's source when the target is IPv6. */
  clientIP6?: string;
  node: string;
  nodeIP: string;
  /** The client's host-side interface on its node (the pod's veth). */
  clientVeth?: string;
  resolution?: Resolution;
  dnsServer?: string;
  /**
   * The address the TCP connection goes to: the given address, or the answer
   * glibc's getaddrinfo sorts first (a dual-stack pod: the AAAA answer, see expectProbe).
   */
  target?: string;
  flows: ExpectedFlow[];
  notes: string[];
}

export class ProbeError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'ProbeError';
    this.hint = hint;
  }
}

function findPodRef(t: Topology, ref: string): PodModel {
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const p = t.pods.find((x) => x.namespace === ns && x.name === name);
  if (!p) throw new ProbeError(`no pod ${ns}/${name} in the topology`, 'pass the client as namespace/name');
  return p;
}

/** Runs the packets of one exchange through the model's conntrack and returns the entry's final state. */
function finalState(proto: 'tcp' | 'udp', src: string, dst: string, dport: number, to: { ip: string; port: number }, snat?: string): ExpectedFlow['final'] {
  const family = parseIP(dst)!.family;
  const ct = new ConntrackTable();
  const sport = 40000;
  const first = ct.track({ family, proto, src, dst, sport, dport, tcpFlags: proto === 'tcp' ? ['SYN'] : undefined });
  if (first.verdict !== 'ok') return { assured: false, unreplied: true };
  const e = first.entry;
  ct.setNat(e, { src: snat ?? src, sport, dst: to.ip, dport: to.port });
  const orig = { family, proto, src, dst, sport, dport };
  const reply = { family, proto, src: to.ip, dst: snat ?? src, sport: to.port, dport: sport };
  if (proto === 'tcp') {
    ct.track({ ...reply, tcpFlags: ['SYN', 'ACK'] });
    ct.track({ ...orig, tcpFlags: ['ACK'] });
    ct.track({ ...orig, tcpFlags: ['PSH', 'ACK'] });
    ct.track({ ...reply, tcpFlags: ['PSH', 'ACK'] });
    ct.track({ ...orig, tcpFlags: ['FIN', 'ACK'] });
    ct.track({ ...reply, tcpFlags: ['FIN', 'ACK'] });
    ct.track({ ...orig, tcpFlags: ['ACK'] });
  } else {
    ct.track(reply);
  }
  return { state: e.state, assured: e.assured, unreplied: !e.seenReply };
}

function alternatives(t: Topology, node: string, nodeIP: string, outcomes: ServiceOutcome[], client: string, dst: string, dport: number): FlowAlternative[] {
  const dp = buildDataplane(t);
  const nodeNs = dp.node(node);
  const model = cniModelFor(t);
  const out: FlowAlternative[] = [];
  for (const o of outcomes) {
    const to = o.verdict === 'DNAT' && o.dnat ? { ip: canonicalIP(o.dnat.to.ip), port: o.dnat.to.port ?? dport } : o.verdict === 'NONE' ? { ip: dst, port: dport } : null;
    if (!to) continue;
    const route = routeLookup(nodeNs, to.ip);
    const endpointNode = o.endpoint?.nodeName ?? t.pods.find((p) => p.ips.includes(to.ip))?.nodeName;
    let egress: FlowAlternative['egress'] = { dev: route.dev, gateway: route.gateway, encapsulation: 'none' };
    // A pod behind a bridge (Flannel's cni0, Weave's weave): br_netfilter's DNAT sees that the new
    // destination is on the bridge itself and bridges the frame straight to that pod's port
    // (br_nf_pre_routing_finish → bridged DNAT; back out of the port it came in, for a hairpin:
    // hairpinMode), so the packet leaves on the pod's host veth and never crosses the bridge device.
    const localPod = endpointNode === node ? dp.podByIP(to.ip) : undefined;
    if (localPod && route.dev && nodeNs.interfaces.find((i) => i.name === route.dev)?.kind === 'bridge') egress = { ...egress, dev: localPod.hostPeer, bridge: route.dev };
    if (endpointNode && endpointNode !== node) {
      const family = parseIP(to.ip)?.family ?? 4;
      const enc = model.encapsulationBetween(t, node, endpointNode, family);
      egress = { ...egress, encapsulation: enc };
      if (enc === 'vxlan') {
        const vx = nodeNs.interfaces.find((i) => i.kind === 'vxlan' && i.name === route.dev) ?? nodeNs.interfaces.find((i) => i.kind === 'vxlan');
        const peer = t.nodes.find((n) => n.name === endpointNode);
        // the outer header's family: vxlan-v6.calico and flannel-v6.1 use the nodes' IPv6 addresses
        const outer = model.underlayFor?.(family) ?? 4;
        const self = t.nodes.find((n) => n.name === node)?.ips.find((ip) => parseIP(ip)?.family === outer) ?? nodeIP;
        const peerIP = peer?.ips.find((ip) => parseIP(ip)?.family === outer);
        if (peerIP) egress.outer = { src: canonicalIP(self), dst: canonicalIP(peerIP), dport: vx?.vxlan?.dstport ?? 4789, vni: vx?.vxlan?.id };
      }
    }
    out.push({
      replySrc: to.ip,
      replySport: to.port,
      replyDst: o.snatTo ? canonicalIP(o.snatTo) : client,
      probability: o.probability,
      endpointNode,
      endpointPod: o.endpoint?.pod ? `${o.endpoint.pod.namespace}/${o.endpoint.pod.name}` : undefined,
      egress,
    });
  }
  return out;
}

/** The model's expectations for one request from `spec.client` to `spec.host:spec.port`. */
export function expectProbe(t: Topology, spec: ProbeSpec): ExpectedProbe {
  const client = findPodRef(t, spec.client);
  if (client.hostNetwork) throw new ProbeError(`pod ${spec.client} uses hostNetwork`, 'pick a client pod with its own network namespace');
  const clientIP = client.ips.find((ip) => parseIP(ip)?.family === 4) ?? client.ips[0];
  const v6of = (ips: readonly string[]) => ips.find((ip) => parseIP(ip)?.family === 6);
  const clientIP6 = clientIP && parseIP(clientIP)?.family === 4 ? v6of(client.ips) : undefined;
  if (!clientIP) throw new ProbeError(`pod ${spec.client} has no IP address`, 'give the pod status.podIP or let IPAM assign one');
  const node = client.nodeName;
  const nodeModel = t.nodes.find((n) => n.name === node);
  if (!nodeModel) throw new ProbeError(`pod ${spec.client} is on no known node (${node})`, 'set spec.nodeName to a node of the topology');
  const nodeIP = nodeModel.ips.find((ip) => parseIP(ip)?.family === parseIP(clientIP)?.family) ?? nodeModel.ips[0];
  const dp = buildDataplane(t);
  const clientVeth = dp.pods.get(`${client.namespace}/${client.name}`)?.hostPeer;
  const flows: ExpectedFlow[] = [];
  const notes: string[] = [];
  let resolution: Resolution | undefined;
  let target: string | undefined;
  let dnsServer: string | undefined;
  if (parseIP(spec.host)) {
    target = canonicalIP(spec.host);
  } else {
    resolution = resolveName(t, client, spec.host);
    notes.push(...resolution.notes);
    dnsServer = resolution.resolv.nameservers[0];
    if (dnsServer) {
      const lk = serviceLookup(t, node, { proto: 'udp', src: clientIP, dst: dnsServer, dport: 53, origin: 'pod' });
      const alts = alternatives(t, node, nodeIP, lk.outcomes, clientIP, dnsServer, 53);
      const to = alts[0] ? { ip: alts[0].replySrc, port: alts[0].replySport } : { ip: dnsServer, port: 53 };
      const final = finalState('udp', clientIP, dnsServer, 53, to);
      for (const q of resolution.queries) {
        flows.push({
          purpose: 'dns',
          proto: 'udp',
          src: clientIP,
          dst: dnsServer,
          dport: 53,
          alternatives: alts,
          final,
          query: { qname: q.qname, qtype: q.qtype },
          description: `DNS ${q.qtype}? ${q.qname} to ${dnsServer}:53 (${q.rcode}${q.answer.length ? `: ${q.answer.map((a) => a.data).join(', ')}` : ''})`,
        });
      }
    }
    // glibc's getaddrinfo sorts the answers (RFC 3484 default table): IPv6, ULA included (precedence 40 under
    // ::/0), ranks above IPv4 (::ffff:0:0/96, precedence 10) when the pod has an IPv6 source address, so a
    // dual-stack pod connects to the AAAA answer first (curl's happy eyeballs starts with it)
    const a4 = resolution.addresses.find((a) => parseIP(a)?.family === 4);
    const a6 = resolution.addresses.find((a) => parseIP(a)?.family === 6);
    target = clientIP6 && a6 ? a6 : (a4 ?? resolution.addresses[0]);
    if (target && target === a6 && a4) notes.push(`${spec.host} has A and AAAA answers and the client has an IPv6 address: glibc sorts the IPv6 answer first, so the request goes to ${a6}`);
    if (!target) notes.push(`the model resolves ${spec.host} to no address (${resolution.outcome}): no TCP connection follows`);
  }
  if (target) {
    const six = parseIP(target)?.family === 6;
    const src = six && clientIP6 ? clientIP6 : clientIP;
    const srcNodeIP = six ? (nodeModel.ips.find((ip) => parseIP(ip)?.family === 6) ?? nodeIP) : nodeIP;
    const lk = serviceLookup(t, node, { proto: 'tcp', src, dst: target, dport: spec.port, origin: 'pod' });
    const alts = alternatives(t, node, srcNodeIP, lk.matched ? lk.outcomes : [{ probability: 1, verdict: 'NONE', masquerade: false, steps: [] }], src, target, spec.port);
    const to = alts[0] ? { ip: alts[0].replySrc, port: alts[0].replySport } : { ip: target, port: spec.port };
    if (lk.matched && alts.length === 0) notes.push(`the Service at ${target}:${spec.port} has no endpoints in the model: the connection is ${lk.chosen.verdict === 'REJECT' ? 'rejected' : 'dropped'}`);
    flows.push({
      purpose: 'request',
      proto: 'tcp',
      src,
      dst: target,
      dport: spec.port,
      alternatives: alts,
      final: alts.length ? finalState('tcp', src, target, spec.port, to, alts[0].replyDst !== src ? alts[0].replyDst : undefined) : { state: 'SYN_SENT', assured: false, unreplied: true },
      description: `TCP ${src} → ${six ? `[${target}]` : target}:${spec.port}${lk.service ? ` (Service ${lk.service.namespace}/${lk.service.name})` : ''}`,
    });
  }
  const out: ExpectedProbe = { spec, client, clientIP, node, nodeIP: canonicalIP(nodeIP), clientVeth, resolution, dnsServer, target, flows, notes };
  if (clientIP6) out.clientIP6 = canonicalIP(clientIP6);
  return out;
}
