// Where the seed's "Service Mesh Integration" section differs from Istio, in
// words the UI shows beside the mesh views. Each note names what the model
// follows instead.

import { INJECTION_SEED_NOTE, PORTS_SEED_NOTE } from './injection';
import { FLOW_SEED_NOTE } from './hop';

export const MESH_SEED_NOTES: Record<string, string> = {
  injection: INJECTION_SEED_NOTE,
  ports: PORTS_SEED_NOTE,
  flow: FLOW_SEED_NOTE,
  requestTime:
    'The seed\'s AuthorizationPolicy has `when: key: request.time, values: ["09:00:00-17:00:00"]`. Istio has no time attribute: validation fails with ' +
    '"invalid `value` for `key` request.time: unknown attribute: request.time" (and the same for `notValue`), so `kubectl apply` refuses the whole policy and ' +
    'api-authz never exists. If the webhook were bypassed, istiod would log "skipped invalid rule" and drop that rule; the ALLOW policy would then have no ' +
    'valid rule and deny every request to app=api. Time windows need the application or an external authorizer (action: CUSTOM).',
  matching:
    'In the seed\'s policy `paths: ["/api/v1/*"]` is a PREFIX match on "/api/v1/" (Istio values support exact, prefix `abc*`, suffix `*abc` and presence `*` — not globs), ' +
    'and `values: ["Bearer *"]` on request.headers[authorization] is a prefix match on the header value: it checks that a bearer token is present, not that it is valid ' +
    '(that is RequestAuthentication\'s job). `principals` come from the peer\'s mTLS certificate, so they never match plaintext requests, and ' +
    '"cluster.local/ns/frontend/sa/frontend-sa" only matches a client running in namespace "frontend" with service account frontend-sa. `ports: ["8080"]` is right: ' +
    'the sidecar sees the container port, not the Service port.',
  capabilities:
    'The seed lists "Time-based access" and "JWT validation" among AuthorizationPolicy capabilities: there is no time-based access, and JWTs are validated by ' +
    'RequestAuthentication; AuthorizationPolicy only matches on the result (requestPrincipals, request.auth.claims[...]).',
  weights:
    'VirtualService weights: the seed\'s canary (90/10) sums to 100 as Istio ≤ 1.14 required ("total destination weight != 100"). Since Istio 1.15 weights are relative: ' +
    'each destination gets weight / sum, and only an all-zero list is refused.',
  canarySubsets:
    'The seed\'s canary routes to subsets v1 and v2 of api-service but defines no DestinationRule for it. Without one, istiod generates no subset clusters and every ' +
    'request gets 503 (NC, cluster not found); istioctl analyze reports IST0101. The sample adds a DestinationRule with the two subsets. The seed\'s VirtualService and ' +
    'DestinationRule also have no namespace: short hosts like api-service resolve in the namespace they are applied to.',
  outlier:
    'The seed\'s circuit breaker uses `outlierDetection.consecutiveErrors: 5`. The field is deprecated: validation warns "outlier detection consecutive errors is ' +
    'deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead", and istiod has ignored it since Istio 1.7 (before, it set Envoy\'s ' +
    'consecutive_gateway_failure). Envoy\'s default consecutive_5xx = 5 then applies — the same number here by coincidence. maxEjectionPercent 50 lets at most half ' +
    'the endpoints be ejected (Envoy always allows one); an ejected host returns after baseEjectionTime × the number of times it was ejected (capped at 300 s).',
  architecture:
    'Pilot, Citadel and Galley were merged into one control-plane binary, istiod, in Istio 1.5 (2020); sidecars receive configuration over xDS from istiod and ' +
    'certificates over SDS through pilot-agent.',
  rotation:
    'Workload certificates live 24 h by default (SECRET_TTL); pilot-agent renews them at about half their lifetime (SECRET_GRACE_PERIOD_RATIO 0.5), i.e. every ~12 h, not every 24 h.',
  verification:
    'The seed verifies mTLS with `kubectl exec pod-a -- openssl s_client -connect pod-b:8080`. With a sidecar on pod-a, that connection is itself captured and re-originated ' +
    'by pod-a\'s Envoy, and pod-b\'s sidecar expects Istio\'s certificates: use `istioctl x describe pod`, `istioctl proxy-config secret`, or check the ' +
    'x-forwarded-client-cert header the server sidecar adds.',
};
