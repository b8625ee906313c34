// Cluster settings: the seed's defaults, the `cluster:` section of a
// Topology file, `--set key=value` overrides, and their validation.

import { tryParseCidr, parseIP, type Cidr } from '../net';
import { CNI_MODES, type ClusterSettings, type CniPlugin, type Diagnostic, type IpvsScheduler, type KubeProxyMode } from './types';

/** The seed's cluster: Calico BGP, 10.244.0.0/16 pods, 10.96.0.0/12 services, nodes on 10.0.0.0/16. */
export function defaultSettings(): ClusterSettings {
  return {
    name: 'cluster',
    cni: { plugin: 'calico', mode: 'bgp', natOutgoing: true, encryption: false },
    clusterCIDRs: ['10.244.0.0/16'],
    serviceCIDRs: ['10.96.0.0/12'],
    nodeCIDRs: ['10.0.0.0/16'],
    nodeCIDRMaskSize: { v4: 24, v6: 64 },
    blockSize: { v4: 26, v6: 122 },
    firstNodeCIDRIndex: 1,
    podIPOffset: defaultPodIPOffset('calico', 'bgp'),
    nodeMTU: 1500,
    kubeProxy: { mode: 'iptables', ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 },
    dns: { clusterDomain: 'cluster.local', ndots: 5, nodeLocalDNS: false, nodeLocalIP: '169.254.20.10', ttl: 30 },
    mesh: { enabled: false },
    conntrack: { max: 131072 },
  };
}

/**
 * Offset of the first pod address inside a node's pod CIDR, per CNI:
 * - Calico (calico-ipam) hands out addresses from the start of the node's
 *   block, network address included (a block is not an L2 subnet); in
 *   VXLAN/IPIP modes the node's tunnel device (vxlan.calico / tunl0) takes the
 *   first address, so pods start at offset 1; in BGP mode at offset 0.
 * - host-local (Flannel's cni0 bridge, Antrea's antrea-gw0, Weave's bridge)
 *   keeps the network address, gives .1 to the gateway: pods start at .2.
 * - Cilium cluster-pool gives one address to cilium_host (the router IP; the
 *   real allocator picks it at random, the lab takes .1): pods start at .2.
 */
export function defaultPodIPOffset(plugin: CniPlugin, mode: string): number {
  if (plugin === 'calico') return calicoTunnelled(mode) ? 1 : 0;
  return 2;
}

export function calicoTunnelled(mode: string): boolean {
  return mode.startsWith('vxlan') || mode.startsWith('ipip');
}

export const CNI_PLUGINS = Object.keys(CNI_MODES) as CniPlugin[];
export const KUBE_PROXY_MODES: readonly KubeProxyMode[] = ['iptables', 'ipvs', 'ebpf'];
export const IPVS_SCHEDULERS: readonly IpvsScheduler[] = ['rr', 'lc', 'dh', 'sh'];

/** Parses `calico-vxlan`, `calico-ipip-crosssubnet`, `flannel` (default mode). */
export function parseCni(text: string): { plugin: CniPlugin; mode: string } | string {
  const t = text.trim().toLowerCase();
  const dash = t.indexOf('-');
  const plugin = (dash < 0 ? t : t.slice(0, dash)) as CniPlugin;
  if (!CNI_PLUGINS.includes(plugin)) {
    return `unknown CNI plugin "${dash < 0 ? t : t.slice(0, dash)}"; valid: ${validCniNames().join(', ')}`;
  }
  const mode = dash < 0 ? CNI_MODES[plugin][0] : t.slice(dash + 1);
  if (!CNI_MODES[plugin].includes(mode)) {
    return `unknown ${plugin} mode "${mode}"; valid: ${CNI_MODES[plugin].map((m) => `${plugin}-${m}`).join(', ')}`;
  }
  return { plugin, mode };
}

export function validCniNames(): string[] {
  return CNI_PLUGINS.flatMap((p) => CNI_MODES[p].map((m) => `${p}-${m}`));
}

// ---------------------------------------------------------------------------
// Setting keys, shared by `--set key=value` and the Topology `cluster:` section.

type Setter = (s: ClusterSettings, v: unknown) => string | undefined;

function asBool(v: unknown): boolean | string {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return 'expected true or false';
}

function asInt(v: unknown, min: number, max: number): number | string {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n)) return `expected an integer between ${min} and ${max}`;
  if (n < min || n > max) return `${n} is out of range: expected ${min}..${max}`;
  return n;
}

function asStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function asCidrList(v: unknown, what: string): string[] | string {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : null;
  if (!list || list.length === 0) return `expected a CIDR or a list of CIDRs (one per IP family) for ${what}`;
  if (list.length > 2) return `${what} takes at most two CIDRs (one IPv4 and one IPv6)`;
  const out: string[] = [];
  for (const x of list) {
    if (typeof x !== 'string') return `expected CIDR strings in ${what}`;
    const c = tryParseCidr(x);
    if (!c) return `"${x}" is not a CIDR (expected e.g. 10.244.0.0/16 or fd00:10:244::/56)`;
    if (c.hostBitsSet) return `"${x}" has host bits set; did you mean ${c.text}?`;
    out.push(c.text);
  }
  if (out.length === 2 && tryParseCidr(out[0])!.family === tryParseCidr(out[1])!.family) {
    return `${what} lists two CIDRs of the same IP family; dual-stack takes one IPv4 and one IPv6 CIDR`;
  }
  return out;
}

function setMaskPair(field: 'nodeCIDRMaskSize' | 'blockSize', fam?: 'v4' | 'v6'): Setter {
  return (s, v) => {
    if (fam) {
      const n = asInt(v, fam === 'v4' ? 8 : 8, fam === 'v4' ? 32 : 128);
      if (typeof n === 'string') return n;
      s[field][fam] = n;
      return undefined;
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) if (k !== 'v4' && k !== 'v6') return `unknown key "${k}" (expected v4 and/or v6)`;
      if (o.v4 !== undefined) {
        const n = asInt(o.v4, 8, 32);
        if (typeof n === 'string') return `v4: ${n}`;
        s[field].v4 = n;
      }
      if (o.v6 !== undefined) {
        const n = asInt(o.v6, 8, 128);
        if (typeof n === 'string') return `v6: ${n}`;
        s[field].v6 = n;
      }
      return undefined;
    }
    const n = asInt(v, 8, 32);
    if (typeof n === 'string') return `${n} (or {v4: N, v6: M})`;
    s[field].v4 = n;
    return undefined;
  };
}

function setCni(s: ClusterSettings, v: unknown): string | undefined {
  if (typeof v === 'string') {
    const c = parseCni(v);
    if (typeof c === 'string') return c;
    s.cni.plugin = c.plugin;
    s.cni.mode = c.mode;
    return undefined;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['plugin', 'mode', 'mtu', 'natOutgoing', 'encryption', 'l7Proxy'].includes(k)) {
        return `unknown key "${k}" in cni (valid: plugin, mode, mtu, natOutgoing, encryption, l7Proxy)`;
      }
    }
    const plugin = asStr(o.plugin);
    if (!plugin) return 'cni.plugin is required (e.g. calico)';
    const c = parseCni(o.mode !== undefined ? `${plugin}-${String(o.mode)}` : plugin);
    if (typeof c === 'string') return c;
    s.cni.plugin = c.plugin;
    s.cni.mode = c.mode;
    for (const k of ['mtu', 'natOutgoing', 'encryption', 'l7Proxy'] as const) {
      if (o[k] !== undefined) {
        const e = SETTERS[`cni.${k}`](s, o[k]);
        if (e) return `${k}: ${e}`;
      }
    }
    return undefined;
  }
  return `expected "<plugin>-<mode>" (one of ${validCniNames().join(', ')}) or {plugin, mode, mtu, natOutgoing}`;
}

function setKubeProxy(s: ClusterSettings, v: unknown): string | undefined {
  if (typeof v === 'string') return SETTERS['kubeProxy.mode'](s, v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys: Record<string, string> = { mode: 'kubeProxy.mode', scheduler: 'kubeProxy.scheduler', masqueradeAll: 'kubeProxy.masqueradeAll', masqueradeBit: 'kubeProxy.masqueradeBit' };
    for (const k of Object.keys(o)) {
      if (!keys[k]) return `unknown key "${k}" in kubeProxy (valid: ${Object.keys(keys).join(', ')})`;
      const e = SETTERS[keys[k]](s, o[k]);
      if (e) return `${k}: ${e}`;
    }
    return undefined;
  }
  return `expected one of ${KUBE_PROXY_MODES.join(', ')} or {mode, scheduler, masqueradeAll}`;
}

const SETTERS: Record<string, Setter> = {
  name: (s, v) => {
    const t = asStr(v);
    if (!t) return 'expected a name';
    s.name = t;
    return undefined;
  },
  cni: setCni,
  'cni.plugin': (s, v) => setCni(s, { plugin: v, mode: CNI_MODES[v as CniPlugin]?.[0] }),
  'cni.mode': (s, v) => setCni(s, `${s.cni.plugin}-${String(v)}`),
  'cni.mtu': (s, v) => {
    const n = asInt(v, 576, 9216);
    if (typeof n === 'string') return n;
    s.cni.mtu = n;
    return undefined;
  },
  'cni.natOutgoing': (s, v) => {
    const b = asBool(v);
    if (typeof b === 'string') return b;
    s.cni.natOutgoing = b;
    return undefined;
  },
  'cni.encryption': (s, v) => {
    const b = asBool(v);
    if (typeof b === 'string') return b;
    s.cni.encryption = b;
    return undefined;
  },
  'cni.l7Proxy': (s, v) => {
    const b = asBool(v);
    if (typeof b === 'string') return b;
    s.cni.l7Proxy = b;
    return undefined;
  },
  clusterCIDR: (s, v) => {
    const l = asCidrList(v, 'clusterCIDR');
    if (typeof l === 'string') return l;
    s.clusterCIDRs = l;
    return undefined;
  },
  serviceCIDR: (s, v) => {
    const l = asCidrList(v, 'serviceCIDR');
    if (typeof l === 'string') return l;
    s.serviceCIDRs = l;
    return undefined;
  },
  nodeCIDR: (s, v) => {
    const l = asCidrList(v, 'nodeCIDR');
    if (typeof l === 'string') return l;
    s.nodeCIDRs = l;
    return undefined;
  },
  nodeCIDRMaskSize: setMaskPair('nodeCIDRMaskSize'),
  'nodeCIDRMaskSize.v4': setMaskPair('nodeCIDRMaskSize', 'v4'),
  'nodeCIDRMaskSize.v6': setMaskPair('nodeCIDRMaskSize', 'v6'),
  blockSize: setMaskPair('blockSize'),
  'blockSize.v4': setMaskPair('blockSize', 'v4'),
  'blockSize.v6': setMaskPair('blockSize', 'v6'),
  firstNodeCIDRIndex: (s, v) => {
    const n = asInt(v, 0, 1 << 20);
    if (typeof n === 'string') return n;
    s.firstNodeCIDRIndex = n;
    return undefined;
  },
  podIPOffset: (s, v) => {
    const n = asInt(v, 0, 1 << 20);
    if (typeof n === 'string') return n;
    s.podIPOffset = n;
    return undefined;
  },
  nodeMTU: (s, v) => {
    const n = asInt(v, 576, 9216);
    if (typeof n === 'string') return n;
    s.nodeMTU = n;
    return undefined;
  },
  kubeProxy: setKubeProxy,
  'kubeProxy.mode': (s, v) => {
    if (!KUBE_PROXY_MODES.includes(v as KubeProxyMode)) return `expected one of ${KUBE_PROXY_MODES.join(', ')}`;
    s.kubeProxy.mode = v as KubeProxyMode;
    return undefined;
  },
  'kubeProxy.scheduler': (s, v) => {
    if (!IPVS_SCHEDULERS.includes(v as IpvsScheduler)) return `expected one of ${IPVS_SCHEDULERS.join(', ')}`;
    s.kubeProxy.ipvsScheduler = v as IpvsScheduler;
    return undefined;
  },
  'kubeProxy.masqueradeAll': (s, v) => {
    const b = asBool(v);
    if (typeof b === 'string') return b;
    s.kubeProxy.masqueradeAll = b;
    return undefined;
  },
  'kubeProxy.masqueradeBit': (s, v) => {
    const n = asInt(v, 0, 31);
    if (typeof n === 'string') return n;
    s.kubeProxy.masqueradeBit = n;
    return undefined;
  },
  clusterDomain: (s, v) => {
    const t = asStr(v);
    if (!t || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(t)) return 'expected a DNS domain such as cluster.local';
    s.dns.clusterDomain = t;
    return undefined;
  },
  ndots: (s, v) => {
    const n = asInt(v, 0, 15);
    if (typeof n === 'string') return n;
    s.dns.ndots = n;
    return undefined;
  },
  nodeLocalDNS: (s, v) => {
    const b = asBool(v);
    if (typeof b === 'string') return b;
    s.dns.nodeLocalDNS = b;
    return undefined;
  },
  nodeLocalIP: (s, v) => {
    const t = asStr(v);
    if (!t || !parseIP(t)) return 'expected an IP address (NodeLocal DNSCache listens on 169.254.20.10 by default)';
    s.dns.nodeLocalIP = t;
    return undefined;
  },
  dnsTTL: (s, v) => {
    const n = asInt(v, 0, 3600);
    if (typeof n === 'string') return n;
    s.dns.ttl = n;
    return undefined;
  },
  mesh: (s, v) => {
    const b = asBool(v);
    if (typeof b === 'string') return b;
    s.mesh.enabled = b;
    return undefined;
  },
  conntrackMax: (s, v) => {
    const n = asInt(v, 1, 1 << 30);
    if (typeof n === 'string') return n;
    s.conntrack.max = n;
    return undefined;
  },
};

/** Short spellings accepted by `--set`. */
const ALIASES: Record<string, string> = {
  mtu: 'cni.mtu',
  natOutgoing: 'cni.natOutgoing',
  encryption: 'cni.encryption',
  l7Proxy: 'cni.l7Proxy',
  ipvsScheduler: 'kubeProxy.scheduler',
  masqueradeAll: 'kubeProxy.masqueradeAll',
  clusterCIDRs: 'clusterCIDR',
  serviceCIDRs: 'serviceCIDR',
  nodeCIDRs: 'nodeCIDR',
};

/** Every key `--set` and the `cluster:` section accept. */
export const SETTING_KEYS: readonly string[] = Object.keys(SETTERS);

export function resolveSettingKey(key: string): string | undefined {
  if (SETTERS[key]) return key;
  return ALIASES[key];
}

/**
 * Applies one setting. Returns an error text, or undefined. When the CNI
 * changes and the pod IP offset still has the old CNI's default, the offset
 * follows the new CNI (callers that set both pass `keepOffset`).
 */
export function applySetting(s: ClusterSettings, key: string, value: unknown, keepOffset = false): string | undefined {
  const k = resolveSettingKey(key);
  if (!k) return `unknown setting "${key}"; valid keys: ${SETTING_KEYS.join(', ')}`;
  const before = { plugin: s.cni.plugin, mode: s.cni.mode, offset: s.podIPOffset };
  const err = SETTERS[k](s, value);
  if (err) return err;
  if (!keepOffset && (s.cni.plugin !== before.plugin || s.cni.mode !== before.mode) && before.offset === defaultPodIPOffset(before.plugin, before.mode)) {
    s.podIPOffset = defaultPodIPOffset(s.cni.plugin, s.cni.mode);
  }
  return undefined;
}

/** `--set key=value` overrides (value parsed as text). Every bad entry is one error diagnostic. */
export function applySetOverrides(s: ClusterSettings, set: string[], opts: { keepPodIPOffset?: boolean } = {}): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const setsOffset = opts.keepPodIPOffset === true || set.some((e) => e.split('=')[0].trim() === 'podIPOffset');
  for (const entry of set) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      diags.push({
        severity: 'error',
        code: 'set-syntax',
        message: `--set "${entry}" is not key=value`,
        path: entry,
        hint: `Write --set key=value, e.g. --set cni=calico-vxlan. Valid keys: ${SETTING_KEYS.join(', ')}`,
      });
      continue;
    }
    const key = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    if (!resolveSettingKey(key)) {
      diags.push({
        severity: 'error',
        code: 'set-unknown-key',
        message: `--set: unknown key "${key}"`,
        path: key,
        hint: `Valid keys: ${SETTING_KEYS.join(', ')}`,
      });
      continue;
    }
    const err = applySetting(s, key, value, setsOffset);
    if (err) {
      diags.push({
        severity: 'error',
        code: 'set-invalid-value',
        message: `--set ${key}=${value}: ${err}`,
        path: key,
        hint: key === 'cni' ? `Valid values: ${validCniNames().join(', ')}` : undefined,
      });
      if (diags[diags.length - 1].hint === undefined) delete diags[diags.length - 1].hint;
    }
  }
  return diags;
}

/** Parsed CIDRs of the settings, by family. */
export interface SettingsCidrs {
  cluster: Cidr[];
  service: Cidr[];
  node: Cidr[];
}

export function settingsCidrs(s: ClusterSettings): SettingsCidrs {
  const p = (l: string[]) => l.map((x) => tryParseCidr(x)).filter((c): c is Cidr => !!c);
  return { cluster: p(s.clusterCIDRs), service: p(s.serviceCIDRs), node: p(s.nodeCIDRs) };
}
