// electron/host/remote: running read-only commands on nodes — SSH (ssh2,
// host keys checked against the lab's known_hosts), docker exec (kind nodes)
// and ip netns exec (the local test-bed) — behind one NodeRunner interface,
// plus collecting a node's real state and diffing it against the model.

export * from './types';
export * from './command-line';
export * from './known-hosts';
export { connectSsh, SshRunner, hostKeyAlgorithms, sshTargetText, type SshOptions, type SshTarget, type SshConnectResult } from './ssh';
export { DockerRunner, type DockerRunnerOptions } from './docker';
export { NetnsRunner, type NetnsRunnerOptions } from './netns';
export { parseVia, viaText, type Via } from './target';
export { compareNode, chooseProbe, modelRuleset, podNamespaces, type NodeCompareOptions, type ProbeChoice } from './compare';
