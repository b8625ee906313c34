import { describe, expect, it } from 'vitest';
import { GenerationalMemo } from './memo';
import { HOOK_MEMO_GENERATION, traceContext } from './context';
import { loadText } from './testing';
import { readFileSync } from 'node:fs';

describe('GenerationalMemo: the walk caches stay bounded', () => {
  it('never holds more than two generations, whatever is inserted', () => {
    const m = new GenerationalMemo<number>(100);
    for (let i = 0; i < 10_000; i++) {
      m.set(`k${i}`, i);
      expect(m.size).toBeLessThanOrEqual(200);
    }
    expect(m.get('k9999')).toBe(9999);
    expect(m.get('k0')).toBeUndefined();
  });

  it('an entry that keeps being used survives generation changes; one-off entries age out', () => {
    const m = new GenerationalMemo<string>(10);
    m.set('hot', 'h');
    for (let i = 0; i < 1000; i++) {
      m.set(`cold${i}`, 'c');
      if (i % 5 === 0) expect(m.get('hot')).toBe('h');
    }
    expect(m.get('hot')).toBe('h');
    expect(m.get('cold0')).toBeUndefined();
    expect(m.get('cold999')).toBe('c');
  });

  it('overwriting a key in a full generation does not start a new one', () => {
    const m = new GenerationalMemo<number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('b', 3);
    expect(m.get('a')).toBe(1);
    expect(m.get('b')).toBe(3);
    expect(m.size).toBe(2);
    m.clear();
    expect(m.size).toBe(0);
  });

  it('refuses a limit that is not positive', () => {
    expect(() => new GenerationalMemo(0)).toThrow(/positive/);
  });

  it("the trace context's hook memo is one, sized for a large cluster", () => {
    const t = loadText(readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8'));
    const ctx = traceContext(t);
    expect(ctx.hookMemo).toBeInstanceOf(GenerationalMemo);
    expect(ctx.hookMemo.limit).toBe(HOOK_MEMO_GENERATION);
  });
});
