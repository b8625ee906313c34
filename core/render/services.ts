// Service and DNS renderers: iptables-save / ip6tables-save of a node,
// kube-proxy's iptables-restore input, ipvsadm -Ln, conntrack -L for given
// flows, the pod's resolv.conf, the glibc query sequence, cilium service list.

import { canonicalIP, parseIP } from '../net';
import type { Topology } from '../model/types';
import { ConntrackTable, renderConntrackList, renderIptablesSave, renderIpvsadm, type Ruleset } from '../dataplane';
import { ciliumServiceMap, kubeProxyIptables, kubeProxyIpvs, nodeIptablesRuleset, renderCiliumServiceList, serviceLookup } from '../kubeproxy';
import { podResolvConf, resolveName, type DnsPolicy } from '../dns';
import { RenderError, registerRenderer, type RenderOptions } from './registry';
import { modelRuleset } from '../compare/model-rules';

const str = (o: RenderOptions, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

function nodeOf(t: Topology, o: RenderOptions): string {
  const n = str(o, 'node') ?? t.nodes[0]?.name;
  if (!n) throw new RenderError('the topology has no nodes', 'add a node to the topology');
  if (!t.nodes.some((x) => x.name === n)) throw new RenderError(`no node named "${n}"`, `use one of: ${t.nodes.map((x) => x.name).join(', ')}`);
  return n;
}

function familyOf(o: RenderOptions, dflt: 4 | 6 = 4): 4 | 6 {
  const f = str(o, 'family') ?? (o['6'] ? '6' : o['4'] ? '4' : undefined);
  if (f === undefined) return dflt;
  if (f === '4' || f === 'inet') return 4;
  if (f === '6' || f === 'inet6') return 6;
  throw new RenderError(`--family ${f} is not an address family`, 'use 4 or 6');
}

function dateOf(o: RenderOptions): Date {
  const d = str(o, 'date');
  if (!d) return new Date(0);
  const v = new Date(d);
  if (Number.isNaN(v.getTime())) throw new RenderError(`--date ${d} is not a date`, 'use an ISO date such as 2024-11-04T10:30:01Z');
  return v;
}

function variantOf(o: RenderOptions): 'nft' | 'legacy' | undefined {
  const v = str(o, 'variant');
  if (v === undefined || v === 'nft' || v === 'legacy') return v;
  throw new RenderError(`--variant ${v} is not an iptables variant`, 'use nft (iptables-nft, nf_tables backend) or legacy');
}

function nodeRuleset(t: Topology, node: string, family: 4 | 6, o: RenderOptions): Ruleset {
  const mode = t.settings.kubeProxy?.mode ?? 'iptables';
  if (mode === 'ebpf') {
    throw new RenderError('kube-proxy mode is ebpf (Cilium kube-proxy replacement): Services are not in iptables', 'use the cilium-service-list renderer, or --set kubeProxy.mode=iptables');
  }
  // --kube-proxy-only: what kube-proxy's own restore leaves (no CNI rules).
  if (o['kube-proxy-only'] === true) return mode === 'ipvs' ? kubeProxyIpvs(t, node, family).ruleset : nodeIptablesRuleset(t, node, family).ruleset;
  // kube-proxy's rules, plus felix's on a Calico node (inserted at the top of the
  // built-in chains, its "Policy explicitly accepted" ACCEPT/MARK appended) — the
  // same merge compare and the test-bed use.
  return modelRuleset(t, node, family);
}

function findPod(t: Topology, ref: string | undefined) {
  if (!ref) {
    const p = t.pods.find((x) => !x.hostNetwork) ?? t.pods[0];
    if (!p) throw new RenderError('the topology has no pods', 'add a pod, or pass --pod NAMESPACE/NAME');
    return p;
  }
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const p = t.pods.find((x) => x.namespace === ns && x.name === name);
  if (!p) throw new RenderError(`no pod ${ns}/${name}`, 'pass --pod NAMESPACE/NAME of a pod in the topology');
  return p;
}

/** `SRC:PORT-DST:PORT/proto` (IPv6 in brackets: `[fd00::1]:40000-[fd00:96::1]:80/tcp`). */
function parseFlow(s: string): { src: string; sport: number; dst: string; dport: number; proto: string } {
  const m = /^(\[[^\]]+\]|[^:-]+):(\d+)-(\[[^\]]+\]|[^:-]+):(\d+)\/(tcp|udp|sctp)$/i.exec(s.trim());
  if (!m) throw new RenderError(`--flow ${s} is not SRC:PORT-DST:PORT/PROTO`, 'example: --flow 10.244.1.5:52345-10.96.5.20:80/tcp');
  const ip = (x: string): string => x.replace(/^\[|\]$/g, '');
  if (!parseIP(ip(m[1])) || !parseIP(ip(m[3]))) throw new RenderError(`--flow ${s} has an address that is not an IP`, 'use IP addresses, not names');
  return { src: canonicalIP(ip(m[1])), sport: Number(m[2]), dst: canonicalIP(ip(m[3])), dport: Number(m[4]), proto: m[5].toLowerCase() };
}

/**
 * conntrack -L of a node after the given flows completed their first exchange
 * (TCP handshake or one UDP query/reply), `--age` seconds ago (default 1).
 */
export function conntrackForFlows(t: Topology, node: string, flows: string[], age = 1): ConntrackTable {
  const ct = new ConntrackTable({ max: t.settings.conntrack?.max });
  const n = t.nodes.find((x) => x.name === node)!;
  for (const f of flows.map(parseFlow)) {
    const local = t.pods.find((p) => p.nodeName === node && !p.hostNetwork && p.ips.map(canonicalIP).includes(f.src));
    const origin = n.ips.map(canonicalIP).includes(f.src) ? 'host' : local ? 'pod' : 'external';
    const family = parseIP(f.dst)!.family;
    const r = serviceLookup(t, node, { proto: f.proto, src: f.src, sport: f.sport, dst: f.dst, dport: f.dport, origin });
    if (r.chosen.verdict === 'REJECT' || r.chosen.verdict === 'DROP') continue;
    const first = ct.track({ family, proto: f.proto, src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, tcpFlags: f.proto === 'tcp' ? ['SYN'] : undefined });
    if (first.verdict !== 'ok') continue;
    const to = r.chosen.dnat?.to;
    const translated = { src: r.chosen.snatTo ?? f.src, sport: f.sport, dst: to?.ip ?? f.dst, dport: to?.port ?? f.dport };
    ct.setNat(first.entry, translated);
    if (r.mode === 'ebpf' && origin !== 'external') {
      // socket-LB: the kernel's conntrack only ever sees the backend address
      ct.delete(first.entry);
      const e = ct.track({ family, proto: f.proto, src: f.src, dst: translated.dst, sport: f.sport, dport: translated.dport, tcpFlags: f.proto === 'tcp' ? ['SYN'] : undefined });
      if (e.verdict !== 'ok') continue;
    }
    const rep = { family, proto: f.proto, src: translated.dst, dst: translated.src, sport: translated.dport, dport: translated.sport };
    if (f.proto === 'tcp') {
      ct.track({ ...rep, tcpFlags: ['SYN', 'ACK'] });
      ct.track({ family, proto: f.proto, src: f.src, dst: r.mode === 'ebpf' && origin !== 'external' ? translated.dst : f.dst, sport: f.sport, dport: r.mode === 'ebpf' && origin !== 'external' ? translated.dport : f.dport, tcpFlags: ['ACK'] });
    } else {
      ct.track(rep);
    }
  }
  ct.tick(age);
  return ct;
}

export function registerServiceRenderers(): void {
  registerRenderer(
    'iptables-save',
    (t, o) => {
      const family = familyOf(o);
      return renderIptablesSave(nodeRuleset(t, nodeOf(t, o), family, o), { date: dateOf(o), counters: o.counters === true || o.c === true, program: str(o, 'program'), variant: variantOf(o) });
    },
    {
      summary: 'iptables-save of a node: kube-proxy (iptables or IPVS mode) and kubelet chains, with felix\'s filter chains on Calico (iptables 1.8.9, nf_tables table order)',
      options: '--node NODE [--family 4|6] [--date ISO] [--counters] [--program iptables-nft-save] [--variant nft|legacy] [--kube-proxy-only]',
    },
  );
  registerRenderer('ip6tables-save', (t, o) => renderIptablesSave(nodeRuleset(t, nodeOf(t, o), 6, o), { date: dateOf(o), counters: o.counters === true, program: str(o, 'program'), variant: variantOf(o) }), {
    summary: 'ip6tables-save of a node (the IPv6 rule set of a dual-stack cluster)',
    options: '--node NODE [--date ISO] [--counters] [--program ip6tables-nft-save] [--variant nft|legacy] [--kube-proxy-only]',
  });
  registerRenderer(
    'iptables-restore',
    (t, o) => {
      const node = nodeOf(t, o);
      const family = familyOf(o);
      const mode = t.settings.kubeProxy?.mode ?? 'iptables';
      if (mode === 'ebpf') throw new RenderError('kube-proxy mode is ebpf: kube-proxy writes no rules', 'use --set kubeProxy.mode=iptables or ipvs');
      return mode === 'ipvs' ? kubeProxyIpvs(t, node, family).restore : kubeProxyIptables(t, node, family).restore;
    },
    { summary: "kube-proxy's iptables-restore input (what it writes, before iptables-save respells it)", options: '--node NODE [--family 4|6]' },
  );
  registerRenderer(
    'ipvsadm',
    (t, o) => {
      const node = nodeOf(t, o);
      const ipvs = (t.settings.kubeProxy?.mode ?? 'iptables') === 'ipvs';
      const svcs = ipvs ? [...kubeProxyIpvs(t, node, 4).services, ...(t.settings.clusterCIDRs.length > 1 ? kubeProxyIpvs(t, node, 6).services : [])] : [];
      return renderIpvsadm(svcs);
    },
    { summary: 'ipvsadm -Ln of a node (empty table unless kube-proxy runs in IPVS mode)', options: '--node NODE' },
  );
  registerRenderer(
    'conntrack',
    (t, o) => {
      const flows = ([] as string[]).concat((o.flow as unknown as string | string[] | undefined) ?? []).filter((x): x is string => typeof x === 'string');
      const age = str(o, 'age') !== undefined ? Number(str(o, 'age')) : 1;
      if (!Number.isFinite(age) || age < 0) throw new RenderError(`--age ${str(o, 'age')} is not a number of seconds`, 'example: --age 5');
      return renderConntrackList(conntrackForFlows(t, nodeOf(t, o), flows, age));
    },
    { summary: 'conntrack -L of a node after the given flows (DNAT/SNAT from the Service data plane)', options: '--node NODE --flow SRC:PORT-DST:PORT/PROTO [--flow …] [--age SECONDS]' },
  );
  registerRenderer('resolv.conf', (t, o) => podResolvConf(t, findPod(t, str(o, 'pod')), { dnsPolicy: str(o, 'dns-policy') as DnsPolicy | undefined }).text, {
    summary: "a pod's /etc/resolv.conf (ClusterFirst, NodeLocal DNSCache, hostNetwork)",
    options: '--pod NAMESPACE/NAME [--dns-policy ClusterFirst|ClusterFirstWithHostNet|Default]',
  });
  registerRenderer(
    'dns-queries',
    (t, o) => {
      const name = str(o, 'name');
      if (!name) throw new RenderError('dns-queries needs --name', 'example: --name backend.default.svc.cluster.local');
      const r = resolveName(t, findPod(t, str(o, 'pod')), name);
      const lines = r.queries.map((q) => `${q.qtype}? ${q.qname} ${q.rcode}${q.answer.length ? ` ${q.answer.map((a) => `${a.type} ${a.data}`).join(', ')}` : ''}`);
      lines.push(r.outcome === 'found' ? `=> ${r.answeredBy} ${r.addresses.join(' ')}` : `=> ${r.outcome}`);
      return `${lines.join('\n')}\n`;
    },
    { summary: 'the DNS queries glibc sends for a name from a pod (search list, ndots, A+AAAA) and their answers', options: '--pod NAMESPACE/NAME --name NAME' },
  );
  registerRenderer('cilium-service-list', (t, o) => renderCiliumServiceList(ciliumServiceMap(t, nodeOf(t, o))), {
    summary: 'cilium-dbg service list of a node (Cilium kube-proxy replacement service map)',
    options: '--node NODE',
  });
}

registerServiceRenderers();
