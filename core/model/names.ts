// Deterministic stand-ins for the random names Kubernetes controllers
// generate. They use the same alphabet and lengths as the real ones
// (k8s.io/apimachinery/pkg/util/rand: "bcdfghjklmnpqrstvwxz2456789", no
// vowels, no 0/1/3) so they look real, but are derived from a hash of the
// owner so a topology always expands to the same names.

import { fnv1a32 } from '../hash';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bit. */
export const fnv32a = fnv1a32;

/** rand.SafeEncodeString: each character mapped onto the safe alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/**
 * The pod-template-hash label of a Deployment's ReplicaSet: the real one is
 * SafeEncodeString of the decimal fnv32a hash of the pod template, so 8-10
 * characters from the safe alphabet (e.g. `7c5ddbdf54`).
 */
export function podTemplateHash(templateKey: string): string {
  return safeEncode(String(fnv32a(templateKey)));
}

/** A 5-character generateName suffix, deterministic in `seed`. */
export function randSuffix(seed: string, n = 5): string {
  let h = fnv32a(seed);
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHANUMS[h % ALPHANUMS.length];
    h = Math.floor(h / ALPHANUMS.length);
    if (h < ALPHANUMS.length) h = fnv32a(`${seed}#${i}`);
  }
  return out;
}

/** generateName: the base is cut to 58 characters so base+suffix fits 63. */
export function generateName(base: string, seed: string): string {
  const b = base.length > 58 ? base.slice(0, 58) : base;
  return `${b}${randSuffix(seed)}`;
}

/** Stable JSON (sorted keys) for hashing. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}
