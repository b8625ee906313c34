// The root network namespace must not change: snapshots of its addresses,
// routes and links before and after, and the check between them.

import { Cidr } from '../../../core/net';
import { parseIpLinkJson, parseIpRouteJson, routePrefix } from '../../../core/parse';
import { run } from './exec';

export interface RootSnapshot {
  /** `ifname local/prefixlen`, both families (`ip -j addr show` lists IPv4 and IPv6 addresses). */
  addresses: string[];
  /** `table dst type gateway dev` for IPv4 and IPv6 (`ip -6 route show table all`), all tables. */
  routes: string[];
  links: string[];
}

export async function rootSnapshot(): Promise<RootSnapshot> {
  const [addr, r4, r6] = await Promise.all([
    run('ip', ['-j', 'addr', 'show'], { what: 'read the root namespace addresses' }),
    run('ip', ['-4', '-j', 'route', 'show', 'table', 'all'], { what: 'read the root namespace routes' }),
    run('ip', ['-6', '-j', 'route', 'show', 'table', 'all'], { what: 'read the root namespace IPv6 routes' }),
  ]);
  const links = parseIpLinkJson(addr.stdout).records;
  const routes = [...parseIpRouteJson(r4.stdout).records, ...parseIpRouteJson(r6.stdout).records];
  return {
    addresses: links.flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)),
    routes: routes.map((r) => `${r.table ?? 'main'} ${routePrefix(r)} ${r.type} ${r.gateway ?? '-'} ${r.dev ?? '-'}`),
    links: links.map((l) => l.ifname),
  };
}

const OUR_LINK = /^(nl-|cali|veth|cni0$|br0$|flannel[.-]|vxlan(-v6)?\.calico$)/;

/** Lists what changed in the root namespace that belongs to the test-bed's ranges or naming. Empty = untouched. */
export function checkRootUntouched(before: RootSnapshot, after: RootSnapshot, ranges: string[]): string[] {
  const cidrs = ranges.map((r) => Cidr.tryParse(r)).filter((c): c is Cidr => c !== null);
  const inRanges = (prefix: string): boolean => {
    const c = Cidr.tryParse(prefix);
    return !!c && cidrs.some((r) => r.family === c.family && r.overlaps(c));
  };
  const out: string[] = [];
  const b = { a: new Set(before.addresses), r: new Set(before.routes), l: new Set(before.links) };
  for (const a of after.addresses) if (!b.a.has(a) && inRanges(a.split(' ')[1])) out.push(`new address in the root namespace: ${a}`);
  for (const r of after.routes) {
    if (b.r.has(r)) continue;
    const [, prefix, , gw] = r.split(' ');
    if (inRanges(prefix) || (gw !== '-' && inRanges(gw.includes(':') ? `${gw}/128` : `${gw}/32`))) out.push(`new route in the root namespace: ${r}`);
  }
  for (const l of after.links) if (!b.l.has(l) && OUR_LINK.test(l)) out.push(`new interface in the root namespace: ${l}`);
  return out;
}
