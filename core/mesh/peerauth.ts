// PeerAuthentication: the mTLS mode a workload's sidecar accepts on a port,
// composed as istiod does (pilot/pkg/security/authn/policy_applier.go,
// ComposePeerAuthentication):
//   - candidates are the policies in the workload's namespace and in the root
//     namespace (istio-system);
//   - no selector: mesh-wide in the root namespace, namespace-wide elsewhere;
//     with a selector (a subset of the pod's labels): workload-level — but a
//     selector policy in the root namespace is ignored;
//   - several in one scope: the oldest (creationTimestamp) wins;
//   - the narrowest scope that is not UNSET decides (workload > namespace >
//     mesh); nothing set = PERMISSIVE;
//   - portLevelMtls of the workload policy overrides per port (UNSET there
//     inherits the workload-level result).

import type { PodModel, Topology } from '../model/types';
import { configName, isRejected, meshConfig } from './manifests';
import type { MtlsMode, PeerAuthenticationModel } from './types';
import { labelsSubset, rootNs, type MeshOptions } from './world';

export type EffectiveMode = Exclude<MtlsMode, 'UNSET'>;

export interface EffectiveMtls {
  mode: EffectiveMode;
  /** The port asked about (the workload's container port). */
  port?: number;
  mesh?: PeerAuthenticationModel;
  namespace?: PeerAuthenticationModel;
  workload?: PeerAuthenticationModel;
  /** The policy whose setting won (undefined: Istio's default PERMISSIVE). */
  decidedBy?: PeerAuthenticationModel;
  /** True when a portLevelMtls entry decided. */
  portLevel: boolean;
  explanation: string;
  /** Policies looked at and not used, with why. */
  ignored: { policy: PeerAuthenticationModel; why: string }[];
}

function older(a: PeerAuthenticationModel, b: PeerAuthenticationModel): boolean {
  if (a.created && b.created && a.created !== b.created) return a.created < b.created;
  return a.order < b.order;
}

export function effectiveMtls(t: Topology, pod: PodModel, port?: number, opts: MeshOptions = {}): EffectiveMtls {
  const root = rootNs(opts);
  const ignored: EffectiveMtls['ignored'] = [];
  let mesh: PeerAuthenticationModel | undefined;
  let namespace: PeerAuthenticationModel | undefined;
  let workload: PeerAuthenticationModel | undefined;
  for (const pa of meshConfig(t).peerAuthentications) {
    if (pa.ref.namespace !== pod.namespace && pa.ref.namespace !== root) continue;
    if (opts.admissionWebhook !== false && isRejected(pa)) {
      ignored.push({ policy: pa, why: `refused by Istio's validating webhook (${pa.issues.find((i) => i.rejected)!.message}); it does not exist in the cluster` });
      continue;
    }
    const hasSelector = !!pa.selector && Object.keys(pa.selector).length > 0;
    if (!hasSelector) {
      if (pa.ref.namespace === root) {
        if (!mesh || older(pa, mesh)) {
          if (mesh) ignored.push({ policy: mesh, why: `a newer mesh-wide policy than ${configName(pa.ref)}; the oldest wins` });
          mesh = pa;
        } else ignored.push({ policy: pa, why: `another mesh-wide policy (${configName(mesh.ref)}) is older; the oldest wins` });
      } else if (!namespace || older(pa, namespace)) {
        if (namespace) ignored.push({ policy: namespace, why: `a newer namespace-wide policy than ${configName(pa.ref)}; the oldest wins` });
        namespace = pa;
      } else ignored.push({ policy: pa, why: `another namespace-wide policy (${configName(namespace.ref)}) is older; the oldest wins` });
    } else if (pa.ref.namespace === root && pa.ref.namespace !== pod.namespace) {
      ignored.push({ policy: pa, why: `a workload selector in the root namespace ${root} applies to no other namespace (istiod ignores it here)` });
    } else if (labelsSubset(pa.selector, pod.labels)) {
      if (!workload || older(pa, workload)) {
        if (workload) ignored.push({ policy: workload, why: `a newer workload policy than ${configName(pa.ref)}; the oldest wins` });
        workload = pa;
      } else ignored.push({ policy: pa, why: `another workload policy (${configName(workload.ref)}) is older; the oldest wins` });
    } else {
      ignored.push({ policy: pa, why: `its selector ${JSON.stringify(pa.selector)} does not match the pod's labels` });
    }
  }

  let mode: EffectiveMode = 'PERMISSIVE';
  let decidedBy: PeerAuthenticationModel | undefined;
  const parts: string[] = [];
  if (mesh && mesh.mode !== 'UNSET') {
    mode = mesh.mode;
    decidedBy = mesh;
  }
  if (namespace && namespace.mode !== 'UNSET') {
    mode = namespace.mode;
    decidedBy = namespace;
  }
  if (workload && workload.mode !== 'UNSET') {
    mode = workload.mode;
    decidedBy = workload;
  }
  let portLevel = false;
  if (workload?.portLevel && port !== undefined && workload.portLevel[port] !== undefined) {
    const pm = workload.portLevel[port];
    if (pm !== 'UNSET') {
      mode = pm;
      decidedBy = workload;
      portLevel = true;
    }
  }
  const lvl = (p: PeerAuthenticationModel | undefined, what: string): string => (p ? `${what} ${configName(p.ref)}: ${p.mode}` : `${what}: none`);
  parts.push(lvl(mesh, `mesh (${root})`), lvl(namespace, `namespace ${pod.namespace}`), lvl(workload, 'workload'));
  let explanation: string;
  if (!decidedBy) explanation = `no PeerAuthentication sets a mode for ${pod.namespace}/${pod.name}: Istio's default PERMISSIVE (mTLS and plaintext accepted)`;
  else if (portLevel) explanation = `${configName(decidedBy.ref)} portLevelMtls[${port}]: ${mode} (port-level overrides the workload-level mode)`;
  else {
    const scope = decidedBy === workload ? 'workload-level (narrowest scope)' : decidedBy === namespace ? 'namespace-wide' : 'mesh-wide';
    explanation = `${configName(decidedBy.ref)} (${scope}) sets ${mode}`;
  }
  explanation += ` [${parts.join('; ')}]`;
  return { mode, ...(port !== undefined ? { port } : {}), ...(mesh ? { mesh } : {}), ...(namespace ? { namespace } : {}), ...(workload ? { workload } : {}), ...(decidedBy ? { decidedBy } : {}), portLevel, explanation, ignored };
}

/** What the server sidecar does with a connection, by its mode and the client's transport. */
export function acceptsTransport(mode: EffectiveMode, mtls: boolean): { accepted: boolean; text: string } {
  if (mode === 'STRICT') {
    return mtls
      ? { accepted: true, text: 'STRICT: the mTLS filter chain accepts the connection' }
      : { accepted: false, text: 'STRICT: only the mTLS filter chain exists on the inbound listener; a plaintext connection matches no filter chain and Envoy closes it (the client sees a reset)' };
  }
  if (mode === 'PERMISSIVE') {
    return { accepted: true, text: `PERMISSIVE: the inbound listener has a TLS filter chain and a plaintext one (chosen by the tls_inspector); this connection is ${mtls ? 'mTLS' : 'plaintext'}` };
  }
  return mtls
    ? { accepted: false, text: 'DISABLE: the sidecar does not terminate TLS; the client\'s TLS handshake is passed to the application, which does not speak TLS, and the connection fails' }
    : { accepted: true, text: 'DISABLE: plaintext accepted, no TLS termination' };
}
