// Path checks: the packet must take a given sequence of hops, chains and
// devices. Events come from core/trace (the packet walk) through the Tracer
// interface, so grading stays testable and the walk can be swapped.
//
// A hop pattern is `KIND[@WHERE][:IFACE][ ~ TEXT]`, each part a glob:
//   veth@pod/default/pod-a:eth0     encap@node/node-1:vxlan.calico
//   netfilter@node/node-1 ~ *KUBE-SEP-*     dnat@node/node-1     deliver@pod/default/backend-*
// WHERE matches the event's network namespace (or its graph element), IFACE
// its interface, TEXT its action, rule or rules. Patterns must match events
// in order (other events may come between); `forbid` patterns must match none.

import type { LabState } from './types';

/** The part of a trace event a path check reads. */
export interface PathEvent {
  kind: string;
  direction: 'request' | 'response';
  /** `node/<name>` or `pod/<ns>/<name>` (or the graph element). */
  where: string;
  iface?: string;
  /** The action, the rule and every rule line, joined. */
  text: string;
  /** A one-line rendering for feedback. */
  label: string;
}

export interface PathQuery {
  from: string;
  to: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface PathTrace {
  events: PathEvent[];
  /** The walk ended early: why. */
  dropped?: string;
}

/** Walks a packet through a lab state. */
export type Tracer = (state: LabState, q: PathQuery) => PathTrace;

function glob(g: string): RegExp {
  return new RegExp(`^${g.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

export interface HopPattern {
  text: string;
  kind: RegExp;
  where?: RegExp;
  iface?: RegExp;
  body?: RegExp;
}

export function parseHop(p: string): HopPattern {
  let rest = p.trim();
  let body: RegExp | undefined;
  const tilde = rest.indexOf('~');
  if (tilde >= 0) {
    body = glob(`*${rest.slice(tilde + 1).trim()}*`);
    rest = rest.slice(0, tilde).trim();
  }
  let iface: RegExp | undefined;
  let where: RegExp | undefined;
  const at = rest.indexOf('@');
  let kind = rest;
  if (at >= 0) {
    kind = rest.slice(0, at);
    let w = rest.slice(at + 1);
    const colon = w.lastIndexOf(':');
    if (colon >= 0) {
      iface = glob(w.slice(colon + 1));
      w = w.slice(0, colon);
    }
    where = glob(w);
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0) {
      kind = rest.slice(0, colon);
      iface = glob(rest.slice(colon + 1));
    }
  }
  return { text: p, kind: glob(kind || '*'), where, iface, body };
}

export function hopMatches(h: HopPattern, e: PathEvent): boolean {
  if (!h.kind.test(e.kind)) return false;
  if (h.where && !h.where.test(e.where)) return false;
  if (h.iface && !h.iface.test(e.iface ?? '')) return false;
  if (h.body && !h.body.test(e.text)) return false;
  return true;
}

export interface PathMatch {
  /** Patterns matched in order. */
  matched: number;
  /** The first expected pattern not found after the previous ones. */
  missing?: string;
  /** A forbidden pattern that matched, and the event. */
  forbidden?: { pattern: string; event: string };
}

export function matchPath(events: PathEvent[], expect: string[], forbid: string[] = []): PathMatch {
  const hops = expect.map(parseHop);
  let i = 0;
  let matched = 0;
  for (const h of hops) {
    while (i < events.length && !hopMatches(h, events[i])) i++;
    if (i >= events.length) return { matched, missing: h.text };
    matched++;
    i++;
  }
  for (const f of forbid.map(parseHop)) {
    const e = events.find((x) => hopMatches(f, x));
    if (e) return { matched, forbidden: { pattern: f.text, event: e.label } };
  }
  return { matched };
}
