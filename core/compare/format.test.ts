import { describe, expect, it } from 'vitest';
import { formatReport } from './format';
import { checkResult, hasUnexplained, statusOf, type NodeReport } from './types';

describe('report', () => {
  const report: NodeReport = {
    node: 'node-1',
    via: 'testbed',
    checks: [
      checkResult('routes', [{ kind: 'missing', where: 'main 10.244.2.0/26', model: '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird', explanation: 'the route is missing on the node', explained: false }], 8, '8 routes'),
      checkResult('iptables', [{ kind: 'changed', where: 'nat X', model: '-A X -j A', real: '-A X -j B', explanation: 'spelled differently', explained: true }], 3, '3 rules'),
      checkResult('cni', [], 5, '5 fields'),
    ],
    skipped: [{ check: 'policy', reason: 'no NetworkPolicy' }],
  };

  it('statuses follow the items', () => {
    expect(report.checks.map((c) => c.status)).toEqual(['different', 'explained', 'match']);
    expect(statusOf([])).toBe('match');
    expect(hasUnexplained([report])).toBe(true);
    expect(hasUnexplained([{ ...report, checks: report.checks.slice(1) }])).toBe(false);
  });

  it('prints -/+ lines with explanations, and can hide explained items', () => {
    const text = formatReport(report);
    expect(text).toContain('== node-1 (via testbed) ==');
    expect(text).toContain('routes     DIFFERENT (1 unexplained, 0 explained)');
    expect(text).toContain('    - 10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird');
    expect(text).toContain('    + -A X -j B');
    expect(text).toContain('policy     skipped — no NetworkPolicy');
    expect(formatReport(report, { showExplained: false })).not.toContain('-A X -j B');
  });
});
