// Renderers for the packet walk: tcpdump -n on an interface, conntrack -L
// after the walk, hubble observe for Cilium walks.

import type { Topology } from '../model/types';
import { captureInterfaces, renderHubble, renderTcpdump, trace, TraceInputError, TraceState, type TraceOptions, type TraceOutput } from '../trace';
import { RenderError, registerRenderer, type RenderOptions } from './registry';

const str = (o: RenderOptions, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

const WALK = '--from NS/POD|node:NAME --to URL|IP:PORT [--seed N] [--endpoint IP[:PORT]] [--size BYTES]';

function walkFor(t: Topology, o: RenderOptions): TraceOutput {
  const from = str(o, 'from');
  const to = str(o, 'to');
  if (!from || !to) throw new RenderError('the walk needs --from and --to', 'e.g. --from default/pod-a --to http://backend.default.svc.cluster.local');
  const opts: TraceOptions = {};
  const num = (k: string): number | undefined => {
    const v = str(o, k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new RenderError(`--${k} ${v} is not a number`, `e.g. --${k} 1`);
    return Number(v);
  };
  opts.seed = num('seed');
  opts.size = num('size');
  opts.srcPort = num('sport');
  const ep = str(o, 'endpoint');
  if (ep !== undefined) opts.endpoint = /^\d+$/.test(ep) ? Number(ep) : ep;
  const fam = str(o, 'family');
  if (fam === '6' || fam === '4') opts.family = Number(fam) as 4 | 6;
  opts.state = new TraceState();
  try {
    return trace(t, from, to, opts);
  } catch (e) {
    if (e instanceof TraceInputError) throw new RenderError(e.message, e.hint);
    throw e;
  }
}

export function registerTraceRenderers(): void {
  registerRenderer(
    'tcpdump',
    (t, o) => {
      const out = walkFor(t, o);
      const pod = str(o, 'pod');
      const node = str(o, 'node') ?? (pod ? undefined : out.source.node);
      const iface = str(o, 'iface') ?? str(o, 'i') ?? 'eth0';
      const where = pod ? { pod } : { node };
      const known = captureInterfaces(out, where);
      if (!known.includes(iface)) {
        if (node && !t.nodes.some((n) => n.name === node)) throw new RenderError(`no node named "${node}"`, `use one of: ${t.nodes.map((n) => n.name).join(', ')}`);
        if (!known.length) return '';
      }
      return renderTcpdump(out, { ...where, iface, link: o.e === true || o.link === true || o.e === 'true' });
    },
    {
      summary: 'tcpdump -n -i IFACE on a node (or in a pod) while a packet walk runs: DNS, the handshake, the request and response, as the real tool prints them',
      options: `${WALK} [--node NODE | --pod NS/NAME] [--iface IFACE] [-e]`,
    },
  );
  registerRenderer(
    'trace-conntrack',
    (t, o) => {
      const out = walkFor(t, o);
      const node = str(o, 'node') ?? out.source.node;
      const fam = str(o, 'ct-family') ?? String(out.family);
      if (fam !== '4' && fam !== '6') throw new RenderError(`--ct-family ${fam}: give 4 or 6`, 'conntrack -L lists IPv4 flows; conntrack -L -f ipv6 the IPv6 ones');
      const v6 = fam === '6';
      // `conntrack -L` lists one family (IPv4 unless -f ipv6), like the real tool: the walk's own family by default.
      const lines = (out.conntrack[node] ?? []).filter((l) => / src=[0-9a-f]*:/.test(l) === v6);
      return lines.length ? `${lines.join('\n')}\n` : '';
    },
    { summary: 'conntrack -L on a node after a packet walk (its DNS, Service and pod flows); an IPv6 walk lists conntrack -L -f ipv6 (--ct-family picks the listed family)', options: `${WALK} [--family 4|6] [--node NODE] [--ct-family 4|6]` },
  );
  registerRenderer(
    'hubble-observe',
    (t, o) => {
      if (t.settings.cni.plugin !== 'cilium') throw new RenderError('hubble observe needs Cilium', 'use --set cni=cilium-native (or cilium-vxlan / cilium-geneve)');
      return renderHubble(walkFor(t, o));
    },
    { summary: 'hubble observe (compact output) for a packet walk in a Cilium cluster', options: WALK },
  );
}

registerTraceRenderers();
