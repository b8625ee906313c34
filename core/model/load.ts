// loadTopology: YAML sources (a Topology file, plain manifests, `kubectl get
// -A -o yaml` Lists, in any mix) → one complete Topology plus every
// diagnostic, each with file, line, column and field path.

import { z } from 'zod';
import { parseIP, tryParseCidr, type Cidr } from '../net';
import { allocateTopology, cniFamilyUnsupported, type IpamIssue } from '../ipam';
import { deriveEndpointSlices } from './endpointslices';
import { selectorMatches } from './labels';
import {
  convertDeployment,
  convertEndpointSlice,
  convertEndpoints,
  convertNetworkPolicy,
  convertNode,
  convertPod,
  convertService,
  containerPorts,
  type Converted,
} from './manifests';
import { generateName, podTemplateHash, stableJson } from './names';
import {
  DaemonSetSchema,
  DeploymentSchema,
  EndpointSliceSchema,
  EndpointsSchema,
  NamespaceSchema,
  NetworkPolicySchema,
  NodeSchema,
  PodSchema,
  ServiceSchema,
  StatefulSetSchema,
  checkShape,
  describeValue,
} from './schemas';
import { applySetOverrides, applySetting, defaultPodIPOffset, defaultSettings, resolveSettingKey, SETTING_KEYS } from './settings';
import { DiagnosticSink, originOf, parseSources, placeText, type ObjRef, type PathSeg, type SourceText } from './source';
import type { ClusterSettings, DeploymentModel, Diagnostic, LabelSelector, NamespaceModel, NodeModel, PodModel, RawManifest, Topology } from './types';

export interface LoadOptions {
  /** `--set key=value` overrides, e.g. ['cni=calico-vxlan', 'kubeProxy=ipvs']. */
  set?: string[];
}

export interface LoadResult {
  /** Null only when errors prevent building it (unusable cluster settings, or no input). */
  topology: Topology | null;
  diagnostics: Diagnostic[];
}

export const TOPOLOGY_API_VERSION = 'netlab.dev/v1alpha1';

/* eslint-disable @typescript-eslint/no-explicit-any -- YAML objects before and after shape checks */
type Obj = any;

interface Item {
  obj: Obj;
  ref: ObjRef;
}

interface Located {
  ref: ObjRef;
  fieldPath: (field: string, index?: number) => PathSeg[];
}

/** Kinds kept verbatim in `extra` without a warning (group → kinds; '*' = every kind of the group). */
const KEPT_KINDS: Record<string, string[] | '*'> = {
  '': ['ConfigMap', 'Secret', 'ServiceAccount', 'LimitRange', 'ResourceQuota', 'PersistentVolumeClaim', 'PersistentVolume', 'ReplicationController', 'PodTemplate'],
  'cilium.io': '*',
  'security.istio.io': '*',
  'networking.istio.io': '*',
  'telemetry.istio.io': '*',
  'install.istio.io': '*',
  'crd.projectcalico.org': '*',
  'projectcalico.org': '*',
  'operator.tigera.io': '*',
  'gateway.networking.k8s.io': '*',
  'rbac.authorization.k8s.io': '*',
  'networking.k8s.io': ['Ingress', 'IngressClass', 'ServiceCIDR', 'IPAddress'],
  batch: '*',
  policy: '*',
  autoscaling: '*',
  'coordination.k8s.io': '*',
  'storage.k8s.io': '*',
  'apiextensions.k8s.io': '*',
  'admissionregistration.k8s.io': '*',
  'scheduling.k8s.io': '*',
  'apiregistration.k8s.io': '*',
  'node.k8s.io': '*',
  'certificates.k8s.io': '*',
  'flowcontrol.apiserver.k8s.io': '*',
  'metrics.k8s.io': '*',
  'monitoring.coreos.com': '*',
};

/** Kinds read and dropped without a word: controllers' bookkeeping. */
const SKIPPED: Record<string, string[]> = {
  apps: ['ReplicaSet', 'ControllerRevision'],
  '': ['Event', 'ComponentStatus'],
  'events.k8s.io': ['Event'],
};

/** Where each modelled kind lives. */
const MODELLED: Record<string, string> = {
  Namespace: '',
  Node: '',
  Pod: '',
  Service: '',
  Endpoints: '',
  EndpointSlice: 'discovery.k8s.io',
  NetworkPolicy: 'networking.k8s.io',
  Deployment: 'apps',
  DaemonSet: 'apps',
  StatefulSet: 'apps',
};

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'CustomResourceDefinition', 'IngressClass', 'PriorityClass', 'RuntimeClass']);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HeaderSchema = z.strictObject({
  apiVersion: z.literal(TOPOLOGY_API_VERSION, { error: `must be ${TOPOLOGY_API_VERSION}` }),
  kind: z.literal('Topology'),
  metadata: z.looseObject({ name: z.string().optional(), annotations: z.record(z.string(), z.string()).nullish(), labels: z.record(z.string(), z.string()).nullish() }).nullish(),
  description: z.string().nullish(),
  cluster: z.record(z.string(), z.unknown()).nullish(),
  nodes: z.array(z.unknown()).nullish(),
  manifests: z.array(z.unknown()).nullish(),
});
const HeaderNodeSchema = z.strictObject({
  name: z.string().regex(DNS1123_LABEL, { error: 'must be a DNS-1123 label (lowercase letters, digits and "-")' }),
  ip: z.string().optional(),
  ips: z.array(z.string()).max(2, { error: 'must list at most two addresses (one per IP family)' }).optional(),
  zone: z.string().optional(),
  labels: z.record(z.string(), z.string({ error: (iss) => `must be a string; quote ${JSON.stringify(iss.input)} in YAML` })).nullish(),
  podCIDR: z.string().optional(),
  podCIDRs: z.array(z.string()).max(2, { error: 'must list at most two CIDRs (one per IP family)' }).optional(),
});

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** The default nodes when the input names none: the seed's three nodes. */
function seedNodes(): { name: string; ip: string }[] {
  return [
    { name: 'node-1', ip: '10.0.1.5' },
    { name: 'node-2', ip: '10.0.1.6' },
    { name: 'node-3', ip: '10.0.1.7' },
  ];
}

export function loadTopology(sources: SourceText[] | SourceText, opts: LoadOptions = {}): LoadResult {
  const list = Array.isArray(sources) ? sources : [sources];
  const sink = new DiagnosticSink();
  const entries = parseSources(list, sink.list);
  const loc = new Map<object, Located>();
  const items: Item[] = [];
  let header: Item | undefined;
  const headerNodes: Item[] = [];

  // ---- 1. documents → items -------------------------------------------------
  for (const e of entries) {
    if (e.doc.errors.length) continue;
    const js: unknown = e.doc.toJS({ maxAliasCount: 10000 });
    if (js === null || js === undefined) continue;
    const ref: ObjRef = { entry: e, base: [] };
    if (typeof js !== 'object' || Array.isArray(js)) {
      sink.error('not-a-manifest', `document ${e.index + 1} of ${e.file} is ${describeValue(js)}, not a Kubernetes object or Topology`, ref, [], 'Each YAML document must be a mapping with apiVersion and kind.');
      continue;
    }
    const o = js as Obj;
    if (o.kind === 'Topology') {
      if (header) {
        sink.error('duplicate-topology', `a second Topology document; the first is at ${placeText(header.ref)}`, ref, ['kind'], 'Load one Topology file; put further objects in plain manifest files.');
        continue;
      }
      if (!checkShape(HeaderSchema, o, sink, ref, 'Topology')) {
        // Keep going with what has the right shape.
      }
      header = { obj: o, ref };
      if (Array.isArray(o.nodes)) o.nodes.forEach((_n: unknown, i: number) => headerNodes.push({ obj: o.nodes[i], ref: { entry: e, base: ['nodes', i] } }));
      if (Array.isArray(o.manifests)) o.manifests.forEach((m: unknown, i: number) => items.push({ obj: m, ref: { entry: e, base: ['manifests', i] } }));
      continue;
    }
    if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      o.items.forEach((m: unknown, i: number) => items.push({ obj: m, ref: { entry: e, base: ['items', i] } }));
      continue;
    }
    items.push({ obj: o, ref });
  }

  // ---- 2. settings ------------------------------------------------------------
  const settings = defaultSettings();
  const before = sink.errorCount;
  const settingRefs = new Map<string, ObjRef>();
  let offsetExplicit = false;
  if (header) {
    const h = header.obj;
    if (typeof h.metadata?.name === 'string') settings.name = h.metadata.name;
    const cluster = h.cluster && typeof h.cluster === 'object' && !Array.isArray(h.cluster) ? h.cluster : {};
    for (const [k, v] of Object.entries(cluster)) {
      const key = resolveSettingKey(k);
      if (!key) {
        sink.error('unknown-setting', `cluster.${k} is not a setting`, header.ref, ['cluster', k], `Valid keys: ${SETTING_KEYS.join(', ')}`);
        continue;
      }
      settingRefs.set(key, header.ref);
      if (key === 'podIPOffset') offsetExplicit = true;
      const err = applySetting(settings, key, v, true);
      if (err) sink.error('invalid-setting', `cluster.${k}: ${err}`, header.ref, ['cluster', k]);
    }
  }
  if (!offsetExplicit) settings.podIPOffset = defaultPodIPOffset(settings.cni.plugin, settings.cni.mode);
  const setDiags = applySetOverrides(settings, opts.set ?? [], { keepPodIPOffset: offsetExplicit });
  sink.list.push(...setDiags);
  const badKeys = new Set<string>();
  for (const d of sink.list) {
    if ((d.code === 'invalid-setting' || d.code === 'set-invalid-value') && d.path) badKeys.add(d.path.replace(/^cluster\./, '').split('.')[0]);
  }
  const setKeys = new Set((opts.set ?? []).map((x) => resolveSettingKey(x.split('=')[0].trim()) ?? ''));
  validateSettings(settings, sink, (key) => (setKeys.has(key) ? undefined : settingRefs.get(key)), (key) => (setKeys.has(key) ? `--set ${key}` : `cluster.${key}`));
  const settingsBroken = sink.errorCount > before;
  // Addresses can still be checked when the broken settings do not shape them.
  const ADDRESS_KEYS = ['cni', 'clusterCIDR', 'serviceCIDR', 'nodeCIDR', 'nodeCIDRMaskSize', 'blockSize', 'firstNodeCIDRIndex', 'podIPOffset', 'clusterCIDRs', 'serviceCIDRs', 'nodeCIDRs'];
  const addressesUsable = ![...badKeys].some((k) => ADDRESS_KEYS.includes(k) || k.startsWith('cni'));

  // ---- 3. manifests → models ------------------------------------------------------
  const t: Topology = { settings, nodes: [], namespaces: [], pods: [], deployments: [], services: [], endpointSlices: [], networkPolicies: [], extra: [] };
  const seen = new Map<string, ObjRef>();
  const namespacesIn: { model: NamespaceModel; ref: ObjRef }[] = [];
  const nodeManifests: Item[] = [];
  const podItems: Item[] = [];
  const workloads: { kind: 'Deployment' | 'DaemonSet' | 'StatefulSet'; obj: Obj; ref: ObjRef; deployment?: DeploymentModel }[] = [];
  const endpointsItems: Item[] = [];
  const svcCtx = { families: settings.serviceCIDRs.map((c) => (tryParseCidr(c)?.family === 6 ? 'IPv6' : 'IPv4') as 'IPv4' | 'IPv6') };

  const register = <T extends object>(c: Converted<T> | null, ref: ObjRef): T | null => {
    if (!c) return null;
    loc.set(c.model, { ref, fieldPath: c.fieldPath });
    (c.model as { origin?: unknown }).origin = originOf(ref);
    return c.model;
  };

  for (const it of items) {
    const o = it.obj;
    const ref = it.ref;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      sink.error('not-a-manifest', `expected a Kubernetes object (a mapping with apiVersion and kind), found ${describeValue(o)}`, ref);
      continue;
    }
    let headOk = true;
    for (const f of ['apiVersion', 'kind'] as const) {
      if (o[f] === undefined || o[f] === null) {
        sink.error('missing-field', `object without ${f}`, ref, [], `Add ${f}: …${f === 'kind' ? ' (e.g. Pod, Service)' : ' (e.g. v1, apps/v1)'}.`);
        headOk = false;
      } else if (typeof o[f] !== 'string') {
        sink.error('wrong-type', `${f} must be a string, not ${describeValue(o[f])}`, ref, [f]);
        headOk = false;
      }
    }
    if (!headOk) continue;
    const kind: string = o.kind;
    const group = groupOf(o.apiVersion);
    if (!o.metadata || typeof o.metadata !== 'object' || typeof o.metadata.name !== 'string' || o.metadata.name === '') {
      if (!(o.metadata && typeof o.metadata === 'object' && typeof o.metadata.generateName === 'string')) {
        sink.error(o.metadata?.name === undefined ? 'missing-field' : 'wrong-type', `${kind}: metadata.name is ${o.metadata?.name === undefined ? 'missing' : `not a string (${describeValue(o.metadata.name)})`}`, ref, o.metadata ? ['metadata', 'name'] : [], 'Every object needs metadata.name.');
        continue;
      }
    }
    if (SKIPPED[group]?.includes(kind)) continue;
    const what = `${kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : kind in MODELLED && !CLUSTER_SCOPED.has(kind) ? 'default/' : ''}${o.metadata.name}`;
    if (MODELLED[kind] !== undefined && MODELLED[kind] !== group) {
      const expected = MODELLED[kind] ? `${MODELLED[kind]}/v1` : 'v1';
      const isOtherGroupKind = KEPT_KINDS[group] === '*' || (Array.isArray(KEPT_KINDS[group]) && KEPT_KINDS[group].includes(kind));
      if (!isOtherGroupKind) {
        sink.error('wrong-api-version', `${what}: apiVersion ${o.apiVersion} has no kind ${kind}; it is ${expected}`, ref, ['apiVersion'], `Write apiVersion: ${expected}.`);
        continue;
      }
    }
    const modelled = MODELLED[kind] === group;
    const ns: string = modelled ? (CLUSTER_SCOPED.has(kind) ? '' : (o.metadata.namespace ?? 'default')) : (o.metadata.namespace ?? '');
    const dupKey = `${group}/${kind}/${ns}/${o.metadata.name}`;
    const prev = seen.get(dupKey);
    if (prev) {
      sink.error('duplicate-name', `${what} is defined twice: here and at ${placeText(prev)}`, ref, ['metadata', 'name'], 'Names are unique per kind and namespace; rename or remove one of them.');
      continue;
    }
    seen.set(dupKey, ref);
    if (!modelled) {
      const known = KEPT_KINDS[group] === '*' || (Array.isArray(KEPT_KINDS[group]) && KEPT_KINDS[group].includes(kind));
      if (!known) {
        sink.warn('unknown-kind', `${what}: kind ${kind} (${o.apiVersion}) is not modelled; it is kept as written`, ref, ['kind'], 'Only networking kinds affect the simulation; this object is carried along unchanged.');
      }
      const raw: RawManifest = { apiVersion: o.apiVersion, kind, name: o.metadata.name, object: o };
      if (o.metadata.namespace !== undefined) raw.namespace = o.metadata.namespace;
      raw.origin = originOf(ref);
      t.extra.push(raw);
      continue;
    }
    switch (kind) {
      case 'Namespace': {
        if (!checkShape(NamespaceSchema, o, sink, ref, what)) break;
        const labels: Record<string, string> = { ...(o.metadata.labels ?? {}) };
        labels['kubernetes.io/metadata.name'] = o.metadata.name;
        const m: NamespaceModel = { name: o.metadata.name, labels, origin: originOf(ref) };
        namespacesIn.push({ model: m, ref });
        loc.set(m, { ref, fieldPath: () => [] });
        break;
      }
      case 'Node':
        if (!checkShape(NodeSchema, o, sink, ref, what)) break;
        nodeManifests.push(it);
        break;
      case 'Pod':
        if (!checkShape(PodSchema, o, sink, ref, what)) break;
        if (o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed') break; // finished pods hold no address
        podItems.push(it);
        break;
      case 'Deployment':
        if (!checkShape(DeploymentSchema, o, sink, ref, what)) break;
        workloads.push({ kind, obj: o, ref });
        break;
      case 'StatefulSet':
      case 'DaemonSet': {
        if (!checkShape(kind === 'DaemonSet' ? DaemonSetSchema : StatefulSetSchema, o, sink, ref, what)) break;
        workloads.push({ kind, obj: o, ref });
        const raw: RawManifest = { apiVersion: o.apiVersion, kind, name: o.metadata.name, object: o, origin: originOf(ref) };
        if (o.metadata.namespace !== undefined) raw.namespace = o.metadata.namespace;
        t.extra.push(raw);
        break;
      }
      case 'Service': {
        if (!checkShape(ServiceSchema, o, sink, ref, what)) break;
        const m = register(convertService(o, sink, ref, svcCtx), ref);
        if (m) t.services.push(m);
        break;
      }
      case 'EndpointSlice': {
        if (!checkShape(EndpointSliceSchema, o, sink, ref, what)) break;
        const m = register(convertEndpointSlice(o, sink, ref), ref);
        if (m) t.endpointSlices.push(m);
        break;
      }
      case 'Endpoints':
        if (!checkShape(EndpointsSchema, o, sink, ref, what)) break;
        endpointsItems.push(it);
        break;
      case 'NetworkPolicy': {
        if (!checkShape(NetworkPolicySchema, o, sink, ref, what)) break;
        const m = register(convertNetworkPolicy(o), ref);
        if (m) t.networkPolicies.push(m);
        break;
      }
    }
  }

  // ---- 4. nodes ---------------------------------------------------------------------
  const nodeRefs = new Map<string, ObjRef>();
  const addNode = (n: NodeModel, ref: ObjRef | undefined, fieldPath: Located['fieldPath']) => {
    const prev = nodeRefs.get(n.name);
    if (prev && ref) {
      sink.error('duplicate-name', `node ${n.name} is defined twice: here and at ${placeText(prev)}`, ref, fieldPath('name'), 'Node names are unique; rename or remove one.');
      return;
    }
    if (ref && n.ips.length && !n.ips.some((ip) => parseIP(ip)?.family === 4)) {
      sink.error('ipv6-only-node', `node ${n.name} has no IPv4 address: the lab's CNI models build every node on an IPv4 underlay (dual-stack nodes carry IPv6 pod traffic too; IPv6-only nodes are not modelled, although Kubernetes supports them)`, ref, fieldPath('ips'), `Give the node an IPv4 address as well, e.g. ips: [10.0.1.5, "${n.ips[0]}"].`);
    }
    if (ref) {
      nodeRefs.set(n.name, ref);
      loc.set(n, { ref, fieldPath });
      n.origin = originOf(ref);
    }
    t.nodes.push(n);
  };
  for (const it of headerNodes) {
    if (!checkShape(HeaderNodeSchema, it.obj, sink, it.ref, `node ${it.obj && typeof it.obj === 'object' ? (it.obj.name ?? `#${Number(it.ref.base[1]) + 1}`) : ''}`.trim())) continue;
    const o = it.obj;
    if (o.ip !== undefined && o.ips !== undefined) sink.error('invalid-value', `node ${o.name}: give either ip or ips, not both`, it.ref, ['ips']);
    if (o.podCIDR !== undefined && o.podCIDRs !== undefined) sink.error('invalid-value', `node ${o.name}: give either podCIDR or podCIDRs, not both`, it.ref, ['podCIDRs']);
    const ips: string[] = o.ips ?? (o.ip !== undefined ? [o.ip] : []);
    const labels: Record<string, string> = { 'kubernetes.io/hostname': o.name, 'kubernetes.io/os': 'linux', ...(o.labels ?? {}) };
    if (o.zone) labels['topology.kubernetes.io/zone'] ??= o.zone;
    const n: NodeModel = { name: o.name, ips: [], labels, podCIDRs: o.podCIDRs ? [...o.podCIDRs] : o.podCIDR !== undefined ? [o.podCIDR] : [] };
    ips.forEach((ip, i) => {
      if (!parseIP(ip)) sink.error('invalid-ip', `node ${o.name}: "${ip}" is not an IP address`, it.ref, o.ips ? ['ips', i] : ['ip']);
      else n.ips.push(ip);
    });
    const zone = o.zone ?? labels['topology.kubernetes.io/zone'];
    if (zone) n.zone = zone;
    addNode(n, it.ref, (f, i = 0) => (f === 'ips' ? (o.ips ? ['ips', i] : o.ip !== undefined ? ['ip'] : []) : f === 'podCIDRs' ? (o.podCIDRs ? ['podCIDRs', i] : o.podCIDR !== undefined ? ['podCIDR'] : []) : f === 'name' ? ['name'] : []));
  }
  for (const it of nodeManifests) {
    const c = convertNode(it.obj, sink, it.ref);
    if (c) addNode(c.model, it.ref, (f, i) => (f === 'name' ? ['metadata', 'name'] : c.fieldPath(f, i)));
  }

  // ---- 5. pods ------------------------------------------------------------------------
  const bare: PodModel[] = [];
  const rawOf = new Map<PodModel, Obj>();
  for (const it of podItems) {
    const m = register(convertPod(it.obj, sink, it.ref), it.ref);
    if (m) {
      bare.push(m);
      rawOf.set(m, it.obj);
    }
  }
  if (t.nodes.length === 0) {
    const named = [...new Set(bare.map((p) => p.nodeName).filter(Boolean))];
    const names = named.length ? named : seedNodes().map((n) => n.name);
    for (const name of names) {
      const seed = seedNodes().find((n) => n.name === name);
      t.nodes.push({ name, ips: seed && !named.length ? [seed.ip] : [], labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' }, podCIDRs: [] });
    }
    if (items.length || header) {
      sink.warn(
        'no-nodes',
        `no nodes defined; using ${names.join(', ')}${named.length ? ' (the nodes the pods name)' : ' (the seed\'s nodes)'}`,
        header?.ref ?? items[0]?.ref,
        header ? ['nodes'] : [],
        'Describe nodes in the Topology file (nodes:) or with kind: Node objects.',
      );
    }
  }
  const nodeByName = new Map(t.nodes.map((n) => [n.name, n]));
  const eligibleCache = new Map<string, NodeModel[]>();
  const eligible = (nodeSelector: Record<string, string> | undefined): NodeModel[] => {
    if (!nodeSelector || Object.keys(nodeSelector).length === 0) return t.nodes;
    const key = stableJson(nodeSelector);
    let l = eligibleCache.get(key);
    if (!l) eligibleCache.set(key, (l = t.nodes.filter((n) => Object.entries(nodeSelector).every(([k, v]) => n.labels[k] === v))));
    return l;
  };
  let rr = 0;
  const podNames = new Map<string, ObjRef>();
  for (const p of bare) {
    const l = loc.get(p)!;
    const key = `${p.namespace}/${p.name}`;
    podNames.set(key, l.ref);
    const obj = rawOf.get(p);
    if (p.nodeName) {
      if (!nodeByName.has(p.nodeName)) {
        sink.error('unknown-node', `Pod ${key}: spec.nodeName "${p.nodeName}" is not a node of this topology`, l.ref, ['spec', 'nodeName'], `Known nodes: ${t.nodes.map((n) => n.name).join(', ')}.`);
        continue;
      }
    } else {
      const el = eligible(obj?.spec?.nodeSelector ?? undefined);
      if (el.length === 0) {
        sink.warn('unschedulable', `Pod ${key}: no node matches its nodeSelector; it stays Pending and is left out`, l.ref, ['spec', 'nodeSelector']);
        continue;
      }
      p.nodeName = el[rr++ % el.length].name;
    }
    t.pods.push(p);
  }

  // ---- 6. workloads ----------------------------------------------------------------------
  const bareIndex = new Map<string, PodModel[]>();
  for (const p of t.pods) {
    let l = bareIndex.get(p.namespace);
    if (!l) bareIndex.set(p.namespace, (l = []));
    l.push(p);
  }
  /**
   * Whether the input already lists the pods of a workload (kubectl output):
   * pods owned by it (ownerReferences: the Deployment's ReplicaSet
   * `<name>-<hash>`, or the DaemonSet / StatefulSet itself), or pods its
   * selector matches that carry the label its controller sets
   * (pod-template-hash for a Deployment's ReplicaSet, controller-revision-hash
   * for DaemonSets and StatefulSets). A hand-written pod that merely shares
   * the labels is not adopted, as the real ReplicaSet selector includes the
   * pod-template-hash.
   */
  const hasOwnPods = (ns: string, sel: LabelSelector | undefined, obj: Obj, kind: 'Deployment' | 'DaemonSet' | 'StatefulSet') => {
    const pods = bareIndex.get(ns) ?? [];
    const name: string = obj.metadata.name;
    const uid = obj.metadata?.uid;
    const marker = kind === 'Deployment' ? 'pod-template-hash' : 'controller-revision-hash';
    const selective = sel && (Object.keys(sel.matchLabels ?? {}).length || (sel.matchExpressions ?? []).length);
    return pods.some((p) => {
      const refs = rawOf.get(p)?.metadata?.ownerReferences;
      if (Array.isArray(refs)) {
        for (const r of refs) {
          if (uid && r?.uid === uid) return true;
          if (kind === 'Deployment' ? r?.kind === 'ReplicaSet' && typeof r.name === 'string' && r.name.startsWith(`${name}-`) : r?.kind === kind && r.name === name) return true;
        }
      }
      return !!selective && p.labels[marker] !== undefined && selectorMatches(sel!, p.labels);
    });
  };
  // Deployments first, then StatefulSets and DaemonSets (kept in `extra`), each
  // in document order: the order serializeTopology writes them back in, so a
  // round trip places and numbers the pods identically. Replicas without an
  // explicit node go round-robin over the eligible nodes, one counter for all
  // workloads so they spread over the cluster.
  const ordered = [...workloads.filter((w) => w.kind === 'Deployment'), ...workloads.filter((w) => w.kind !== 'Deployment')];
  let wrr = 0;
  const expanded: PodModel[][] = [[], []];
  for (const w of ordered) {
    const o = w.obj;
    const ns: string = o.metadata.namespace ?? 'default';
    const tspec = o.spec.template.spec;
    const tlabels: Record<string, string> = { ...(o.spec.template.metadata?.labels ?? {}) };
    const what = `${w.kind} ${ns}/${o.metadata.name}`;
    const sel: LabelSelector | undefined = o.spec.selector ?? undefined;
    if (!sel) {
      sink.error('missing-field', `${what}: spec.selector is required (apps/v1)`, w.ref, ['spec'], 'Add selector: {matchLabels: {...}} with the template\'s labels.');
    } else if (!selectorMatches(sel, tlabels) || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      sink.error('selector-mismatch', `${what}: spec.selector does not match the pod template labels`, w.ref, ['spec', 'selector'], 'The selector must select the template\'s own labels (spec.template.metadata.labels).');
    }
    let dm: DeploymentModel | undefined;
    if (w.kind === 'Deployment') {
      dm = register(convertDeployment(o, sink, w.ref), w.ref) ?? undefined;
      if (!dm) continue;
      t.deployments.push(dm);
    }
    if (hasOwnPods(ns, sel, o, w.kind)) continue; // the input lists its pods (kubectl output)
    const replicas: number = w.kind === 'DaemonSet' ? 0 : (o.spec.replicas ?? 1);
    const el = tspec.nodeName ? [nodeByName.get(tspec.nodeName)].filter((n): n is NodeModel => !!n) : eligible(tspec.nodeSelector ?? undefined);
    if (tspec.nodeName && el.length === 0) {
      sink.error('unknown-node', `${what}: spec.template.spec.nodeName "${tspec.nodeName}" is not a node of this topology`, w.ref, ['spec', 'template', 'spec', 'nodeName']);
      continue;
    }
    let placement: NodeModel[] = el;
    if (dm?.nodes) {
      const bad = dm.nodes.filter((n) => !nodeByName.has(n));
      if (bad.length) {
        sink.error('unknown-node', `${what}: netlab.dev/nodes names unknown node(s) ${bad.join(', ')}`, w.ref, ['metadata', 'annotations', 'netlab.dev/nodes'], `Known nodes: ${t.nodes.map((n) => n.name).join(', ')}.`);
      }
      const good = dm.nodes.filter((n) => nodeByName.has(n)).map((n) => nodeByName.get(n)!);
      if (good.length) placement = good;
    }
    if (placement.length === 0 && (replicas > 0 || w.kind === 'DaemonSet')) {
      sink.warn('unschedulable', `${what}: no node matches the pod template's nodeSelector; its pods stay Pending and are left out`, w.ref, ['spec', 'template', 'spec', 'nodeSelector']);
      continue;
    }
    const base = {
      namespace: ns,
      annotations: { ...(o.spec.template.metadata?.annotations ?? {}) },
      hostNetwork: tspec.hostNetwork === true,
      ports: containerPorts(tspec),
      serviceAccountName: tspec.serviceAccountName ?? tspec.serviceAccount ?? 'default',
    };
    const mk = (name: string, node: NodeModel, labels: Record<string, string>): PodModel => {
      const p: PodModel = { ...base, name, labels, annotations: { ...base.annotations }, ports: base.ports.map((x) => ({ ...x })), nodeName: node.name, ips: [], owner: { kind: w.kind, name: o.metadata.name } };
      const key = `${ns}/${name}`;
      const clash = podNames.get(key);
      if (clash) sink.error('duplicate-name', `${what}: its pod ${name} clashes with Pod ${key} at ${placeText(clash)}`, w.ref, ['metadata', 'name']);
      podNames.set(key, w.ref);
      loc.set(p, { ref: w.ref, fieldPath: (f) => (f === 'ips' && w.kind !== 'DaemonSet' ? ['spec', 'replicas'] : []) });
      p.origin = originOf(w.ref);
      return p;
    };
    const bucket = w.kind === 'Deployment' ? expanded[0] : expanded[1];
    if (w.kind === 'Deployment') {
      // Hash of the modelled template (labels, annotations, ports, …): the real
      // one hashes the whole pod template; this one must survive a round trip.
      const hash = podTemplateHash(stableJson(dm!.template));
      const labels = { ...tlabels, 'pod-template-hash': hash };
      for (let i = 0; i < replicas; i++) {
        const name = generateName(`${o.metadata.name}-${hash}-`, `${ns}/${o.metadata.name}/${i}`);
        bucket.push(mk(name, dm?.nodes ? placement[i % placement.length] : placement[wrr++ % placement.length], { ...labels }));
      }
    } else if (w.kind === 'StatefulSet') {
      for (let i = 0; i < replicas; i++) {
        const name = `${o.metadata.name}-${i}`;
        bucket.push(mk(name, placement[wrr++ % placement.length], { ...tlabels, 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': name }));
      }
    } else {
      for (const node of placement) {
        bucket.push(mk(generateName(`${o.metadata.name}-`, `${ns}/${o.metadata.name}/${node.name}`), node, { ...tlabels }));
      }
    }
  }
  t.pods.push(...expanded[0], ...expanded[1]);

  // ---- 7. namespaces ----------------------------------------------------------------------------
  const nsSeen = new Map<string, NamespaceModel>();
  for (const n of namespacesIn) {
    nsSeen.set(n.model.name, n.model);
    t.namespaces.push(n.model);
  }
  const implied = (name: string) => {
    if (nsSeen.has(name)) return;
    const m: NamespaceModel = { name, labels: { 'kubernetes.io/metadata.name': name } };
    nsSeen.set(name, m);
    t.namespaces.push(m);
  };
  for (const p of t.pods) implied(p.namespace);
  for (const d of t.deployments) implied(d.namespace);
  for (const s of t.services) implied(s.namespace);
  for (const s of t.endpointSlices) implied(s.namespace);
  for (const np of t.networkPolicies) implied(np.namespace);
  for (const x of t.extra) if (x.namespace) implied(x.namespace);
  implied('default');
  implied('kube-system');

  // ---- 8. the kubernetes Service ---------------------------------------------------------------------
  if (!t.services.some((s) => s.namespace === 'default' && s.name === 'kubernetes')) {
    t.services.unshift({
      namespace: 'default',
      name: 'kubernetes',
      labels: { component: 'apiserver', provider: 'kubernetes' },
      type: 'ClusterIP',
      clusterIPs: [],
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }],
      sessionAffinity: 'None',
      sessionAffinityTimeoutSeconds: 10800,
      internalTrafficPolicy: 'Cluster',
      externalTrafficPolicy: 'Cluster',
      externalIPs: [],
      loadBalancerIPs: [],
      loadBalancerSourceRanges: [],
      ipFamilies: [svcCtx.families[0] ?? 'IPv4'],
    });
  }

  // ---- 9. addresses ------------------------------------------------------------------------------------
  if (addressesUsable) {
    allocateTopology(t, {
      report: (iss: IpamIssue) => {
        if (iss.code === 'invalid-mask-size') return; // validateSettings said it, with the position
        const l = iss.subject ? loc.get(iss.subject) : undefined;
        const rel = l && iss.field ? l.fieldPath(iss.field, iss.index) : [];
        sink.add(iss.severity, iss.code, iss.message, l?.ref, rel, iss.hint);
      },
    });
    t.pods = t.pods.filter((p) => p.ips.length > 0);
  }

  // ---- 10. endpoints ------------------------------------------------------------------------------------
  const svcByKey = new Map(t.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  const slicesFor = new Set(t.endpointSlices.map((s) => `${s.namespace}/${s.serviceName}`));
  for (const it of endpointsItems) {
    const o = it.obj;
    const key = `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
    if (slicesFor.has(key)) continue; // the EndpointSlices of the same Service say it already
    if (!svcByKey.has(key)) {
      sink.warn('orphan-endpoints', `Endpoints ${key}: no Service ${key}; ignored`, it.ref, ['metadata', 'name']);
      continue;
    }
    const slices = convertEndpoints(o, sink, it.ref, (fam) => generateName(`${o.metadata.name}-`, `${key}/${fam}/mirror`));
    for (const s of slices) {
      s.origin = originOf(it.ref);
      t.endpointSlices.push(s);
    }
    if (slices.length) {
      sink.warn('endpoints-converted', `Endpoints ${key} converted to ${slices.length} EndpointSlice(s) (v1 Endpoints is deprecated; kube-proxy reads EndpointSlices)`, it.ref, ['kind']);
    }
  }
  for (const s of t.endpointSlices) {
    if (!svcByKey.has(`${s.namespace}/${s.serviceName}`)) {
      const l = loc.get(s);
      sink.warn('orphan-endpointslice', `EndpointSlice ${s.namespace}/${s.name}: its Service ${s.namespace}/${s.serviceName} does not exist; kube-proxy ignores it`, l?.ref, ['metadata', 'labels', 'kubernetes.io/service-name']);
    }
  }
  if (addressesUsable) {
    for (const iss of deriveEndpointSlices(t)) {
      const l = loc.get(iss.service);
      sink.add(iss.severity, iss.code, iss.message, l?.ref, l ? l.fieldPath(iss.field, iss.index) : [], iss.hint);
    }
  }

  // ---- 11. cluster-wide checks ----------------------------------------------------------------------------
  if (!t.services.some((s) => s.namespace === 'kube-system' && s.name === 'kube-dns') && (items.length || header)) {
    sink.warn('no-cluster-dns', 'no kube-system/kube-dns Service: pods cannot resolve Service names', header?.ref, [], 'Add CoreDNS pods (label k8s-app: kube-dns) and the kube-dns Service (10th address of the service CIDR, ports 53/UDP and 53/TCP).');
  }

  if (entries.length === 0 && list.every((s) => s.text.trim() === '')) {
    sink.list.push({ severity: 'error', code: 'empty-input', message: `no YAML documents in ${list.map((s) => s.file).join(', ') || 'the input'}`, hint: 'Load a Topology file or Kubernetes manifests.' });
    return { topology: null, diagnostics: sink.list };
  }
  return { topology: settingsBroken ? null : t, diagnostics: sink.list };
}

/** Semantic checks of the cluster settings: families, overlaps, mask and block sizes. */
export function validateSettings(
  s: ClusterSettings,
  sink: DiagnosticSink,
  refOf: (key: string) => ObjRef | undefined = () => undefined,
  nameOf: (key: string) => string = (k) => k,
): void {
  const at = (key: string): [ObjRef | undefined, PathSeg[]] => {
    const r = refOf(key);
    const top = key.split('.')[0];
    return r ? [r, ['cluster', top]] : [undefined, [nameOf(key)]];
  };
  const parse = (list: string[]) => list.map((x) => tryParseCidr(x)).filter((c): c is Cidr => !!c);
  const groups: { key: string; label: string; cidrs: Cidr[] }[] = [
    { key: 'clusterCIDR', label: 'cluster CIDR', cidrs: parse(s.clusterCIDRs) },
    { key: 'serviceCIDR', label: 'service CIDR', cidrs: parse(s.serviceCIDRs) },
    { key: 'nodeCIDR', label: 'node CIDR', cidrs: parse(s.nodeCIDRs) },
  ];
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      for (const a of groups[i].cidrs) {
        for (const b of groups[j].cidrs) {
          if (!a.overlaps(b)) continue;
          const [r, p] = at(groups[j].key);
          sink.error('cidr-overlap', `${groups[j].label} ${b.text} overlaps ${groups[i].label} ${a.text}`, r, p, `Pick non-overlapping ranges for pods (${s.clusterCIDRs.join(', ')}), Services (${s.serviceCIDRs.join(', ')}) and nodes (${s.nodeCIDRs.join(', ')}).`);
        }
      }
    }
  }
  const [cl, sv] = [groups[0].cidrs, groups[1].cidrs];
  if (cl.length && cl.every((c) => c.family === 6)) {
    const [r, p] = at('clusterCIDR');
    sink.error('ipv6-only-cluster', `the cluster CIDR ${s.clusterCIDRs.join(', ')} is IPv6 only: IPv6-only clusters are not modelled (the lab's CNI models give every pod an IPv4 address on an IPv4 node underlay; Kubernetes itself supports IPv6-only clusters)`, r, p, `Model it as dual-stack: put an IPv4 range first, e.g. clusterCIDR: [10.244.0.0/16, ${s.clusterCIDRs[0]}], with an IPv4 serviceCIDR and node addresses as well.`);
  }
  if (cl.length && sv.length && cl[0].family !== sv[0].family) {
    const [r, p] = at('serviceCIDR');
    sink.warn('family-mismatch', `the primary service CIDR is IPv${sv[0].family} but the primary cluster CIDR is IPv${cl[0].family}`, r, p, 'List the CIDRs of the same family first in clusterCIDR and serviceCIDR.');
  }
  if (cl.length === 2 && sv.length === 1) {
    const [r, p] = at('serviceCIDR');
    sink.warn('single-stack-services', 'the cluster CIDR is dual-stack but the service CIDR is single-stack: Services get one family only', r, p, 'Add a service CIDR of the other family.');
  }
  // A real cluster can run an IPv4-only CNI on a dual-stack cluster CIDR: the pods simply get no IPv6
  // address. Load it that way and say so (as for single-stack Services), rather than refuse it.
  for (const c of cl) {
    if (!cniFamilyUnsupported(s, c.family)) continue;
    const [r, p] = at('clusterCIDR');
    sink.warn(
      'cni-ipv4-only',
      `cni ${s.cni.plugin}-${s.cni.mode}: Weave Net is IPv4-only (its IPAM allocates IPv4 addresses only and neither sleeve nor fastdp carries IPv6), so pods get no address from the IPv6 cluster CIDR ${c.text}; they are IPv4-only, IPv6 Service addresses have no pod endpoints, and IPv6 walks are refused`,
      r,
      p,
      `Use calico, flannel or cilium for dual-stack pods, or drop ${c.text} from clusterCIDR.`,
    );
  }
  for (const c of cl) {
    const fam = c.family === 4 ? 'v4' : 'v6';
    const mask = s.nodeCIDRMaskSize[fam];
    if (mask < c.prefix || mask > c.bits) {
      const [r, p] = at('nodeCIDRMaskSize');
      sink.error('invalid-mask-size', `nodeCIDRMaskSize.${fam} /${mask} cannot carve node pod CIDRs out of the cluster CIDR ${c.text}`, r, p, `Use a mask between ${c.prefix} and ${c.bits}.`);
    } else if (c.family === 6 && mask - c.prefix > 16) {
      const [r, p] = at('nodeCIDRMaskSize');
      sink.error('invalid-mask-size', `nodeCIDRMaskSize.v6 /${mask} is more than 16 bits longer than the cluster CIDR ${c.text} (kube-controller-manager refuses that)`, r, p);
    }
    if (s.cni.plugin === 'calico') {
      const bs = s.blockSize[fam];
      const [lo, hi] = c.family === 4 ? [20, 32] : [116, 128];
      if (bs < lo || bs > hi) {
        const [r, p] = at('blockSize');
        sink.error('invalid-block-size', `blockSize.${fam} /${bs} is outside Calico's range /${lo}../${hi}`, r, p);
      } else if (bs < mask) {
        const [r, p] = at('blockSize');
        sink.warn('block-larger-than-node-cidr', `Calico blockSize.${fam} /${bs} is larger than the node pod CIDR /${mask}; each node's pod CIDR is used as its single block`, r, p);
      }
    }
  }
  const nl = parseIP(s.dns.nodeLocalIP);
  if (nl && [...cl, ...sv].some((c) => c.contains(nl))) {
    const [r, p] = at('nodeLocalIP');
    sink.warn('node-local-ip', `NodeLocal DNSCache address ${s.dns.nodeLocalIP} is inside a cluster or service CIDR`, r, p, 'NodeLocal DNSCache listens on a link-local address such as 169.254.20.10.');
  }
}
