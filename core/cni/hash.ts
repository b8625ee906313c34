// Names and addresses the CNI plugins derive from digests (Calico:
// sha1("<namespace>.<pod>"), Cilium: sha256("<containerID>:<ifname>"),
// Antrea: sha1(containerID)); the digests themselves are core/hash's.

import { sha1Hex } from '../hash';

// fnv1a32: flow hashes (UDP source ports of tunnels)
export { fnv1a32, sha1Hex, sha256Hex } from '../hash';

/**
 * A deterministic, locally administered unicast MAC derived from `seed`.
 * Real devices get random MACs (or ones the kernel or the plugin picks), so
 * every MAC produced here is flagged `macSynthetic` by the callers and the
 * compare layer ignores it.
 */
const macCache = new Map<string, string>();

export function syntheticMac(seed: string): string {
  const hit = macCache.get(seed);
  if (hit) return hit;
  if (macCache.size > 200_000) macCache.clear();
  const mac = computeMac(seed);
  macCache.set(seed, mac);
  return mac;
}

function computeMac(seed: string): string {
  const d = sha1Hex(`mac:${seed}`);
  const bytes = [0, 1, 2, 3, 4, 5].map((i) => parseInt(d.slice(i * 2, i * 2 + 2), 16));
  bytes[0] = (bytes[0] & 0xfe) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}


/** A UUID-shaped string derived from `seed` (containerd names pod netns `cni-<uuid>`). */
export function syntheticUuid(seed: string): string {
  const d = sha1Hex(`uuid:${seed}`);
  return `${d.slice(0, 8)}-${d.slice(8, 12)}-${d.slice(12, 16)}-${d.slice(16, 20)}-${d.slice(20, 32)}`;
}
