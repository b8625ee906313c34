// What `tcpdump -n -i IFACE` on a node (or in a pod) prints for a walk, in
// tcpdump's own format (print-ip.c, print-tcp.c, print-udp.c, print-domain.c,
// print-icmp.c, print-vxlan.c; see shared/reference/tool-output-formats.md §3):
//
//   10:00:00.000105 IP 10.244.1.5.52345 > 10.96.5.20.80: Flags [S], seq 3735928559, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
//   10:00:00.000017 IP 10.244.1.5.53241 > 10.96.0.10.53: 41095+ A? backend.default.svc.cluster.local.default.svc.cluster.local. (77)
//   10:00:00.000058 IP 10.0.1.5.32809 > 10.0.1.6.4789: VXLAN, flags [I] (0x08), vni 4096
//   IP 10.244.1.5.52345 > 10.244.2.8.8080: Flags [S], …
//
// VXLAN on UDP 8472 (flannel.1, flannel-v6.1, cilium_vxlan: the Linux
// default port) is printed as released tcpdump (≤ 4.99, Debian's and
// Ubuntu's) prints it: print-udp.c hands port 8472 to the OTV decoder, which
// reads the VXLAN header's reserved bits as the overlay and the VNI as the
// instance — `OTV, flags [I] (0x08), overlay 0, instance 1` — then the inner
// frame on the next line, exactly what the test-bed's capture shows. (tcpdump's
// development branch dropped OTV in 2025 and prints VXLAN there.)
//
// Every packet the walk followed is shown where it crossed the interface,
// with the headers it had there (before DNAT on the pod's veth, after it on
// the node's uplink; only the outer+inner pair on a tunnelled uplink). For
// TCP, the rest of the conversation (ACK, request, response, FIN) follows
// the handshake's path with the same translations. Timestamps are the walk's
// model time from `startSeconds`; sequence numbers, DNS IDs and TS values
// come from the walk's seed (real ones are random).

import { vxlanSummary } from '../parse/tcpdump';
import type { PacketHeaders } from './types';
import { HTTP_RESPONSE_BYTES, type Capture, type TraceOutput } from './walk';

export interface TcpdumpOptions {
  node?: string;
  /** `ns/pod`: capture inside the pod's namespace. */
  pod?: string;
  /** Interface name (default eth0). */
  iface?: string;
  /** `-e`: print the link-level header. */
  link?: boolean;
}

function ts(seconds: number): string {
  const us = Math.round(seconds * 1e6);
  const day = 86400 * 1e6;
  const t = ((us % day) + day) % day;
  const h = Math.floor(t / 3600e6);
  const m = Math.floor((t % 3600e6) / 60e6);
  const s = Math.floor((t % 60e6) / 1e6);
  const f = t % 1e6;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(f).padStart(6, '0')}`;
}

function hp(ip: string, port?: number): string {
  return port === undefined ? ip : `${ip}.${port}`;
}

const HTTP_PORTS = new Set([80, 8080]);

function tcpText(h: PacketHeaders, httpLine?: string): string {
  const t = h.tcp!;
  const flags = t.flags.join('');
  const parts = [`Flags [${flags}]`];
  const syn = t.flags.includes('S');
  if (syn || t.payload > 0 || t.flags.includes('F')) {
    parts.push(t.payload > 0 ? `seq ${t.seq}:${t.seq + t.payload}` : `seq ${t.seq}`);
  }
  if (t.ack !== undefined && t.flags.includes('.')) parts.push(`ack ${t.ack}`);
  parts.push(`win ${t.window}`);
  if (t.options) parts.push(`options [${t.options}]`);
  let s = `${parts.join(', ')}, length ${t.payload}`;
  if (t.payload > 0 && httpLine && (HTTP_PORTS.has(t.sport) || HTTP_PORTS.has(t.dport))) s += `: HTTP: ${httpLine}`;
  return s;
}

function dnsText(h: PacketHeaders): string {
  const d = h.dns!;
  if (!d.qr) return `${d.id}+ ${d.qtype}? ${d.qname} (${d.length})`;
  // CoreDNS answers authoritatively (AA, "*") and without recursion available ("-").
  const rcode = d.rcode === 'NXDOMAIN' ? ' NXDomain' : '';
  const an = d.answers.length ? ` ${d.answers.join(',')}` : '';
  return `${d.id}${rcode}*- ${d.answers.length}/${d.authority}/0${an} (${d.length})`;
}

/** One packet as tcpdump prints it after the timestamp (`IP a.b > c.d: …`), without the outer headers. */
export function packetLine(h: PacketHeaders, httpLine?: string): string {
  const ip = h.ip;
  const v = ip.version === 4 ? 'IP' : 'IP6';
  if (h.tcp) return `${v} ${hp(ip.src, h.tcp.sport)} > ${hp(ip.dst, h.tcp.dport)}: ${tcpText(h, httpLine)}`;
  if (h.udp) {
    const body = h.dns ? dnsText(h) : `UDP, length ${h.udp.length - 8}`;
    return `${v} ${hp(ip.src, h.udp.sport)} > ${hp(ip.dst, h.udp.dport)}: ${body}`;
  }
  if (h.icmp) {
    if (ip.version === 6) return `${v} ${ip.src} > ${ip.dst}: ICMP6, ${h.icmp.text}, length ${h.icmp.length}`;
    return `${v} ${ip.src} > ${ip.dst}: ICMP ${h.icmp.text}, length ${h.icmp.length}`;
  }
  return `${v} ${ip.src} > ${ip.dst}: ip-proto-${ip.protocol}, length ${ip.length}`;
}

function linkPrefix(src: string, dst: string, frameLen: number, v6: boolean): string {
  return `${src} > ${dst}, ethertype ${v6 ? 'IPv6 (0x86dd)' : 'IPv4 (0x0800)'}, length ${frameLen}: `;
}

/** The line(s) of one captured packet (two lines for VXLAN/Geneve: outer, then the inner frame). */
export function captureLines(h: PacketHeaders, seconds: number, o: { link?: boolean; httpLine?: string } = {}): string[] {
  const stamp = ts(seconds);
  const inner = packetLine(h, o.httpLine);
  const innerLink = (line: string): string => (o.link && h.eth ? `${linkPrefix(h.eth.src, h.eth.dst, h.ip.length + 14, h.ip.version === 6)}${line.replace(/^IP6? /, '')}` : line);
  const out = h.outer;
  if (!out) return [`${stamp} ${innerLink(inner)}`];
  const o6 = out.ip.version === 6;
  const outerHead = `${o6 ? 'IP6' : 'IP'} ${hp(out.ip.src, out.udp?.sport)} > ${hp(out.ip.dst, out.udp?.dport)}: `;
  const olink = o.link ? linkPrefix(out.eth.src, out.eth.dst, out.ip.length + 14, o6) : '';
  const head = o.link ? `${stamp} ${olink}${outerHead.slice(o6 ? 4 : 3)}` : `${stamp} ${outerHead}`;
  if (out.kind === 'vxlan' && out.vxlan) {
    const innerFrame = o.link && out.innerEth ? `${linkPrefix(out.innerEth.src, out.innerEth.dst, h.ip.length + 14, h.ip.version === 6)}${inner.replace(/^IP6? /, '')}` : inner;
    return [`${head}${vxlanSummary(out.vxlan.flags, out.vxlan.vni, [out.udp?.sport, out.udp?.dport])}`, innerFrame];
  }
  if (out.kind === 'geneve') {
    const innerFrame = o.link && out.innerEth ? `${linkPrefix(out.innerEth.src, out.innerEth.dst, h.ip.length + 14, h.ip.version === 6)}${inner.replace(/^IP6? /, '')}` : inner;
    return [`${head}Geneve, Flags [none], vni 0x${(out.geneve?.vni ?? 0).toString(16)}, proto TEB (0x6558)`, innerFrame];
  }
  if (out.kind === 'ipip') return [`${head}${inner}`];
  // WireGuard / sleeve: the inner packet is encrypted or framed; tcpdump sees UDP.
  return [`${head}UDP, length ${(out.udp?.length ?? 8) - 8}`];
}

interface Line {
  t: number;
  lines: string[];
}

/** The rest of a TCP conversation, replayed along the handshake's path at this interface. */
function conversation(out: TraceOutput, here: (c: Capture) => boolean, link: boolean): Line[] {
  const synIdx = out.packets.findIndex((p) => p.role === 'syn' && p.phase === 'request');
  const ackIdx = out.packets.findIndex((p) => p.role === 'syn-ack' && p.phase === 'reply');
  if (synIdx < 0 || ackIdx < 0) return [];
  const syn = out.captures.filter((c) => c.packet === synIdx);
  const sa = out.captures.filter((c) => c.packet === ackIdx);
  const atSyn = syn.find(here);
  const atAck = sa.find(here);
  if (!syn.length || !sa.length || (!atSyn && !atAck)) return [];
  const ex = out.events.filter((e) => e.phase === 'exchange');
  if (!ex.length || out.events.some((e) => e.phase === 'exchange' && e.kind === 'drop')) return [];
  const synEv = out.events.find((e) => e.packet === 'TCP SYN' && e.kind === 'socket')!;
  const ackDeliver = [...out.events].reverse().find((e) => e.packet === 'TCP SYN-ACK' && e.kind === 'deliver')!;
  const synAckSock = out.events.find((e) => e.packet === 'TCP SYN-ACK' && e.kind === 'socket')!;
  const reqOffset = atSyn ? atSyn.timeUs - syn[0].timeUs : 0;
  const repOffset = atAck ? atAck.timeUs - sa[0].timeUs : 0;
  const http = out.request.kind === 'http';
  const synH = synEv.headers;
  const saH = synAckSock.headers;
  const tsC = Number(/TS val (\d+)/.exec(synH.tcp?.options ?? '')?.[1] ?? 0);
  const tsS = Number(/TS val (\d+)/.exec(saH.tcp?.options ?? '')?.[1] ?? 0);
  const winC = Math.ceil((synH.tcp?.window ?? 64240) / 128);
  const winS = Math.ceil((saH.tcp?.window ?? 65160) / 128);
  const reqLen = http ? (ex[0].headers.tcp?.payload ?? 0) : 0;
  const resLen = http ? HTTP_RESPONSE_BYTES : 0;
  const t1 = ackDeliver.timeUs;
  const oneWay = ex[0].latencyUs;
  const back = ex.length > 2 ? ex[2].latencyUs : oneWay;
  const tServer = t1 + oneWay;
  const tResp = http && ex[1] ? ex[1].timeUs : tServer;
  const tClientGot = tResp + back;
  const tsAt = (base: number, us: number, t0: number): number => base + Math.max(0, Math.floor((us - t0) / 1000));
  type Seg = { dir: 'c' | 's'; at: number; flags: string[]; seq: number; ack: number; payload: number; win: number; line?: string };
  const segs: Seg[] = [{ dir: 'c', at: t1, flags: ['.'], seq: 1, ack: 1, payload: 0, win: winC }];
  if (http) {
    segs.push({ dir: 'c', at: t1 + 40, flags: ['P', '.'], seq: 1, ack: 1, payload: reqLen, win: winC, line: `${out.request.method} ${out.request.path} HTTP/1.1` });
    segs.push({ dir: 's', at: tServer, flags: ['.'], seq: 1, ack: 1 + reqLen, payload: 0, win: winS });
    segs.push({ dir: 's', at: tResp, flags: ['P', '.'], seq: 1, ack: 1 + reqLen, payload: resLen, win: winS, line: 'HTTP/1.1 200 OK' });
    segs.push({ dir: 'c', at: tClientGot, flags: ['.'], seq: 1 + reqLen, ack: 1 + resLen, payload: 0, win: winC - 1 });
    segs.push({ dir: 'c', at: tClientGot + 60, flags: ['F', '.'], seq: 1 + reqLen, ack: 1 + resLen, payload: 0, win: winC - 1 });
    segs.push({ dir: 's', at: tClientGot + 60 + oneWay, flags: ['F', '.'], seq: 1 + resLen, ack: 2 + reqLen, payload: 0, win: winS });
    segs.push({ dir: 'c', at: tClientGot + 60 + oneWay + back, flags: ['.'], seq: 2 + reqLen, ack: 2 + resLen, payload: 0, win: winC - 1 });
  }
  const lines: Line[] = [];
  for (const s of segs) {
    const cap = s.dir === 'c' ? atSyn : atAck;
    if (!cap) continue;
    const base = cap.headers;
    const tcp = { ...base.tcp!, flags: s.flags, seq: s.seq, ack: s.ack, window: s.win, payload: s.payload, options: `nop,nop,TS val ${s.dir === 'c' ? tsAt(tsC, s.at, synEv.timeUs) : tsAt(tsS, s.at, synAckSock.timeUs)} ecr ${s.dir === 'c' ? tsAt(tsS, s.at - back, synAckSock.timeUs) : tsAt(tsC, s.at - oneWay, synEv.timeUs)}` };
    const ipLen = (base.ip.version === 4 ? 20 : 40) + 32 + s.payload;
    const grow = ipLen - base.ip.length;
    const h: PacketHeaders = {
      ...base,
      ip: { ...base.ip, length: ipLen },
      tcp,
      outer: base.outer ? { ...base.outer, ip: { ...base.outer.ip, length: base.outer.ip.length + grow }, udp: base.outer.udp ? { ...base.outer.udp, length: base.outer.udp.length + grow } : undefined } : undefined,
    };
    const t = s.at + (s.dir === 'c' ? reqOffset : repOffset);
    lines.push({ t, lines: captureLines(h, out.startSeconds + t / 1e6, { link, httpLine: s.line }) });
  }
  return lines;
}

/** The interfaces the walk crossed on a node (or in a pod), for `--list`. */
export function captureInterfaces(out: TraceOutput, o: { node?: string; pod?: string }): string[] {
  const netns = o.pod ? `pod/${o.pod}` : `node/${o.node}`;
  return [...new Set(out.captures.filter((c) => c.netns === netns).map((c) => c.iface))];
}

/**
 * tcpdump -n -i IFACE output for a walk (stdout; tcpdump's "listening on …"
 * banner and the packet counts go to stderr and are not included).
 */
export function renderTcpdump(out: TraceOutput, o: TcpdumpOptions): string {
  const iface = o.iface ?? 'eth0';
  const netns = o.pod ? `pod/${o.pod.includes('/') ? o.pod : `default/${o.pod}`}` : `node/${o.node}`;
  const here = (c: Capture): boolean => c.netns === netns && c.iface === iface;
  const seen = new Set<string>();
  const lines: Line[] = [];
  for (const c of out.captures) {
    if (!here(c)) continue;
    // A packet crossing the interface twice in the same state (e.g. in and out of a bridge port) prints once per crossing.
    const key = `${c.packet}|${c.dir}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push({ t: c.timeUs, lines: captureLines(c.headers, out.startSeconds + c.timeUs / 1e6, { link: o.link }) });
  }
  lines.push(...conversation(out, here, !!o.link));
  lines.sort((a, b) => a.t - b.t);
  const text = lines.flatMap((l) => l.lines).join('\n');
  return text ? `${text}\n` : '';
}

/** `hubble observe` output (compact) for a Cilium walk: the hubble lines of its events in time order. */
export function renderHubble(out: TraceOutput): string {
  const lines = out.events.filter((e) => e.hubble).map((e) => ({ t: e.timeUs, l: e.hubble! }));
  lines.sort((a, b) => a.t - b.t);
  return lines.length ? `${lines.map((x) => x.l).join('\n')}\n` : '';
}
