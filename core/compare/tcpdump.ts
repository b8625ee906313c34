// tcpdump: a capture on the client's node (`tcpdump -n -i any`) during a
// real request against what the model says the wire carries: the DNS
// questions in search-list order with their types, the SYN to the Service
// address, the SYN leaving the node after DNAT (to one of the endpoints, on
// the model's egress device), and — where the CNI tunnels — the VXLAN outer
// headers and VNI. Timestamps, sequence and acknowledgement numbers, windows
// and TCP options are not compared.

import { parseTcpdump, vxlanSummary, type TcpdumpPacket } from '../parse/tcpdump';
import { myersDiff } from './diff';
import type { ExpectedProbe, FlowAlternative } from './probe';
import { checkResult, failedCheck, type CheckResult, type DiffItem } from './types';

export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** The packets of a capture, with VXLAN inner packets listed after their outer packet. */
export function flattenCapture(packets: readonly TcpdumpPacket[]): { p: TcpdumpPacket; outer?: TcpdumpPacket }[] {
  const out: { p: TcpdumpPacket; outer?: TcpdumpPacket }[] = [];
  for (const p of packets) {
    out.push({ p });
    if (p.vxlan?.inner) out.push({ p: p.vxlan.inner, outer: p });
  }
  return out;
}

export function packetText(p: TcpdumpPacket): string {
  const where = p.interface ? `${p.interface} ${p.direction ?? ''} ` : '';
  const sp = (a?: string, port?: number) => (port !== undefined ? `${a}.${port}` : `${a}`);
  return `${where}${p.protocol} ${sp(p.src, p.sport)} > ${sp(p.dst, p.dport)}: ${p.summary}`.replace(/\s+/g, ' ').trim();
}

/** The addresses DNS questions may be sent to as seen on the wire: the Service address, and the DNS pods after DNAT. */
export function dnsServerAddresses(expected: ExpectedProbe): string[] {
  const out = expected.dnsServer ? [expected.dnsServer] : [];
  for (const f of expected.flows) if (f.purpose === 'dns') for (const a of f.alternatives) if (!out.includes(a.replySrc)) out.push(a.replySrc);
  return out;
}

/**
 * The DNS questions the client sent, in order, each once: `-i any` shows a
 * packet once per interface it crosses (the pod's veth with the Service
 * address, the uplink or tunnel after DNAT), so copies are merged by source
 * port, DNS id, type and name.
 */
export function realDnsQuestions(packets: readonly TcpdumpPacket[], client: string, servers: string | readonly string[]): { q: string; p: TcpdumpPacket }[] {
  const to = typeof servers === 'string' ? [servers] : servers;
  const seen = new Set<string>();
  const out: { q: string; p: TcpdumpPacket }[] = [];
  for (const { p } of flattenCapture(packets)) {
    if (!p.dns || !p.dns.query || p.src !== client || !p.dst || !to.includes(p.dst) || !p.dns.qname || !p.dns.qtype) continue;
    const key = `${p.sport}|${p.dns.id}|${p.dns.qtype}|${p.dns.qname}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ q: `${p.dns.qtype}? ${fqdn(p.dns.qname)}`, p });
  }
  return out;
}

function isSyn(p: TcpdumpPacket): boolean {
  return p.transport === 'tcp' && p.tcp?.flags === 'S';
}

function altText(a: FlowAlternative): string {
  return `${a.replySrc}.${a.replySport}${a.endpointPod ? ` (${a.endpointPod})` : ''}`;
}

/**
 * The tunnel's outer line as tcpdump prints it: released tcpdump (≤ 4.99) decodes UDP 8472
 * (flannel.1, cilium_vxlan) as OTV, the VNI showing as the instance (see core/parse/tcpdump).
 */
function outerText(o: NonNullable<FlowAlternative['egress']['outer']>): string {
  const head = `${o.src.includes(':') ? 'IP6' : 'IP'} ${o.src}.* > ${o.dst}.${o.dport}: `;
  return `${head}${vxlanSummary(0x08, o.vni ?? 0, [o.dport])}`;
}

/** Compares a parsed capture with the model's expectations for the probe. */
export function compareCapture(expected: ExpectedProbe, packets: readonly TcpdumpPacket[]): CheckResult {
  const items: DiffItem[] = [];
  let compared = 0;
  const client = expected.clientIP;
  const all = flattenCapture(packets);

  // 1. DNS questions in order
  if (expected.dnsServer && expected.resolution) {
    const model = expected.resolution.queries.map((q) => `${q.qtype}? ${fqdn(q.qname)}`);
    const real = realDnsQuestions(packets, client, dnsServerAddresses(expected)).map((x) => x.q);
    compared += model.length;
    const edits = myersDiff(model, real, (x) => x);
    for (const e of edits) {
      if (e.op === 'delete') {
        items.push({ kind: 'missing', where: `DNS to ${expected.dnsServer}`, model: e.a, explanation: `the client did not ask ${e.a} (the model's resolver walks search list ${expected.resolution.resolv.search.join(' ')} with ndots:${expected.resolution.resolv.ndots})`, explained: false });
      } else if (e.op === 'insert') {
        items.push({ kind: 'extra', where: `DNS to ${expected.dnsServer}`, real: e.b, explanation: `the client asked ${e.b}, which the model's resolver does not`, explained: false });
      }
    }
    if (real.length === 0 && model.length > 0) {
      items.push({ kind: 'missing', where: `DNS to ${expected.dnsServer}`, explanation: `no DNS question from ${client} to ${expected.dnsServer} in the capture (was the name resolved from a cache, /etc/hosts, or sent elsewhere?)`, explained: false });
    }
  }

  // 2. the SYN to the Service address, and 3. the SYN after DNAT / 4. tunnel headers
  const req = expected.flows.find((f) => f.purpose === 'request');
  if (req) {
    // the request's source: the client's IPv6 address when the target is IPv6
    const client = req.src;
    const ipv = req.dst.includes(':') ? 'IP6' : 'IP';
    compared++;
    const syns = all.filter(({ p }) => isSyn(p) && p.src === client && p.dst === req.dst && p.dport === req.dport);
    if (syns.length === 0) {
      items.push({ kind: 'missing', where: `TCP ${req.dst}:${req.dport}`, model: `${ipv} ${client}.* > ${req.dst}.${req.dport}: Flags [S]`, explanation: `no SYN from ${client} to ${req.dst}:${req.dport} in the capture: the client did not connect to the address the model resolves`, explained: false });
    }
    const translated = req.alternatives.filter((a) => a.replySrc !== req.dst || a.replySport !== req.dport);
    if (translated.length) {
      compared++;
      const fwd = all.filter(({ p }) => isSyn(p) && p.dst !== req.dst && translated.some((a) => a.replySrc === p.dst && a.replySport === p.dport) && (p.src === client || translated.some((a) => a.replyDst === p.src)));
      const strays = all.filter(({ p }) => isSyn(p) && (p.src === client || req.alternatives.some((a) => a.replyDst === p.src)) && p.dst !== req.dst && p.dport !== 53 && !fwd.some((f) => f.p === p));
      if (fwd.length === 0) {
        items.push({
          kind: 'missing',
          where: `TCP ${req.dst}:${req.dport} after DNAT`,
          model: `${ipv} ${client}.* > {${translated.map(altText).join(' | ')}}: Flags [S]`,
          explanation: strays.length
            ? `the SYN left for ${strays.map(({ p }) => `${p.dst}.${p.dport}`).join(', ')}, which is not an endpoint of the Service in the model`
            : `no SYN to any endpoint (${translated.map(altText).join(', ')}) in the capture: the Service address was not translated on this node`,
          explained: false,
        });
      } else {
        const first = fwd.find(({ outer }) => !outer) ?? fwd[0];
        const alt = translated.find((a) => a.replySrc === first.p.dst && a.replySport === first.p.dport)!;
        // egress device (only with -i any, which names the interface)
        const leaving = fwd.filter(({ p, outer }) => !outer && p.direction === 'Out');
        if (leaving.length && alt.egress.dev) {
          const devs = [...new Set(leaving.map(({ p }) => p.interface))];
          // Bridged DNAT (br_netfilter) to a pod on the node's bridge: while the pod's neighbour entry has
          // no cached header, the frame is sent through the bridge device's neigh->output first, so -i any
          // also shows `cni0 Out` before the port's `veth… Out` (br_nf_pre_routing_finish_bridge).
          const viaBridge = !!alt.egress.bridge && devs.includes(alt.egress.bridge);
          const ports = viaBridge ? devs.filter((d) => d !== alt.egress.bridge) : devs;
          if (!ports.includes(alt.egress.dev)) {
            const podVeth = alt.egress.dev.startsWith('cali') || alt.egress.dev.startsWith('veth') || alt.egress.dev.startsWith('lxc');
            const realVeth = ports.length > 0 && ports.every((d) => !!d && /^(cali|veth|lxc)/.test(d));
            const bridgeNote = viaBridge ? ` (${alt.egress.bridge} Out is the same frame handed to the bridge device while br_netfilter resolves the pod's neighbour entry)` : '';
            items.push({
              kind: 'changed',
              where: `egress of ${client} → ${alt.replySrc}.${alt.replySport}`,
              model: `${alt.egress.dev} Out ${ipv} ${client}.* > ${alt.replySrc}.${alt.replySport}: Flags [S]`,
              real: leaving.map(({ p }) => packetText(p)).join(' | '),
              explanation: podVeth && realVeth ? `the SYN leaves through the endpoint pod's veth; the host veth names differ${bridgeNote}` : `the SYN leaves the node on ${devs.join(', ')}, the model sends it out on ${alt.egress.dev}${alt.egress.gateway ? ` via ${alt.egress.gateway}` : ''}`,
              explained: podVeth && realVeth,
            });
          }
        }
        // tunnel
        const tunneled = fwd.filter(({ outer }) => !!outer);
        if (alt.egress.encapsulation === 'vxlan') {
          compared++;
          const o = alt.egress.outer;
          if (tunneled.length === 0) {
            items.push({ kind: 'missing', where: 'VXLAN', model: o ? outerText(o) : 'VXLAN-encapsulated SYN', explanation: `the model carries ${client} → ${alt.replySrc} in VXLAN between the nodes; the capture shows no VXLAN packet with that SYN inside`, explained: false });
          } else if (o) {
            const op = tunneled[0].outer!;
            const diffs: string[] = [];
            if (op.src !== o.src) diffs.push(`outer source ${op.src} (model ${o.src})`);
            if (op.dst !== o.dst) diffs.push(`outer destination ${op.dst} (model ${o.dst}, the endpoint's node)`);
            if (op.dport !== o.dport) diffs.push(`UDP port ${op.dport} (model ${o.dport})`);
            if (o.vni !== undefined && op.vxlan?.vni !== o.vni) diffs.push(`VNI ${op.vxlan?.vni} (model ${o.vni})`);
            if (op.vxlan && op.vxlan.flags !== 'I') diffs.push(`VXLAN flags [${op.vxlan.flags}] (a VNI is carried only with flag I)`);
            if (diffs.length) {
              items.push({ kind: 'changed', where: 'VXLAN outer header', model: outerText(o), real: packetText(op), explanation: diffs.join('; '), explained: false });
            }
          }
        } else if (tunneled.length) {
          items.push({ kind: 'extra', where: 'VXLAN', real: packetText(tunneled[0].outer!), explanation: `the node encapsulates ${client} → ${alt.replySrc} in VXLAN; the model (${alt.egress.encapsulation === 'none' ? 'native routing' : alt.egress.encapsulation}) does not`, explained: false });
        }
      }
    }
  }
  const notes = ['timestamps, sequence/acknowledgement numbers, windows, TCP options, lengths and DNS ids are not compared; ARP and unrelated traffic are ignored'];
  return checkResult('tcpdump', items, compared, `capture on ${expected.node} during ${expected.spec.client} → ${expected.spec.host}:${expected.spec.port}: ${packets.length} packets`, notes);
}

/** Parses `tcpdump -n` output and compares. */
export function compareTcpdump(expected: ExpectedProbe, realText: string): CheckResult {
  const r = parseTcpdump(realText);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (r.records.length === 0 && errors.length) return failedCheck('tcpdump', 'the capture could not be read', errors.map((d) => `line ${d.line}: ${d.message}`).slice(0, 3).join('; '));
  const res = compareCapture(expected, r.records);
  if (errors.length) (res.notes ??= []).push(`${errors.length} capture line(s) could not be read: ${errors[0].message}`);
  return res;
}
