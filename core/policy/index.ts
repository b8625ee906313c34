// NetworkPolicy engine: exact networking.k8s.io/v1 semantics with
// explanations, a compiled evaluator for large clusters, Calico-style
// iptables/ipset and Cilium-style policy-map data planes that agree with it,
// CiliumNetworkPolicy L7 HTTP rules, lint, and `netlab reach` scenarios.

export * from './types';
export * from './notes';
export {
  buildContext,
  effectiveTypes,
  policySelectsPod,
  peerMatches,
  portEntryMatches,
  resolveEndpoint,
  describePeer,
  describePortEntry,
  podKey,
  policyKey,
  NS_NAME_LABEL,
  type PolicyContext,
  type PolicyTopology,
  type EffectiveTypes,
} from './semantics';
export { evaluateNaive, evaluateWith, naiveAllowed } from './naive';
export { compilePolicies, CompiledPolicies, bitGet, bitCount, type Bitset, type CompileStats } from './compiled';
export { truthTable, prettyPrint, parseTruthTable, diffTruthTables, type TruthTable } from './matrix';
export {
  buildCalicoDataplane,
  CalicoDataplane,
  calicoInterfaceName,
  policyChainName,
  saveRule,
  felixSettings,
  CALICO_TABLES,
  type CalicoTable,
  type CalicoDataplaneOptions,
  type FelixSettings,
  type CalicoFamily,
  type NodeRules,
  type IpSet,
  type WalkResult,
  type Packet,
} from './calico';
export { felixMarks, endpointMarks, FELIX_MARK_MASK, type FelixMarks } from './felix-marks';
export { felixTables, felixTunnelDevices, type FelixTable, type FelixTables, type FelixTablesOptions } from './felix-tables';
export { mergeFelixRules } from './felix-merge';
export { buildCiliumDataplane, CiliumDataplane, findPod, portProtoString, type PolicyMapEntry, type LookupResult, type Identity } from './cilium';
export { CiliumL7, parseCiliumPolicies, httpRuleMatches, type L7Request, type L7Verdict, type HttpRule } from './cilium-l7';
export { lintPolicies, type LintTopology } from './lint';
export { parseScenario, type Scenario, type ScenarioQuery, type HttpRequestSpec } from './scenario';
