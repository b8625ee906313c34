// Diagnostics for the Istio objects of a topology: what Istio's validating
// webhook refuses (errors; the object never exists), its warnings, and
// cross-object findings in the spirit of `istioctl analyze` (a route to a
// subset no DestinationRule defines, a host that is no Service, a policy
// that selects nothing, principals without mTLS, Service ports where
// AuthorizationPolicy sees container ports…). Positions come from each
// object's origin; with the source texts the field itself is located.

import type { Diagnostic, PodModel, Topology } from '../model/types';
import { formatPath, type SourceText } from '../model';
import { locate, parseSources, type DocEntry, type PathSeg as ModelPathSeg } from '../model/source';
import { podInjected, INJECTION_SEED_NOTE } from './injection';
import { configName, meshConfig } from './manifests';
import { effectiveMtls } from './peerauth';
import type { ConfigRef, MeshIssue, PathSeg } from './types';
import { labelsSubset, resolveHost, rootNs, serviceByFqdn, type MeshOptions } from './world';
import { destinationRuleFor } from './routing';

export interface ValidateMeshOptions extends MeshOptions {
  /** The YAML the topology was loaded from, to point at fields (not just objects). */
  sources?: SourceText[];
}

function parseOriginPath(p: string | undefined): ModelPathSeg[] {
  if (!p) return [];
  const out: ModelPathSeg[] = [];
  const re = /([A-Za-z_][\w-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(p))) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(`"${m[3]}"`) as string);
  }
  return out;
}

class Locator {
  private docs = new Map<string, DocEntry[]>();
  constructor(sources: SourceText[] | undefined) {
    if (!sources) return;
    const entries = parseSources(sources, []);
    for (const e of entries) {
      const l = this.docs.get(e.file) ?? [];
      l.push(e);
      this.docs.set(e.file, l);
    }
  }

  /** Line/column of a field of an object, when the object's document can be found. */
  find(ref: ConfigRef, path: PathSeg[]): { line: number; column: number } | undefined {
    const o = ref.origin;
    if (!o) return undefined;
    const base = parseOriginPath(o.path);
    for (const d of this.docs.get(o.file) ?? []) {
      const at = locate(d, base);
      if (at.line === o.line && at.column === o.column) return locate(d, [...base, ...path]);
    }
    return undefined;
  }
}

function diag(ref: ConfigRef, issue: MeshIssue, loc: Locator): Diagnostic {
  const d: Diagnostic = { severity: issue.severity, code: issue.code, message: `${ref.kind} ${configName(ref)}: ${issue.message}` };
  const o = ref.origin;
  if (o) {
    d.file = o.file;
    const at = loc.find(ref, issue.path);
    d.line = at?.line ?? o.line;
    d.column = at?.column ?? o.column;
  }
  const full = [...parseOriginPath(o?.path), ...issue.path];
  if (full.length) d.path = formatPath(full);
  const hint = issue.rejected
    ? `Istio's validating webhook refuses this object ("admission webhook \\"validation.istio.io\\" denied the request: configuration is invalid: ${issue.message}"), so kubectl apply fails and the object does not exist.${issue.hint ? ` ${issue.hint}` : ''}`
    : issue.hint;
  if (hint) d.hint = hint;
  return d;
}

/** Every mesh diagnostic of the topology. */
export function validateMesh(t: Topology, opts: ValidateMeshOptions = {}): Diagnostic[] {
  const loc = new Locator(opts.sources);
  const cfg = meshConfig(t);
  const out: Diagnostic[] = [];
  const all = [...cfg.peerAuthentications, ...cfg.authorizationPolicies, ...cfg.virtualServices, ...cfg.destinationRules];
  const extra: { ref: ConfigRef; issue: MeshIssue }[] = [];
  const add = (ref: ConfigRef, issue: MeshIssue): void => void extra.push({ ref, issue });

  if (!t.settings.mesh?.enabled && (all.length || cfg.other.length)) {
    const first = (all[0]?.ref ?? cfg.other[0])!;
    add(first, { severity: 'warning', code: 'mesh-disabled', message: `the topology has ${all.length + cfg.other.length} Istio object(s) but settings.mesh.enabled is false: no sidecars are injected and none of them acts`, path: [], hint: 'Set `mesh: true` in the cluster section (or --set mesh=true).' });
  }
  for (const x of all) {
    const raw = t.extra.find((r) => r.kind === x.ref.kind && r.name === x.ref.name && (r.namespace ?? 'default') === x.ref.namespace);
    if (raw && raw.namespace === undefined) {
      add(x.ref, {
        severity: 'warning',
        code: 'istio-no-namespace',
        message: 'metadata.namespace is not set: kubectl creates the object in the current context\'s namespace (the model assumes "default"), and short host names resolve in that namespace',
        path: ['metadata'],
        hint: 'Give Istio objects an explicit metadata.namespace.',
      });
    }
  }

  // VirtualService destinations and subsets
  for (const vs of cfg.virtualServices) {
    vs.http.forEach((r, i) => {
      (r.route ?? []).forEach((d, j) => {
        const fqdn = resolveHost(t, d.host, vs.ref.namespace);
        const svc = serviceByFqdn(t, fqdn);
        if (!svc) {
          add(vs.ref, {
            severity: 'warning',
            code: 'IST0101',
            message: `Referenced host not found: "${d.host}" (${fqdn}) is no Service of the topology`,
            path: ['spec', 'http', i, 'route', j, 'destination', 'host'],
            hint: d.host.includes('.') && !d.host.endsWith('.svc.' + (t.settings.dns?.clusterDomain ?? 'cluster.local')) ? 'Istio takes hosts with a dot literally: write the short name or the full FQDN (name.namespace.svc.cluster.local).' : 'Short names resolve in the VirtualService\'s own namespace.',
          });
          return;
        }
        if (d.subset) {
          const seenFrom = t.pods.find((p) => p.namespace === vs.ref.namespace)?.namespace ?? vs.ref.namespace;
          const dr = destinationRuleFor(t, seenFrom, fqdn, opts);
          if (!dr || !dr.subsets.some((s) => s.name === d.subset)) {
            add(vs.ref, {
              severity: 'error',
              code: 'IST0101',
              message: `Referenced host+subset in destinationrule not found: "${fqdn}+${d.subset}"`,
              path: ['spec', 'http', i, 'route', j, 'destination', 'subset'],
              hint: `Define subset ${d.subset} in a DestinationRule for ${fqdn}${dr ? ` (${configName(dr.ref)} has ${dr.subsets.map((s) => s.name).join(', ') || 'no subsets'})` : ''}; until then requests routed there get 503 (NC).`,
            });
          } else {
            const sub = dr.subsets.find((s) => s.name === d.subset)!;
            const pods = t.pods.filter((p) => p.namespace === svc.namespace && labelsSubset(svc.selector, p.labels) && labelsSubset(sub.labels, p.labels));
            if (pods.length === 0) {
              add(vs.ref, { severity: 'warning', code: 'subset-empty', message: `subset ${d.subset} of ${fqdn} (${JSON.stringify(sub.labels)}) selects no pod of the Service: requests routed there get 503 no healthy upstream`, path: ['spec', 'http', i, 'route', j, 'destination', 'subset'] });
            }
          }
        }
      });
    });
  }

  // DestinationRule hosts
  for (const dr of cfg.destinationRules) {
    if (!dr.host || dr.host.includes('*')) continue;
    const fqdn = resolveHost(t, dr.host, dr.ref.namespace);
    if (!serviceByFqdn(t, fqdn)) {
      add(dr.ref, { severity: 'warning', code: 'IST0101', message: `host "${dr.host}" (${fqdn}) is no Service of the topology: the rule applies to nothing`, path: ['spec', 'host'], hint: 'Short names resolve in the DestinationRule\'s own namespace.' });
    }
  }

  // AuthorizationPolicy: selection, principals without mTLS, Service ports
  const principalNs = (p: string): string | undefined => /^[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(p)?.[1];
  for (const ap of cfg.authorizationPolicies) {
    if (ap.targetRefs) continue;
    const root = rootNs(opts);
    const targets = t.pods.filter((p) => (ap.ref.namespace === root || p.namespace === ap.ref.namespace) && labelsSubset(ap.selector, p.labels));
    if (ap.selector && targets.length === 0) {
      add(ap.ref, { severity: 'warning', code: 'no-matching-workloads', message: `the selector ${JSON.stringify(ap.selector)} matches no pod in ${ap.ref.namespace === root ? 'the mesh' : `namespace ${ap.ref.namespace}`}`, path: ['spec', 'selector'] });
    }
    const uninjected = targets.filter((p) => !podInjected(t, p).injected);
    if (uninjected.length && t.settings.mesh?.enabled) {
      add(ap.ref, { severity: 'warning', code: 'policy-without-sidecar', message: `it selects ${uninjected.map((p) => `${p.namespace}/${p.name}`).join(', ')}, which ${uninjected.length > 1 ? 'have' : 'has'} no sidecar: nothing enforces it there`, path: ['spec', 'selector'] });
    }
    (ap.rules ?? []).forEach((r, i) => {
      (r.from ?? []).forEach((f, j) => {
        const idFields = (['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts'] as const).filter((k) => f.source[k]?.length);
        if (idFields.length) {
          const disabled = targets.filter((p: PodModel) => effectiveMtls(t, p, undefined, opts).mode === 'DISABLE');
          if (disabled.length) {
            add(ap.ref, { severity: 'warning', code: 'principals-need-mtls', message: `rule ${i} matches on ${idFields.join(', ')}, which come from the mTLS peer certificate, but PeerAuthentication is DISABLE for ${disabled.map((p) => `${p.namespace}/${p.name}`).join(', ')}: no request there has a peer identity`, path: ['spec', 'rules', i, 'from', j, 'source', idFields[0]] });
          }
        }
        (f.source.principals ?? []).forEach((p, k) => {
          const ns = principalNs(p);
          if (ns && !t.namespaces.some((n) => n.name === ns) && !t.pods.some((x) => x.namespace === ns)) {
            add(ap.ref, { severity: 'warning', code: 'principal-namespace-missing', message: `principal "${p}" names namespace ${ns}, which has no pods in the topology: the rule can only match a workload running there`, path: ['spec', 'rules', i, 'from', j, 'source', 'principals', k] });
          }
        });
      });
      (r.to ?? []).forEach((tt, j) => {
        (tt.operation.ports ?? []).forEach((port, k) => {
          const n = Number(port);
          const listens = targets.some((p) => p.ports.some((c) => c.containerPort === n));
          const svcPort = t.services.find((s) => targets.some((p) => s.namespace === p.namespace && labelsSubset(s.selector, p.labels) && s.selector && Object.keys(s.selector).length) && s.ports.some((sp) => sp.port === n && sp.targetPort !== n));
          if (!listens && svcPort && targets.length) {
            const target = svcPort.ports.find((sp) => sp.port === n)!.targetPort;
            add(ap.ref, { severity: 'warning', code: 'authz-service-port', message: `ports ["${port}"] is the Service port of ${svcPort.name}; the sidecar checks the port the workload receives on (${target})`, path: ['spec', 'rules', i, 'to', j, 'operation', 'ports', k], hint: `AuthorizationPolicy sees the destination port after the Service translation: write "${target}".` });
          }
        });
      });
    });
  }

  // Injection by annotation only (the seed's pattern)
  if (t.settings.mesh?.enabled) {
    const owners = new Set<string>();
    for (const p of t.pods) {
      const d = podInjected(t, p);
      if (d.setting?.source !== 'annotation') continue;
      const owner = p.owner ? `${p.owner.kind} ${p.namespace}/${p.owner.name}` : undefined;
      if (owner) {
        if (owners.has(owner)) continue;
        owners.add(owner);
      }
      {
        out.push({
          severity: 'warning',
          code: 'inject-annotation',
          message: `${owner ? `${owner} (pod template)` : `Pod ${p.namespace}/${p.name}`}: sidecar.istio.io/inject is an annotation (deprecated); ${d.injected ? 'the injector still reads it' : `no sidecar: ${d.reason}`}`,
          ...(p.origin ? { file: p.origin.file, line: p.origin.line, column: p.origin.column } : {}),
          path: owner ? 'spec.template.metadata.annotations["sidecar.istio.io/inject"]' : 'metadata.annotations["sidecar.istio.io/inject"]',
          hint: INJECTION_SEED_NOTE,
        });
      }
    }
  }

  for (const x of all) for (const i of x.issues) out.push(diag(x.ref, i, loc));
  for (const e of extra) out.push(diag(e.ref, e.issue, loc));
  return out;
}
