// Shape checks of the manifests the loader models (zod), and the mapping of
// zod issues onto diagnostics with positions.

import { z } from 'zod';
import { tryParseCidr } from '../net';
import type { DiagnosticSink, ObjRef, PathSeg } from './source';
import { formatPath } from './source';

const PORT_MSG = 'must be a port number between 1 and 65535';
export const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;
const PORT_NAME_MSG = 'must be a port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and single dashes, with at least one letter)';

export const portNumber = z.number().int({ error: 'must be a whole number' }).min(1, { error: PORT_MSG }).max(65535, { error: PORT_MSG });
const portName = z
  .string()
  .regex(/^(?!\d+$)/, { error: (iss) => `must be a number, not the string ${JSON.stringify(iss.input)}: write it without quotes`, abort: true })
  .max(15, { error: PORT_NAME_MSG })
  .regex(IANA_SVC_NAME, { error: PORT_NAME_MSG });
/** IntOrString: a port number, or a port name (a numeric string is neither). */
export const intOrPortName = z.union([portNumber, portName], {
  error: (iss) =>
    typeof iss.input === 'string'
      ? /^\d+$/.test(iss.input)
        ? `must be a number, not the string ${JSON.stringify(iss.input)}: write it without quotes`
        : `${PORT_NAME_MSG}, not ${JSON.stringify(iss.input)}`
      : `must be a port number 1-65535 or a port name`,
});
export const protocol = z.enum(['TCP', 'UDP', 'SCTP'], { error: (iss) => `must be TCP, UDP or SCTP (upper case), not ${JSON.stringify(iss.input)}` });

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelMap = z.record(
  z.string(),
  z.string({ error: (iss) => `must be a string; quote ${JSON.stringify(iss.input)} in YAML (label values are strings)` }).max(63, { error: 'must be at most 63 characters (label value)' }).regex(LABEL_VALUE, {
    error: 'must be empty or start and end with a letter or digit, with only letters, digits, "-", "_" and "." between',
  }),
);
const annotationMap = z.record(z.string(), z.string({ error: (iss) => `must be a string; quote ${JSON.stringify(iss.input)} in YAML` }));

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function metadata(nameRe: RegExp, what: string, max: number) {
  return z.looseObject({
    name: z.string().max(max, { error: `must be at most ${max} characters` }).regex(nameRe, { error: `must be ${what}` }),
    namespace: z.string().regex(DNS1123_LABEL, { error: 'must be a DNS-1123 label (lowercase letters, digits and "-")' }).optional(),
    labels: labelMap.nullish(),
    annotations: annotationMap.nullish(),
  });
}
const meta = metadata(DNS1123_SUBDOMAIN, 'a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")', 253);
const metaLabel = metadata(DNS1123_LABEL, 'a DNS-1123 label (lowercase letters, digits and "-")', 63);
const metaService = metadata(DNS1035_LABEL, 'a DNS-1035 label (lowercase letters, digits and "-", starting with a letter)', 63);

const containerPort = z.looseObject({
  containerPort: portNumber,
  name: portName.optional(),
  protocol: protocol.optional(),
  hostPort: portNumber.optional(),
  hostIP: z.string().optional(),
});
const container = z.looseObject({
  name: z.string(),
  ports: z.array(containerPort).nullish(),
});
const podSpec = z.looseObject({
  nodeName: z.string().optional(),
  hostNetwork: z.boolean().optional(),
  serviceAccountName: z.string().optional(),
  serviceAccount: z.string().optional(),
  nodeSelector: z.record(z.string(), z.string()).nullish(),
  containers: z.array(container).min(1, { error: 'must list at least one container' }),
  initContainers: z.array(container).nullish(),
});

export const PodSchema = z.looseObject({
  metadata: meta,
  spec: podSpec,
  status: z
    .looseObject({
      podIP: z.string().optional(),
      podIPs: z.array(z.looseObject({ ip: z.string() })).nullish(),
      hostIP: z.string().optional(),
      phase: z.string().optional(),
      conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).nullish(),
    })
    .nullish(),
});

const template = z.looseObject({
  metadata: z.looseObject({ labels: labelMap.nullish(), annotations: annotationMap.nullish() }).nullish(),
  spec: podSpec,
});

/** A custom issue: `params` carry our diagnostic code, severity and hint. */
type Ctx = { addIssue: (i: { code: 'custom'; message: string; path?: PathSeg[]; params?: Record<string, unknown> }) => void };
function issue(ctx: Ctx, path: PathSeg[], message: string, code = 'invalid-value', hint?: string, severity: 'error' | 'warning' = 'error'): void {
  ctx.addIssue({ code: 'custom', message, path, params: { code, hint, severity } });
}

const selectorRequirement = z
  .looseObject({
    key: z.string(),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], { error: 'must be In, NotIn, Exists or DoesNotExist' }),
    values: z.array(z.string()).nullish(),
  })
  .superRefine((e, ctx) => {
    const vals = e.values ?? undefined;
    if ((e.operator === 'In' || e.operator === 'NotIn') && (!vals || vals.length === 0)) {
      issue(ctx, [], `operator ${e.operator} needs a non-empty values list`, 'invalid-value', 'Add values: [...] or use Exists.');
    }
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && vals && vals.length > 0) {
      issue(ctx, ['values'], `operator ${e.operator} must not have values`, 'invalid-value', 'Drop values, or use In / NotIn.');
    }
  });

const labelSelector = z.looseObject({
  matchLabels: labelMap.nullish(),
  matchExpressions: z.array(selectorRequirement).nullish(),
});

export const DeploymentSchema = z.looseObject({
  metadata: meta,
  spec: z.looseObject({
    replicas: z.number().int().min(0, { error: 'must be 0 or more' }).optional(),
    selector: labelSelector.optional(),
    template,
  }),
});

export const StatefulSetSchema = DeploymentSchema;
export const DaemonSetSchema = z.looseObject({
  metadata: meta,
  spec: z.looseObject({ selector: labelSelector.optional(), template }),
});

const servicePort = z.looseObject({
  name: portName.optional(),
  protocol: protocol.optional(),
  port: portNumber,
  targetPort: intOrPortName.optional(),
  nodePort: portNumber.optional(),
  appProtocol: z.string().optional(),
});

const family = z.enum(['IPv4', 'IPv6'], { error: 'must be IPv4 or IPv6' });

export const ServiceSchema = z.looseObject({
  metadata: metaService,
  spec: z.looseObject({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], { error: 'must be ClusterIP, NodePort, LoadBalancer or ExternalName' }).optional(),
    clusterIP: z.string().optional(),
    clusterIPs: z.array(z.string()).nullish(),
    selector: z.record(z.string(), z.string({ error: (iss) => `must be a string; quote ${JSON.stringify(iss.input)} in YAML` })).nullish(),
    ports: z.array(servicePort).nullish(),
    sessionAffinity: z.enum(['None', 'ClientIP'], { error: 'must be None or ClientIP' }).optional(),
    sessionAffinityConfig: z
      .looseObject({
        clientIP: z
          .looseObject({
            timeoutSeconds: z.number().int().min(1, { error: 'must be 1..86400 seconds' }).max(86400, { error: 'must be 1..86400 seconds' }).optional(),
          })
          .nullish(),
      })
      .nullish(),
    internalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'must be Cluster or Local' }).optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'must be Cluster or Local' }).optional(),
    externalName: z.string().optional(),
    externalIPs: z.array(z.string()).nullish(),
    loadBalancerSourceRanges: z.array(z.string()).nullish(),
    healthCheckNodePort: portNumber.optional(),
    ipFamilies: z.array(family).max(2, { error: 'must list at most two families' }).nullish(),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack'], { error: 'must be SingleStack, PreferDualStack or RequireDualStack' }).optional(),
    publishNotReadyAddresses: z.boolean().optional(),
  }),
  status: z
    .looseObject({
      loadBalancer: z.looseObject({ ingress: z.array(z.looseObject({ ip: z.string().optional(), hostname: z.string().optional() })).nullish() }).nullish(),
    })
    .nullish(),
});

export const EndpointSliceSchema = z.looseObject({
  metadata: meta,
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN'], { error: 'must be IPv4, IPv6 or FQDN' }),
  endpoints: z
    .array(
      z.looseObject({
        addresses: z.array(z.string()).min(1, { error: 'must hold one address' }),
        conditions: z.looseObject({ ready: z.boolean().nullish(), serving: z.boolean().nullish(), terminating: z.boolean().nullish() }).nullish(),
        nodeName: z.string().optional(),
        zone: z.string().optional(),
        targetRef: z.looseObject({ kind: z.string().optional(), namespace: z.string().optional(), name: z.string().optional() }).nullish(),
      }),
    )
    .nullish(),
  ports: z
    .array(z.looseObject({ name: z.string().optional(), port: portNumber.nullish(), protocol: protocol.optional(), appProtocol: z.string().optional() }))
    .nullish(),
});

const epAddress = z.looseObject({
  ip: z.string(),
  nodeName: z.string().optional(),
  targetRef: z.looseObject({ kind: z.string().optional(), namespace: z.string().optional(), name: z.string().optional() }).nullish(),
});
export const EndpointsSchema = z.looseObject({
  metadata: meta,
  subsets: z
    .array(
      z.looseObject({
        addresses: z.array(epAddress).nullish(),
        notReadyAddresses: z.array(epAddress).nullish(),
        ports: z.array(z.looseObject({ name: z.string().optional(), port: portNumber, protocol: protocol.optional() })).nullish(),
      }),
    )
    .nullish(),
});

export const NodeSchema = z.looseObject({
  metadata: meta,
  spec: z.looseObject({ podCIDR: z.string().optional(), podCIDRs: z.array(z.string()).nullish() }).nullish(),
  status: z.looseObject({ addresses: z.array(z.looseObject({ type: z.string(), address: z.string() })).nullish() }).nullish(),
});

export const NamespaceSchema = z.looseObject({ metadata: metaLabel });

const npPort = z
  .looseObject({
    protocol: protocol.optional(),
    port: intOrPortName.optional(),
    endPort: portNumber.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.endPort === undefined) return;
    if (typeof p.port !== 'number') {
      issue(ctx, ['endPort'], `endPort needs a numeric port${typeof p.port === 'string' ? ` (port is the name "${p.port}")` : ' (port is missing)'}`, 'invalid-value', 'A port range is port..endPort with both numbers; drop endPort for a named port.');
    } else if (p.endPort < p.port) {
      issue(ctx, ['endPort'], `endPort ${p.endPort} is lower than port ${p.port}`, 'invalid-value', 'endPort must be greater than or equal to port.');
    }
  });
const ipBlock = z.looseObject({ cidr: z.string(), except: z.array(z.string()).nullish() }).superRefine((b, ctx) => {
  const cidr = tryParseCidr(b.cidr);
  if (!cidr) {
    issue(ctx, ['cidr'], `"${b.cidr}" is not a CIDR`, 'invalid-cidr', 'Write ADDRESS/PREFIX, e.g. 10.0.0.0/8.');
  } else if (cidr.hostBitsSet) {
    issue(ctx, ['cidr'], `${b.cidr} has host bits set; it means ${cidr.text}`, 'cidr-host-bits', `Write ${cidr.text}.`, 'warning');
  }
  (b.except ?? []).forEach((ex, j) => {
    const e = tryParseCidr(ex);
    if (!e) issue(ctx, ['except', j], `"${ex}" is not a CIDR`, 'invalid-cidr', 'Write ADDRESS/PREFIX, e.g. 10.0.1.0/24.');
    else if (cidr && (e.family !== cidr.family || !cidr.containsCidr(e) || e.prefix <= cidr.prefix)) {
      issue(ctx, ['except', j], `${ex} is not a strict subset of cidr ${b.cidr}`, 'except-outside-cidr', `Every except range must lie inside ${cidr.text} and be smaller than it.`);
    }
  });
});
const npPeer = z
  .looseObject({
    podSelector: labelSelector.nullish(),
    namespaceSelector: labelSelector.nullish(),
    ipBlock: ipBlock.nullish(),
  })
  .superRefine((p, ctx) => {
    const has = (v: unknown) => v !== undefined && v !== null;
    if (!has(p.podSelector) && !has(p.namespaceSelector) && !has(p.ipBlock)) {
      issue(ctx, [], 'a peer must set podSelector, namespaceSelector or ipBlock', 'invalid-value', 'An empty peer is invalid; to allow everything, leave out the whole from/to list.');
    }
    if (has(p.ipBlock) && (has(p.podSelector) || has(p.namespaceSelector))) {
      issue(ctx, ['ipBlock'], 'ipBlock cannot be combined with podSelector or namespaceSelector in the same peer', 'invalid-value', 'Put the ipBlock in its own list item (a separate peer).');
    }
  });
export const NetworkPolicySchema = z.looseObject({
  metadata: meta,
  spec: z.looseObject({
    podSelector: labelSelector.nullish(),
    policyTypes: z.array(z.enum(['Ingress', 'Egress'], { error: 'must be Ingress or Egress' })).nullish(),
    ingress: z.array(z.looseObject({ from: z.array(npPeer).nullish(), ports: z.array(npPort).nullish() }).nullable()).nullish(),
    egress: z.array(z.looseObject({ to: z.array(npPeer).nullish(), ports: z.array(npPort).nullish() }).nullable()).nullish(),
  }),
});

/** Generic: every manifest needs apiVersion, kind and metadata.name. */
export const ManifestHeadSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});

// ---------------------------------------------------------------------------

function valueAt(obj: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let cur: unknown = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return { found: false, value: undefined };
    if (!Object.prototype.hasOwnProperty.call(cur, seg as string)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[seg as string];
  }
  return { found: true, value: cur };
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  object: 'a mapping (key: value)',
  array: 'a list',
  boolean: 'true or false',
  record: 'a mapping (key: value)',
};

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * Checks `obj` against `schema`; reports every issue at its position.
 * Returns true when the object has the expected shape.
 */
export function checkShape(schema: z.ZodType, obj: unknown, sink: DiagnosticSink, ref: ObjRef, what: string): boolean {
  const r = schema.safeParse(obj);
  if (r.success) return true;
  let errors = 0;
  for (const iss of r.error.issues) {
    const path = iss.path.filter((p): p is PathSeg => typeof p === 'string' || typeof p === 'number');
    const field = formatPath(path) || 'the object';
    const at = valueAt(obj, path);
    if (iss.code === 'custom') {
      const params = (iss.params ?? {}) as { code?: string; hint?: string; severity?: 'error' | 'warning' };
      const severity = params.severity ?? 'error';
      if (severity === 'error') errors++;
      const msg = iss.message.startsWith('must') ? `${field} ${iss.message}` : `${field}: ${iss.message}`;
      sink.add(severity, params.code ?? 'invalid-value', `${what}: ${msg}`, ref, path, params.hint);
      continue;
    }
    errors++;
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) {
        sink.error('unknown-field', `${what}: unknown field ${formatPath([...path, k])}`, ref, [...path, k], knownKeysHint(schema, path));
      }
    } else if (iss.code === 'invalid_type' && (!at.found || at.value === undefined)) {
      sink.error('missing-field', `${what}: required field ${field} is missing`, ref, path, `Add ${field}.`);
    } else if (iss.code === 'invalid_type' && iss.message.startsWith('must')) {
      sink.error('wrong-type', `${what}: ${field} ${iss.message}`, ref, path);
    } else if (iss.code === 'invalid_type') {
      const exp = EXPECTED[String(iss.expected)] ?? String(iss.expected);
      sink.error('wrong-type', `${what}: ${field} must be ${exp}, not ${describeValue(at.value)}`, ref, path);
    } else {
      const msg = iss.message.startsWith('must') ? ` ${iss.message}` : `: ${iss.message}`;
      sink.error('invalid-value', `${what}: ${field}${msg}`, ref, path);
    }
  }
  return errors === 0;
}

function knownKeysHint(schema: z.ZodType, path: readonly PathSeg[]): string | undefined {
  let cur: unknown = schema;
  for (const seg of path) {
    const def = (cur as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown } }).def;
    if (!def) return undefined;
    if (def.type === 'object' && def.shape && typeof seg === 'string') cur = def.shape[seg];
    else if (def.type === 'array' && typeof seg === 'number') cur = def.element;
    else return undefined;
    while ((cur as { def?: { type?: string; innerType?: unknown } })?.def?.innerType) cur = (cur as { def: { innerType: unknown } }).def.innerType;
  }
  const shape = (cur as { def?: { shape?: Record<string, unknown> } })?.def?.shape;
  return shape ? `Known fields: ${Object.keys(shape).join(', ')}.` : undefined;
}
