// core/compare: the model against real nodes. Each check takes what the
// model says (core/cni, core/kubeproxy, core/policy, core/dns) and what a
// node printed (parsed with core/parse or the iptables-save parser), pairs
// them on what matters for forwarding, and explains every difference —
// marking the legitimate ones (timing, naming, documented test-bed choices)
// as explained. Pure TypeScript; the host (electron/host/remote) runs the
// commands.

export * from './types';
export { myersDiff, multisetDiff, type Edit, type MultisetDiff } from './diff';
export { compareRoutes, normalizeModelRoute, normalizeRealRoute, routeRecordText, type NormRoute, type RouteCompareOptions } from './routes';
export { compareRules, modelRuleRecord, ruleRecordText, ruleRecordToModel, ruleTableName, unsupportedSelectors, type RuleCompareOptions } from './rules';
export { compareIptables, compareIptablesText, compareRulesets, ruleMeaning, type IptablesCompareOptions } from './iptables';
export { diffConntrackText } from './bulk';
export { expectProbe, ProbeError, type ProbeSpec, type ExpectedProbe, type ExpectedFlow, type FlowAlternative } from './probe';
export { compareConntrack, compareConntrackEntries, diffConntrackTables, entryText } from './conntrack';
export { compareTcpdump, compareCapture, realDnsQuestions, dnsServerAddresses, flattenCapture, packetText, fqdn } from './tcpdump';
export { compareDns, type DnsObserved } from './dns';
export { comparePolicy, classifyNc, attemptAllowed, type PolicyAttempt, type AttemptResult } from './policy';
export { compareCniResults, expectedPluginResult, CniConfigError, type CniResultPair } from './cni';
export { formatReport, formatCheck } from './format';
export { modelRuleset } from './model-rules';
