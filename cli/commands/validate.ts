// netlab validate FILE…: load the files as one topology and report every problem.

import { parseVerbArgs } from '../args';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { validateMesh } from '../../core/mesh';
import { EXIT, UsageError, type Command } from '../types';

export const validate: Command = {
  name: 'validate',
  summary: 'check topology files and manifests; print every problem with file:line:col',
  usage: `usage: netlab validate [--json] [--set key=value]… FILE…

Loads every FILE together as one topology (a Topology file, plain Kubernetes
manifests, \`kubectl get -A -o yaml\` output; "-" reads standard input), applies
--set overrides, allocates addresses and derives EndpointSlices, then prints
each diagnostic as

  file:line:col: error|warning [code] message (field path)
    hint: what to do

followed by the counts. Exits 1 when there is at least one error.
--json prints {files, ok, errors, warnings, diagnostics: [...]} instead.`,
  async run({ argv, set, json, io }) {
    const { positionals } = parseVerbArgs(argv, {});
    if (positionals.length === 0) throw new UsageError('give at least one FILE');
    const r = await loadFromFiles(positionals, set, io);
    // Istio objects (PeerAuthentication, AuthorizationPolicy, VirtualService,
    // DestinationRule) are checked the way istiod's webhook and analyzers do.
    if (r.topology) r.diagnostics.push(...validateMesh(r.topology, { sources: r.files }));
    const counts = countDiagnostics(r.diagnostics);
    if (json) {
      io.out(`${JSON.stringify({ files: positionals, ok: counts.errors === 0, errors: counts.errors, warnings: counts.warnings, diagnostics: r.diagnostics }, null, 2)}\n`);
    } else {
      printDiagnostics(r.diagnostics, io.out);
      if (r.topology && counts.errors === 0) {
        const t = r.topology;
        io.out(
          `topology ${t.settings.name}: ${t.nodes.length} nodes, ${t.namespaces.length} namespaces, ${t.pods.length} pods, ` +
            `${t.services.length} services, ${t.endpointSlices.length} endpoint slices, ${t.networkPolicies.length} network policies, ${t.extra.length} other objects\n`,
        );
      }
    }
    return counts.errors > 0 ? EXIT.ERRORS : EXIT.OK;
  },
};
