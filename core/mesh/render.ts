// Mesh renderers (registered in core/render's registry):
//   istio-iptables --pod NS/NAME            iptables-save of the pod's network namespace
//   istioctl-proxy-config-clusters --pod NS/NAME [--fqdn F] [--port N] [--subset S] [--direction D]
//   mesh-request --from NS/NAME --to URL    the mesh hops of one request, step by step

import { parseIP } from '../net';
import type { PodModel, Topology } from '../model/types';
import { resolveName } from '../dns';
import { tabwrite } from '../policy/tabwriter';
import { RenderError, registerRenderer, type RenderOptions } from '../render/registry';
import { meshRequest } from './hop';
import { podInjected } from './injection';
import { iptablesConfigForPod, istioRuleset, renderPodIptablesSave } from './iptables';
import { configName } from './manifests';
import { clusterName, destinationRuleFor } from './routing';
import { serviceFqdn, type MeshOptions } from './world';

const str = (o: RenderOptions, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

function podOf(t: Topology, ref: string | undefined, flag = '--pod'): PodModel {
  if (!ref) throw new RenderError(`${flag} NAMESPACE/NAME is required`, `e.g. ${flag} ${t.pods[0] ? `${t.pods[0].namespace}/${t.pods[0].name}` : 'default/pod-a'}`);
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const p = t.pods.find((x) => x.namespace === ns && x.name === name);
  if (!p) throw new RenderError(`no pod ${ns}/${name}`, `pass ${flag} NAMESPACE/NAME of a pod in the topology`);
  return p;
}

function injectedPod(t: Topology, o: RenderOptions): PodModel {
  const pod = podOf(t, str(o, 'pod'));
  const d = podInjected(t, pod);
  if (!d.injected) {
    throw new RenderError(
      `pod ${pod.namespace}/${pod.name} has no istio-proxy sidecar: ${d.reason}`,
      t.settings.mesh?.enabled ? 'label the namespace istio-injection=enabled (or the pod sidecar.istio.io/inject=true)' : 'turn the mesh on: --set mesh=true, and label the namespace istio-injection=enabled',
    );
  }
  return pod;
}

function dateOf(o: RenderOptions): Date {
  const d = str(o, 'date');
  if (!d) return new Date(0);
  const v = new Date(d);
  if (Number.isNaN(v.getTime())) throw new RenderError(`--date ${d} is not a date`, 'use an ISO date such as 2024-11-04T10:30:01Z');
  return v;
}

/** `iptables-save` inside the pod (what `nsenter -t <pid> -n iptables-save` prints on the node). */
export function renderIstioIptables(t: Topology, o: RenderOptions): string {
  const pod = injectedPod(t, o);
  const { config } = iptablesConfigForPod(pod, str(o, 'istio-version'));
  const fam = str(o, 'family') === '6' || o['6'] === true ? 6 : 4;
  const variant = str(o, 'variant');
  if (variant !== undefined && variant !== 'nft' && variant !== 'legacy') throw new RenderError(`--variant ${variant} is not an iptables variant`, 'use nft (iptables-nft) or legacy (iptables-legacy)');
  return renderPodIptablesSave(istioRuleset(config, fam), {
    date: dateOf(o),
    version: str(o, 'version'),
    program: str(o, 'program') ?? (fam === 6 ? 'ip6tables-save' : 'iptables-save'),
    ...(variant ? { variant } : {}),
  });
}

export interface ClusterRow {
  fqdn: string;
  port: number | '-';
  subset: string;
  direction: 'outbound' | 'inbound' | '-';
  type: string;
  destinationRule: string;
  /** The Envoy cluster name. */
  name: string;
}

/**
 * The clusters istiod generates for a sidecar (no Sidecar resource): one per
 * Service port, one per DestinationRule subset and port, the inbound clusters
 * of the pod's Service ports, and the static ones. Sorted as istioctl sorts.
 */
export function sidecarClusters(t: Topology, pod: PodModel, opts: MeshOptions & { zipkin?: boolean } = {}): ClusterRow[] {
  const rows: ClusterRow[] = [];
  for (const s of t.services) {
    const fqdn = serviceFqdn(t, s);
    const headless = s.clusterIPs.includes('None');
    const type = s.type === 'ExternalName' ? 'STRICT_DNS' : headless ? 'ORIGINAL_DST' : 'EDS';
    const dr = destinationRuleFor(t, pod.namespace, fqdn, opts);
    const drName = dr ? configName(dr.ref) : '';
    for (const p of s.ports) {
      if (p.protocol !== 'TCP') continue;
      rows.push({ fqdn, port: p.port, subset: '-', direction: 'outbound', type, destinationRule: drName, name: clusterName('outbound', p.port, undefined, fqdn) });
      for (const sub of dr?.subsets ?? []) {
        if (!sub.name) continue;
        rows.push({ fqdn, port: p.port, subset: sub.name, direction: 'outbound', type, destinationRule: drName, name: clusterName('outbound', p.port, sub.name, fqdn) });
      }
    }
  }
  // inbound: the pod's container ports that some Service selects
  const inbound = new Set<number>();
  for (const s of t.services) {
    if (s.namespace !== pod.namespace || !s.selector || !Object.keys(s.selector).length) continue;
    if (!Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v)) continue;
    for (const p of s.ports) {
      if (p.protocol !== 'TCP') continue;
      const tp = typeof p.targetPort === 'number' ? p.targetPort : pod.ports.find((c) => c.name === p.targetPort)?.containerPort;
      if (tp !== undefined) inbound.add(tp);
    }
  }
  for (const port of inbound) rows.push({ fqdn: '', port, subset: '-', direction: 'inbound', type: 'ORIGINAL_DST', destinationRule: '', name: `inbound|${port}||` });
  const statics: [string, string][] = [
    ['BlackHoleCluster', 'STATIC'],
    ['InboundPassthroughCluster', 'ORIGINAL_DST'],
    ['PassthroughCluster', 'ORIGINAL_DST'],
    ['agent', 'STATIC'],
    ['prometheus_stats', 'STATIC'],
    ['sds-grpc', 'STATIC'],
    ['xds-grpc', 'STATIC'],
  ];
  if (opts.zipkin) statics.push(['zipkin', 'STRICT_DNS']);
  for (const [name, type] of statics) rows.push({ fqdn: name, port: '-', subset: '-', direction: '-', type, destinationRule: '', name });
  // istioctl: by name, then subset, then port, then direction (Go string order; static clusters have port 0)
  const key = (r: ClusterRow): [string, string, number, string] => [r.fqdn, r.subset === '-' ? '' : r.subset, r.port === '-' ? 0 : r.port, r.direction === '-' ? '' : r.direction];
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  rows.sort((a, b) => {
    const [an, as, ap, ad] = key(a);
    const [bn, bs, bp, bd] = key(b);
    return cmp(an, bn) || cmp(as, bs) || ap - bp || cmp(ad, bd);
  });
  return rows;
}

/** `istioctl proxy-config clusters POD -n NS` (text/tabwriter: minwidth 0, padding 5). */
export function renderProxyConfigClusters(t: Topology, o: RenderOptions): string {
  const pod = injectedPod(t, o);
  let rows = sidecarClusters(t, pod, { zipkin: o.zipkin === true });
  const fqdn = str(o, 'fqdn');
  const port = str(o, 'port');
  const subset = str(o, 'subset');
  const direction = str(o, 'direction');
  // istioctl's ClusterFilter matches substrings of the cluster name
  if (fqdn) rows = rows.filter((r) => r.name.includes(fqdn));
  if (direction) rows = rows.filter((r) => r.name.includes(direction));
  if (subset) rows = rows.filter((r) => r.name.includes(subset));
  if (port) rows = rows.filter((r) => r.name.includes(`|${port}|`));
  const lines = ['SERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE'];
  for (const r of rows) lines.push(`${r.fqdn}\t${r.port}\t${r.subset}\t${r.direction}\t${r.type}\t${r.destinationRule}`);
  return tabwrite(`${lines.join('\n')}\n`, 0, 5);
}

function parseTarget(t: Topology, from: PodModel, to: string): { ip: string; port: number; host?: string; path: string } {
  const m = /^(?:(https?|tcp):\/\/)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?(\/.*)?$/.exec(to.trim());
  if (!m) throw new RenderError(`--to ${to} is not HOST[:PORT][/PATH] or a URL`, 'e.g. --to http://api-service.production/api/v1/users');
  const hostText = m[2].replace(/^\[|\]$/g, '');
  const port = m[3] ? Number(m[3]) : m[1] === 'https' ? 443 : 80;
  if (parseIP(hostText)) return { ip: hostText, port, path: m[4] ?? '/' };
  const r = resolveName(t, from, hostText);
  if (!r.addresses.length) throw new RenderError(`${hostText} does not resolve from ${from.namespace}/${from.name} (${r.outcome})`, 'use a Service name (name, name.namespace or the FQDN) or an IP address');
  return { ip: r.addresses[0], port, host: hostText, path: m[4] ?? '/' };
}

/** The mesh hops of one request, as numbered steps and the verdict. */
export function renderMeshRequest(t: Topology, o: RenderOptions): string {
  const from = podOf(t, str(o, 'from'), '--from');
  const to = str(o, 'to');
  if (!to) throw new RenderError('--to URL is required', 'e.g. --to http://api-service.production/api/v1/users');
  const target = parseTarget(t, from, to);
  const headers: Record<string, string> = {};
  for (const h of (str(o, 'headers') ?? '').split(';')) {
    const i = h.indexOf(':');
    if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const res = meshRequest(
    t,
    from,
    { ip: target.ip, port: target.port, ...(target.host ? { host: target.host } : {}) },
    { method: str(o, 'method') ?? 'GET', path: target.path, headers, ...(str(o, 'protocol') === 'tcp' ? { protocol: 'tcp' as const } : {}) },
  );
  const out: string[] = [];
  res.steps.forEach((s, i) => {
    out.push(`${String(i + 1).padStart(2)}. [${s.at} ${s.actor}] ${s.action}`);
    if (s.rule) for (const l of s.rule.split('\n')) out.push(`      ${l}`);
  });
  const v = res.verdict;
  out.push('');
  out.push(`verdict: ${v.kind}${v.status ? ` ${v.status}` : ''}${v.responseFlags && v.responseFlags !== '-' ? ` (${v.responseFlags})` : ''}${v.body ? ` "${v.body}"` : ''}`);
  out.push(`  ${v.text}`);
  for (const n of res.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}

export function registerMeshRenderers(): void {
  registerRenderer('istio-iptables', renderIstioIptables, {
    summary: 'iptables-save inside an injected pod: the istio-init / istio-cni nat rules (ISTIO_INBOUND, ISTIO_OUTPUT, REDIRECT to 15001/15006)',
    options: '--pod NS/NAME [--istio-version 1.24] [--family 6] [--date ISO] [--version 1.8.9] [--program NAME] [--variant nft|legacy]',
  });
  registerRenderer('istioctl-proxy-config-clusters', renderProxyConfigClusters, {
    summary: 'istioctl proxy-config clusters for an injected pod: outbound clusters per Service port and DestinationRule subset, inbound and static clusters',
    options: '--pod NS/NAME [--fqdn F] [--port N] [--subset S] [--direction outbound|inbound] [--zipkin]',
  });
  registerRenderer('mesh-request', renderMeshRequest, {
    summary: 'the Istio hops of one request: iptables redirect, Envoy route/cluster/endpoint, mTLS, PeerAuthentication, AuthorizationPolicy, verdict',
    options: '--from NS/NAME --to URL [--method M] [--headers "k: v; k2: v2"] [--protocol tcp]',
  });
}

registerMeshRenderers();
