// The path checks' tracer on core/trace: walks a TCP/UDP connection from a
// pod to a pod or a Service through a lab state and turns the walk's events
// into PathEvents. Kernel changes of the state (NetChange: routes deleted or
// added by hand) are not seen by the walk, which builds its data plane from
// the topology.

import { parseIP } from '../net';
import { trace, type TraceEvent } from '../trace';
import type { PathEvent, PathTrace, Tracer } from './trace-check';
import { LabError } from './types';
import { LabWorld } from './world';

function eventText(e: TraceEvent): string {
  return [e.action, e.rule ?? '', ...(e.rules ?? [])].filter(Boolean).join('\n');
}

export function pathEvent(e: TraceEvent): PathEvent {
  const where = e.at.netns ?? e.at.element;
  return { kind: e.kind, direction: e.direction, where, iface: e.at.iface, text: eventText(e), label: `step ${e.seq}: ${e.kind} in ${where}${e.at.iface ? ` on ${e.at.iface}` : ''} (${e.action})` };
}

/** Where `to` points: a pod (its IP), a Service (its ClusterIP) or an address. */
function targetIP(w: LabWorld, to: string): string {
  if (parseIP(to)) return to;
  if (to.startsWith('svc:')) return w.service(to).clusterIPs[0];
  try {
    return w.pod(to).ips[0];
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    return w.service(to).clusterIPs[0];
  }
}

export const modelTracer: Tracer = (state, q): PathTrace => {
  const w = new LabWorld(state);
  const ip = targetIP(w, q.to);
  if (!ip || ip === 'None') throw new LabError(`${q.to} has no address to connect to`, 'name a pod or a Service with a ClusterIP');
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const request = `${q.protocol === 'UDP' ? 'udp' : 'tcp'}://${host}:${q.port}`;
  const from = w.pod(q.from);
  const r = trace(state.topology, `${from.namespace}/${from.name}`, request);
  return { events: r.events.map(pathEvent), dropped: r.dropped?.text };
};
