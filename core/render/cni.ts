// Renderers for the CNI data plane: iproute2 / bridge output for a node's
// or a pod's namespace, and the CNI ADD result of a pod.

import type { Topology } from '../model/types';
import { buildDataplane, cniModelFor, findPod, printCniResult, type NetNamespace } from '../cni';
import {
  renderBridgeFdb,
  renderIpAddr,
  renderIpAddrJson,
  renderIpLink,
  renderIpNeigh,
  renderIpRoute,
  renderIpRouteGet,
  renderIpRouteJson,
  renderIpRule,
  renderIpRuleJson,
  type RouteShowOptions,
  type RuleShowOptions,
} from './iproute';
import { RenderError, registerRenderer, type RenderOptions } from './registry';

const WHERE = '--node NODE | --pod NS/NAME (default: the first node)';

function str(opts: RenderOptions, key: string): string | undefined {
  const v = opts[key];
  return typeof v === 'string' ? v : undefined;
}

/** The namespace `--node` or `--pod` selects (a hostNetwork pod shares its node's). */
export function selectNamespace(topology: Topology, opts: RenderOptions): NetNamespace {
  const dp = buildDataplane(topology);
  const podRef = str(opts, 'pod');
  if (podRef) {
    const pod = findPod(topology, podRef);
    return pod.hostNetwork ? dp.node(pod.nodeName) : dp.pod(pod.namespace, pod.name);
  }
  const node = str(opts, 'node') ?? topology.nodes[0]?.name;
  if (!node) throw new RenderError('the topology has no nodes', 'add a node to the topology');
  return dp.node(node);
}

function routeOpts(opts: RenderOptions): RouteShowOptions {
  const t = str(opts, 'table');
  const f = str(opts, 'family') ?? (opts['4'] ? '4' : opts['6'] ? '6' : undefined);
  let table: RouteShowOptions['table'];
  if (t === undefined) table = undefined;
  else if (t === 'all' || t === 'main' || t === 'local') table = t;
  else if (/^\d+$/.test(t)) table = Number(t);
  else throw new RenderError(`--table ${t} is not a routing table`, 'use main, local, all or a table number');
  let family: RouteShowOptions['family'];
  if (f === undefined) family = undefined;
  else if (f === '4' || f === 'inet') family = 4;
  else if (f === '6' || f === 'inet6') family = 6;
  else if (f === 'all') family = 'all';
  else throw new RenderError(`--family ${f} is not an address family`, 'use 4, 6 or all');
  return { table, family, details: opts.details === true || opts.d === true };
}

function ruleOpts(opts: RenderOptions): RuleShowOptions {
  const f = str(opts, 'family') ?? (opts['4'] ? '4' : opts['6'] ? '6' : undefined);
  if (f === undefined || f === '4' || f === 'inet') return { family: 4 };
  if (f === '6' || f === 'inet6') return { family: 6 };
  throw new RenderError(`--family ${f} is not an address family for ip rule`, 'use 4 or 6 (ip rule lists one family at a time)');
}

/** `--mark 0x100000` or `--mark 1048576`. */
function markOpt(opts: RenderOptions): number | undefined {
  const m = str(opts, 'mark');
  if (m === undefined) return undefined;
  const v = /^0x[0-9a-f]{1,8}$/i.test(m) ? parseInt(m.slice(2), 16) : /^\d{1,10}$/.test(m) ? Number(m) : NaN;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RenderError(`--mark ${m} is not a firewall mark`, 'give a 32-bit number, e.g. --mark 0x100000');
  return v;
}

function linkOpts(opts: RenderOptions): { dev?: string; family?: 4 | 6 } {
  const f = str(opts, 'family') ?? (opts['4'] ? '4' : opts['6'] ? '6' : undefined);
  return { dev: str(opts, 'dev'), family: f === '4' ? 4 : f === '6' ? 6 : undefined };
}

export function registerCniRenderers(): void {
  registerRenderer('ip-route', (t, o) => renderIpRoute(selectNamespace(t, o), routeOpts(o)), {
    summary: '`ip route show` of a node or pod namespace',
    options: `${WHERE} [--table main|local|all|N] [--family 4|6] [--details]`,
  });
  registerRenderer('ip-route-json', (t, o) => renderIpRouteJson(selectNamespace(t, o), routeOpts(o)), {
    summary: '`ip -j route show` (keys in iproute2 order, flags always present)',
    options: `${WHERE} [--table main|local|all|N] [--family 4|6]`,
  });
  registerRenderer(
    'ip-route-get',
    (t, o) => {
      const dst = str(o, 'dst');
      if (!dst) throw new RenderError('ip-route-get needs --dst ADDRESS', 'e.g. --dst 10.244.2.8');
      return renderIpRouteGet(selectNamespace(t, o), dst, { mark: markOpt(o) }).text;
    },
    { summary: '`ip route get ADDRESS [mark MARK]`: the route the kernel would pick (policy rules included)', options: `${WHERE} --dst ADDRESS [--mark MARK]` },
  );
  registerRenderer('ip-rule', (t, o) => renderIpRule(selectNamespace(t, o), ruleOpts(o)), {
    summary: '`ip rule show`: the policy routing rules (kernel defaults, felix\'s WireGuard rule 99, Cilium\'s L7 proxy rule 9 and local rule at 100)',
    options: `${WHERE} [--family 4|6]`,
  });
  registerRenderer('ip-rule-json', (t, o) => renderIpRuleJson(selectNamespace(t, o), ruleOpts(o)), {
    summary: '`ip -j rule show` (keys in iproute2 order)',
    options: `${WHERE} [--family 4|6]`,
  });
  registerRenderer('ip-addr', (t, o) => renderIpAddr(selectNamespace(t, o), linkOpts(o)), {
    summary: '`ip addr show` (MACs are synthetic; compare ignores them)',
    options: `${WHERE} [--dev IFNAME] [--family 4|6]`,
  });
  registerRenderer('ip-addr-json', (t, o) => renderIpAddrJson(selectNamespace(t, o), linkOpts(o)), {
    summary: '`ip -j addr show`',
    options: `${WHERE} [--dev IFNAME] [--family 4|6]`,
  });
  registerRenderer('ip-link', (t, o) => renderIpLink(selectNamespace(t, o), linkOpts(o)), {
    summary: '`ip link show`',
    options: `${WHERE} [--dev IFNAME]`,
  });
  registerRenderer('ip-neigh', (t, o) => renderIpNeigh(selectNamespace(t, o), { dev: str(o, 'dev') }), {
    summary: '`ip neigh show`: the static neighbour entries the CNI programs (VTEPs)',
    options: `${WHERE} [--dev IFNAME]`,
  });
  registerRenderer('bridge-fdb', (t, o) => renderBridgeFdb(selectNamespace(t, o), { dev: str(o, 'dev'), br: str(o, 'br') }), {
    summary: '`bridge fdb show`: VXLAN FDB entries and bridge ports (kernel multicast entries are not modelled)',
    options: `${WHERE} [--dev IFNAME | --br BRIDGE]`,
  });
  registerRenderer(
    'cni-result',
    (t, o) => {
      const ref = str(o, 'pod');
      if (!ref) throw new RenderError('cni-result needs --pod NS/NAME', 'e.g. --pod default/pod-a');
      const pod = findPod(t, ref);
      if (pod.hostNetwork) throw new RenderError(`pod ${ref} uses hostNetwork: the CNI plugin is not called for it`, 'pick a pod without hostNetwork');
      return `${printCniResult(cniModelFor(t).cniAddResult(t, pod))}\n`;
    },
    { summary: 'the CNI ADD result the plugin returns for a pod (pretty JSON as the plugin prints it)', options: '--pod NS/NAME' },
  );
}

registerCniRenderers();
