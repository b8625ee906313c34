// The topology model: types, label selectors, the loader (YAML → Topology
// with diagnostics), serialisation back to YAML, and cluster settings.

export * from './types';
export * from './labels';
export type { SourceText, PathSeg } from './source';
export { formatPath } from './source';
export { loadTopology, validateSettings, TOPOLOGY_API_VERSION, type LoadOptions, type LoadResult } from './load';
export { serializeTopology } from './serialize';
export {
  defaultSettings,
  applySetOverrides,
  defaultPodIPOffset,
  parseCni,
  validCniNames,
  SETTING_KEYS,
  CNI_PLUGINS,
  KUBE_PROXY_MODES,
  IPVS_SCHEDULERS,
} from './settings';
export { deriveEndpointSlices, resolveTargetPort, PodLabelIndex, MAX_ENDPOINTS_PER_SLICE, type DeriveIssue } from './endpointslices';
