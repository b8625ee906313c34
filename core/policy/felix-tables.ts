// felix's raw, mangle and nat tables (Calico 3.2x, iptables data plane), next
// to the filter table core/policy/calico.ts renders. Layout from
// projectcalico/calico felix/rules/static.go (StaticRawTableChains,
// StaticMangleTableChains, StaticNATTableChains; the 3.2x form, before the
// nftables data plane), felix/rules/nat.go (NATOutgoingChain) and
// felix/dataplane/linux/masq_mgr.go (the two pool sets), int_dataplane.go
// (the jumps felix inserts at the top of PREROUTING / OUTPUT / POSTROUTING).
// Rule hashes follow calico.ts's chained sha224 and are checked against real
// nodes in felix-tables.test.ts; the lines without a real capture are listed
// there as computed.
//
// What felix writes, per table (no host endpoints, felix defaults):
// - raw: cali-PREROUTING clears Calico's mark bits, marks packets from
//   workloads (`-i cali+`, scratch0 0x40000), sends them to cali-rpf-skip
//   (per-workload AllowSpoofedSourcePrefixes: empty here) and drops those that
//   fail the strict reverse-path check (`-m rpfilter --validmark --invert`);
//   other packets go to cali-from-host-endpoint (untracked host-endpoint
//   policy) and are accepted if that set the accept mark. cali-OUTPUT clears
//   the bits, runs cali-to-host-endpoint, accepts on the accept mark.
//   WireGuard's cali-wireguard-incoming-mark exists (and is jumped to) only
//   with WireguardHostEncryptionEnabled, off by default: not rendered. Calico
//   3.29+ also puts `-p udp --dport 4789 -j NOTRACK` in both chains on VXLAN
//   (projectcalico/calico#8977); 3.2x up to 3.28 does not, and neither does
//   this model.
// - mangle: cali-PREROUTING accepts established flows and packets the raw
//   table accepted, runs cali-from-host-endpoint (pre-DNAT policy);
//   cali-POSTROUTING returns for forwarded packets (the accept mark filter
//   FORWARD sets) and, with kube-proxy in IPVS mode, for packets carrying an
//   endpoint mark, then applies host-endpoint policy to DNATed host traffic.
// - nat: cali-PREROUTING / cali-OUTPUT jump to cali-fip-dnat (floating IPs,
//   OpenStack: empty), cali-POSTROUTING to cali-fip-snat and
//   cali-nat-outgoing, then one MASQUERADE per tunnel device (tunl0 with
//   IPIP, vxlan.calico / vxlan-v6.calico with VXLAN, wireguard.cali /
//   wg-v6.cali with WireGuard) for host-sourced packets leaving through it with
//   a source address that is not the device's own. cali-nat-outgoing holds the
//   pool MASQUERADE when a pool has natOutgoing (settings.cni.natOutgoing);
//   the sets cali40all-ipam-pools (every pool) and cali40masq-ipam-pools (the
//   natOutgoing pools) exist either way (cali60… for IPv6).
// Chains felix defines but does not reference without host endpoints
// (cali-failsafe-in/out) are not programmed: felix only writes referenced chains.

import { canonicalIP } from '../net';
import { finishChain, ipsetName, type CalicoFamily, type Chain, type FelixSettings, type IpSet, type Match, type Rule } from './calico';

export type FelixTable = 'raw' | 'mangle' | 'nat';

export interface FelixTablesOptions {
  family: CalicoFamily;
  felix: FelixSettings;
  /** settings.cni.mode: bgp, ipip, ipip-crosssubnet, vxlan, vxlan-crosssubnet (absent: no tunnel). */
  mode?: string;
  /** settings.cni.natOutgoing: the pools have natOutgoing. */
  natOutgoing: boolean;
  /** The family's IP pools (the cluster's pod CIDRs of that family). */
  pools: readonly string[];
}

export interface FelixTables {
  raw: Map<string, Chain>;
  mangle: Map<string, Chain>;
  nat: Map<string, Chain>;
  /** cali40all-ipam-pools and cali40masq-ipam-pools (cali60… for family 6). */
  ipsets: IpSet[];
}

/** The tunnel devices felix masquerades host-sourced traffic on (StaticNATPostroutingChains order). */
export function felixTunnelDevices(o: Pick<FelixTablesOptions, 'family' | 'felix' | 'mode' | 'pools'>): string[] {
  const out: string[] = [];
  const ipip = o.mode === 'ipip' || o.mode === 'ipip-crosssubnet';
  const vxlan = o.mode === 'vxlan' || o.mode === 'vxlan-crosssubnet';
  // A tunnel device has an address only where the family has a pool (IPAM hands it out of a block).
  const tunnelled = o.pools.length > 0;
  if (o.family === 4) {
    if (ipip && tunnelled) out.push('tunl0');
    if (vxlan && tunnelled) out.push('vxlan.calico');
    if (o.felix.wireguardV4) out.push('wireguard.cali');
  } else {
    if (vxlan && tunnelled) out.push('vxlan-v6.calico');
    if (o.felix.wireguardV6) out.push('wg-v6.cali');
  }
  return out;
}

const jump = (target: string, matches: Match[] = []): Rule => ({ matches, action: { k: 'jump', target }, comments: [] });

function table(chains: Chain[]): Map<string, Chain> {
  return new Map(chains.map((c) => [c.name, c]));
}

/** The raw, mangle and nat chains felix programs on a node, and the pool sets. */
export function felixTables(o: FelixTablesOptions): FelixTables {
  const { marks } = o.felix;
  const allBits = marks.accept | marks.pass | marks.scratch0 | marks.scratch1;
  const fromWorkload = marks.scratch0;
  const clear: Rule = { matches: [], action: { k: 'mark', value: 0, mask: allBits }, comments: [] };
  const accepted = (): Match => ({ k: 'mark', value: marks.accept, mask: marks.accept });
  const hepAccepted = (action: 'ACCEPT' | 'RETURN'): Rule => ({ matches: [accepted()], action: { k: action }, comments: ['Host endpoint policy accepted packet.'] });
  const empty = (name: string): Chain => ({ name, rules: [] });

  const raw = table([
    finishChain({ name: 'PREROUTING', rules: [jump('cali-PREROUTING')] }),
    finishChain({ name: 'OUTPUT', rules: [jump('cali-OUTPUT')] }),
    finishChain({
      name: 'cali-PREROUTING',
      rules: [
        { ...clear },
        { matches: [{ k: 'in', iface: 'cali+' }], action: { k: 'mark', value: fromWorkload, mask: fromWorkload }, comments: [] },
        jump('cali-rpf-skip', [{ k: 'mark', value: fromWorkload, mask: fromWorkload }]),
        { matches: [{ k: 'mark', value: fromWorkload, mask: fromWorkload }, { k: 'rpfilter', validmark: true, invert: true }], action: { k: 'DROP' }, comments: [] },
        jump('cali-from-host-endpoint', [{ k: 'mark', value: 0, mask: fromWorkload }]),
        { matches: [accepted()], action: { k: 'ACCEPT' }, comments: [] },
      ],
    }),
    finishChain({ name: 'cali-OUTPUT', rules: [{ ...clear }, jump('cali-to-host-endpoint'), { matches: [accepted()], action: { k: 'ACCEPT' }, comments: [] }] }),
    empty('cali-rpf-skip'),
    empty('cali-from-host-endpoint'),
    empty('cali-to-host-endpoint'),
  ]);

  const mangle = table([
    finishChain({ name: 'PREROUTING', rules: [jump('cali-PREROUTING')] }),
    finishChain({ name: 'POSTROUTING', rules: [jump('cali-POSTROUTING')] }),
    finishChain({
      name: 'cali-PREROUTING',
      rules: [
        { matches: [{ k: 'ctstate', states: 'RELATED,ESTABLISHED' }], action: { k: 'ACCEPT' }, comments: [] },
        { matches: [accepted()], action: { k: 'ACCEPT' }, comments: [] },
        jump('cali-from-host-endpoint'),
        hepAccepted('ACCEPT'),
      ],
    }),
    finishChain({
      name: 'cali-POSTROUTING',
      rules: [
        { matches: [accepted()], action: { k: 'RETURN' }, comments: [] },
        // kube-proxy IPVS mode: a packet IPVS forwarded carries the endpoint mark cali-INPUT gave it.
        ...(o.felix.kubeIPVS ? [{ matches: [{ k: 'mark', value: 0, mask: marks.endpoint, neg: true }], action: { k: 'RETURN' }, comments: [] } satisfies Rule] : []),
        { ...clear },
        jump('cali-to-host-endpoint', [{ k: 'ctstate', states: 'DNAT' }]),
        hepAccepted('RETURN'),
      ],
    }),
    empty('cali-from-host-endpoint'),
    empty('cali-to-host-endpoint'),
  ]);

  const masqSet = ipsetName('masq-ipam-pools', o.family);
  const allSet = ipsetName('all-ipam-pools', o.family);
  const pools = o.pools.map((c) => (o.family === 6 ? canonicalCidr(c) : c));
  const masqPools = o.natOutgoing ? pools : [];
  const nat = table([
    finishChain({ name: 'PREROUTING', rules: [jump('cali-PREROUTING')] }),
    finishChain({ name: 'OUTPUT', rules: [jump('cali-OUTPUT')] }),
    finishChain({ name: 'POSTROUTING', rules: [jump('cali-POSTROUTING')] }),
    finishChain({ name: 'cali-PREROUTING', rules: [jump('cali-fip-dnat')] }),
    finishChain({ name: 'cali-OUTPUT', rules: [jump('cali-fip-dnat')] }),
    finishChain({
      name: 'cali-POSTROUTING',
      rules: [
        jump('cali-fip-snat'),
        jump('cali-nat-outgoing'),
        ...felixTunnelDevices(o).map(
          (dev): Rule => ({
            matches: [
              { k: 'out', iface: dev },
              { k: 'addrtype', dir: 'src', type: 'LOCAL', neg: true, limitIfaceOut: true },
              { k: 'addrtype', dir: 'src', type: 'LOCAL' },
            ],
            action: { k: 'MASQUERADE', randomFully: true },
            comments: [],
          }),
        ),
      ],
    }),
    empty('cali-fip-dnat'),
    empty('cali-fip-snat'),
    finishChain({
      name: 'cali-nat-outgoing',
      rules: masqPools.length
        ? [
            {
              matches: [
                { k: 'set', name: masqSet, dir: 'src' },
                { k: 'set', name: allSet, dir: 'dst', neg: true },
              ],
              action: { k: 'MASQUERADE', randomFully: true },
              comments: [],
            },
          ]
        : [],
    }),
  ]);

  const ipsets: IpSet[] = [
    { name: allSet, type: 'hash:net', family: o.family, selector: "felix's all-ipam-pools: every Calico IP pool (destinations natOutgoing leaves alone)", members: new Set(pools) },
    { name: masqSet, type: 'hash:net', family: o.family, selector: "felix's masq-ipam-pools: the IP pools with natOutgoing", members: new Set(masqPools) },
  ];
  return { raw, mangle, nat, ipsets };
}

/** A CIDR with its address in RFC 5952 form (what `ipset list` prints). */
function canonicalCidr(c: string): string {
  const [a, len] = c.split('/');
  return len === undefined ? canonicalIP(a) : `${canonicalIP(a)}/${len}`;
}
