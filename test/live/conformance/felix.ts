// Shared by the Calico conformance suites: the restore input felix writes, and
// the normalisations applied to the real iptables-save / ipset list before they
// are compared with the model's renderings.

import { felixRenderForHash, type NodeRules } from '../../../core/policy/calico';

/** The ip(6)tables-restore input felix writes for a node's filter table (its RenderAppend form). */
export function felixRestore(nr: NodeRules): string {
  const builtins = ['INPUT', 'FORWARD', 'OUTPUT'];
  const lines = ['*filter'];
  for (const c of nr.chains.keys()) if (!builtins.includes(c)) lines.push(`:${c} - [0:0]`);
  for (const c of nr.chains.values()) {
    for (const r of c.rules) lines.push(felixRenderForHash(c.name, r).replace(/ HASH\b/, r.hash ? ` -m comment --comment "cali:${r.hash}"` : ''));
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** iptables-save lines without the `#` header/footer and with counters zeroed. */
export const saveLines = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));

/**
 * `ipset list` as a name-sorted list of sets with sorted members (the kernel
 * lists sets in creation order and members in hash order) and the random
 * initval masked; `maskSize` also masks `Size in memory` (kernel allocation).
 */
export function ipsetNormalised(text: string, opts: { maskSize?: boolean } = {}): { name: string; header: string[]; members: string[] }[] {
  return text
    .split(/\n\n+/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const at = lines.indexOf('Members:');
      const header = lines.slice(0, at).map((l) => {
        const h = l.replace(/ initval 0x[0-9a-f]+/, ' initval <random>');
        return opts.maskSize ? h.replace(/^Size in memory: \d+$/, 'Size in memory: <n>') : h;
      });
      return { name: lines[0], header, members: lines.slice(at + 1).sort() };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
