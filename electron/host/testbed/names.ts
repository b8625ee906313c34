// Every name the test-bed creates carries one prefix, so that `down` can find
// everything even without its state file.

import { createHash } from 'node:crypto';

export const PREFIX = 'nl-';
/** The namespace holding the node network's bridge (br0). */
export const NET_NS = 'nl-net';
/** Everything the test-bed writes lives here (state, configs, keys, logs, CNI results). */
export const RUN_DIR = '/run/netlab';
export const STATE_FILE = `${RUN_DIR}/state.json`;
/** `ip netns exec NAME` bind-mounts files from here over /etc (resolv.conf, hosts). */
export const ETC_NETNS = '/etc/netns';
/** Where `ip netns add` pins namespaces. */
export const NETNS_DIR = '/run/netns';

/** Longest namespace name we create; longer pod names are shortened with a hash. */
export const MAX_NETNS_NAME = 48;

const SAFE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** `nl-<kind>-<name>`, or `nl-<kind>-<start of name>-<hash>` when too long or not a DNS-1123 name. */
function prefixed(kind: string, name: string): string {
  const full = `${PREFIX}${kind}-${name}`;
  if (full.length <= MAX_NETNS_NAME && SAFE.test(name)) return full;
  const clean = name.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  const keep = MAX_NETNS_NAME - PREFIX.length - kind.length - 1 - 9;
  return `${PREFIX}${kind}-${clean.slice(0, keep).replace(/[-.]+$/, '')}-${shortHash(name)}`;
}

export function nodeNetns(node: string): string {
  return prefixed('n', node);
}

export function podNetns(namespace: string, pod: string): string {
  return prefixed('p', `${namespace}-${pod}`);
}

/** The bridge port in nl-net for the node with this index (interface names are at most 15 characters). */
export function bridgePort(index: number): string {
  return `n${index + 1}`;
}

export function isOurs(name: string): boolean {
  return name.startsWith(PREFIX);
}
