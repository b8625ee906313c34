// Probes: expected values computed from the model for predict checks (and
// for live checks that compare a real node with the model). Each probe reads
// a LabWorld and returns the text a real tool would print, or a value.

import { encapsulate, routeLookup } from '../cni';
import { ConntrackTable, renderConntrackEntry } from '../dataplane';
import { CoreDns, podResolvConf, resolveName } from '../dns';
import { kubeProxyIptables, kubeProxyIpvs, serviceLookup, type ServiceOutcome } from '../kubeproxy';
import { canonicalIP, parseIP } from '../net';
import { formatRouteLine, renderIpRoute, renderIpRouteGet } from '../render/iproute';
import { renderIpvsadm } from '../dataplane';
import { trace } from '../trace';
import { evaluate, parseProperty } from './property';
import { LabError } from './types';
import { LabWorld, parsePort } from './world';

export type ProbeValue = string | number | (string | number)[];

export interface ProbeInfo {
  args: string;
  summary: string;
  run: (w: LabWorld, a: Record<string, unknown>) => ProbeValue;
}

function str(a: Record<string, unknown>, k: string, probe: string): string {
  const v = a[k];
  if (typeof v !== 'string' && typeof v !== 'number') throw new LabError(`probe ${probe} needs ${k}`, `give args: {${k}: …}`);
  return String(v);
}

function opt(a: Record<string, unknown>, k: string): string | undefined {
  const v = a[k];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** The Service path a packet from `from` (a pod) to `dst:port` takes on the pod's node, optionally forced to one endpoint. */
function serviceOutcome(w: LabWorld, a: Record<string, unknown>, probe: string): { outcome: ServiceOutcome; node: string; src: string; sport: number; dst: string; dport: number; proto: string } {
  const pod = w.pod(str(a, 'from', probe));
  const to = str(a, 'to', probe);
  const [dstText, portText] = to.includes(':') && !to.startsWith('[') ? [to.slice(0, to.lastIndexOf(':')), to.slice(to.lastIndexOf(':') + 1)] : [to, opt(a, 'port') ?? '80'];
  let dst = dstText;
  if (!parseIP(dst)) dst = w.service(dst).clusterIPs[0];
  const pp = parsePort(portText.includes('/') ? portText : `${portText}/${opt(a, 'protocol') ?? 'TCP'}`);
  const sport = Number(opt(a, 'sport') ?? 52345);
  const node = opt(a, 'node') ?? pod.nodeName;
  const r = serviceLookup(w.topology, node, { proto: pp.protocol.toLowerCase(), src: pod.ips[0], sport, dst, dport: pp.port, origin: 'pod' });
  const ep = opt(a, 'endpoint');
  let outcome = r.chosen;
  if (ep) {
    const epIP = parseIP(ep) ? canonicalIP(ep) : w.pod(ep).ips[0];
    const hit = r.outcomes.find((o) => o.dnat?.to.ip === epIP);
    if (!hit) throw new LabError(`probe ${probe}: ${dst}:${pp.port} never goes to ${ep}`, `endpoints: ${r.outcomes.map((o) => o.dnat?.to.ip).filter(Boolean).join(', ')}`);
    outcome = hit;
  }
  return { outcome, node, src: pod.ips[0], sport, dst, dport: pp.port, proto: pp.protocol.toLowerCase() };
}

export const PROBES: Record<string, ProbeInfo> = {
  'route-get': {
    args: '{ns: node:NAME | pod:NS/NAME, dst: ADDRESS}',
    summary: 'the `ip route` line of the route the kernel picks for dst',
    run: (w, a) => {
      const ns = w.namespace(str(a, 'ns', 'route-get'));
      const r = routeLookup(ns, str(a, 'dst', 'route-get'));
      if (!r.route) return 'none';
      return formatRouteLine(r.route).trim();
    },
  },
  'route-get-output': {
    args: '{ns, dst}',
    summary: 'what `ip route get DST` prints',
    run: (w, a) => renderIpRouteGet(w.namespace(str(a, 'ns', 'route-get-output')), str(a, 'dst', 'route-get-output')).text,
  },
  routes: {
    args: '{ns}',
    summary: '`ip route show` of a namespace',
    run: (w, a) => renderIpRoute(w.namespace(str(a, 'ns', 'routes'))),
  },
  conntrack: {
    args: '{from: POD, to: SERVICE|IP:PORT, endpoint?: POD|IP, sport?: N, protocol?: TCP|UDP}',
    summary: 'the conntrack -L line on the client\'s node after the first exchange of the flow',
    run: (w, a) => {
      const s = serviceOutcome(w, a, 'conntrack');
      const family = parseIP(s.dst)!.family;
      const ct = new ConntrackTable({ max: w.topology.settings.conntrack.max });
      const first = ct.track({ family, proto: s.proto, src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, tcpFlags: s.proto === 'tcp' ? ['SYN'] : undefined });
      if (first.verdict !== 'ok') throw new LabError('conntrack table full');
      const to = s.outcome.dnat?.to;
      const tr = { src: s.outcome.snatTo ?? s.src, sport: s.sport, dst: to?.ip ?? s.dst, dport: to?.port ?? s.dport };
      ct.setNat(first.entry, tr);
      const rep = { family, proto: s.proto, src: tr.dst, dst: tr.src, sport: tr.dport, dport: tr.sport };
      if (s.proto === 'tcp') {
        ct.track({ ...rep, tcpFlags: ['SYN', 'ACK'] });
        ct.track({ family, proto: s.proto, src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, tcpFlags: ['ACK'] });
      } else ct.track(rep);
      ct.tick(1);
      return renderConntrackEntry(first.entry, ct.now);
    },
  },
  'service-chains': {
    args: '{from: POD, to: SERVICE|IP:PORT, endpoint?: POD|IP, table?: nat}',
    summary: 'the chains of one table (default nat) a new connection to a Service traverses on the client\'s node, in order',
    run: (w, a) => {
      const s = serviceOutcome(w, a, 'service-chains');
      const table = opt(a, 'table') ?? 'nat';
      const hook = opt(a, 'hook') ?? 'PREROUTING';
      const out: string[] = [];
      for (const st of s.outcome.steps) {
        if (st.kind !== 'iptables' || st.table !== table || st.hook !== hook || !st.chain) continue;
        if (st.text.startsWith('policy ')) continue;
        if (out[out.length - 1] !== st.chain) out.push(st.chain);
      }
      return out.join(' -> ');
    },
  },
  'http-status': {
    args: '{from: NS/POD, request: "curl [-X M] [-H \'Name: v\'] URL"}',
    summary: 'the HTTP status the client gets for a request walked through the model: Istio sidecars answer 403 / 503 themselves; 0 when the connection is dropped or reset',
    run: (w, a) => {
      const pod = w.pod(str(a, 'from', 'http-status'));
      const r = trace(w.topology, `${pod.namespace}/${pod.name}`, str(a, 'request', 'http-status'));
      if (r.request.kind !== 'http') throw new LabError('probe http-status needs an http:// request', 'e.g. curl http://api-service/api/v1/users');
      return r.httpStatus ?? (r.ok ? 200 : 0);
    },
  },
  'dnat-target': {
    args: '{from, to, endpoint?}',
    summary: 'the address:port the Service DNAT rewrites the destination to',
    run: (w, a) => {
      const s = serviceOutcome(w, a, 'dnat-target');
      const to = s.outcome.dnat?.to;
      if (!to) return 'none';
      return `${to.ip}:${to.port}`;
    },
  },
  'endpoint-probability': {
    args: '{from, to, endpoint}',
    summary: 'the probability that a new connection lands on the endpoint',
    run: (w, a) => serviceOutcome(w, a, 'endpoint-probability').outcome.probability,
  },
  'rules-evaluated': {
    args: '{from, to, endpoint?}',
    summary: 'how many iptables rules the new connection is matched against on the client\'s node',
    run: (w, a) => serviceOutcome(w, a, 'rules-evaluated').outcome.rulesEvaluated ?? 0,
  },
  'svc-probabilities': {
    args: '{service: NS/NAME, port?: NAME|NUMBER, node?}',
    summary: 'the --probability values in the KUBE-SVC chain, in rule order',
    run: (w, a) => {
      const svc = w.service(str(a, 'service', 'svc-probabilities'));
      const node = opt(a, 'node') ?? w.topology.nodes[0].name;
      const restore = kubeProxyIptables(w.topology, node, 4).restore;
      const portName = opt(a, 'port');
      const spn = `${svc.namespace}/${svc.name}${portName ? `:${portName}` : svc.ports[0]?.name ? `:${svc.ports[0].name}` : ''}`;
      const out: string[] = [];
      for (const l of restore.split('\n')) {
        if (!l.startsWith('-A KUBE-SVC-') || !l.includes(`"${spn} -> `)) continue;
        const m = /--probability (\S+)/.exec(l);
        if (m) out.push(m[1]);
      }
      return out;
    },
  },
  'iptables-rule': {
    args: '{node, contains: [TEXT…]}',
    summary: 'the first line of the node\'s kube-proxy rules (iptables-restore form) containing every text',
    run: (w, a) => {
      const node = str(a, 'node', 'iptables-rule');
      const want = (Array.isArray(a.contains) ? a.contains : [a.contains]).map(String);
      const restore = w.topology.settings.kubeProxy.mode === 'ipvs' ? kubeProxyIpvs(w.topology, node, 4).restore : kubeProxyIptables(w.topology, node, 4).restore;
      const line = restore.split('\n').find((l) => l.startsWith('-A ') && want.every((x) => l.includes(x)));
      if (!line) throw new LabError(`probe iptables-rule: no rule on ${node} contains ${want.join(' + ')}`);
      return line;
    },
  },
  ipvsadm: {
    args: '{node}',
    summary: '`ipvsadm -Ln` of a node',
    run: (w, a) => renderIpvsadm(kubeProxyIpvs(w.topology, str(a, 'node', 'ipvsadm'), 4).services),
  },
  'ipvsadm-service': {
    args: '{node, service: NS/NAME, port?: NUMBER}',
    summary: 'the `ipvsadm -Ln` lines of one Service port (virtual server and real servers)',
    run: (w, a) => {
      const svc = w.service(str(a, 'service', 'ipvsadm-service'));
      const port = Number(opt(a, 'port') ?? svc.ports[0]?.port);
      const text = renderIpvsadm(kubeProxyIpvs(w.topology, str(a, 'node', 'ipvsadm-service'), 4).services);
      const lines = text.split('\n');
      const head = lines.findIndex((l) => /^(TCP|UDP|SCTP)\s/.test(l) && l.includes(` ${svc.clusterIPs[0]}:${port} `));
      if (head < 0) throw new LabError(`probe ipvsadm-service: ${svc.namespace}/${svc.name} port ${port} is not in ipvsadm output (is kube-proxy in IPVS mode?)`);
      const out = [lines[head]];
      for (let i = head + 1; i < lines.length && lines[i].startsWith('  -> '); i++) out.push(lines[i]);
      return out.join('\n');
    },
  },
  'dns-queries': {
    args: '{pod, name, family?: unspec|inet}',
    summary: 'the queries glibc sends for name, one per line (`A? name.`)',
    run: (w, a) => {
      const r = resolveName(w.topology, w.pod(str(a, 'pod', 'dns-queries')), str(a, 'name', 'dns-queries'), { family: (opt(a, 'family') as 'unspec' | 'inet' | undefined) ?? 'unspec' });
      return r.queries.map((q) => `${q.qtype}? ${q.qname}`).join('\n');
    },
  },
  'dns-query-count': {
    args: '{pod, name}',
    summary: 'how many DNS queries glibc sends for name',
    run: (w, a) => resolveName(w.topology, w.pod(str(a, 'pod', 'dns-query-count')), str(a, 'name', 'dns-query-count')).queries.length,
  },
  'dns-ttl': {
    args: '{name, type?: A}',
    summary: 'the TTL CoreDNS puts on the answer',
    run: (w, a) => {
      const ans = new CoreDns(w.topology).answer(str(a, 'name', 'dns-ttl').replace(/\.?$/, '.'), (opt(a, 'type') ?? 'A') as 'A');
      if (!ans.answer.length) throw new LabError(`probe dns-ttl: ${String(a.name)} has no answer`);
      return ans.answer[0].ttl;
    },
  },
  'dns-address': {
    args: '{pod, name}',
    summary: 'the address the name resolves to from the pod',
    run: (w, a) => resolveName(w.topology, w.pod(str(a, 'pod', 'dns-address')), str(a, 'name', 'dns-address')).addresses[0] ?? 'none',
  },
  'resolv-conf': {
    args: '{pod}',
    summary: 'the pod\'s /etc/resolv.conf',
    run: (w, a) => podResolvConf(w.topology, w.pod(str(a, 'pod', 'resolv-conf'))).text,
  },
  nameserver: {
    args: '{pod}',
    summary: 'the first nameserver of the pod\'s resolv.conf',
    run: (w, a) => podResolvConf(w.topology, w.pod(str(a, 'pod', 'nameserver'))).nameservers[0] ?? 'none',
  },
  'cni-result': {
    args: '{pod, path: e.g. ips[0].address}',
    summary: 'a field of the CNI ADD result of the pod',
    run: (w, a) => {
      const pod = w.pod(str(a, 'pod', 'cni-result'));
      let v: unknown = w.dataplane().model.cniAddResult(w.topology, pod);
      const path = str(a, 'path', 'cni-result');
      for (const seg of path.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '')) {
        if (v === null || typeof v !== 'object') {
          v = undefined;
          break;
        }
        v = (v as Record<string, unknown>)[seg];
      }
      if (v === undefined) return '(absent)';
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    },
  },
  veth: {
    args: '{pod}',
    summary: 'the host-side interface of the pod\'s veth pair',
    run: (w, a) => {
      const p = w.pod(str(a, 'pod', 'veth'));
      return w.dataplane().pod(p.namespace, p.name).hostPeer;
    },
  },
  'pod-routes': {
    args: '{pod}',
    summary: '`ip route` inside the pod',
    run: (w, a) => renderIpRoute(w.namespace(`pod:${str(a, 'pod', 'pod-routes')}`)),
  },
  'pod-mtu': {
    args: '{pod}',
    summary: 'the MTU of the pod\'s eth0',
    run: (w, a) => w.namespace(`pod:${str(a, 'pod', 'pod-mtu')}`).interfaces.find((i) => i.name === 'eth0')?.mtu ?? 0,
  },
  'max-ping-payload': {
    args: '{pod}',
    summary: 'the largest `ping -M do -s N` payload that leaves the pod (eth0 MTU − 20 IP − 8 ICMP)',
    run: (w, a) => (w.namespace(`pod:${str(a, 'pod', 'max-ping-payload')}`).interfaces.find((i) => i.name === 'eth0')?.mtu ?? 1500) - 28,
  },
  encap: {
    args: '{from: POD, to: POD, field: kind|device|overhead|outer.ip.src|outer.ip.dst|outer.udp.dport|outer.vxlan.vni|outer.ip.length, size?: N}',
    summary: 'a property of the encapsulation between two pods\' nodes',
    run: (w, a) => {
      const src = w.pod(str(a, 'from', 'encap'));
      const dst = w.pod(str(a, 'to', 'encap'));
      const size = Number(opt(a, 'size') ?? 1450);
      const e = encapsulate(w.dataplane().model, w.topology, src.nodeName, dst.nodeName, { srcIP: src.ips[0], dstIP: dst.ips[0], protocol: 'TCP', srcPort: 52345, dstPort: 8080, length: size });
      const field = str(a, 'field', 'encap');
      const map: Record<string, () => string | number | undefined> = {
        kind: () => e.kind,
        device: () => e.device ?? 'none',
        overhead: () => e.overhead,
        podMtu: () => e.podMtu,
        maxInner: () => e.maxInner,
        'outer.ip.src': () => e.outer?.ip.src,
        'outer.ip.dst': () => e.outer?.ip.dst,
        'outer.ip.length': () => e.outer?.ip.length,
        'outer.udp.dport': () => e.outer?.udp?.dstPort,
        'outer.vxlan.vni': () => e.outer?.vxlan?.vni,
      };
      const f = map[field];
      if (!f) throw new LabError(`probe encap: unknown field ${field}`, `fields: ${Object.keys(map).join(', ')}`);
      return f() ?? 'none';
    },
  },
  'pod-ip': {
    args: '{pod}',
    summary: 'the pod\'s (first) IP address',
    run: (w, a) => w.pod(str(a, 'pod', 'pod-ip')).ips[0] ?? 'none',
  },
  'node-pod-cidr': {
    args: '{node}',
    summary: 'the node\'s spec.podCIDR',
    run: (w, a) => w.topology.nodes.find((n) => n.name === str(a, 'node', 'node-pod-cidr'))?.podCIDRs[0] ?? 'none',
  },
  'node-blocks': {
    args: '{node}',
    summary: 'the Calico IPAM blocks affine to the node',
    run: (w, a) => w.topology.nodes.find((n) => n.name === str(a, 'node', 'node-blocks'))?.blocks ?? [],
  },
  'service-ip': {
    args: '{service}',
    summary: 'the Service\'s ClusterIP',
    run: (w, a) => w.service(str(a, 'service', 'service-ip')).clusterIPs[0] ?? 'none',
  },
  endpoints: {
    args: '{service}',
    summary: 'the ready endpoints of a Service as IP:PORT',
    run: (w, a) => {
      const s = w.service(str(a, 'service', 'endpoints'));
      const out: string[] = [];
      for (const sl of w.topology.endpointSlices) {
        if (sl.namespace !== s.namespace || sl.serviceName !== s.name) continue;
        for (const e of sl.endpoints) if (e.conditions.ready !== false) for (const ip of e.addresses) for (const p of sl.ports.slice(0, 1)) out.push(`${ip}:${p.port}`);
      }
      return out;
    },
  },
  'fault-type': {
    args: '{index?: N}',
    summary: 'the type of the fault injected into the starting state (use with on: start)',
    run: (w, a) => {
      const f = w.state.faults?.[Number(opt(a, 'index') ?? 0)];
      if (!f) throw new LabError('probe fault-type: this state has no injected fault', 'use on: start in a lab with faults');
      return f.spec.type;
    },
  },
  value: {
    args: '{expr: a property-language value such as podMtu() or setting(ndots)}',
    summary: 'the value of an expression',
    run: (w, a) => {
      const r = evaluate({ world: w }, parseProperty(str(a, 'expr', 'value')));
      if (typeof r.value === 'boolean') return String(r.value);
      return r.value as ProbeValue;
    },
  },
};

/**
 * Runs a probe. `args.set` (a list of `key=value` settings) evaluates it on
 * the state with those overrides, e.g. the same cluster with kube-proxy in IPVS mode.
 */
export function runProbe(w: LabWorld, name: string, args: Record<string, unknown> = {}): ProbeValue {
  const p = PROBES[name];
  if (!p) throw new LabError(`unknown probe "${name}"`, `probes: ${Object.keys(PROBES).join(', ')}`);
  const set = Array.isArray(args.set) ? args.set.map(String) : typeof args.set === 'string' ? [args.set] : [];
  return p.run(set.length ? w.withSettings(set) : w, args);
}
