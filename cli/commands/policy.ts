// netlab policy compile|lint TOPOLOGY…: the data planes NetworkPolicies
// compile to on a node, and policy lint.

import { buildCalicoDataplane, buildCiliumDataplane, lintPolicies, PolicyInputError, podKey } from '../../core/policy';
import { ctime } from '../../core/dataplane';
import { parseVerbArgs } from '../args';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type Command } from '../types';

const FORMATS = ['iptables', 'ip6tables', 'ipset', 'cilium-map'] as const;

export const policy: Command = {
  name: 'policy',
  summary: 'compile NetworkPolicies to a node\'s iptables/ipset (Calico) or policy maps (Cilium); lint policies',
  usage: `usage: netlab policy compile --node NODE --as iptables|ip6tables|ipset|cilium-map [--family 4|6] [--pod NS/POD] [--set key=value]… TOPOLOGY…
       netlab policy lint [--json] [--set key=value]… TOPOLOGY…

compile prints what the node would hold for the topology's NetworkPolicies:
  iptables    felix's tables as \`iptables-save\` prints them: raw and mangle
              (cali-PREROUTING with the rpfilter check, cali-OUTPUT,
              cali-POSTROUTING), filter (cali-FORWARD, cali-from/to-wl-dispatch,
              cali-fw-/cali-tw-<iface> for the node's pods, cali-pi-/cali-po-
              policy chains, namespace/service-account profile chains) and nat
              (cali-nat-outgoing, the tunnel MASQUERADE)
  ip6tables   the same for IPv6 as \`ip6tables-save\` prints it
              (= --as iptables --family 6): felix programs the same chains
              in ip6tables, with IPv6 ipBlocks only, cali60 sets and the
              ICMPv6 neighbour/router solicitation rules in cali-wl-to-host
  ipset       \`ipset list\` of the sets those rules reference (--family 6:
              the cali60 sets, family inet6)
  cilium-map  \`cilium bpf policy get --all\` for the node's endpoints (or
              one endpoint with --pod)
lint reports policies that do not do what they seem to: egress isolation
without DNS (UDP and TCP 53 to kube-dns), policyTypes left out, selectors
matching nothing (including the seed's "name: kube-system" namespace label),
except ranges outside their cidr, ipBlocks that contain pod addresses,
numeric ports written as strings, named ports no selected pod declares.
Exits 1 when lint finds errors.`,
  async run({ argv, set, json, io }) {
    const sub = argv[0];
    if (sub !== 'compile' && sub !== 'lint') throw new UsageError('first argument: compile or lint');
    const { values, positionals } = parseVerbArgs(argv.slice(1), { node: { type: 'string' }, as: { type: 'string' }, pod: { type: 'string' }, family: { type: 'string' } });
    if (positionals.length === 0) throw new UsageError('give at least one TOPOLOGY file');
    const r = await loadFromFiles(positionals, set, io);
    const counts = countDiagnostics(r.diagnostics);
    if (r.diagnostics.length && (sub === 'compile' || !json)) printDiagnostics(r.diagnostics, io.err, { summary: counts.errors > 0 });
    if (!r.topology || counts.errors) return EXIT.ERRORS;
    const t = r.topology;
    if (sub === 'lint') {
      if (values.node || values.as || values.pod || values.family) throw new UsageError('lint takes only TOPOLOGY files');
      const diags = lintPolicies(t);
      const c = countDiagnostics(diags);
      if (json) io.out(`${JSON.stringify({ ok: c.errors === 0, errors: c.errors, warnings: c.warnings, diagnostics: diags }, null, 2)}\n`);
      else printDiagnostics(diags, io.out);
      return c.errors ? EXIT.ERRORS : EXIT.OK;
    }
    const as = values.as;
    if (typeof as !== 'string' || !(FORMATS as readonly string[]).includes(as)) throw new UsageError(`--as must be one of ${FORMATS.join(', ')}`);
    const node = values.node;
    if (typeof node !== 'string') throw new UsageError('--node NODE is required');
    const fam = values.family;
    if (fam !== undefined && fam !== '4' && fam !== '6') throw new UsageError(`--family ${String(fam)}: use 4 or 6`);
    if (fam !== undefined && as === 'cilium-map') throw new UsageError('--family applies to iptables, ip6tables and ipset (a Cilium policy map holds both families)');
    if (fam === '4' && as === 'ip6tables') throw new UsageError('--as ip6tables is the IPv6 filter table: leave out --family 4 (or use --as iptables)');
    const family: 4 | 6 = as === 'ip6tables' || fam === '6' ? 6 : 4;
    try {
      if (as === 'iptables' || as === 'ip6tables' || as === 'ipset') {
        if (family === 6 && !t.settings.clusterCIDRs.some((c) => c.includes(':'))) {
          throw new PolicyInputError('the topology has no IPv6 cluster CIDR: felix programs no IPv6 policy (ip6tables) for a single-stack IPv4 cluster', 'give clusterCIDR an IPv6 range too (dual-stack), or drop --family 6 / --as ip6tables');
        }
        const d = buildCalicoDataplane(t);
        io.out(as === 'ipset' ? d.ipsetList(node, family) : d.iptablesSave(node, ctime(new Date()), family));
        return EXIT.OK;
      }
      const d = buildCiliumDataplane(t);
      if (!t.nodes.some((n) => n.name === node)) throw new PolicyInputError(`no node named "${node}"`, `nodes: ${t.nodes.map((n) => n.name).join(', ')}`);
      let eps = d.endpointsOn(node);
      if (typeof values.pod === 'string') {
        eps = eps.filter((e) => podKey(e.pod) === values.pod);
        if (eps.length === 0) throw new PolicyInputError(`no endpoint for pod ${values.pod} on ${node}`, 'hostNetwork pods and pods of other nodes have no policy map here');
        io.out(d.renderPolicyGet(eps[0].pod));
        return EXIT.OK;
      }
      for (const e of eps) {
        io.out(`Endpoint ID: ${e.id}\nPath: /sys/fs/bpf/tc/globals/cilium_policy_${String(e.id).padStart(5, '0')}\n\n`);
        io.out(d.renderPolicyGet(e.pod));
        io.out('\n\n');
      }
      return EXIT.OK;
    } catch (e) {
      if (e instanceof PolicyInputError) {
        io.err(`netlab policy: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
        return EXIT.ERRORS;
      }
      throw e;
    }
  },
};
