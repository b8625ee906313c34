// CNI ADD results in the shape each spec version prints (libcni types/040
// for 0.3.x/0.4.0, types/100 for 1.0.0): key order, `version` only before
// 1.0.0, `interface` index, `routes` and `interfaces` omitted when empty,
// `dns` always present (a Go struct, so `{}` when empty). Plugins print the
// result with json.MarshalIndent(…, "", "    ") and no trailing newline.

import type { CniResult } from './types';

export interface ResultInterface {
  name: string;
  mac?: string;
  /** Only printed for 1.x results (types/100 carries it); dropped by 0.x conversion. */
  mtu?: number;
  sandbox?: string;
}

export interface ResultIP {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface ResultRoute {
  dst: string;
  gw?: string;
}

export interface ResultParts {
  interfaces: ResultInterface[];
  ips: ResultIP[];
  routes: ResultRoute[];
}

function isV1(cniVersion: string): boolean {
  return /^1\./.test(cniVersion);
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function formatCniResult(cniVersion: string, parts: ResultParts): CniResult {
  const v1 = isV1(cniVersion);
  const out: CniResult = { cniVersion };
  if (parts.interfaces.length) {
    out.interfaces = parts.interfaces.map((i) => clean({ name: i.name, mac: i.mac, mtu: v1 ? i.mtu : undefined, sandbox: i.sandbox }));
  }
  if (parts.ips.length) {
    out.ips = parts.ips.map((ip) =>
      clean({
        version: v1 ? undefined : ip.address.includes(':') ? '6' : '4',
        interface: ip.interface,
        address: ip.address,
        gateway: ip.gateway,
      }),
    );
  }
  if (parts.routes.length) out.routes = parts.routes.map((r) => clean({ dst: r.dst, gw: r.gw }));
  out.dns = {};
  return out;
}

/** The result as the plugin prints it on stdout. */
export function printCniResult(result: CniResult): string {
  return JSON.stringify(result, null, 4);
}

/** containernetworking/plugins `bridge` with host-local IPAM (flannel's delegate). */
export function bridgePluginResult(args: {
  cniVersion: string;
  bridge: { name: string; mac: string };
  hostVeth: { name: string; mac: string };
  container: { ifname: string; mac: string; sandbox: string };
  address: string;
  gateway: string;
  /** Routes from the IPAM section, in order (host-local returns them without gateways). */
  ipamRoutes: ResultRoute[];
  /** isDefaultGateway: the plugin appends 0.0.0.0/0 via the gateway. */
  isDefaultGateway: boolean;
}): CniResult {
  const routes = [...args.ipamRoutes];
  if (args.isDefaultGateway) routes.push({ dst: '0.0.0.0/0', gw: args.gateway });
  return formatCniResult(args.cniVersion, {
    interfaces: [
      { name: args.bridge.name, mac: args.bridge.mac },
      { name: args.hostVeth.name, mac: args.hostVeth.mac },
      { name: args.container.ifname, mac: args.container.mac, sandbox: args.container.sandbox },
    ],
    ips: [{ interface: 2, address: args.address, gateway: args.gateway }],
    routes,
  });
}

/** containernetworking/plugins `ptp` with host-local IPAM. */
export function ptpPluginResult(args: {
  cniVersion: string;
  hostVeth: { name: string; mac: string };
  container: { ifname: string; mac: string; sandbox: string };
  address: string;
  gateway: string;
  ipamRoutes: ResultRoute[];
}): CniResult {
  return formatCniResult(args.cniVersion, {
    interfaces: [
      { name: args.hostVeth.name, mac: args.hostVeth.mac },
      { name: args.container.ifname, mac: args.container.mac, sandbox: args.container.sandbox },
    ],
    ips: [{ interface: 1, address: args.address, gateway: args.gateway }],
    routes: args.ipamRoutes,
  });
}
