// Human-readable report: per node, per check, the differences as +/- lines
// (- what the model has, + what the node has), each with its explanation.

import type { CheckResult, DiffItem, NodeReport } from './types';

function wrap(text: string, indent: string, width = 100): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width - indent.length) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.map((l) => indent + l).join('\n');
}

function itemLines(it: DiffItem, showExplained: boolean): string[] {
  if (it.explained && !showExplained) return [];
  const tag = it.explained ? '  (explained)' : '';
  const out: string[] = [];
  const head = it.where ? `[${it.where}]${tag}` : tag.trim();
  if (head) out.push(`    ${head}`);
  if (it.kind !== 'extra' && it.model !== undefined) out.push(`    - ${it.model}`);
  if (it.kind !== 'missing' && it.real !== undefined) out.push(`    + ${it.real}`);
  if (it.kind === 'missing' && it.model === undefined) out.push('    - (missing)');
  out.push(wrap(it.explanation, '        '));
  return out;
}

export function formatCheck(c: CheckResult, opts: { showExplained?: boolean } = {}): string {
  const unexplained = c.items.filter((i) => !i.explained).length;
  const explained = c.items.length - unexplained;
  const status = c.status === 'different' ? 'DIFFERENT' : c.status;
  const counts = c.items.length ? ` (${unexplained} unexplained, ${explained} explained)` : '';
  const lines = [`  ${c.check.padEnd(10)} ${status}${counts} — ${c.summary}`];
  for (const it of c.items) lines.push(...itemLines(it, opts.showExplained ?? true));
  for (const n of c.notes ?? []) lines.push(wrap(`note: ${n}`, '    '));
  return lines.join('\n');
}

export function formatReport(r: NodeReport, opts: { showExplained?: boolean } = {}): string {
  const lines = [`== ${r.node}${r.via ? ` (via ${r.via})` : ''} ==`];
  for (const c of r.checks) lines.push(formatCheck(c, opts));
  for (const s of r.skipped ?? []) lines.push(`  ${s.check.padEnd(10)} skipped — ${s.reason}`);
  if (r.notes?.length) {
    lines.push('  known differences of this target:');
    for (const n of r.notes) lines.push(wrap(`* ${n}`, '    '));
  }
  return `${lines.join('\n')}\n`;
}
