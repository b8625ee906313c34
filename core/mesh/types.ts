// core/mesh public types: the Istio objects as the model reads them, the
// request a mesh hop carries, and the steps / verdicts the packet walk shows.

import type { SourceRef } from '../model/types';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'UNSET';

/** An Istio object named as istioctl names it (`name.namespace`), with where it came from. */
export interface ConfigRef {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  origin?: SourceRef;
}

export type PathSeg = string | number;

/** A problem in an Istio manifest, at a field path inside the object. */
export interface MeshIssue {
  severity: 'error' | 'warning';
  code: string;
  /** Istio's own wording where Istio reports it (validation webhook / istioctl analyze). */
  message: string;
  path: PathSeg[];
  hint?: string;
  /**
   * True when Istio's validating webhook (validation.istio.io) refuses the
   * object: `kubectl apply` fails and the object never reaches istiod.
   */
  rejected?: boolean;
}

// ---------------------------------------------------------------- security.istio.io

export interface PeerAuthenticationModel {
  ref: ConfigRef;
  /** spec.selector.matchLabels; undefined or empty = namespace-wide (or mesh-wide in the root namespace). */
  selector?: Record<string, string>;
  mode: MtlsMode;
  /** spec.portLevelMtls, keyed by the workload's (container) port. */
  portLevel?: Record<number, MtlsMode>;
  /** metadata.creationTimestamp when given (the oldest policy of a scope wins). */
  created?: string;
  /** Position among the topology's objects (stands in for creation order when timestamps are absent). */
  order: number;
  issues: MeshIssue[];
}

export type AuthzAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
}

export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthzCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthzRule {
  from?: { source: AuthzSource }[];
  to?: { operation: AuthzOperation }[];
  when?: AuthzCondition[];
  /** Why istiod drops this rule (e.g. `unknown attribute request.time`), when it does. */
  invalid?: string;
}

export interface AuthorizationPolicyModel {
  ref: ConfigRef;
  /** spec.selector.matchLabels; undefined = every workload of the namespace (of the mesh, in the root namespace). */
  selector?: Record<string, string>;
  /** spec.targetRef(s): the policy attaches to a gateway / waypoint, not to sidecars. */
  targetRefs?: boolean;
  action: AuthzAction;
  provider?: string;
  /** undefined when the manifest has no `rules` field (ALLOW: matches nothing; DENY: never triggers). */
  rules?: AuthzRule[];
  /** `istio.io/dry-run: "true"`: evaluated and logged, not enforced. */
  dryRun: boolean;
  order: number;
  issues: MeshIssue[];
}

// ---------------------------------------------------------------- networking.istio.io

export type StringMatch = { exact: string } | { prefix: string } | { regex: string } | { present: true };

export interface HttpMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  ignoreUriCase?: boolean;
  gateways?: string[];
}

export interface RouteDestination {
  host: string;
  subset?: string;
  port?: number;
  /** As written; undefined when absent. */
  weight?: number;
}

export interface HttpRouteModel {
  name?: string;
  match?: HttpMatchRequest[];
  route?: RouteDestination[];
  timeout?: string;
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string };
  fault?: { delay?: { fixedDelay?: string; percent?: number }; abort?: { httpStatus?: number; percent?: number } };
  redirect?: { uri?: string; authority?: string; redirectCode?: number };
  directResponse?: { status: number };
  rewrite?: { uri?: string; authority?: string };
  mirror?: RouteDestination;
}

export interface VirtualServiceModel {
  ref: ConfigRef;
  hosts: string[];
  gateways: string[];
  http: HttpRouteModel[];
  hasTcp: boolean;
  hasTls: boolean;
  exportTo?: string[];
  order: number;
  issues: MeshIssue[];
}

export interface ConnectionPoolSettings {
  tcp?: { maxConnections?: number; connectTimeout?: string };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    h2UpgradePolicy?: string;
  };
}

export interface OutlierDetectionSettings {
  /** Deprecated; ignored by istiod since 1.7 (validation warns). */
  consecutiveErrors?: number;
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  /** Milliseconds. */
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
  /** The durations as written, for display. */
  interval?: string;
  baseEjectionTime?: string;
}

export interface TrafficPolicy {
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetectionSettings;
  loadBalancer?: { simple?: string; consistentHash?: boolean };
  tls?: { mode: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL'; sni?: string };
  portLevelSettings?: { port: number; policy: TrafficPolicy }[];
}

export interface SubsetModel {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleModel {
  ref: ConfigRef;
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets: SubsetModel[];
  exportTo?: string[];
  workloadSelector?: Record<string, string>;
  order: number;
  issues: MeshIssue[];
}

// ---------------------------------------------------------------- requests and steps

/** What the application sends through the mesh. */
export interface MeshRequest {
  /** `http` (default) or opaque `tcp`. */
  protocol?: 'http' | 'tcp';
  method?: string;
  /** Path with an optional query string. Default `/`. */
  path?: string;
  /** Host / :authority header; default: the name the client used, or the destination IP. */
  host?: string;
  /** Request headers (names are matched case-insensitively). */
  headers?: Record<string, string>;
  /** A validated JWT (RequestAuthentication): `iss/sub` principal and claims. */
  auth?: { principal?: string; audiences?: string[]; presenter?: string; claims?: Record<string, string | string[]> };
}

/** Where the application connects (the Service ClusterIP:port or a pod IP:port). */
export interface MeshDestination {
  ip: string;
  port: number;
  /** The DNS name the client used (becomes the default Host header). */
  host?: string;
}

export type MeshStepKind =
  | 'sidecar'
  | 'iptables'
  | 'listener'
  | 'route'
  | 'cluster'
  | 'endpoint'
  | 'circuit-breaker'
  | 'tls-origination'
  | 'tls-termination'
  | 'peer-authentication'
  | 'authorization'
  | 'forward'
  | 'local-reply'
  | 'reset'
  | 'passthrough';

export type MeshStepVerdict = 'pass' | 'redirect' | 'allow' | 'deny' | 'reject' | 'info';

export interface MeshPacket {
  src: string;
  sport?: number;
  dst: string;
  dport: number;
  /** The socket owner's uid (1337 = istio-proxy). */
  uid?: number;
  /** `mTLS`, `plaintext`, `TLS`. */
  transport?: string;
}

export interface MeshStep {
  kind: MeshStepKind;
  /** `pod/<ns>/<name>`: the pod whose network namespace / sidecar acts. */
  at: string;
  /** Who acts: the kernel's netfilter, the Envoy sidecar, or the application. */
  actor: 'kernel' | 'istio-proxy' | 'app';
  action: string;
  detail: string;
  /** The rule or configuration that acted: an iptables-save line, a VirtualService route, a policy rule (YAML-ish). */
  rule?: string;
  /** Every netfilter rule that matched, in iptables-save form. */
  rules?: string[];
  /** The Istio object that decided, with its origin. */
  config?: ConfigRef;
  verdict: MeshStepVerdict;
  /** The connection after this step (addresses, owner, transport). */
  packet?: MeshPacket;
  /** Envoy names: listener, route configuration, virtual host, cluster, filter chain, response flags. */
  envoy?: { listener?: string; routeConfig?: string; virtualHost?: string; cluster?: string; filterChain?: string; responseFlags?: string; sni?: string; alpn?: string[] };
  /** Estimated cost in microseconds (see MESH_LATENCY). */
  latencyUs: number;
  /** Where the seed document is wrong about this step. */
  seedNote?: string;
}

export type MeshVerdictKind =
  /** The request reached the application. */
  | 'allow'
  /** The destination sidecar's RBAC filter denied it: HTTP 403 `RBAC: access denied` (TCP: connection closed). */
  | 'rbac-denied'
  /** 503 `no healthy upstream` (UH): the cluster has no ready endpoint. */
  | 'no-healthy-upstream'
  /** 503 `upstream connect error or disconnect/reset before headers…` (UF/UC): the server side refused or reset. */
  | 'upstream-connect-error'
  /** 503 (NC): the route points at a cluster istiod did not generate (e.g. a subset no DestinationRule defines). */
  | 'cluster-not-found'
  /** 404 (NR): a VirtualService exists for the host but none of its routes matches. */
  | 'route-not-found'
  /** 503 (UO): circuit breaker overflow. */
  | 'overflow'
  /** A local reply configured by a VirtualService (directResponse / redirect). */
  | 'direct-response'
  /** The server-side sidecar closed the connection: STRICT mTLS got plaintext. The client app sees `Connection reset by peer`. */
  | 'connection-reset'
  /** No sidecar involved on this side: traffic is plain kernel networking. */
  | 'not-in-mesh';

export interface MeshVerdict {
  kind: MeshVerdictKind;
  /** The HTTP status the client application receives (HTTP only). */
  status?: number;
  /** The response body Envoy writes for local replies. */
  body?: string;
  /** Envoy response flags as in the access log (%RESPONSE_FLAGS%). */
  responseFlags?: string;
  /** One sentence for the UI. */
  text: string;
  /** The object and rule that decided. */
  config?: ConfigRef;
}
