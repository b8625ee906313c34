// netlab reach SCENARIO | netlab reach --matrix TOPOLOGY…: NetworkPolicy verdicts.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Protocol } from '../../core/model';
import { CiliumL7, PolicyInputError, compilePolicies, evaluateWith, buildContext, parseScenario, prettyPrint, truthTable, type IpBlockClusterMode } from '../../core/policy';
import { parseVerbArgs } from '../args';
import { countDiagnostics, formatDiagnostic, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type Command } from '../types';

function parsePortProto(s: string): { port: number; protocol: Protocol } {
  const m = /^(\d{1,5})(?:\/(TCP|UDP|SCTP|tcp|udp|sctp))?$/.exec(s);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--port ${s}: write PORT or PORT/PROTO, e.g. 80/TCP or 53/UDP`);
  return { port: Number(m[1]), protocol: (m[2]?.toUpperCase() as Protocol | undefined) ?? 'TCP' };
}

function parseMode(v: unknown): IpBlockClusterMode {
  if (v === undefined) return 'match';
  if (v === 'match' || v === 'ignore') return v;
  throw new UsageError(`--ipblock ${String(v)}: use "match" (reference reading, Calico) or "ignore" (Cilium)`);
}

export const reach: Command = {
  name: 'reach',
  summary: 'NetworkPolicy verdicts with explanations for a scenario, or a reachability matrix for a topology',
  usage: `usage: netlab reach [--ipblock match|ignore] SCENARIO
       netlab reach --matrix [--port PORT/PROTO] [--ipblock match|ignore] [--set key=value]… TOPOLOGY…

SCENARIO (YAML or JSON; "-" reads standard input):
  namespaces: [{name, labels}]
  nodes:      [{name, ip}]                       (optional)
  pods:       [{namespace, name, labels, ip, node, hostNetwork, ports: [{name, port, protocol}]}]
  policies:   [NetworkPolicy or CiliumNetworkPolicy manifests]
  queries:    [{from, to, port, protocol, http: {method, path, headers}}]
              from/to: namespace/pod, ip:ADDRESS or node:NAME
  options:    {ipBlockClusterIPs: match|ignore}
  dns:        {NAME: [ADDRESS]}   answers Cilium's DNS proxy saw (for toFQDNs)
Prints {"results": [{from, to, port, protocol, allowed, explanation}]} in
query order. When the scenario has CiliumNetworkPolicies or a query has an
http request, "allowed" is Cilium's verdict (L3/L4 and L7) and "cilium"
explains it. Scenario errors are printed as file:line:col and exit 1.

--matrix loads the topology files and prints the truth table for one port
(default 80/TCP) the way the upstream netpol e2e tests print theirs:
a header row of pod names, "." allowed, "X" denied.

--ipblock: whether ipBlock peers match pod and node addresses ("match", the
API reference's reading and Calico's behaviour, the default) or only
cluster-external addresses ("ignore", Cilium's behaviour).`,
  async run({ argv, set, json, io }) {
    const { values, positionals } = parseVerbArgs(argv, { matrix: { type: 'boolean' }, port: { type: 'string' }, ipblock: { type: 'string' } });
    if (positionals.length === 0) throw new UsageError(values.matrix ? 'give at least one TOPOLOGY file' : 'give a SCENARIO file');
    const cliMode = values.ipblock === undefined ? undefined : parseMode(values.ipblock);
    if (values.matrix) {
      const { port, protocol } = parsePortProto(typeof values.port === 'string' ? values.port : '80/TCP');
      const r = await loadFromFiles(positionals, set, io);
      const counts = countDiagnostics(r.diagnostics);
      if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err);
      if (!r.topology || counts.errors) return EXIT.ERRORS;
      const c = compilePolicies(r.topology, { ipBlockClusterIPs: cliMode ?? 'match' });
      const tt = truthTable(c, port, protocol);
      if (json) io.out(`${JSON.stringify({ port, protocol, froms: tt.froms, tos: tt.tos, allowed: tt.values }, null, 2)}\n`);
      else io.out(`${prettyPrint(tt)}\n`);
      return EXIT.OK;
    }
    if (values.port !== undefined) throw new UsageError('--port goes with --matrix');
    if (positionals.length > 1) throw new UsageError('give one SCENARIO file');
    const file = positionals[0];
    let text: string;
    try {
      text = file === '-' ? await (io.readStdin ?? (() => Promise.resolve('')))() : await readFile(resolve(io.cwd, file), 'utf8');
    } catch (e) {
      io.err(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
      return EXIT.ERRORS;
    }
    const { scenario, diagnostics } = parseScenario(text, file === '-' ? '<stdin>' : file);
    for (const d of diagnostics) {
      io.err(`${formatDiagnostic(d)}\n`);
      if (d.hint) io.err(`  hint: ${d.hint}\n`);
    }
    if (!scenario) return EXIT.ERRORS;
    const mode = cliMode ?? scenario.options.ipBlockClusterIPs ?? 'match';
    const ctx = buildContext(scenario.topology, { ipBlockClusterIPs: mode });
    const useCilium = scenario.topology.extra.length > 0 || scenario.queries.some((q) => q.http);
    let l7: CiliumL7 | null = null;
    try {
      if (useCilium) l7 = new CiliumL7(scenario.topology, scenario.dns);
      const results = scenario.queries.map((q) => {
        const v = evaluateWith(ctx, q);
        const explanation = { text: v.text, egress: v.egress, ingress: v.ingress, notes: v.notes };
        if (!l7) return { from: q.from, to: q.to, port: q.port, protocol: q.protocol, allowed: v.allowed, explanation };
        const c = l7.evaluate(q);
        return { from: q.from, to: q.to, port: q.port, protocol: q.protocol, ...(q.http ? { http: q.http } : {}), allowed: c.allowed, explanation, cilium: c };
      });
      io.out(`${JSON.stringify({ results }, null, 2)}\n`);
    } catch (e) {
      if (e instanceof PolicyInputError) {
        io.err(`${file}: error ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
        return EXIT.ERRORS;
      }
      throw e;
    }
    return EXIT.OK;
  },
};
