// core/trace: the packet walk. From a source pod and a request, an ordered
// list of events — DNS queries, the socket, route lookups, veth crossings,
// every netfilter hook with its rules, Service load balancing, NAT,
// conntrack, NetworkPolicy enforcement, encapsulation, the wire — for the
// request and the reply, each with the packet's headers, what changed, the
// place (UI element ids), the rule or route that acted, a verdict, a latency
// estimate and a command that shows the hop on a real node.
//
//   const r = trace(topology, 'default/pod-a', 'curl http://backend.default.svc.cluster.local');
//   r.events  // TraceEvent[]
//   r.latency.table  // the seed-style breakdown
//
// Build a TraceContext once per topology (traceContext(topology) caches it)
// to make walks cheap; pass a TraceState to keep conntrack tables and DNS
// caches between walks.
//
// Reading a walk (for the packet stepper and lab graders):
// - events are in causal order; `phase` groups them (dns, request, reply,
//   exchange) and `packet` names the packet they belong to ("DNS query 3 A
//   backend.default.svc.cluster.local.svc.cluster.local.", "TCP SYN",
//   "TCP SYN-ACK"…). Parallel DNS queries (A and AAAA) appear one after the
//   other; their `timeUs` values overlap as on a real node.
// - `at.element` is the UI graph id to highlight (node/<n>, pod/<ns>/<p>,
//   svc/<ns>/<s>); `at.node`/`at.netns`/`at.iface` say exactly where.
// - `headers` is the packet after the step; `changed` lists the fields the
//   step rewrote (ip.dst and tcp.dport on DNAT, outer on encapsulation…).
//   Header and location objects are shared between events: treat them as
//   immutable.
// - `rule` / `rules` carry what acted, in the real tool's spelling
//   (iptables-save rules, `ip route` lines, ipvsadm / cilium service lines,
//   OVS table names); `conntrack` a `conntrack -L` line; `hubble` a
//   `hubble observe` line (Cilium); `command` what to run on a real node.
// - graders: "which chains" → netfilter events' rules; "which endpoint" →
//   result.services[].chosen (with every outcome's probability); "where and
//   why dropped" → result.dropped (reason + text) and the final drop event;
//   "what the client sees" → the reply's deliver event headers;
//   "what is in conntrack" → result.conntrack[node].
// - timing follows the documented cost model in latency.ts (estimates, not
//   measurements); result.latency is the seed-style breakdown.

import type { Topology } from '../model/types';
import { traceContext } from './context';
import { walk, type TraceOptions, type TraceOutput } from './walk';
import type { TraceRequest } from './types';

export * from './types';
export { TraceContext, traceContext, nodeClassKey, type NodeNetfilter } from './context';
export { TraceState } from './state';
export { parseRequest, TraceInputError } from './request';
export { DEFAULT_LATENCY, LATENCY_NOTE, CATEGORY_LABELS, formatUs, type LatencyModel } from './latency';
export { compileRuleset, runHookCompiled, type CompiledRuleset } from './netfilter';
export { walk, routeText, stampMilli, type TraceOptions, type TraceOutput, type Capture, type WalkPacket } from './walk';
export { dnsQueryLength, dnsResponseLength, wireNameLength, initialWindow } from './packet';
export { topologyHasMesh, meshStepEvent, meshVerdictEnd } from './mesh';

/** Walks `request` from `from` (`ns/pod` or `node:NAME`) through `topology`. */
export function trace(topology: Topology, from: string, request: string | TraceRequest, opts: TraceOptions = {}): TraceOutput {
  return walk(traceContext(topology), from, request, opts);
}
export { renderTcpdump, renderHubble, captureInterfaces, captureLines, packetLine, type TcpdumpOptions } from './tcpdump';
