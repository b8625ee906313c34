// A lab state seen through the core models: the CNI data plane (with kernel
// changes applied), NetworkPolicy verdicts, Cilium L7, Service endpoints and
// DNS. Every view is built lazily once per state. Pod selectors of the
// property language and of matrix checks are resolved here.

import { buildDataplane, type ClusterDataplane, type NetNamespace } from '../cni';
import { loadTopology, serializeTopology } from '../model';
import { selectorMatches } from '../model/labels';
import type { PodModel, Protocol, ServiceModel, Topology } from '../model/types';
import { CiliumL7, buildContext, compilePolicies, evaluateWith, podKey, type CompiledPolicies, type PolicyContext, type Verdict } from '../policy';
import { patchDataplane } from './netchange';
import { LabError, type LabState } from './types';

export interface PortProto {
  port: number;
  protocol: Protocol;
}

/** `5432/TCP`, `53/udp`, `80` (TCP). */
export function parsePort(s: string): PortProto {
  const m = /^\s*(\d{1,5})(?:\s*\/\s*(tcp|udp|sctp))?\s*$/i.exec(String(s));
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new LabError(`"${s}" is not a port`, 'write PORT/PROTO, e.g. 5432/TCP or 53/UDP');
  return { port: Number(m[1]), protocol: ((m[2] ?? 'TCP').toUpperCase() as Protocol) };
}

export function portText(p: PortProto): string {
  return `${p.port}/${p.protocol}`;
}

/**
 * A name for a pod that survives template edits: Deployment pods are named
 * `<deployment>-<pod-template-hash>-<suffix>`, and the hash changes when the
 * student edits the template, so the key drops it (`production/frontend-x7b9k`).
 */
export function stablePodKey(p: PodModel): string {
  if (p.owner?.kind === 'Deployment') {
    const prefix = `${p.owner.name}-`;
    if (p.name.startsWith(prefix)) {
      const rest = p.name.slice(prefix.length);
      const dash = rest.lastIndexOf('-');
      if (dash > 0) return `${p.namespace}/${p.owner.name}-${rest.slice(dash + 1)}`;
    }
  }
  return podKey(p);
}

/** One end of a connection: a pod (by `ns/name`), or an address / node as the policy module writes them. */
export interface EndpointRef {
  /** For evaluateWith: `ns/name`, `ip:ADDR` or `node:NAME`. */
  ref: string;
  /** Shown in feedback. */
  label: string;
  pod?: PodModel;
}

function globToRegExp(g: string): RegExp {
  return new RegExp(`^${g.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function parseLabelTerms(body: string, where: string): ((labels: Record<string, string>) => boolean)[] {
  const terms = body.split(',').map((x) => x.trim()).filter(Boolean);
  return terms.map((t) => {
    let m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(t);
    if (m) {
      const [, k, v] = m;
      return (l) => l[k] !== v;
    }
    m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(t);
    if (m) {
      const [, k, v] = m;
      return (l) => l[k] === v;
    }
    if (/^![^!=\s]+$/.test(t)) return (l) => !(t.slice(1) in l);
    if (/^[^!=\s]+$/.test(t)) return (l) => t in l;
    throw new LabError(`bad label term "${t}" in ${where}`, 'write {key=value,key2!=value2,key3} (key alone = exists, !key = absent)');
  });
}

export class LabWorld {
  private _dp?: ClusterDataplane;
  private _dpErrors: string[] = [];
  private _compiled?: CompiledPolicies;
  private _ctx?: PolicyContext;
  private _l7?: CiliumL7;
  private readonly verdictCache = new Map<string, boolean>();
  private readonly variants = new Map<string, LabWorld>();

  constructor(readonly state: LabState) {}

  get topology(): Topology {
    return this.state.topology;
  }

  /** The same state with `--set` overrides applied (the topology is reloaded, so addresses follow). */
  withSettings(set: readonly string[]): LabWorld {
    if (!set.length) return this;
    const key = set.join('\u0000');
    const hit = this.variants.get(key);
    if (hit) return hit;
    const r = loadTopology({ file: 'variant.yaml', text: serializeTopology(this.topology) }, { set: [...set] });
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (!r.topology || errors.length) throw new LabError(`cannot apply ${set.join(', ')}: ${errors.map((d) => d.message).join('; ')}`, 'use settings netlab validate --set accepts');
    const w = new LabWorld({ topology: r.topology, changes: this.state.changes });
    this.variants.set(key, w);
    return w;
  }

  /** ipBlock peers and cluster addresses: Cilium ignores them (identities), Calico and the API reference match them. */
  get ipBlockMode(): 'match' | 'ignore' {
    return this.topology.settings.cni.plugin === 'cilium' ? 'ignore' : 'match';
  }

  dataplane(): ClusterDataplane {
    if (!this._dp) {
      const patched = patchDataplane(buildDataplane(this.topology), this.topology, this.state.changes);
      this._dp = patched.dp;
      this._dpErrors = patched.errors;
    }
    return this._dp;
  }

  /** Commands from the submission that the kernel would have refused. */
  dataplaneErrors(): string[] {
    this.dataplane();
    return this._dpErrors;
  }

  /** `node:NAME`, `pod:NS/NAME`, `NS/NAME` or a bare node name. */
  namespace(target: string): NetNamespace {
    const t = target.trim();
    const dp = this.dataplane();
    if (t.startsWith('node:')) return dp.node(t.slice(5));
    const podRef = t.startsWith('pod:') ? t.slice(4) : t.includes('/') ? t : null;
    if (podRef === null) return dp.node(t);
    const pod = this.pod(podRef);
    return pod.hostNetwork ? dp.node(pod.nodeName) : dp.pod(pod.namespace, pod.name);
  }

  compiled(): CompiledPolicies {
    this._compiled ??= compilePolicies(this.topology, { ipBlockClusterIPs: this.ipBlockMode });
    return this._compiled;
  }

  policyContext(): PolicyContext {
    this._ctx ??= buildContext(this.topology, { ipBlockClusterIPs: this.ipBlockMode });
    return this._ctx;
  }

  l7(): CiliumL7 {
    this._l7 ??= new CiliumL7(this.topology);
    return this._l7;
  }

  /** Whether NetworkPolicy (and CiliumNetworkPolicy at L3/L4, when present) allows the connection. */
  allowed(from: EndpointRef, to: EndpointRef, p: PortProto): boolean {
    const key = `${from.ref}|${to.ref}|${p.port}|${p.protocol}`;
    const hit = this.verdictCache.get(key);
    if (hit !== undefined) return hit;
    let v: boolean;
    if (this.topology.extra.some((x) => x.apiVersion.startsWith('cilium.io/') && /NetworkPolicy$/.test(x.kind))) {
      v = this.l7().evaluate({ from: from.ref, to: to.ref, port: p.port, protocol: p.protocol }).connection;
    } else {
      v = this.compiled().verdict({ from: from.ref, to: to.ref, port: p.port, protocol: p.protocol });
    }
    this.verdictCache.set(key, v);
    return v;
  }

  explain(from: EndpointRef, to: EndpointRef, p: PortProto): Verdict {
    return evaluateWith(this.policyContext(), { from: from.ref, to: to.ref, port: p.port, protocol: p.protocol });
  }

  /** A pod by `ns/name`, by stable key (`ns/deployment-suffix`), or by a unique glob. */
  pod(ref: string): PodModel {
    const r = ref.startsWith('pod:') ? ref.slice(4) : ref;
    const [ns, name] = r.includes('/') ? [r.slice(0, r.indexOf('/')), r.slice(r.indexOf('/') + 1)] : ['default', r];
    const exact = this.topology.pods.find((p) => p.namespace === ns && p.name === name) ?? this.topology.pods.find((p) => stablePodKey(p) === `${ns}/${name}`);
    if (exact) return exact;
    if (name.includes('*')) {
      const re = globToRegExp(name);
      const hits = this.topology.pods.filter((p) => p.namespace === ns && re.test(p.name));
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) throw new LabError(`"${ref}" matches ${hits.length} pods`, 'name one pod');
    }
    throw new LabError(`no pod ${ns}/${name} in the topology`, `pods in ${ns}: ${this.topology.pods.filter((p) => p.namespace === ns).map((p) => p.name).slice(0, 8).join(', ') || 'none'}`);
  }

  service(ref: string): ServiceModel {
    const r = ref.startsWith('svc:') ? ref.slice(4) : ref;
    const [ns, name] = r.includes('/') ? [r.slice(0, r.indexOf('/')), r.slice(r.indexOf('/') + 1)] : ['default', r];
    const s = this.topology.services.find((x) => x.namespace === ns && x.name === name);
    if (!s) throw new LabError(`no Service ${ns}/${name} in the topology`, 'write NAMESPACE/NAME of a Service');
    return s;
  }

  podEndpoint(p: PodModel): EndpointRef {
    return { ref: podKey(p), label: stablePodKey(p), pod: p };
  }

  /**
   * Endpoints a selector names. Pods: `*`, `NS/*`, `NS/NAME` (glob allowed),
   * `NS/{k=v,…}`, `{k=v}` (any namespace), `svc:NS/NAME` (the Service's
   * selected pods); other ends: `ip:ADDRESS`, `node:NAME`. `|` joins several.
   */
  select(selector: string): EndpointRef[] {
    const out: EndpointRef[] = [];
    const seen = new Set<string>();
    const add = (e: EndpointRef) => {
      if (!seen.has(e.ref)) {
        seen.add(e.ref);
        out.push(e);
      }
    };
    for (const part0 of splitUnion(selector)) {
      const part = part0.trim();
      if (!part) continue;
      if (part.startsWith('ip:')) {
        add({ ref: part, label: part.slice(3) });
        continue;
      }
      if (part.startsWith('node:')) {
        if (!this.topology.nodes.some((n) => n.name === part.slice(5))) throw new LabError(`no node ${part.slice(5)}`, `nodes: ${this.topology.nodes.map((n) => n.name).join(', ')}`);
        add({ ref: part, label: part });
        continue;
      }
      for (const p of this.selectPods(part)) add(this.podEndpoint(p));
    }
    return out;
  }

  selectPods(part: string): PodModel[] {
    const pods = this.topology.pods;
    if (part === '*') return [...pods];
    if (part.startsWith('svc:')) {
      const s = this.service(part);
      if (!s.selector || Object.keys(s.selector).length === 0) return [];
      return pods.filter((p) => p.namespace === s.namespace && selectorMatches({ matchLabels: s.selector }, p.labels));
    }
    let ns: string | null = null;
    let rest = part;
    const brace = part.indexOf('{');
    const slash = part.indexOf('/');
    if (slash >= 0 && (brace < 0 || slash < brace)) {
      ns = part.slice(0, slash);
      rest = part.slice(slash + 1);
    }
    if (rest.startsWith('{')) {
      if (!rest.endsWith('}')) throw new LabError(`"${part}": unclosed {`, 'write NS/{key=value}');
      const terms = parseLabelTerms(rest.slice(1, -1), `"${part}"`);
      return pods.filter((p) => (ns === null || p.namespace === ns) && terms.every((t) => t(p.labels)));
    }
    if (ns === null) throw new LabError(`"${part}" is not a pod selector`, 'write NAMESPACE/NAME, NAMESPACE/*, NAMESPACE/{key=value}, {key=value}, svc:NS/NAME, ip:ADDRESS or node:NAME');
    if (rest.includes('*')) {
      const re = globToRegExp(rest);
      return pods.filter((p) => p.namespace === ns && (re.test(p.name) || re.test(stablePodKey(p).slice(ns!.length + 1))));
    }
    const one = pods.find((p) => p.namespace === ns && p.name === rest) ?? pods.find((p) => stablePodKey(p) === `${ns}/${rest}`);
    return one ? [one] : [];
  }
}

/** Splits `a|b` at top level (not inside braces). */
export function splitUnion(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === '|' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
