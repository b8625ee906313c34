// Calico-style data plane: Kubernetes NetworkPolicies compiled to the
// iptables filter chains and ipsets felix programs on each node, an
// iptables-save / ipset list renderer, and a walker that runs a packet
// through the generated rules to a verdict.
//
// Layout followed (projectcalico/calico felix/rules, read via the search tool):
// - chains cali-FORWARD, cali-INPUT, cali-OUTPUT, cali-from-wl-dispatch,
//   cali-to-wl-dispatch, cali-wl-to-host, per endpoint cali-tw-<iface>
//   (to workload = ingress) and cali-fw-<iface> (from workload = egress), per
//   policy cali-pi-<id> / cali-po-<id>, per namespace profile cali-pri-kns.<ns>
//   / cali-pro-kns.<ns>, per service account cali-pri-ksa.<ns>.<sa>;
// - marks (IptablesMarkMask 0xffff0000): accept 0x10000, pass 0x20000,
//   scratch0 0x40000, scratch1 0x80000;
// - chain names longer than 28 characters become prefix + "_" + the first
//   characters of base64url(sha256(id)) (hashutils.GetLengthLimitedID);
// - every rule carries `-m comment --comment "cali:<16 chars>"`, the
//   chained sha224 rule hash of Chain.RuleHashes (reproduced exactly: see
//   calico.test.ts, which checks hashes seen on real nodes);
// - interface names: "cali" + the first 11 hex characters of
//   sha1("<namespace>.<pod>") (libcalico-go VethNameForWorkload);
// - ipsets "cali40" + id, truncated to 31 characters; selector sets use id
//   "s:" + base64url(sha224("s:" + selector)) (hash.MakeUniqueID).
//
// Approximations (stated, not hidden):
// - the selector strings hashed into ipset ids follow libcalico-go's
//   k8sSelectorToCalico conversion but not felix's normalisation, so set
//   names have the real shape but will not byte-match a live node;
// - policy chain ids use the Calico 3.2x policy name "<ns>/knp.default.<name>"
//   (Calico 3.30+ hashes "KubernetesNetworkPolicy/<ns>/<name>" instead);
// - policies are always inlined in the endpoint chains (felix groups
//   consecutive policies with identical selectors into cali-gi-/cali-go- chains);
// - dispatch chains are split as felix splits them: by the character after
//   the interface names' common prefix, groups in child chains
//   (cali-from-wl-dispatch-<char>), checked against a real node's hashes;
// - the static chains follow felix 3.2x (rules/static.go), checked against
//   real nodes' hashes: FORWARD gets the cali-FORWARD jump inserted and
//   "Policy explicitly accepted packet." + MARK appended after kube-proxy's
//   rules (hashed as "FORWARD*appends*"), cali-FORWARD ends in
//   cali-cidr-block, cali-INPUT/cali-OUTPUT carry the host-endpoint hooks and
//   the IPIP (all-hosts-net) or VXLAN (all-vxlan-net) host-to-host rules;
//   the IPv6 VXLAN rules' comments ("Allow IPv6 VXLAN packets from allowed
//   hosts") mirror the IPv4 ones without a real node to check them against;
// - kube-proxy in IPVS mode (felix's KubeIPVSSupportEnabled, see ipvsChains):
//   cali-INPUT's endpoint-mark rules and cali-forward-check, cali-OUTPUT's
//   goto cali-forward-endpoint-mark, cali-set-endpoint-mark (split like the
//   dispatch chains) with one cali-sm-<iface> per workload,
//   cali-from-endpoint-mark and the cali40this-host set; endpoint marks are
//   felix's FNV-1 positions in the 0xfff00000 field (felix-marks.ts). Hashes
//   and lines checked against a real IPVS-mode node (felix-ipvs.test.ts);
// - WireGuard (settings.cni.encryption): cali-INPUT / cali-OUTPUT accept UDP
//   51820 (ip6tables: 51821 on dual-stack) to / from local addresses, and
//   the WireGuard mark bit 0x100000 narrows the endpoint field to
//   0xffe00000. The raw table's cali-wireguard-incoming-mark exists only
//   with WireguardHostEncryptionEnabled (off by default): not rendered;
// - felix's raw, mangle and nat tables (cali-PREROUTING with the strict
//   rpfilter check on workload traffic, cali-OUTPUT, mangle cali-POSTROUTING
//   with the IPVS endpoint-mark RETURN, nat cali-POSTROUTING with the tunnel
//   MASQUERADE and cali-nat-outgoing, the all/masq-ipam-pools sets) come from
//   felix-tables.ts (NodeRules.tables); iptablesSave prints all four tables,
//   walk() runs the filter table only.
//
// IPv6 (family 6): felix renders the same chains into ip6tables
// (rules.PolicyToIptablesChains(…, ipVersion)): the same chain names and
// endpoint/profile rules (so the same rule hashes), ipsets "cali60" + id
// created with `family inet6`, ipBlock CIDRs filtered per family
// (FilterRuleToIPVersion: a rule whose only nets are of the other family is
// not rendered), and cali-wl-to-host starts with felix's ICMPv6Filter
// (`-p 58 -m icmp6 --icmpv6-type` 130, 131, 132, 133, 135, 136 → ACCEPT: MLD,
// router and neighbour solicitation/advertisement from workloads to the host,
// ahead of egress policy). Those ICMPv6 rules are only on the INPUT path: in
// iptables mode felix adds none to cali-fw-/cali-tw- or cali-FORWARD.

import { Cidr, canonicalIP, compareIP, parseIP } from '../net';
import { selectorMatches } from '../model/labels';
import type { ClusterSettings, LabelSelector, NetworkPolicyModel, NetworkPolicyPeer, NodeModel, PodModel, Protocol } from '../model/types';
import { base64RawUrl, concatBytes, hex, sha1, sha224, sha256 } from '../hash';
import { nodeReservedAddresses } from '../ipam';
import { CALICO_WIREGUARD_PORT, CALICO_WIREGUARD_PORT_V6 } from '../cni';
import { endpointMarks, felixMarks, type FelixMarks } from './felix-marks';
import { felixTables, type FelixTable } from './felix-tables';
import { BUILTIN_CHAINS, SAVE_TABLE_ORDER } from '../dataplane';
import {
  buildContext,
  effectiveTypes,
  namespaceLabels,
  parseIpBlock,
  podKey,
  queryFamily,
  resolveEndpoint,
  rulesOf,
  type PolicyContext,
  type PolicyTopology,
} from './semantics';
import { PolicyInputError, type Direction, type Endpoint, type ReachQuery } from './types';

/** The tables felix writes in the iptables data plane. */
export type CalicoTable = 'raw' | 'mangle' | 'filter' | 'nat';
export const CALICO_TABLES: readonly CalicoTable[] = ['raw', 'mangle', 'filter', 'nat'];

export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;
export const MARK_SCRATCH0 = 0x40000;
export const MARK_SCRATCH1 = 0x80000;
const MAX_CHAIN = 28;
const MAX_IPSET = 31;

// ---------------------------------------------------------------------------
// Rules

export type Match =
  | { k: 'in'; iface: string }
  | { k: 'out'; iface: string }
  | { k: 'proto'; proto: string }
  /** `-m conntrack [!] --ctstate …`. */
  | { k: 'ctstate'; states: string; neg?: boolean }
  /** `-m addrtype [!] --src-type / --dst-type LOCAL [--limit-iface-out]`. */
  | { k: 'addrtype'; dir: 'src' | 'dst'; type: 'LOCAL'; neg?: boolean; limitIfaceOut?: boolean }
  /** `-m rpfilter --validmark --invert` (raw/mangle PREROUTING only): the reverse-path lookup, with the packet's mark, failed. */
  | { k: 'rpfilter'; validmark: boolean; invert: boolean }
  /** `-m mark [!] --mark value/mask`. */
  | { k: 'mark'; value: number; mask: number; neg?: boolean }
  /** `-m set [!] --match-set name src|dst`. */
  | { k: 'set'; name: string; dir: 'src' | 'dst'; neg?: boolean }
  | { k: 'portset'; name: string }
  | { k: 'src'; cidr: string }
  | { k: 'dst'; cidr: string }
  | { k: 'dports'; ranges: [number, number][] }
  /** `-m icmp6 --icmpv6-type N` (ip6tables only). */
  | { k: 'icmp6'; type: number };

export type Action =
  | { k: 'jump'; target: string }
  | { k: 'goto'; target: string }
  | { k: 'ACCEPT' }
  | { k: 'DROP' }
  | { k: 'RETURN' }
  | { k: 'mark'; value: number; mask: number }
  /** `-j MASQUERADE [--random-fully]` (nat POSTROUTING). */
  | { k: 'MASQUERADE'; randomFully: boolean }
  /** A rule with no target (felix writes one to carry a chain comment). */
  | { k: 'none' };

export interface Rule {
  matches: Match[];
  action: Action;
  comments: string[];
  /** The "cali:" rule hash (filled when the chain is finished). */
  hash?: string;
}

export interface Chain {
  name: string;
  rules: Rule[];
  /**
   * Built-in chains: the index from which felix's rules are appended (at the
   * end of the chain, after kube-proxy's) rather than inserted at the top;
   * their hashes are computed over "<chain>*appends*" as felix does.
   */
  appendFrom?: number;
}

const hx = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function portsText(ranges: [number, number][]): string {
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(',');
}

/** Felix's own rendering of a match (iptables/match_builder.go), used for hashing. */
function felixMatch(m: Match): string {
  switch (m.k) {
    case 'in':
      return `--in-interface ${m.iface}`;
    case 'out':
      return `--out-interface ${m.iface}`;
    case 'proto':
      return `-p ${m.proto}`;
    case 'ctstate':
      return `-m conntrack ${m.neg ? '! ' : ''}--ctstate ${m.states}`;
    case 'addrtype':
      return `-m addrtype ${m.neg ? '! ' : ''}--${m.dir}-type ${m.type}${m.limitIfaceOut ? ' --limit-iface-out' : ''}`;
    case 'rpfilter':
      // felix's RPFCheckFailed writes --invert before --validmark (checked: the raw cali-PREROUTING hash of a real node).
      return `-m rpfilter${m.invert ? ' --invert' : ''}${m.validmark ? ' --validmark' : ''}`;
    case 'mark':
      return `-m mark ${m.neg ? '! ' : ''}--mark ${m.value === 0 ? '0' : hx(m.value)}/${hx(m.mask)}`;
    case 'set':
      return `-m set ${m.neg ? '! ' : ''}--match-set ${m.name} ${m.dir}`;
    case 'portset':
      return `-m set --match-set ${m.name} dst,dst`;
    case 'src':
      return `--source ${m.cidr}`;
    case 'dst':
      return `--destination ${m.cidr}`;
    case 'dports':
      return `-m multiport --destination-ports ${portsText(m.ranges)}`;
    case 'icmp6':
      return `-m icmp6 --icmpv6-type ${m.type}`;
  }
}

function felixAction(a: Action): string {
  switch (a.k) {
    case 'jump':
      return `--jump ${a.target}`;
    case 'goto':
      return `--goto ${a.target}`;
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      return `--jump ${a.k}`;
    case 'mark':
      return `--jump MARK --set-mark ${a.value === 0 ? '0' : hx(a.value)}/${hx(a.mask)}`;
    case 'MASQUERADE':
      // felix's MasqAction adds --random-fully when the iptables and kernel support it (Features.MASQFullyRandom).
      return `--jump MASQUERADE${a.randomFully ? ' --random-fully' : ''}`;
    case 'none':
      return '';
  }
}

/** Felix Rule.RenderAppend(chain, "HASH"): what Chain.RuleHashes hashes. */
export function felixRenderForHash(chain: string, r: Rule): string {
  const parts = ['-A', chain, 'HASH'];
  for (const c of r.comments) parts.push(`-m comment --comment "${c}"`);
  const m = r.matches.map(felixMatch).join(' ');
  if (m) parts.push(m);
  const act = felixAction(r.action);
  if (act) parts.push(act);
  return parts.join(' ');
}

/** felix iptables Chain.RuleHashes: sha224 chained over the chain name and each rendered rule. */
export function ruleHashes(chain: string, renderedRules: string[]): string[] {
  let h = sha224(chain);
  return renderedRules.map((r) => {
    h = sha224(concatBytes(h, new TextEncoder().encode(r)));
    return base64RawUrl(h).slice(0, 16);
  });
}

function finish(c: Chain): Chain {
  const hashes = ruleHashes(c.name, c.rules.map((r) => felixRenderForHash(c.name, r)));
  c.rules.forEach((r, i) => (r.hash = hashes[i]));
  return c;
}

/** Fills each rule's "cali:" hash (felix Chain.RuleHashes); the chain is returned. */
export const finishChain = finish;

/**
 * felix's workload dispatch chains (rules/dispatch.go): the interface names,
 * sorted, are grouped by the character after their longest common prefix;
 * a group of one gets its own rule in the root chain, a larger group a
 * `-i <prefix>+` goto into a child chain "<root>-<char>" with one rule per
 * interface. Every chain ends in "Unknown interface" DROP.
 */
export function dispatchChains(root: string, dir: 'in' | 'out', target: string, ifaces: string[]): Chain[] {
  const unknown = (): Rule[] => [{ matches: [], action: { k: 'DROP' }, comments: ['Unknown interface'] }];
  return prefixDispatch(root, dir, target, ifaces, unknown, unknown);
}

/**
 * dispatch.go's buildSingleDispatchChains over sortAndDivideEndpointNamesToPrefixTree:
 * `rootEnd` / `childEnd` make the rules that close the root and each child chain.
 */
function prefixDispatch(root: string, dir: 'in' | 'out', target: string, ifaces: string[], rootEnd: () => Rule[], childEnd: () => Rule[]): Chain[] {
  const names = [...new Set(ifaces)].sort();
  const direct = (i: string): Rule => ({ matches: [{ k: dir, iface: i }], action: { k: 'goto', target: lengthLimitedId(target, i, MAX_CHAIN) }, comments: [] });
  if (names.length < 2) return [finish({ name: root, rules: [...names.map(direct), ...rootEnd()] })];
  let lcp = names[0];
  for (const n of names) while (!n.startsWith(lcp)) lcp = lcp.slice(0, -1);
  const groups = new Map<string, string[]>();
  for (const n of names) {
    const next = n.slice(lcp.length, lcp.length + 1);
    groups.set(next, [...(groups.get(next) ?? []), n]);
  }
  const rules: Rule[] = [];
  const children: Chain[] = [];
  for (const next of [...groups.keys()].sort()) {
    const members = groups.get(next)!;
    if (members.length === 1) {
      rules.push(direct(members[0]));
      continue;
    }
    const child = `${root}-${next}`;
    rules.push({ matches: [{ k: dir, iface: `${lcp}${next}+` }], action: { k: 'goto', target: child }, comments: [] });
    children.push(finish({ name: child, rules: [...members.map(direct), ...childEnd()] }));
  }
  return [finish({ name: root, rules: [...rules, ...rootEnd()] }), ...children];
}

/**
 * A built-in chain felix both inserts into (top) and appends to (end): the
 * appended rules are hashed as the chain "<name>*appends*" (felix
 * Table.expectedHashesForInsertAppendChain), so they get other hashes than
 * the same rules inserted would.
 */
function finishInsertAppend(name: string, inserted: Rule[], appended: Rule[]): Chain {
  finish({ name, rules: inserted });
  const an = `${name}*appends*`;
  const hashes = ruleHashes(an, appended.map((r) => felixRenderForHash(an, r)));
  appended.forEach((r, i) => (r.hash = hashes[i]));
  return { name, rules: [...inserted, ...appended], appendFrom: inserted.length };
}

/** iptables-save's quoting of comments (xtables_save_string). */
function saveString(s: string): string {
  if (/^[_\-0-9A-Za-z]+$/.test(s)) return s;
  return `"${s.replace(/(["\\'])/g, '\\$1')}"`;
}

function cidrText(c: string): string {
  return c.includes('/') ? c : c.includes(':') ? `${c}/128` : `${c}/32`;
}

/** saveRule, memoised per rule object (a finished chain's rules do not change; walks print the same rules over and over). */
const savedTexts = new WeakMap<Rule, string>();
function savedRule(chain: string, r: Rule): string {
  let t = savedTexts.get(r);
  if (t === undefined) {
    t = saveRule(chain, r);
    savedTexts.set(r, t);
  }
  return t;
}

/** One rule as iptables-save prints it: generic fields (-s -d -i -o -p) first, then matches in order, then the target. */
export function saveRule(chain: string, r: Rule): string {
  const parts = ['-A', chain];
  for (const m of r.matches) if (m.k === 'src') parts.push('-s', cidrText(m.cidr));
  for (const m of r.matches) if (m.k === 'dst') parts.push('-d', cidrText(m.cidr));
  for (const m of r.matches) if (m.k === 'in') parts.push('-i', m.iface);
  for (const m of r.matches) if (m.k === 'out') parts.push('-o', m.iface);
  const protoName: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '4': 'ipencap', '1': 'icmp', '58': 'ipv6-icmp' };
  for (const m of r.matches) if (m.k === 'proto') parts.push('-p', protoName[m.proto] ?? m.proto);
  if (r.hash) parts.push('-m', 'comment', '--comment', saveString(`cali:${r.hash}`));
  for (const c of r.comments) parts.push('-m', 'comment', '--comment', saveString(c));
  for (const m of r.matches) {
    switch (m.k) {
      case 'ctstate':
        parts.push('-m', 'conntrack', ...(m.neg ? ['!'] : []), '--ctstate', m.states);
        break;
      case 'addrtype':
        parts.push('-m', 'addrtype', ...(m.neg ? ['!'] : []), `--${m.dir}-type`, m.type, ...(m.limitIfaceOut ? ['--limit-iface-out'] : []));
        break;
      case 'rpfilter':
        // libxt_rpfilter's save order: --loose, --validmark, --accept-local, --invert.
        parts.push('-m', 'rpfilter', ...(m.validmark ? ['--validmark'] : []), ...(m.invert ? ['--invert'] : []));
        break;
      case 'mark':
        parts.push('-m', 'mark', ...(m.neg ? ['!'] : []), '--mark', `${hx(m.value)}/${hx(m.mask)}`);
        break;
      case 'set':
        parts.push('-m', 'set', ...(m.neg ? ['!'] : []), '--match-set', m.name, m.dir);
        break;
      case 'portset':
        parts.push('-m', 'set', '--match-set', m.name, 'dst,dst');
        break;
      case 'dports':
        parts.push('-m', 'multiport', '--dports', portsText(m.ranges));
        break;
      case 'icmp6':
        parts.push('-m', 'icmp6', '--icmpv6-type', String(m.type));
        break;
      default:
        break;
    }
  }
  const a = r.action;
  if (a.k === 'jump') parts.push('-j', a.target);
  else if (a.k === 'goto') parts.push('-g', a.target);
  else if (a.k === 'mark') parts.push('-j', 'MARK', '--set-xmark', `${hx(a.value)}/${hx(a.mask | a.value)}`);
  else if (a.k === 'MASQUERADE') parts.push('-j', 'MASQUERADE', ...(a.randomFully ? ['--random-fully'] : []));
  else if (a.k !== 'none') parts.push('-j', a.k);
  return parts.join(' ');
}

// ---------------------------------------------------------------------------
// Names

/** hashutils.GetLengthLimitedID */
export function lengthLimitedId(prefix: string, suffix: string, maxLen: number): string {
  if (suffix.length === 0) suffix = '_';
  const total = prefix.length + suffix.length;
  if (total > maxLen || (total === maxLen && suffix[0] === '_')) {
    const h = base64RawUrl(sha256(suffix));
    return `${prefix}_${h.slice(0, maxLen - 1 - prefix.length)}`;
  }
  return prefix + suffix;
}

/** libcalico-go VethNameForWorkload: "cali" + sha1("<namespace>.<pod>")[:11]. */
export function calicoInterfaceName(namespace: string, pod: string): string {
  return `cali${hex(sha1(`${namespace}.${pod}`)).slice(0, 11)}`;
}

/** Calico 3.2x policy id of a Kubernetes NetworkPolicy. */
export function calicoPolicyId(p: NetworkPolicyModel): string {
  return `${p.namespace}/knp.default.${p.name}`;
}

export function policyChainName(p: NetworkPolicyModel, dir: Direction): string {
  return lengthLimitedId(dir === 'Ingress' ? 'cali-pi-' : 'cali-po-', calicoPolicyId(p), MAX_CHAIN);
}

/** hash.MakeUniqueID(prefix, content) */
export function makeUniqueId(prefix: string, content: string): string {
  return `${prefix}:${base64RawUrl(sha224(`${prefix}:${content}`))}`;
}

/** felix IPVersionConfig.NameForMainIPSet: "cali40" (IPv4) or "cali60" (IPv6) + id, at most 31 characters. */
export function ipsetName(id: string, family: CalicoFamily = 4): string {
  return `cali${family}0${id}`.slice(0, MAX_IPSET);
}

/** libcalico-go k8sSelectorToCalico */
export function k8sSelectorToCalico(s: LabelSelector | undefined, type: 'pod' | 'namespace'): string {
  const parts: string[] = [];
  if (type === 'pod') parts.push("projectcalico.org/orchestrator == 'k8s'");
  if (!s) return parts.join(' && ');
  const ml = s.matchLabels ?? {};
  const me = s.matchExpressions ?? [];
  if (type === 'namespace' && Object.keys(ml).length === 0 && me.length === 0) return 'all()';
  const prefix = type === 'namespace' ? 'pcns.' : '';
  for (const k of Object.keys(ml).sort()) parts.push(`${prefix}${k} == '${ml[k]}'`);
  for (const e of me) {
    const vals = (e.values ?? []).join("', '");
    if (e.operator === 'In') parts.push(`${prefix}${e.key} in { '${vals}' }`);
    else if (e.operator === 'NotIn') parts.push(`${prefix}${e.key} not in { '${vals}' }`);
    else if (e.operator === 'Exists') parts.push(`has(${prefix}${e.key})`);
    else parts.push(`! has(${prefix}${e.key})`);
  }
  return parts.join(' && ');
}

/** The combined selector felix turns a pod/namespace peer into (approximate normal form). */
export function peerSelectorString(peer: NetworkPolicyPeer, policyNs: string): string {
  const pod = k8sSelectorToCalico(peer.podSelector, 'pod');
  const ns = peer.namespaceSelector ? k8sSelectorToCalico(peer.namespaceSelector, 'namespace') : `projectcalico.org/namespace == '${policyNs}'`;
  return `(${pod}) && (${ns})`;
}

// ---------------------------------------------------------------------------
// IP sets

export type CalicoFamily = 4 | 6;

export interface IpSet {
  name: string;
  type: 'hash:net' | 'hash:ip' | 'hash:ip,port';
  /** `family inet` (4) or `family inet6` (6). */
  family: CalicoFamily;
  /** What it stands for (selector text), for explanations. */
  selector: string;
  members: Set<string>;
}

// ---------------------------------------------------------------------------
// felix configuration

/** What the model's felix runs with: Calico 3.2x defaults, plus what the topology's settings switch on. */
export interface FelixSettings {
  /**
   * KubeIPVSSupportEnabled: felix turns it on when kube-ipvs0 exists, i.e. when kube-proxy runs in IPVS
   * mode (settings.kubeProxy.mode "ipvs").
   */
  kubeIPVS: boolean;
  /** WireguardEnabled (settings.cni.encryption on Calico). */
  wireguardV4: boolean;
  /** WireguardEnabledV6: encryption on a dual-stack Calico cluster (wg-v6.cali). */
  wireguardV6: boolean;
  /** WireguardListeningPort / WireguardListeningPortV6 (defaults). */
  wireguardPort: number;
  wireguardPortV6: number;
  /** KubeNodePortRanges (default 30000:32767). */
  nodePortRanges: [number, number][];
  /** The mark bits allocated from IptablesMarkMask 0xffff0000 (the WireGuard bit shifts the endpoint field). */
  marks: FelixMarks;
}

export interface CalicoDataplaneOptions {
  /**
   * The addresses on a node's host interfaces (felix's this-host set, used in kube-proxy IPVS mode): a caller
   * that has the node's interfaces (core/cni) passes them; the default is loopback, the node's InternalIPs
   * and the Calico tunnel address.
   */
  hostAddresses?: (node: string, family: CalicoFamily) => string[];
}

/** felix's settings for a topology; a bare PolicyTopology (no settings) gets felix's defaults (iptables mode, no WireGuard). */
export function felixSettings(topology: PolicyTopology): FelixSettings {
  const s = (topology as { settings?: Partial<ClusterSettings> }).settings;
  const calico = s?.cni?.plugin === undefined || s.cni.plugin === 'calico';
  const wg = calico && !!s?.cni?.encryption;
  // felix enables IPv6 WireGuard where the node has an IPv6 data plane (core/cni's calicoIPv6: an IPv6 address
  // inside an IPv6 node CIDR and an IPv6 pod CIDR).
  const v6Nets = (s?.nodeCIDRs ?? []).map((c) => Cidr.tryParse(c)).filter((c): c is Cidr => !!c && c.family === 6);
  const dual = (topology.nodes ?? []).some((n) => {
    const nm = n as Partial<NodeModel> & { ips: string[] };
    const a = nm.ips.map((ip) => parseIP(ip)).find((x) => x?.family === 6);
    return !!a && v6Nets.some((c) => c.contains(a)) && (nm.podCIDRs ?? []).some((c) => c.includes(':'));
  });
  return {
    kubeIPVS: calico && s?.kubeProxy?.mode === 'ipvs',
    wireguardV4: wg,
    wireguardV6: wg && dual,
    wireguardPort: CALICO_WIREGUARD_PORT,
    wireguardPortV6: CALICO_WIREGUARD_PORT_V6,
    nodePortRanges: [[30000, 32767]],
    marks: felixMarks(wg),
  };
}

/**
 * felix's kube-proxy IPVS support (rules/static.go, dispatch.go, endpoints.go; KubeIPVSSupportEnabled, on
 * when kube-ipvs0 exists). A packet to a virtual service is local, so it meets cali-INPUT, not cali-FORWARD;
 * IPVS then sends the translated packet out through LOCAL_OUT (cali-OUTPUT). felix bridges the two with
 * the endpoint mark:
 * - cali-forward-check (from cali-INPUT): established → RETURN; a NodePort (30000:32767 TCP/UDP) on one of
 *   the host's addresses (cali40this-host) or any destination that is not the host's (a ClusterIP:
 *   kube-ipvs0 is excluded from this-host) → cali-set-endpoint-mark;
 * - cali-set-endpoint-mark: the incoming interface's cali-sm-<iface> chain sets its endpoint mark; an
 *   unknown cali+ interface is dropped; any other interface gets the non-Calico-endpoint mark;
 * - cali-OUTPUT sends packets with an endpoint mark to cali-forward-endpoint-mark (goto): the source
 *   endpoint's egress chain by its mark (cali-from-endpoint-mark → cali-fw-<iface>), the destination
 *   workload's ingress chain (cali-to-wl-dispatch), then the endpoint mark is cleared and the packet
 *   accepted if policy set the accept mark.
 */
export function ipvsChains(ifaces: string[], felix: FelixSettings, thisHost: string): Chain[] {
  const { marks, nodePortRanges } = felix;
  const epMask = marks.endpoint;
  const epMarks = endpointMarks(ifaces, marks);
  const chains: Chain[] = [];
  const nodePortRules: Rule[] = [];
  for (const split of splitPortRanges(nodePortRanges)) {
    for (const proto of ['tcp', 'udp'])
      nodePortRules.push({
        matches: [{ k: 'proto', proto }, { k: 'dports', ranges: split }, { k: 'set', name: thisHost, dir: 'dst' }],
        action: { k: 'goto', target: 'cali-set-endpoint-mark' },
        comments: ['To kubernetes NodePort service'],
      });
  }
  chains.push(
    finish({
      name: 'cali-forward-check',
      rules: [
        { matches: [{ k: 'ctstate', states: 'RELATED,ESTABLISHED' }], action: { k: 'RETURN' }, comments: [] },
        ...nodePortRules,
        { matches: [{ k: 'set', name: thisHost, dir: 'dst', neg: true }], action: { k: 'jump', target: 'cali-set-endpoint-mark' }, comments: ['To kubernetes service'] },
      ],
    }),
  );
  chains.push(
    finish({
      name: 'cali-forward-endpoint-mark',
      rules: [
        { matches: [{ k: 'mark', value: marks.nonCaliEndpoint, mask: epMask, neg: true }], action: { k: 'jump', target: 'cali-from-endpoint-mark' }, comments: [] },
        { matches: [{ k: 'out', iface: 'cali+' }], action: { k: 'jump', target: 'cali-to-wl-dispatch' }, comments: [] },
        { matches: [], action: { k: 'jump', target: 'cali-to-hep-forward' }, comments: [] },
        { matches: [], action: { k: 'mark', value: 0, mask: epMask }, comments: [] },
        { matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'ACCEPT' }, comments: ['Policy explicitly accepted packet.'] },
      ],
    }),
  );
  // The set-mark dispatch: the same prefix tree as the workload dispatch chains, into cali-sm-<iface>; the child
  // chains have no end rules (endpointMarkDispatchChains passes nil), the root ends in the unknown-endpoint drop
  // and the non-Calico mark.
  chains.push(
    ...prefixDispatch(
      'cali-set-endpoint-mark',
      'in',
      'cali-sm-',
      ifaces,
      () => [
        { matches: [{ k: 'in', iface: 'cali+' }], action: { k: 'DROP' }, comments: ['Unknown endpoint'] },
        { matches: [], action: { k: 'mark', value: marks.nonCaliEndpoint, mask: epMask }, comments: ['Non-Cali endpoint mark'] },
      ],
      () => [],
    ),
  );
  for (const i of [...ifaces].sort()) {
    const m = epMarks.get(i);
    chains.push(finish({ name: lengthLimitedId('cali-sm-', i, MAX_CHAIN), rules: m ? [{ matches: [], action: { k: 'mark', value: m, mask: epMask }, comments: [] }] : [] }));
  }
  chains.push(
    finish({
      name: 'cali-from-endpoint-mark',
      rules: [
        ...[...ifaces]
          .sort()
          .filter((i) => epMarks.has(i))
          .map((i): Rule => ({ matches: [{ k: 'mark', value: epMarks.get(i)!, mask: epMask }], action: { k: 'goto', target: lengthLimitedId('cali-fw-', i, MAX_CHAIN) }, comments: [] })),
        { matches: [], action: { k: 'DROP' }, comments: ['Unknown interface'] },
      ],
    }),
  );
  return chains;
}

/**
 * felix's WireGuard host rules (FilterInputChainAllowWG, filterOutputChain): cali-INPUT accepts UDP to the
 * WireGuard port on a local address, cali-OUTPUT UDP to it from a local address — 51820 for IPv4
 * (wireguard.cali), 51821 for IPv6 (wg-v6.cali, dual-stack) in ip6tables. No drop rule: WireGuard itself
 * only accepts its peers. (The raw table's cali-wireguard-incoming-mark is programmed only with
 * WireguardHostEncryptionEnabled, off by default, and so is not rendered.)
 */
export function wireguardHostRules(fx: FelixSettings, family: CalicoFamily): { input: Rule[]; output: Rule[] } {
  const on = family === 6 ? fx.wireguardV6 : fx.wireguardV4;
  if (!on) return { input: [], output: [] };
  const port = family === 6 ? fx.wireguardPortV6 : fx.wireguardPort;
  const v = family === 6 ? 'IPv6' : 'IPv4';
  const udp: Match[] = [{ k: 'proto', proto: '17' }, { k: 'dports', ranges: [[port, port]] }];
  return {
    input: [{ matches: [...udp, { k: 'addrtype', dir: 'dst', type: 'LOCAL' }], action: { k: 'ACCEPT' }, comments: [`Allow incoming ${v} Wireguard packets`] }],
    output: [{ matches: [...udp, { k: 'addrtype', dir: 'src', type: 'LOCAL' }], action: { k: 'ACCEPT' }, comments: [`Allow outgoing ${v} Wireguard packets`] }],
  };
}

/** felix SplitPortList: at most 15 multiport slots per rule, a range taking two. */
function splitPortRanges(ranges: [number, number][]): [number, number][][] {
  const out: [number, number][][] = [];
  let slots = 0;
  for (const r of ranges) {
    const need = r[0] === r[1] ? 1 : 2;
    if (out.length === 0 || slots < need) {
      out.push([]);
      slots = 15;
    }
    out[out.length - 1].push(r);
    slots -= need;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Compilation

export interface NodeRules {
  node: string;
  /** iptables (4) or ip6tables (6). */
  family: CalicoFamily;
  /** The filter table (what walk() runs). */
  chains: Map<string, Chain>;
  /** felix's raw, mangle and nat tables (felix-tables.ts). */
  tables: Record<FelixTable, Map<string, Chain>>;
  /** Every set the node's rules reference, and felix's pool sets (all-ipam-pools, masq-ipam-pools). */
  ipsets: Map<string, IpSet>;
  /** local workload interfaces: iface -> pod */
  endpoints: Map<string, PodModel>;
}

interface CalicoRule {
  protocol: string | null;
  ports: [number, number][];
  named: string[];
  selector?: string;
  peerPods?: PodModel[];
  nets: string[];
  notNets: string[];
  /** Rule has no peers at all (any source/destination). */
  any: boolean;
}

/** What felix renders for one IP version: the ipsets, the policy chains (shared by all nodes) and each node's filter table. */
interface FamilyPlane {
  ipsets: Map<string, IpSet>;
  /** Policy chains, shared by all nodes (felix programs a policy chain where an endpoint uses it). */
  policyChains: Map<string, Chain>;
  nodes: Map<string, NodeRules>;
}

/** felix ICMPv6Filter: ICMPv6 a workload may always send to its host (MLD 130-132, router solicitation 133, neighbour solicitation/advertisement 135/136). */
const ICMPV6_WORKLOAD_TO_HOST_TYPES = [130, 131, 132, 133, 135, 136] as const;

export class CalicoDataplane {
  readonly ctx: PolicyContext;
  /** The IPv4 (cali40…) sets; see ipsetsFor(6) for the IPv6 ones. */
  readonly ipsets: Map<string, IpSet>;
  private readonly planes = new Map<CalicoFamily, FamilyPlane>();
  private readonly nodeNames: string[];
  /** What felix is configured with (kube-proxy IPVS support, WireGuard, mark bits), from the topology's settings. */
  readonly felix: FelixSettings;
  private readonly hostAddresses?: (node: string, family: CalicoFamily) => string[];

  constructor(topology: PolicyTopology, opts: CalicoDataplaneOptions = {}) {
    this.ctx = buildContext(topology);
    this.felix = felixSettings(topology);
    this.hostAddresses = opts.hostAddresses;
    const names = new Set<string>((topology.nodes ?? []).map((n) => n.name));
    for (const p of topology.pods) if (p.nodeName) names.add(p.nodeName);
    this.nodeNames = [...names].sort();
    this.ipsets = this.plane(4).ipsets;
  }

  /** The family's ipsets, policy chains and nodes, compiled on first use. */
  private plane(family: CalicoFamily): FamilyPlane {
    const hit = this.planes.get(family);
    if (hit) return hit;
    const pl: FamilyPlane = { ipsets: new Map(), policyChains: new Map(), nodes: new Map() };
    this.planes.set(family, pl);
    for (const p of this.ctx.topology.networkPolicies) {
      const t = effectiveTypes(p);
      for (const dir of ['Ingress', 'Egress'] as const) {
        if (dir === 'Ingress' ? !t.ingress : !t.egress) continue;
        const ch = this.compilePolicyChain(p, dir, family, pl);
        pl.policyChains.set(ch.name, ch);
      }
    }
    return pl;
  }


  private podsMatchingPeer(peer: NetworkPolicyPeer, policyNs: string): PodModel[] {
    return this.ctx.topology.pods.filter((pod) => {
      if (pod.hostNetwork || pod.ips.length === 0) return false;
      if (peer.namespaceSelector) {
        if (!selectorMatches(peer.namespaceSelector, namespaceLabels(this.ctx, pod.namespace))) return false;
      } else if (pod.namespace !== policyNs) return false;
      return !peer.podSelector || selectorMatches(peer.podSelector, pod.labels);
    });
  }

  private selectorSet(selector: string, pods: PodModel[], family: CalicoFamily, pl: FamilyPlane): string {
    const name = ipsetName(makeUniqueId('s', selector), family);
    if (!pl.ipsets.has(name)) {
      const members = new Set<string>();
      for (const p of pods) for (const ip of familyIPs(p.ips, family)) members.add(ip);
      pl.ipsets.set(name, { name, type: 'hash:net', family, selector, members });
    }
    return name;
  }

  /** Named-port set: pods (matching `pods`) with a container port called `name` of `protocol`. */
  private namedPortSet(name: string, protocol: string, selector: string, pods: PodModel[], family: CalicoFamily, pl: FamilyPlane): string {
    const setName = ipsetName(makeUniqueId('n', `${protocol}:${name}|${selector}`), family);
    if (!pl.ipsets.has(setName)) {
      const members = new Set<string>();
      const proto = protocol.toUpperCase() as Protocol;
      for (const p of pods) {
        const cp = p.ports.find((c) => c.name === name && c.protocol === proto);
        if (!cp) continue;
        for (const ip of familyIPs(p.ips, family)) members.add(`${ip},${protocol}:${cp.containerPort}`);
      }
      pl.ipsets.set(setName, { name: setName, type: 'hash:ip,port', family, selector: `${selector} named port ${name}/${protocol}`, members });
    }
    return setName;
  }

  /** libcalico-go k8sRuleToCalico: one Calico rule per (protocol, peer). */
  private toCalicoRules(p: NetworkPolicyModel, peers: NetworkPolicyPeer[] | undefined, ports: { protocol?: Protocol; port?: number | string; endPort?: number }[] | undefined): CalicoRule[] {
    const protoPorts = new Map<string, { ports: [number, number][]; named: string[]; all: boolean }>();
    let anyProto = false;
    for (const pe of ports ?? []) {
      const proto = (pe.protocol ?? 'TCP').toLowerCase();
      let e = protoPorts.get(proto);
      if (!e) {
        e = { ports: [], named: [], all: false };
        protoPorts.set(proto, e);
      }
      if (pe.port === undefined || pe.port === null) e.all = true;
      else if (typeof pe.port === 'number') e.ports.push([pe.port, pe.endPort ?? pe.port]);
      else e.named.push(pe.port);
    }
    if (!ports || ports.length === 0) anyProto = true;
    const protos = anyProto ? [null] : [...protoPorts.keys()].sort();
    const out: CalicoRule[] = [];
    for (const proto of protos) {
      const e = proto ? protoPorts.get(proto)! : null;
      const pp: [number, number][] = e && !e.all ? e.ports : [];
      const named = e && !e.all ? e.named : [];
      const peerList: (NetworkPolicyPeer | null)[] = peers && peers.length ? peers : [null];
      for (const peer of peerList) {
        const r: CalicoRule = { protocol: proto, ports: pp, named, nets: [], notNets: [], any: peer === null };
        if (peer?.ipBlock) {
          const b = parseIpBlock(this.ctx, peer);
          if (!b) continue;
          r.nets = [b.cidr.text];
          r.notNets = b.except.map((x) => x.text);
        } else if (peer) {
          r.selector = peerSelectorString(peer, p.namespace);
          r.peerPods = this.podsMatchingPeer(peer, p.namespace);
        }
        out.push(r);
      }
    }
    return out;
  }

  private compilePolicyChain(p: NetworkPolicyModel, dir: Direction, family: CalicoFamily, pl: FamilyPlane): Chain {
    const name = policyChainName(p, dir);
    const rules: Rule[] = [];
    const src = dir === 'Ingress';
    for (const kr of rulesOf(p, dir)) {
      for (const cr0 of this.toCalicoRules(p, kr.peers, kr.ports)) {
        // felix FilterRuleToIPVersion: only this family's nets; a rule whose nets are all of the other family is not rendered
        const nets = cr0.nets.filter((n) => netFamily(n) === family);
        if (cr0.nets.length && !nets.length) continue;
        const notNets = cr0.notNets.filter((n) => netFamily(n) === family);
        if (cr0.notNets.length && !notNets.length) continue;
        const cr: CalicoRule = { ...cr0, nets, notNets };
        const blocks: Rule[] = [];
        let usingBlocks = false;
        const initial = (bits: number): void => {
          if (usingBlocks) return;
          blocks.push({ matches: [], action: { k: 'mark', value: bits, mask: MARK_SCRATCH0 | MARK_SCRATCH1 }, comments: [] });
          usingBlocks = true;
        };
        const main: Match[] = [];
        if (cr.protocol) main.push({ k: 'proto', proto: cr.protocol });
        // Named ports (dst): each is a (IP,port) set; numeric ports go in multiport.
        const namedSets = cr.named.map((n) => {
          // Ingress: the destination is the local endpoint (any workload); egress: the peer.
          const pods = src ? this.ctx.topology.pods.filter((x) => !x.hostNetwork) : cr.peerPods ?? this.ctx.topology.pods.filter((x) => !x.hostNetwork);
          const sel = src ? 'all()' : cr.selector ?? 'all()';
          return this.namedPortSet(n, cr.protocol ?? 'tcp', sel, pods, family, pl);
        });
        const portSplits = splitPortRanges(cr.ports);
        let portsInBlock = false;
        if (portSplits.length + namedSets.length > 1) {
          portsInBlock = true;
          initial(0);
          // The port block is the first (and only) positive block, so it writes the all-blocks bit directly.
          const mark = MARK_SCRATCH0;
          for (const split of portSplits) blocks.push({ matches: [{ k: 'proto', proto: cr.protocol! }, { k: 'dports', ranges: split }], action: { k: 'mark', value: mark, mask: mark }, comments: [] });
          for (const s of namedSets) blocks.push({ matches: [{ k: 'portset', name: s }], action: { k: 'mark', value: mark, mask: mark }, comments: [] });
        }
        // CIDRs: one positive net fits in the main rule; except entries need a negated block.
        const netMatch = (cidr: string): Match => (src ? { k: 'src', cidr } : { k: 'dst', cidr });
        if (cr.nets.length === 1 && cr.notNets.length > 0) {
          initial(MARK_SCRATCH0);
          for (const nn of cr.notNets) blocks.push({ matches: [netMatch(nn)], action: { k: 'mark', value: 0, mask: MARK_SCRATCH0 }, comments: [] });
        }
        if (cr.nets.length === 1) main.push(netMatch(cr.nets[0]));
        if (cr.selector) main.push({ k: 'set', name: this.selectorSet(cr.selector, cr.peerPods ?? [], family, pl), dir: src ? 'src' : 'dst' });
        if (!portsInBlock) {
          if (cr.ports.length) main.push({ k: 'dports', ranges: cr.ports });
          for (const s of namedSets) main.push({ k: 'portset', name: s });
        }
        if (usingBlocks) main.push({ k: 'mark', value: MARK_SCRATCH0, mask: MARK_SCRATCH0 });
        rules.push(...blocks);
        rules.push({ matches: main, action: { k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }, comments: [] });
        rules.push({ matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'RETURN' }, comments: [] });
      }
    }
    // ProtoRulesToIptablesRules: strip trailing RETURNs, comment the first rule with the policy name.
    while (rules.length && rules[rules.length - 1].action.k === 'RETURN') rules.pop();
    if (rules.length === 0) rules.push({ matches: [], action: { k: 'none' }, comments: [] });
    rules[0].comments.push(`Policy ${calicoPolicyId(p)} ${dir === 'Ingress' ? 'ingress' : 'egress'}`);
    return finish({ name, rules });
  }

  private profileChains(pod: PodModel): Chain[] {
    const mk = (name: string, comment: string, allow: boolean): Chain => {
      // The namespace profile allows everything; felix strips the trailing RETURN.
      const rules: Rule[] = allow
        ? [{ matches: [], action: { k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }, comments: [comment] }]
        : [{ matches: [], action: { k: 'none' }, comments: [comment] }];
      return finish({ name, rules });
    };
    const ns = pod.namespace;
    const sa = `ksa.${ns}.${pod.serviceAccountName || 'default'}`;
    return [
      mk(lengthLimitedId('cali-pri-', `kns.${ns}`, MAX_CHAIN), `Profile kns.${ns} ingress`, true),
      mk(lengthLimitedId('cali-pro-', `kns.${ns}`, MAX_CHAIN), `Profile kns.${ns} egress`, true),
      mk(lengthLimitedId('cali-pri-', sa, MAX_CHAIN), `Profile ${sa} ingress`, false),
      mk(lengthLimitedId('cali-pro-', sa, MAX_CHAIN), `Profile ${sa} egress`, false),
    ];
  }

  private endpointChain(pod: PodModel, iface: string, dir: Direction): Chain {
    const ingress = dir === 'Ingress';
    const name = lengthLimitedId(ingress ? 'cali-tw-' : 'cali-fw-', iface, MAX_CHAIN);
    const rules: Rule[] = [
      { matches: [{ k: 'ctstate', states: 'RELATED,ESTABLISHED' }], action: { k: 'ACCEPT' }, comments: [] },
      { matches: [{ k: 'ctstate', states: 'INVALID' }], action: { k: 'DROP' }, comments: [] },
      { matches: [], action: { k: 'mark', value: 0, mask: MARK_ACCEPT | MARK_PASS }, comments: [] },
    ];
    if (!ingress) {
      rules.push({ matches: [{ k: 'proto', proto: '17' }, { k: 'dports', ranges: [[4789, 4789]] }], action: { k: 'DROP' }, comments: ['Drop VXLAN encapped packets originating in workloads'] });
      rules.push({ matches: [{ k: 'proto', proto: '4' }], action: { k: 'DROP' }, comments: ['Drop IPinIP encapped packets originating in workloads'] });
    }
    const pols = this.ctx.policies.filter((p) => {
      const t = effectiveTypes(p);
      return (ingress ? t.ingress : t.egress) && p.namespace === pod.namespace && selectorMatches(p.podSelector, pod.labels);
    });
    // Felix orders policies in a tier by order then name; all Kubernetes policies have order 1000.
    pols.sort((a, b) => (calicoPolicyId(a) < calicoPolicyId(b) ? -1 : calicoPolicyId(a) > calicoPolicyId(b) ? 1 : 0));
    if (pols.length) {
      rules.push({ matches: [], action: { k: 'mark', value: 0, mask: MARK_PASS }, comments: ['Start of tier default'] });
      for (const p of pols) {
        rules.push({ matches: [{ k: 'mark', value: 0, mask: MARK_PASS }], action: { k: 'jump', target: policyChainName(p, dir) }, comments: [] });
        rules.push({ matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'RETURN' }, comments: ['Return if policy accepted'] });
      }
      rules.push({ matches: [{ k: 'mark', value: 0, mask: MARK_PASS }], action: { k: 'DROP' }, comments: ['Drop if no policies passed packet'] });
    }
    const sa = `ksa.${pod.namespace}.${pod.serviceAccountName || 'default'}`;
    for (const prof of [`kns.${pod.namespace}`, sa]) {
      rules.push({ matches: [], action: { k: 'jump', target: lengthLimitedId(ingress ? 'cali-pri-' : 'cali-pro-', prof, MAX_CHAIN) }, comments: [] });
      rules.push({ matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'RETURN' }, comments: ['Return if profile accepted'] });
    }
    rules.push({ matches: [], action: { k: 'DROP' }, comments: ['Drop if no profiles matched'] });
    return finish({ name, rules });
  }

  /** The filter-table rules and ipsets of one node: iptables (family 4, the default) or ip6tables (6). */
  forNode(node: string, family: CalicoFamily = 4): NodeRules {
    const pl = this.plane(family);
    const hit = pl.nodes.get(node);
    if (hit) return hit;
    if (!this.nodeNames.includes(node)) throw new PolicyInputError(`no node named "${node}"`, `nodes: ${this.nodeNames.join(', ')}`);
    const chains = new Map<string, Chain>();
    const add = (c: Chain): void => {
      chains.set(c.name, c);
    };
    const endpoints = new Map<string, PodModel>();
    const local = this.ctx.topology.pods.filter((p) => p.nodeName === node && !p.hostNetwork);
    local.sort((a, b) => (podKey(a) < podKey(b) ? -1 : 1));
    const usedPolicyChains = new Set<string>();
    for (const pod of local) {
      const iface = calicoInterfaceName(pod.namespace, pod.name);
      endpoints.set(iface, pod);
      for (const dir of ['Ingress', 'Egress'] as const) {
        const c = this.endpointChain(pod, iface, dir);
        add(c);
        for (const r of c.rules) if (r.action.k === 'jump' && r.action.target.startsWith('cali-p')) usedPolicyChains.add(r.action.target);
      }
      for (const c of this.profileChains(pod)) add(c);
    }
    for (const n of usedPolicyChains) {
      const c = pl.policyChains.get(n);
      if (c) add(c);
    }
    const ifaces = [...endpoints.keys()].sort();
    const encap = this.hostEncapRules(family, pl);
    add(finish({ name: 'INPUT', rules: [{ matches: [], action: { k: 'jump', target: 'cali-INPUT' }, comments: [] }] }));
    // felix inserts its FORWARD jump at the top and appends the accept of packets its policy marked
    // (and the mark for everything else) after kube-proxy's rules.
    add(
      finishInsertAppend(
        'FORWARD',
        [{ matches: [], action: { k: 'jump', target: 'cali-FORWARD' }, comments: [] }],
        [
          { matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'ACCEPT' }, comments: ['Policy explicitly accepted packet.'] },
          { matches: [], action: { k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }, comments: [] },
        ],
      ),
    );
    add(finish({ name: 'OUTPUT', rules: [{ matches: [], action: { k: 'jump', target: 'cali-OUTPUT' }, comments: [] }] }));
    add(
      finish({
        name: 'cali-FORWARD',
        rules: [
          { matches: [], action: { k: 'mark', value: 0, mask: MARK_PASS | MARK_SCRATCH0 | MARK_SCRATCH1 }, comments: [] },
          { matches: [{ k: 'mark', value: 0, mask: MARK_ACCEPT }], action: { k: 'jump', target: 'cali-from-hep-forward' }, comments: [] },
          { matches: [{ k: 'in', iface: 'cali+' }], action: { k: 'jump', target: 'cali-from-wl-dispatch' }, comments: [] },
          { matches: [{ k: 'out', iface: 'cali+' }], action: { k: 'jump', target: 'cali-to-wl-dispatch' }, comments: [] },
          { matches: [], action: { k: 'jump', target: 'cali-to-hep-forward' }, comments: [] },
          { matches: [], action: { k: 'jump', target: 'cali-cidr-block' }, comments: [] },
        ],
      }),
    );
    const hostMarkClear: Rule = { matches: [], action: { k: 'mark', value: 0, mask: MARK_ACCEPT | MARK_PASS | MARK_SCRATCH0 | MARK_SCRATCH1 }, comments: [] };
    const hepAccepted: Rule = { matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'ACCEPT' }, comments: ['Host endpoint policy accepted packet.'] };
    const fx = this.felix;
    const wg = wireguardHostRules(fx, family);
    const epMask = fx.marks.endpoint;
    add(
      finish({
        name: 'cali-INPUT',
        rules: [
          ...encap.input,
          ...wg.input,
          // IPVS: a packet to a virtual service reaches INPUT (the VIP is on kube-ipvs0); forward-check gives it its
          // endpoint mark so that cali-OUTPUT can police it as forwarded traffic once IPVS has sent it on.
          ...(fx.kubeIPVS
            ? [
                { matches: [], action: { k: 'mark', value: 0, mask: epMask }, comments: [] } satisfies Rule,
                { matches: [], action: { k: 'jump', target: 'cali-forward-check' }, comments: [] } satisfies Rule,
                { matches: [{ k: 'mark', value: 0, mask: epMask, neg: true }], action: { k: 'RETURN' }, comments: [] } satisfies Rule,
              ]
            : []),
          { matches: [{ k: 'in', iface: 'cali+' }], action: { k: 'goto', target: 'cali-wl-to-host' }, comments: [] },
          { matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'ACCEPT' }, comments: [] },
          { ...hostMarkClear },
          { matches: [], action: { k: 'jump', target: 'cali-from-host-endpoint' }, comments: [] },
          { ...hepAccepted },
        ],
      }),
    );
    add(
      finish({
        name: 'cali-wl-to-host',
        rules: [
          ...(family === 6
            ? ICMPV6_WORKLOAD_TO_HOST_TYPES.map((type): Rule => ({ matches: [{ k: 'proto', proto: '58' }, { k: 'icmp6', type }], action: { k: 'ACCEPT' }, comments: [] }))
            : []),
          { matches: [], action: { k: 'jump', target: 'cali-from-wl-dispatch' }, comments: [] },
          { matches: [], action: { k: 'ACCEPT' }, comments: ['Configured DefaultEndpointToHostAction'] },
        ],
      }),
    );
    add(
      finish({
        name: 'cali-OUTPUT',
        rules: [
          { matches: [{ k: 'mark', value: MARK_ACCEPT, mask: MARK_ACCEPT }], action: { k: 'ACCEPT' }, comments: [] },
          // IPVS: a packet with an endpoint mark came through INPUT and IPVS (ip_vs_nat_xmit → LOCAL_OUT): police it as forwarded.
          ...(fx.kubeIPVS ? [{ matches: [{ k: 'mark', value: 0, mask: epMask, neg: true }], action: { k: 'goto', target: 'cali-forward-endpoint-mark' }, comments: [] } satisfies Rule] : []),
          { matches: [{ k: 'out', iface: 'cali+' }], action: { k: 'RETURN' }, comments: [] },
          ...encap.output,
          ...wg.output,
          { ...hostMarkClear },
          { matches: [{ k: 'ctstate', states: 'DNAT', neg: true }], action: { k: 'jump', target: 'cali-to-host-endpoint' }, comments: [] },
          { ...hepAccepted },
        ],
      }),
    );
    add({ name: 'cali-cidr-block', rules: [] });
    add({ name: 'cali-from-host-endpoint', rules: [] });
    add({ name: 'cali-to-host-endpoint', rules: [] });
    add({ name: 'cali-from-hep-forward', rules: [] });
    add({ name: 'cali-to-hep-forward', rules: [] });
    for (const c of dispatchChains('cali-from-wl-dispatch', 'in', 'cali-fw-', ifaces)) add(c);
    for (const c of dispatchChains('cali-to-wl-dispatch', 'out', 'cali-tw-', ifaces)) add(c);
    const ipsets = new Map<string, IpSet>();
    if (fx.kubeIPVS) {
      const thisHost = this.thisHostSet(node, family);
      ipsets.set(thisHost.name, thisHost);
      for (const c of ipvsChains(ifaces, fx, thisHost.name)) add(c);
    }
    for (const c of chains.values())
      for (const r of c.rules)
        for (const m of r.matches) if ((m.k === 'set' || m.k === 'portset') && pl.ipsets.has(m.name)) ipsets.set(m.name, pl.ipsets.get(m.name)!);
    const settings = (this.ctx.topology as { settings?: Partial<ClusterSettings> }).settings;
    const ft = felixTables({
      family,
      felix: fx,
      mode: settings?.cni?.mode,
      natOutgoing: !!settings?.cni?.natOutgoing,
      pools: (settings?.clusterCIDRs ?? []).filter((c) => netFamily(c) === family),
    });
    // felix's masq manager creates the pool sets whatever the pools; a bare PolicyTopology (policy-only tests) has no pools to list.
    if (settings) for (const s of ft.ipsets) ipsets.set(s.name, s);
    const nr: NodeRules = { node, family, chains, tables: { raw: ft.raw, mangle: ft.mangle, nat: ft.nat }, ipsets, endpoints };
    pl.nodes.set(node, nr);
    return nr;
  }

  /**
   * felix's cali40this-host / cali60this-host (hostip_mgr.go): hash:ip of every address on the host's
   * interfaces except workload veths (cali*) and InterfaceExclude (kube-ipvs0, so ClusterIPs are not in it).
   * Default members: the loopback address, the node's InternalIPs and the Calico tunnel address (tunl0 /
   * vxlan.calico / vxlan-v6.calico, IPAM's reserved first address); a `hostAddresses` option replaces them.
   */
  private thisHostSet(node: string, family: CalicoFamily): IpSet {
    const name = ipsetName('this-host', family);
    const members = new Set<string>();
    const canon = (ip: string): string => (family === 6 ? canonicalIP(ip) : ip);
    const given = this.hostAddresses?.(node, family);
    if (given) {
      for (const ip of given) if (parseIP(ip)?.family === family) members.add(canon(ip));
    } else {
      members.add(family === 6 ? '::1' : '127.0.0.1');
      const n = this.ctx.topology.nodes?.find((x) => x.name === node);
      for (const ip of n?.ips ?? []) if (parseIP(ip)?.family === family) members.add(canon(ip));
      const settings = (this.ctx.topology as { settings?: ClusterSettings }).settings;
      if (settings && n && 'podCIDRs' in n) {
        for (const r of nodeReservedAddresses(settings, n as NodeModel)) if (r.role === 'tunnel' && r.family === family) members.add(canon(r.ip));
      }
    }
    return { name, type: 'hash:ip', family, selector: "felix's this-host: the addresses of the host's own interfaces (not cali*, not kube-ipvs0)", members };
  }

  /**
   * The "cali:" hashes of the rules felix appends to built-in chains (FORWARD's
   * accept of policy-marked packets and its MARK): a real node has them after
   * kube-proxy's rules, where everything else felix writes is inserted at the top.
   */
  appendedHashes(node: string, family: CalicoFamily = 4): Set<string> {
    const out = new Set<string>();
    for (const c of this.forNode(node, family).chains.values()) {
      if (c.appendFrom === undefined) continue;
      for (const r of c.rules.slice(c.appendFrom)) if (r.hash) out.add(r.hash);
    }
    return out;
  }

  /**
   * felix's host-to-host tunnel rules (rules/static.go): with IPIP, cali-INPUT
   * accepts protocol 4 only from Calico hosts (all-hosts-net) and drops the
   * rest, cali-OUTPUT allows it to them; with VXLAN the same for UDP 4789 and
   * all-vxlan-net (IPv4, and IPv6 on a dual-stack VXLAN pool). No rules in
   * BGP mode; no IPv6 IPIP (Calico has none). WireGuard's come after these
   * (wireguardHostRules).
   */
  private hostEncapRules(family: CalicoFamily, pl: FamilyPlane): { input: Rule[]; output: Rule[] } {
    // A full Topology carries its CNI mode; a bare PolicyTopology (policy-only tests) has no tunnels.
    const mode = (this.ctx.topology as { settings?: { cni?: { mode?: string } } }).settings?.cni?.mode;
    const ipip = family === 4 && (mode === 'ipip' || mode === 'ipip-crosssubnet');
    const vxlan = mode === 'vxlan' || mode === 'vxlan-crosssubnet';
    if (!ipip && !vxlan) return { input: [], output: [] };
    const setName = `cali${family === 6 ? 60 : 40}${ipip ? 'all-hosts-net' : 'all-vxlan-net'}`;
    if (!pl.ipsets.has(setName)) {
      const members = new Set<string>();
      for (const n of this.ctx.topology.nodes ?? []) for (const ip of n.ips) if (parseIP(ip)?.family === family) members.add(family === 6 ? canonicalIP(ip) : ip);
      pl.ipsets.set(setName, { name: setName, type: 'hash:net', family, selector: ipip ? "felix's all-hosts-net: every Calico node's address" : "felix's all-vxlan-net: every node's VXLAN tunnel source address", members });
    }
    const local = (dir: 'src' | 'dst'): Match => ({ k: 'addrtype', dir, type: 'LOCAL' });
    if (ipip) {
      const p4: Match = { k: 'proto', proto: '4' };
      return {
        input: [
          { matches: [p4, { k: 'set', name: setName, dir: 'src' }, local('dst')], action: { k: 'ACCEPT' }, comments: ['Allow IPIP packets from Calico hosts'] },
          { matches: [p4], action: { k: 'DROP' }, comments: ['Drop IPIP packets from non-Calico hosts'] },
        ],
        output: [{ matches: [p4, { k: 'set', name: setName, dir: 'dst' }, local('src')], action: { k: 'ACCEPT' }, comments: ['Allow IPIP packets to other Calico hosts'] }],
      };
    }
    const v = family === 6 ? 'IPv6' : 'IPv4';
    const udp: Match[] = [{ k: 'proto', proto: '17' }, { k: 'dports', ranges: [[4789, 4789]] }];
    return {
      input: [
        { matches: [...udp, { k: 'set', name: setName, dir: 'src' }, local('dst')], action: { k: 'ACCEPT' }, comments: [`Allow ${v} VXLAN packets from allowed hosts`] },
        { matches: [...udp, local('dst')], action: { k: 'DROP' }, comments: [`Drop ${v} VXLAN packets from non-allowed hosts`] },
      ],
      output: [{ matches: [...udp, local('src'), { k: 'set', name: setName, dir: 'dst' }], action: { k: 'ACCEPT' }, comments: [`Allow ${v} VXLAN packets to other allowed hosts`] }],
    };
  }

  // -------------------------------------------------------------------------
  // Walker

  /**
   * Runs a NEW packet through a node's filter table from a built-in chain:
   * iptables for an IPv4 packet, ip6tables for an IPv6 one (`family`
   * defaults to the family of the packet's addresses).
   */
  walk(node: string, hook: 'FORWARD' | 'INPUT' | 'OUTPUT', pkt: Packet, family: CalicoFamily = packetFamily(pkt), opts: { mark?: number } = {}): WalkResult {
    for (const a of [pkt.src, pkt.dst]) {
      const f = parseIP(a)?.family;
      if (f && f !== family) throw new PolicyInputError(`${a} is not an IPv${family} address: an IPv${f} packet goes through ${f === 6 ? 'ip6tables' : 'iptables'}`, `walk it with family ${f}`);
    }
    const nr = this.forNode(node, family);
    const pl = this.plane(family);
    const trace: string[] = [];
    // The skb mark the packet brings (a packet IPVS sent on from INPUT keeps the endpoint mark cali-INPUT gave it).
    let mark = (opts.mark ?? 0) >>> 0;
    const ipOf = (s: string): number => parseIP(s)?.value as number;
    const inCidr4 = (ip: string, cidr: string): boolean => {
      const [base, len] = cidr.includes('/') ? cidr.split('/') : [cidr, '32'];
      const l = Number(len);
      const m = l === 0 ? 0 : (0xffffffff << (32 - l)) >>> 0;
      return ((ipOf(ip) & m) >>> 0) === ((ipOf(base) & m) >>> 0);
    };
    const inCidr6 = (ip: string, cidr: string): boolean => {
      const c = Cidr.tryParse(cidr.includes('/') ? cidr : `${cidr}/128`);
      const a = parseIP(ip);
      return !!c && !!a && c.contains(a);
    };
    const inCidr = family === 6 ? inCidr6 : inCidr4;
    // ipset members are in canonical (RFC 5952) form
    const srcIP = family === 6 ? canonicalIP(pkt.src) : pkt.src;
    const dstIP = family === 6 ? canonicalIP(pkt.dst) : pkt.dst;
    const ifaceMatch = (pattern: string, iface: string | undefined): boolean => {
      if (!iface) return false;
      return pattern.endsWith('+') ? iface.startsWith(pattern.slice(0, -1)) : iface === pattern;
    };
    const protoNum: Record<string, string> = { tcp: '6', udp: '17', sctp: '132', icmp: '1', 'ipv6-icmp': '58', icmpv6: '58' };
    // addrtype LOCAL: the node's own addresses (its InternalIPs in the model).
    const localAddrs = new Set((this.ctx.topology.nodes?.find((n) => n.name === node)?.ips ?? []).filter((ip) => parseIP(ip)?.family === family).map((ip) => (family === 6 ? canonicalIP(ip) : ip)));
    const matchOne = (m: Match): boolean => {
      switch (m.k) {
        case 'in':
          return ifaceMatch(m.iface, pkt.in);
        case 'out':
          return ifaceMatch(m.iface, pkt.out);
        case 'proto':
          return m.proto === pkt.proto || m.proto === protoNum[pkt.proto];
        case 'ctstate': {
          // The walked packet is NEW and not DNATed (a DNATed one would match DNAT too).
          const hit = m.states.split(',').includes('NEW');
          return m.neg ? !hit : hit;
        }
        case 'addrtype':
          return localAddrs.has(m.dir === 'src' ? srcIP : dstIP) !== !!m.neg;
        case 'rpfilter':
          // Only felix's raw cali-PREROUTING carries it; this walker runs the filter table.
          throw new PolicyInputError('the filter-table walk met an rpfilter match', 'rpfilter belongs to raw/mangle PREROUTING, which this walker does not run');
        case 'mark':
          return (((mark & m.mask) >>> 0) === m.value) !== !!m.neg;
        case 'set': {
          const s = nr.ipsets.get(m.name) ?? pl.ipsets.get(m.name);
          return (!!s && s.members.has(m.dir === 'src' ? srcIP : dstIP)) !== !!m.neg;
        }
        case 'portset': {
          const s = nr.ipsets.get(m.name) ?? pl.ipsets.get(m.name);
          return !!s && s.members.has(`${dstIP},${pkt.proto}:${pkt.dport}`);
        }
        case 'src':
          return inCidr(pkt.src, m.cidr);
        case 'dst':
          return inCidr(pkt.dst, m.cidr);
        case 'dports':
          return m.ranges.some(([a, b]) => pkt.dport >= a && pkt.dport <= b);
        case 'icmp6':
          return protoNum[pkt.proto] === '58' && pkt.icmpType === m.type;
      }
    };
    // Returns a terminal verdict, or null when the chain returns.
    const run = (chainName: string, depth: number): 'ACCEPT' | 'DROP' | null => {
      if (depth > 64) throw new Error(`iptables walk too deep at ${chainName}`);
      const c = nr.chains.get(chainName);
      if (!c) throw new Error(`chain ${chainName} does not exist on ${node}`);
      for (let i = 0; i < c.rules.length; i++) {
        const r = c.rules[i];
        if (!r.matches.every(matchOne)) continue;
        const a = r.action;
        trace.push(savedRule(c.name, r));
        if (a.k === 'none') continue;
        if (a.k === 'ACCEPT' || a.k === 'DROP') return a.k;
        if (a.k === 'MASQUERADE') throw new PolicyInputError('the filter-table walk met a MASQUERADE rule', 'MASQUERADE belongs to nat POSTROUTING, which this walker does not run');
        if (a.k === 'RETURN') return null;
        if (a.k === 'mark') {
          mark = ((mark & ~a.mask) | a.value) >>> 0;
          continue;
        }
        if (a.k === 'jump') {
          const v = run(a.target, depth + 1);
          if (v) return v;
          continue;
        }
        // goto: the target's return returns from this chain too.
        return run(a.target, depth + 1);
      }
      return null;
    };
    const v = run(hook, 0);
    // Built-in chain policies are ACCEPT (felix does not change them).
    return { verdict: v ?? 'ACCEPT', trace, mark };
  }

  /**
   * kube-proxy IPVS mode: a NEW packet to a virtual service of `node` (ClusterIP on kube-ipvs0, or a NodePort on
   * one of the node's addresses) through felix's chains. cali-INPUT runs before IPVS takes the packet at LOCAL_IN
   * (cali-forward-check → cali-set-endpoint-mark: the incoming interface's endpoint mark); IPVS rewrites the
   * destination to `backend` and sends it through LOCAL_OUT, where cali-OUTPUT sees the mark and goes to
   * cali-forward-endpoint-mark: the source endpoint's egress chain by its mark, the local destination
   * workload's ingress chain, then ACCEPT on the accept mark. The OUTPUT leg is skipped when INPUT drops.
   * felix must run with kube-proxy IPVS support (settings.kubeProxy.mode "ipvs").
   */
  walkIpvsService(node: string, pkt: Packet, backend: { dst: string; dport: number; out?: string }, family: CalicoFamily = packetFamily(pkt)): { verdict: 'ACCEPT' | 'DROP'; input: WalkResult; output?: WalkResult } {
    if (!this.felix.kubeIPVS) throw new PolicyInputError('felix runs without kube-proxy IPVS support: kube-proxy is not in IPVS mode', 'set kubeProxy.mode to ipvs (--set kubeProxy=ipvs)');
    const input = this.walk(node, 'INPUT', pkt, family);
    if (input.verdict === 'DROP') return { verdict: 'DROP', input };
    const output = this.walk(node, 'OUTPUT', { ...pkt, dst: backend.dst, dport: backend.dport, in: undefined, out: backend.out }, family, { mark: input.mark });
    return { verdict: output.verdict, input, output };
  }

  /** Verdict for a query: walks the source node and then the destination node. */
  verdict(q: ReachQuery): { allowed: boolean; hops: { node: string; hook: string; verdict: string; trace: string[] }[] } {
    const ctx = this.ctx;
    const fam = q.family ?? queryFamily(ctx, q.from, q.to);
    const src = resolveEndpoint(ctx, q.from, fam);
    const dst = resolveEndpoint(ctx, q.to, fam);
    const family: CalicoFamily = fam ?? packetFamily({ src: src.ip, dst: dst.ip });
    const proto = (q.protocol ?? 'TCP').toLowerCase();
    const hops: { node: string; hook: string; verdict: string; trace: string[] }[] = [];
    if (src.kind === 'pod' && dst.kind === 'pod' && src.pod === dst.pod) return { allowed: true, hops };
    const ifaceOf = (e: Endpoint): string | undefined => (e.kind === 'pod' ? calicoInterfaceName(e.pod.namespace, e.pod.name) : undefined);
    const nodeOf = (e: Endpoint): string | undefined => (e.kind === 'pod' ? e.pod.nodeName : e.kind === 'host' ? e.nodeName : undefined);
    const base = { src: src.ip, dst: dst.ip, proto, dport: q.port };
    const step = (node: string, hook: 'FORWARD' | 'INPUT' | 'OUTPUT', inIf: string | undefined, outIf: string | undefined): boolean => {
      const r = this.walk(node, hook, { ...base, in: inIf, out: outIf }, family);
      hops.push({ node, hook, verdict: r.verdict, trace: r.trace });
      return r.verdict === 'ACCEPT';
    };
    const sNode = nodeOf(src);
    const dNode = nodeOf(dst);
    // Leg 1: the source node.
    if (src.kind === 'pod') {
      if (dst.kind === 'host' && dNode === sNode) {
        if (!step(sNode!, 'INPUT', ifaceOf(src), undefined)) return { allowed: false, hops };
        return { allowed: true, hops };
      }
      const outIf = dst.kind === 'pod' && dNode === sNode ? ifaceOf(dst) : 'eth0';
      if (!step(sNode!, 'FORWARD', ifaceOf(src), outIf)) return { allowed: false, hops };
      if (dst.kind === 'pod' && dNode === sNode) return { allowed: true, hops };
    } else if (src.kind === 'host' && dst.kind === 'pod' && sNode === dNode) {
      return { allowed: step(sNode!, 'OUTPUT', undefined, ifaceOf(dst)), hops };
    }
    // Leg 2: the destination node (only pods are policed there).
    if (dst.kind === 'pod') {
      return { allowed: step(dNode!, 'FORWARD', 'eth0', ifaceOf(dst)), hops };
    }
    return { allowed: true, hops };
  }

  // -------------------------------------------------------------------------
  // Rendering

  /** A node's chains of one table: filter (walk()'s), raw, mangle or nat. */
  tableChains(node: string, table: CalicoTable, family: CalicoFamily = 4): Map<string, Chain> {
    const nr = this.forNode(node, family);
    return table === 'filter' ? nr.chains : nr.tables[table];
  }

  /**
   * `iptables-save` of felix's chains (with family 6, `ip6tables-save`): every
   * table felix writes — mangle, raw, filter, nat, in the order iptables-save
   * 1.8.9 (nf_tables) lists tables — or only `tables`. Per table: the
   * built-in chains with policy ACCEPT, then felix's chains sorted by name,
   * then the rules (felix's jumps are the only rules of the built-in chains).
   */
  iptablesSave(node: string, when = 'Thu Jan  1 00:00:00 1970', family: CalicoFamily = 4, tables: readonly CalicoTable[] = CALICO_TABLES): string {
    const lines: string[] = [];
    for (const t of SAVE_TABLE_ORDER) {
      if (t === 'security' || !tables.includes(t)) continue;
      const chains = this.tableChains(node, t, family);
      const builtins = BUILTIN_CHAINS[t] as readonly string[];
      const user = [...chains.keys()].filter((c) => !builtins.includes(c)).sort();
      lines.push(`# Generated by ${family === 6 ? 'ip6tables' : 'iptables'}-save v1.8.9 on ${when}`, `*${t}`);
      for (const b of builtins) lines.push(`:${b} ACCEPT [0:0]`);
      for (const c of user) lines.push(`:${c} - [0:0]`);
      for (const c of [...builtins, ...user]) for (const r of chains.get(c)?.rules ?? []) lines.push(saveRule(c, r));
      lines.push('COMMIT', `# Completed on ${when}`);
    }
    return lines.length ? lines.join('\n') + '\n' : '';
  }

  /**
   * `ipset list` for the sets a node's rules reference, in ipset 7.17's
   * format (Header with bucketsize and initval). initval is random on a real
   * node; here it is derived from the set name so output is stable. Size in
   * memory follows what ipset 7.17 reported for small sets on this kernel
   * (family inet: hash:net 456 + 48 per entry, hash:ip,port 216 + 48 per
   * entry; family inet6: hash:net 1240 + 72, hash:ip,port 232 + 72).
   * Family 6 lists the cali60 sets of the ip6tables rules (a node's real
   * `ipset list` shows both families' sets: cali40… and cali60…). hash:ip
   * (this-host, IPVS mode), measured the same way: inet 216 + 40 per entry,
   * inet6 224 + 64.
   */
  ipsetList(node: string, family: CalicoFamily = 4): string {
    const nr = this.forNode(node, family);
    const refs = new Map<string, number>();
    for (const t of [nr.chains, ...Object.values(nr.tables)])
      for (const c of t.values()) for (const r of c.rules) for (const m of r.matches) if (m.k === 'set' || m.k === 'portset') refs.set(m.name, (refs.get(m.name) ?? 0) + 1);
    const out: string[] = [];
    for (const s of [...nr.ipsets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const members = [...s.members].sort(compareMembers);
      const initval = hex(sha1(s.name)).slice(0, 8);
      const size =
        s.type === 'hash:ip'
          ? family === 6
            ? 224 + 64 * members.length
            : 216 + 40 * members.length
          : family === 6
            ? (s.type === 'hash:net' ? 1240 : 232) + 72 * members.length
            : (s.type === 'hash:net' ? 456 : 216) + 48 * members.length;
      out.push(
        [
          `Name: ${s.name}`,
          `Type: ${s.type}`,
          // The kernel's newest revision of the type (bucketsize support): hash:ip 6, hash:net and hash:ip,port 7.
          `Revision: ${s.type === 'hash:ip' ? 6 : 7}`,
          `Header: family ${family === 6 ? 'inet6' : 'inet'} hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x${initval}`,
          `Size in memory: ${size}`,
          `References: ${refs.get(s.name) ?? 0}`,
          `Number of entries: ${members.length}`,
          'Members:',
          ...members,
        ].join('\n'),
      );
    }
    return out.join('\n\n') + (out.length ? '\n' : '');
  }

  /**
   * `ipset restore` input for the sets a node's rules reference: `create`
   * with the family (`inet` / `inet6`), then one `add` per member.
   */
  ipsetRestore(node: string, family: CalicoFamily = 4): string {
    const nr = this.forNode(node, family);
    const lines: string[] = [];
    for (const s of [...nr.ipsets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      lines.push(`create ${s.name} ${s.type} family ${s.family === 6 ? 'inet6' : 'inet'} hashsize 1024 maxelem 1048576`);
      for (const m of s.members) lines.push(`add ${s.name} ${m}`);
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
}

function compareMembers(a: string, b: string): number {
  const ha = a.split(',')[0];
  const hb = b.split(',')[0];
  if (ha.includes(':') || hb.includes(':')) {
    const ia = parseIP(ha);
    const ib = parseIP(hb);
    const d = ia && ib ? compareIP(ia, ib) : 0;
    if (d !== 0) return d;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const ka = a.split(',')[0].split('.').map(Number);
  const kb = b.split(',')[0].split('.').map(Number);
  for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A ipBlock CIDR's family. */
function netFamily(cidr: string): CalicoFamily {
  return cidr.includes(':') ? 6 : 4;
}

/** The pod's addresses of one family, in canonical form (what `ipset list` prints). */
function familyIPs(ips: readonly string[], family: CalicoFamily): string[] {
  return family === 6 ? ips.filter((ip) => ip.includes(':')).map(canonicalIP) : ips.filter((ip) => !ip.includes(':'));
}

/** IPv6 when either address is IPv6, else IPv4. */
function packetFamily(pkt: { src: string; dst: string }): CalicoFamily {
  return pkt.src.includes(':') || pkt.dst.includes(':') ? 6 : 4;
}

export interface Packet {
  src: string;
  dst: string;
  /** tcp, udp, sctp, icmp, ipv6-icmp (or the protocol number). */
  proto: string;
  dport: number;
  /** ICMP / ICMPv6 type (matched by `-m icmp6 --icmpv6-type`). */
  icmpType?: number;
  in?: string;
  out?: string;
}

export interface WalkResult {
  verdict: 'ACCEPT' | 'DROP';
  /** Every rule that matched, as iptables-save prints it. */
  trace: string[];
  mark: number;
}

export function buildCalicoDataplane(topology: PolicyTopology, opts: CalicoDataplaneOptions = {}): CalicoDataplane {
  return new CalicoDataplane(topology, opts);
}
