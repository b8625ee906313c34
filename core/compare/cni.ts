// CNI results: the JSON a real plugin printed for ADD against the model's
// result for the same pod and network config, field by field. MAC addresses
// (random per veth) and host-side veth names (chosen at random by ptp and
// bridge) are set aside; everything else — cniVersion, the interface list
// and which one carries the address, the address with its prefix, the
// gateway, the routes, dns — must agree.

import { Cidr, formatIP, parseIP } from '../net';
import { bridgePluginResult, formatCniResult, ptpPluginResult, type ResultRoute } from '../cni';
import type { CniResult } from '../cni/types';
import { checkResult, type CheckResult, type DiffItem } from './types';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface CniResultPair {
  /** `namespace/pod` */
  pod: string;
  model: unknown;
  /** The plugin's stdout (JSON text) or the parsed object; undefined when the node kept none. */
  real: unknown;
  /** Where the real result was read from. */
  source?: string;
}

const VETH_NAME = /^(veth|cali|lxc|tap)[0-9a-z]*$/i;

function isObj(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/** Why a field is set aside, or undefined when it is compared. */
function setAside(path: string[], root: Record<string, Json>, model: unknown, real: unknown): string | undefined {
  const last = path[path.length - 1];
  if (path[0] === 'interfaces' && last === 'mac') return 'MAC addresses are random per interface';
  if (path[0] === 'interfaces' && last === 'name' && path.length === 3) {
    const iface = (root.interfaces as Json[])?.[Number(path[1])];
    const hostSide = isObj(iface) && iface.sandbox === undefined;
    if (hostSide && typeof model === 'string' && typeof real === 'string' && VETH_NAME.test(model) && VETH_NAME.test(real)) return 'host veth names are chosen at random by the plugin';
  }
  return undefined;
}

function walk(model: unknown, real: unknown, path: string[], root: Record<string, Json>, out: DiffItem[], pod: string, count: { n: number }): void {
  const where = `${pod} ${path.length ? path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p)).join('') : '(result)'}`;
  if (Array.isArray(model) && Array.isArray(real)) {
    const n = Math.max(model.length, real.length);
    for (let i = 0; i < n; i++) walk(model[i], real[i], [...path, String(i)], root, out, pod, count);
    return;
  }
  if (isObj(model) && isObj(real)) {
    const keys = [...new Set([...Object.keys(model), ...Object.keys(real)])];
    for (const k of keys) walk(model[k], real[k], [...path, k], root, out, pod, count);
    return;
  }
  count.n++;
  if (JSON.stringify(model) === JSON.stringify(real)) return;
  const aside = setAside(path, root, model, real);
  if (aside) return;
  const kind = model === undefined ? 'extra' : real === undefined ? 'missing' : 'changed';
  out.push({ kind, where, model: model === undefined ? undefined : show(model), real: real === undefined ? undefined : show(real), explanation: describe(path, model, real), explained: false });
}

function describe(path: string[], model: unknown, real: unknown): string {
  const field = path.join('.');
  if (path[0] === 'ips' && path[2] === 'address') return `the plugin assigned ${show(real)}, the model ${show(model)}`;
  if (path[0] === 'ips' && path[2] === 'gateway') return `the gateway differs: the pod's routes point at ${show(real)} on the node, ${show(model)} in the model`;
  if (path[0] === 'ips' && path[2] === 'interface') return 'the address is on another interface of the result list';
  if (path[0] === 'routes') return 'the routes the plugin reports differ';
  if (path[0] === 'cniVersion') return 'the result is in another CNI spec version (fields are spelled differently between 0.x and 1.x)';
  if (model === undefined) return `${field} is in the plugin's result but not in the model's`;
  if (real === undefined) return `${field} is in the model's result but the plugin did not return it`;
  return `${field} differs`;
}

export function compareCniResults(pairs: readonly CniResultPair[]): CheckResult {
  const items: DiffItem[] = [];
  const count = { n: 0 };
  const notes: string[] = ['MAC addresses and host veth names are set aside'];
  for (const p of pairs) {
    let real: unknown = p.real;
    if (typeof real === 'string') {
      try {
        real = JSON.parse(real);
      } catch (e) {
        items.push({ kind: 'changed', where: p.pod, explanation: `the plugin's result${p.source ? ` (${p.source})` : ''} is not JSON: ${(e as Error).message}`, explained: false });
        continue;
      }
    }
    if (real === undefined || real === null) {
      items.push({ kind: 'missing', where: p.pod, model: JSON.stringify(p.model), explanation: `no CNI result was kept for ${p.pod}${p.source ? ` (looked for ${p.source})` : ''}`, explained: false });
      continue;
    }
    if (isObj(real) && real.kind === 'cniCacheV1' && isObj(real.result)) {
      notes.push(`${p.pod}: read from libcni's cache (/var/lib/cni/results), its "result" field compared`);
      real = real.result;
    }
    if (!isObj(real)) {
      items.push({ kind: 'changed', where: p.pod, explanation: 'the plugin\'s result is not a JSON object', explained: false });
      continue;
    }
    walk(p.model, real, [], real as Record<string, Json>, items, p.pod, count);
  }
  return checkResult('cni', items, count.n, `CNI ADD results of ${pairs.length} pod(s), field by field`, notes);
}

export class CniConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CniConfigError';
  }
}

/**
 * What the containernetworking `ptp` or `bridge` plugin with `host-local`
 * IPAM returns for ADD, from its network config (the JSON given on stdin) and
 * the pod: the address is the pod IP with the range's prefix, the gateway is
 * the range's `gateway` or its first address, routes are the IPAM section's.
 * MACs and the host veth name are placeholders (compare sets them aside).
 */
export function expectedPluginResult(netconf: Record<string, unknown>, pod: { ip: string; ip6?: string; sandbox: string; ifname?: string }): CniResult {
  const type = netconf.type;
  const cniVersion = String(netconf.cniVersion ?? '0.4.0');
  const ipam = (netconf.ipam ?? {}) as Record<string, unknown>;
  if (ipam.type !== 'host-local') throw new CniConfigError(`IPAM type ${String(ipam.type)} is not modelled (host-local is)`);
  const ranges = ipam.ranges as { subnet: string; gateway?: string }[][] | undefined;
  const range = ranges?.[0]?.[0] ?? (ipam.subnet ? { subnet: String(ipam.subnet), gateway: ipam.gateway as string | undefined } : undefined);
  if (!range) throw new CniConfigError('the IPAM section has no range (ranges[0][0].subnet)');
  const subnet = Cidr.parse(range.subnet);
  const gateway = range.gateway ?? formatIP(subnet.nth(1));
  if (!parseIP(pod.ip)) throw new CniConfigError(`pod address ${pod.ip} is not an IP`);
  const address = `${pod.ip}/${subnet.prefix}`;
  // host-local allocates once per range set, in order (dual-stack: an IPv4 set, then an IPv6 set)
  const more: { address: string; gateway: string }[] = [];
  for (const [i, set] of (ranges ?? []).slice(1).entries()) {
    const r = set[0];
    if (!r) throw new CniConfigError(`range set ${i + 1} of the IPAM section is empty`);
    const sub = Cidr.parse(r.subnet);
    const ip = [pod.ip6, pod.ip].find((a) => a && parseIP(a) && sub.contains(parseIP(a)!));
    if (!ip) throw new CniConfigError(`no address of the pod is inside range set ${i + 1} (${r.subnet})`);
    more.push({ address: `${ip}/${sub.prefix}`, gateway: r.gateway ?? formatIP(sub.nth(1)) });
  }
  const ipamRoutes: ResultRoute[] = ((ipam.routes ?? []) as { dst: string; gw?: string }[]).map((r) => (r.gw ? { dst: r.dst, gw: r.gw } : { dst: r.dst }));
  const container = { ifname: pod.ifname ?? 'eth0', mac: '', sandbox: pod.sandbox };
  let result: CniResult;
  if (type === 'ptp') result = ptpPluginResult({ cniVersion, hostVeth: { name: 'veth', mac: '' }, container, address, gateway, ipamRoutes });
  else if (type === 'bridge') {
    result = bridgePluginResult({
      cniVersion,
      bridge: { name: String(netconf.bridge ?? 'cni0'), mac: '' },
      hostVeth: { name: 'veth', mac: '' },
      container,
      address,
      gateway,
      ipamRoutes,
      isDefaultGateway: netconf.isDefaultGateway === true,
    });
  } else throw new CniConfigError(`CNI plugin type ${String(type)} is not modelled here (ptp and bridge are)`);
  if (more.length) {
    // every range set's address, on the same interface as the first (the plugin's result lists them in range-set order)
    const ips = result.ips as Record<string, unknown>[];
    const routes = (result.routes ?? []) as Record<string, unknown>[];
    const iface = Number(ips[0].interface);
    for (const m of more) {
      const extra = formatCniResult(cniVersion, { interfaces: [], ips: [{ interface: iface, address: m.address, gateway: m.gateway }], routes: [] });
      ips.push(...(extra.ips as Record<string, unknown>[]));
      // the bridge plugin's isDefaultGateway adds a default route per address
      if (type === 'bridge' && netconf.isDefaultGateway === true) routes.push({ dst: m.address.includes(':') ? '::/0' : '0.0.0.0/0', gw: m.gateway });
    }
    if (routes.length) result.routes = routes;
  }
  return result;
}
