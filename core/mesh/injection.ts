// Sidecar injection: which pods get istio-proxy (and the istio-init iptables
// rules), decided in two stages exactly as in a real cluster:
//
// 1. The API server calls the injector only when one of the
//    MutatingWebhookConfiguration's webhooks selects the pod
//    (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml):
//      namespace.sidecar-injector.istio.io      ns istio-injection=enabled, pod label sidecar.istio.io/inject != "false"
//      object.sidecar-injector.istio.io         ns without istio-injection / istio.io/rev, pod LABEL sidecar.istio.io/inject=true, no istio.io/rev
//      rev.namespace.sidecar-injector.istio.io  ns istio.io/rev=<rev> (no istio-injection), pod label != "false"
//      rev.object.sidecar-injector.istio.io     ns without either label, pod label istio.io/rev=<rev>, sidecar.istio.io/inject != "false"
//    Object selectors see LABELS only, never annotations.
// 2. The injector (pkg/kube/inject/inject.go injectRequired) skips
//    hostNetwork pods and kube-system / kube-public / kube-node-lease /
//    local-path-storage, then reads sidecar.istio.io/inject from the label,
//    falling back to the (deprecated) annotation; "true"/"false" decide, else
//    the policy (values.global.proxy.autoInject, default enabled) does.

import type { NamespaceModel, PodModel, Topology } from '../model/types';

export interface InjectionOptions {
  /** Installed istiod revisions (`istio.io/rev` values the webhooks select); default ['default']. */
  revisions?: string[];
  /** values.global.proxy.autoInject (the injector's policy); default 'enabled'. */
  autoInject?: 'enabled' | 'disabled';
  /** values.sidecarInjectorWebhook.enableNamespacesByDefault; default false. */
  enableNamespacesByDefault?: boolean;
  /** The istio-cni node agent sets up the redirection instead of the istio-init init container. */
  cni?: boolean;
}

export interface InjectionDecision {
  injected: boolean;
  /** One sentence: why. */
  reason: string;
  /** The webhook that sent the pod to the injector, when one did. */
  webhook?: string;
  /** The istiod revision that injects. */
  revision?: string;
  /** Who writes the pod's iptables rules: the istio-init init container (NET_ADMIN) or the istio-cni plugin. */
  redirection?: 'istio-init' | 'istio-cni';
  /** Where the label/annotation came from. */
  setting?: { source: 'label' | 'annotation' | 'none'; value?: string };
  notes: string[];
  seedNote?: string;
}

export const IGNORED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

export const INJECT_KEY = 'sidecar.istio.io/inject';
export const REV_KEY = 'istio.io/rev';
export const NS_INJECTION_LABEL = 'istio-injection';

export const INJECTION_SEED_NOTE =
  'The seed opts the pod in with the ANNOTATION sidecar.istio.io/inject: "true". Istio documents the LABEL sidecar.istio.io/inject as the way to opt a pod in or out; ' +
  'the annotation is deprecated but the injector still reads it (the label wins when both are set). The webhook\'s objectSelector sees labels only, so in a namespace without ' +
  'istio-injection=enabled (or istio.io/rev) a pod that carries only the annotation is never sent to the injector and gets no sidecar. In an enabled namespace every pod is injected ' +
  'unless it opts out with "false" (label or annotation). The seed\'s "Galley, Citadel, Pilot" have been one binary, istiod, since Istio 1.5.';

function nsOf(t: Topology, pod: PodModel): NamespaceModel {
  return t.namespaces.find((n) => n.name === pod.namespace) ?? { name: pod.namespace, labels: { 'kubernetes.io/metadata.name': pod.namespace } };
}

/** True when the pod as written already carries the sidecar (a dump of an injected pod). */
export function alreadyInjected(pod: PodModel): boolean {
  return 'sidecar.istio.io/status' in pod.annotations || pod.ports.some((p) => p.container === 'istio-proxy');
}

export function injectionDecision(t: Topology, pod: PodModel, opts: InjectionOptions = {}): InjectionDecision {
  const revisions = opts.revisions ?? ['default'];
  const redirection = opts.cni ? 'istio-cni' : 'istio-init';
  const notes: string[] = [];
  const label = pod.labels[INJECT_KEY];
  const annotation = pod.annotations[INJECT_KEY];
  const setting: InjectionDecision['setting'] = label !== undefined ? { source: 'label', value: label } : annotation !== undefined ? { source: 'annotation', value: annotation } : { source: 'none' };
  const seedNote = annotation !== undefined && label === undefined ? INJECTION_SEED_NOTE : undefined;
  const no = (reason: string, extra: Partial<InjectionDecision> = {}): InjectionDecision => ({ injected: false, reason, setting, notes, ...(seedNote ? { seedNote } : {}), ...extra });

  if (!t.settings.mesh?.enabled) return no('the mesh is off (settings.mesh.enabled=false): no istiod, no injection webhook');
  if (alreadyInjected(pod)) {
    return { injected: true, reason: 'the pod as written already has the istio-proxy sidecar (sidecar.istio.io/status)', setting, redirection, notes, ...(seedNote ? { seedNote } : {}) };
  }
  if (pod.hostNetwork) {
    return no('hostNetwork pods are never injected: istio-init\'s iptables rules would rewrite the node\'s own network namespace (injectRequired skips podSpec.HostNetwork)');
  }

  const ns = nsOf(t, pod);
  const nsInj = ns.labels[NS_INJECTION_LABEL];
  const nsRev = ns.labels[REV_KEY];
  const podRev = pod.labels[REV_KEY];
  if (annotation !== undefined && label !== undefined && annotation !== label) {
    notes.push(`both the label (${label}) and the deprecated annotation (${annotation}) are set; the label wins`);
  }

  // Stage 1: the webhooks' namespaceSelector / objectSelector (labels only).
  let webhook: string | undefined;
  let revision: string | undefined;
  if (nsInj === 'enabled' && label !== 'false') {
    webhook = 'namespace.sidecar-injector.istio.io';
    revision = 'default';
  } else if (nsRev !== undefined && revisions.includes(nsRev) && nsInj === undefined && label !== 'false') {
    webhook = 'rev.namespace.sidecar-injector.istio.io';
    revision = nsRev;
  } else if (nsInj === undefined && nsRev === undefined && podRev !== undefined && revisions.includes(podRev) && label !== 'false') {
    webhook = 'rev.object.sidecar-injector.istio.io';
    revision = podRev;
  } else if (nsInj === undefined && nsRev === undefined && label === 'true' && podRev === undefined) {
    webhook = 'object.sidecar-injector.istio.io';
    revision = 'default';
  } else if (opts.enableNamespacesByDefault && nsInj === undefined && nsRev === undefined && !IGNORED_NAMESPACES.includes(ns.name) && label === undefined && podRev === undefined) {
    webhook = 'auto.sidecar-injector.istio.io';
    revision = 'default';
  }
  if (!webhook) {
    let why: string;
    if (nsInj !== undefined && nsInj !== 'enabled') why = `namespace ${ns.name} has istio-injection=${nsInj}: no webhook selects its pods (not even with the pod label)`;
    else if (nsInj === 'enabled' && label === 'false') why = `the pod opts out with the label ${INJECT_KEY}=false`;
    else if (nsRev !== undefined && !revisions.includes(nsRev)) why = `namespace ${ns.name} asks for istio.io/rev=${nsRev}, but no istiod of that revision is installed (installed: ${revisions.join(', ')})`;
    else if (annotation === 'true' && label === undefined) why = `namespace ${ns.name} is not labelled istio-injection=enabled and the pod has only the ANNOTATION ${INJECT_KEY}: "true" — webhook object selectors see labels, so the injector is never called`;
    else if (nsInj === undefined && nsRev === undefined) why = `namespace ${ns.name} is not labelled istio-injection=enabled or istio.io/rev, and the pod has no ${INJECT_KEY}=true label`;
    else why = 'no injection webhook selects this pod';
    return no(why);
  }

  // Stage 2: the injector's own policy check.
  if (IGNORED_NAMESPACES.includes(pod.namespace)) return no(`the injector skips the ${pod.namespace} namespace`, { webhook, revision });
  let useDefault = false;
  let inject = false;
  const v = label ?? annotation ?? '';
  if (v === 'true') inject = true;
  else if (v === 'false') inject = false;
  else {
    if (v !== '') notes.push(`invalid value for ${INJECT_KEY}: "${v}"; only 'true' and 'false' are accepted, falling back to the default policy`);
    useDefault = true;
  }
  const policy = opts.autoInject ?? 'enabled';
  const required = useDefault ? policy === 'enabled' : inject;
  if (!required) {
    const why = !useDefault
      ? `the pod opts out with the ${setting.source} ${INJECT_KEY}: "false"${setting.source === 'annotation' ? ' (deprecated annotation, still honoured)' : ''}`
      : `the injection policy (global.proxy.autoInject) is disabled and the pod does not ask for injection`;
    return no(why, { webhook, revision });
  }
  const how =
    webhook === 'namespace.sidecar-injector.istio.io'
      ? `namespace ${ns.name} has istio-injection=enabled`
      : webhook === 'rev.namespace.sidecar-injector.istio.io'
        ? `namespace ${ns.name} has istio.io/rev=${revision}`
        : webhook === 'rev.object.sidecar-injector.istio.io'
          ? `the pod has the label istio.io/rev=${revision}`
          : webhook === 'object.sidecar-injector.istio.io'
            ? `the pod has the label ${INJECT_KEY}=true`
            : 'namespaces are injected by default (enableNamespacesByDefault)';
  return {
    injected: true,
    reason: `${how}; the injector adds ${redirection === 'istio-init' ? 'the istio-init init container (iptables rules) and ' : ''}the istio-proxy sidecar (Envoy, uid 1337)${redirection === 'istio-cni' ? '; istio-cni writes the iptables rules' : ''}`,
    webhook,
    revision,
    redirection,
    setting,
    notes,
    ...(seedNote ? { seedNote } : {}),
  };
}

/** Memoised per topology: the injection decision of every pod (`ns/name` → decision). */
const memo = new WeakMap<Topology, Map<string, InjectionDecision>>();

export function podInjected(t: Topology, pod: PodModel, opts?: InjectionOptions): InjectionDecision {
  if (opts) return injectionDecision(t, pod, opts);
  let m = memo.get(t);
  if (!m) memo.set(t, (m = new Map()));
  const k = `${pod.namespace}/${pod.name}`;
  let d = m.get(k);
  if (!d) m.set(k, (d = injectionDecision(t, pod)));
  return d;
}

/** The sidecar's well-known ports (pilot-agent / Envoy), for explanations and the UI. */
export const SIDECAR_PORTS: { port: number; owner: string; purpose: string }[] = [
  { port: 15000, owner: 'Envoy', purpose: 'admin interface (localhost only)' },
  { port: 15001, owner: 'Envoy', purpose: 'outbound listener: every TCP connection the app opens is redirected here (ISTIO_REDIRECT)' },
  { port: 15004, owner: 'pilot-agent', purpose: 'debug (localhost only)' },
  { port: 15006, owner: 'Envoy', purpose: 'inbound listener: connections to the app\'s ports are redirected here (ISTIO_IN_REDIRECT)' },
  { port: 15008, owner: 'Envoy', purpose: 'HBONE mTLS tunnel (excluded from inbound capture)' },
  { port: 15020, owner: 'pilot-agent', purpose: 'merged Prometheus telemetry (app + agent + Envoy) and health status (excluded from capture)' },
  { port: 15021, owner: 'Envoy', purpose: 'health checks /healthz/ready (excluded from capture)' },
  { port: 15053, owner: 'pilot-agent', purpose: 'DNS proxy (only with ISTIO_META_DNS_CAPTURE)' },
  { port: 15090, owner: 'Envoy', purpose: 'Envoy\'s own Prometheus stats /stats/prometheus (excluded from capture)' },
];

export const PORTS_SEED_NOTE =
  'The seed lists 15020 as "Metrics": 15020 is pilot-agent\'s merged Prometheus endpoint (application + agent + Envoy metrics) and health status; Envoy\'s own stats are on 15090 ' +
  '(/stats/prometheus) and readiness on 15021 (/healthz/ready). All three, and the HBONE port 15008, are excluded from inbound capture.';
