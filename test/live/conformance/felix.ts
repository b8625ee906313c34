// Shared by the Calico conformance suites: the restore input felix writes, and
// the normalisations applied to the real iptables-save / ipset list before they
// are compared with the model's renderings.

import { BUILTIN_CHAINS } from '../../../core/dataplane';
import { CALICO_TABLES, felixRenderForHash, type CalicoTable, type NodeRules } from '../../../core/policy/calico';

/**
 * The ip(6)tables-restore input felix writes for a node (its RenderAppend form): the filter table
 * and felix's raw, mangle and nat tables, each declaring the table's built-in chains (an
 * iptables-nft table has only the built-in chains a restore names).
 */
export function felixRestore(nr: NodeRules, tables: readonly CalicoTable[] = CALICO_TABLES): string {
  const lines: string[] = [];
  for (const t of tables) {
    const chains = t === 'filter' ? nr.chains : nr.tables[t];
    const builtins = BUILTIN_CHAINS[t] as readonly string[];
    lines.push(`*${t}`);
    for (const b of builtins) lines.push(`:${b} ACCEPT [0:0]`);
    for (const c of chains.keys()) if (!builtins.includes(c)) lines.push(`:${c} - [0:0]`);
    for (const c of chains.values()) {
      for (const r of c.rules) lines.push(felixRenderForHash(c.name, r).replace(/ HASH\b/, r.hash ? ` -m comment --comment "cali:${r.hash}"` : ''));
    }
    lines.push('COMMIT');
  }
  return `${lines.join('\n')}\n`;
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
