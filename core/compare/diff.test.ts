import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multisetDiff, myersDiff } from './diff';

function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
  return dp[a.length][b.length];
}

describe('myersDiff', () => {
  const arb = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 25 });
  it('is a minimal edit script: replaying it gives both lists, and equal count = LCS', () => {
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const e = myersDiff(a, b, (x) => x);
        expect(e.filter((x) => x.op !== 'insert').map((x) => (x as { a: string }).a)).toEqual(a);
        expect(e.filter((x) => x.op !== 'delete').map((x) => (x as { b: string }).b)).toEqual(b);
        expect(e.filter((x) => x.op === 'equal').length).toBe(lcs(a, b));
      }),
    );
  });

  it('stays correct (not minimal) past maxD', () => {
    const a = ['a', 'b', 'c', 'd'];
    const b = ['w', 'x', 'y', 'z'];
    const e = myersDiff(a, b, (x) => x, 1);
    expect(e.filter((x) => x.op === 'delete')).toHaveLength(4);
    expect(e.filter((x) => x.op === 'insert')).toHaveLength(4);
  });
});

describe('multisetDiff', () => {
  it('counts duplicates and ignores order', () => {
    const d = multisetDiff(['a', 'b', 'b', 'c'], ['c', 'b', 'd', 'a'], (x) => x);
    expect(d).toEqual({ missing: ['b'], extra: ['d'], equal: 3 });
  });
});
