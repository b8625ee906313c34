// netlab ipam FILE…: the address plan of a topology.

import { IPAM_NOTES, nodeReservedAddresses } from '../../core/ipam';
import type { ServiceModel, Topology } from '../../core/model';
import { parseVerbArgs } from '../args';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type Command } from '../types';

/** Columns padded like kubectl's tabwriter (3 spaces between columns). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** kubectl's PORT(S) column: 80/TCP, 443:30443/TCP. */
export function portsColumn(s: ServiceModel): string {
  if (s.ports.length === 0) return '<none>';
  return s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',');
}

export function ipamReport(t: Topology) {
  return {
    cluster: {
      name: t.settings.name,
      cni: `${t.settings.cni.plugin}-${t.settings.cni.mode}`,
      clusterCIDRs: t.settings.clusterCIDRs,
      serviceCIDRs: t.settings.serviceCIDRs,
      nodeCIDRs: t.settings.nodeCIDRs,
      nodeCIDRMaskSize: t.settings.nodeCIDRMaskSize,
      blockSize: t.settings.cni.plugin === 'calico' ? t.settings.blockSize : undefined,
      firstNodeCIDRIndex: t.settings.firstNodeCIDRIndex,
      podIPOffset: t.settings.podIPOffset,
    },
    nodes: t.nodes.map((n) => ({
      name: n.name,
      ips: n.ips,
      podCIDRs: n.podCIDRs,
      blocks: n.blocks,
      reserved: nodeReservedAddresses(t.settings, n),
    })),
    pods: t.pods.map((p) => ({ namespace: p.namespace, name: p.name, node: p.nodeName, ips: p.ips, hostNetwork: p.hostNetwork })),
    services: t.services.map((s) => ({ namespace: s.namespace, name: s.name, type: s.type, clusterIPs: s.clusterIPs, ports: portsColumn(s), healthCheckNodePort: s.healthCheckNodePort })),
    notes: IPAM_NOTES,
  };
}

export const ipam: Command = {
  name: 'ipam',
  summary: 'print the address plan: node IPs and pod CIDRs (Calico blocks), pod IPs per node, service IPs',
  usage: `usage: netlab ipam [--json] [--set key=value]… FILE…

Loads the files as one topology and prints the allocation: each node with its
addresses, pod CIDR(s), Calico blocks and the address its CNI keeps for itself
(vxlan.calico, tunl0, cni0, cilium_host); the pods per node with their
addresses; the Services with their cluster IPs and ports. Diagnostics go to
standard error; exits 1 when there are errors. --json prints the same data
(and the diagnostics) as JSON.`,
  async run({ argv, set, json, io }) {
    const { positionals } = parseVerbArgs(argv, {});
    if (positionals.length === 0) throw new UsageError('give at least one FILE');
    const r = await loadFromFiles(positionals, set, io);
    const counts = countDiagnostics(r.diagnostics);
    if (json) {
      io.out(`${JSON.stringify({ ...(r.topology ? ipamReport(r.topology) : {}), diagnostics: r.diagnostics }, null, 2)}\n`);
      return counts.errors ? EXIT.ERRORS : EXIT.OK;
    }
    if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err);
    const t = r.topology;
    if (!t) return EXIT.ERRORS;
    const s = t.settings;
    const calico = s.cni.plugin === 'calico';
    io.out(
      `cluster ${s.name}: cni ${s.cni.plugin}-${s.cni.mode}, cluster CIDR ${s.clusterCIDRs.join(',')}, service CIDR ${s.serviceCIDRs.join(',')}, ` +
        `node CIDR ${s.nodeCIDRs.join(',')}, node mask /${s.nodeCIDRMaskSize.v4}${s.clusterCIDRs.length > 1 ? ` /${s.nodeCIDRMaskSize.v6}` : ''}` +
        `${calico ? `, block size /${s.blockSize.v4}` : ''}, first node CIDR index ${s.firstNodeCIDRIndex}, pod IP offset ${s.podIPOffset}\n\n`,
    );
    const nodeHeader = ['NODE', 'INTERNAL-IP', 'POD-CIDR', ...(calico ? ['BLOCKS'] : []), 'CNI-ADDRESS'];
    io.out(
      table(
        nodeHeader,
        t.nodes.map((n) => [
          n.name,
          n.ips.join(',') || '<none>',
          n.podCIDRs.join(',') || '<none>',
          ...(calico ? [(n.blocks ?? []).join(',') || '<none>'] : []),
          nodeReservedAddresses(s, n).map((a) => `${a.ip} (${a.device})`).join(',') || '<none>',
        ]),
      ),
    );
    io.out('\n');
    const byNode = new Map<string, typeof t.pods>();
    for (const p of t.pods) {
      let l = byNode.get(p.nodeName);
      if (!l) byNode.set(p.nodeName, (l = []));
      l.push(p);
    }
    const podRows: string[][] = [];
    for (const n of t.nodes) {
      for (const p of byNode.get(n.name) ?? []) podRows.push([n.name, p.namespace, p.name, p.ips.join(','), p.hostNetwork ? 'host' : '']);
    }
    io.out(table(['NODE', 'NAMESPACE', 'POD', 'IP', 'NETWORK'], podRows));
    io.out('\n');
    io.out(
      table(
        ['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'PORT(S)'],
        t.services.map((sv) => [sv.namespace, sv.name, sv.type, sv.type === 'ExternalName' ? '<none>' : sv.clusterIPs.join(',') || '<pending>', portsColumn(sv)]),
      ),
    );
    if (counts.errors) io.err(`address plan is incomplete: ${counts.errors} error(s) above\n`);
    return counts.errors ? EXIT.ERRORS : EXIT.OK;
  },
};
