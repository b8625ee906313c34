import { describe, expect, it } from 'vitest';
import { LAB_API_METHODS, LAB_API_PARAMS, LabApiError, createLabApiClient, describeZodError, isLabApiMethod, sessionPatchSchema, sessionStateSchema } from '.';
import type { RpcOutcome } from '.';

describe('LabApi contract', () => {
  it('has an argument schema for every method and no other', () => {
    expect(Object.keys(LAB_API_PARAMS).sort()).toEqual([...LAB_API_METHODS].sort());
  });

  it('recognises methods by own name only', () => {
    expect(isLabApiMethod('sessionSave')).toBe(true);
    for (const n of ['toString', 'constructor', '__proto__', 'SESSIONSAVE', undefined]) expect(isLabApiMethod(n)).toBe(false);
  });

  it('validates session patches strictly', () => {
    expect(sessionPatchSchema.safeParse({ notes: 'x' }).success).toBe(true);
    expect(sessionPatchSchema.safeParse({}).success).toBe(false);
    expect(sessionPatchSchema.safeParse({ notes: 'x', extra: 1 }).success).toBe(false);
    expect(sessionPatchSchema.safeParse({ positions: { a: { x: 1, y: Infinity } } }).success).toBe(false);
    expect(sessionPatchSchema.safeParse({ traces: [{ id: 't', kind: 'trace', title: '', createdAt: 'now', data: { nested: [1, 'a', null] } }] }).success).toBe(true);
    expect(sessionPatchSchema.safeParse({ traces: [{ id: 't', kind: 'trace', title: '', createdAt: 'now', data: () => 1 }] }).success).toBe(false);
    expect(sessionStateSchema.safeParse({}).success).toBe(false);
  });

  it('describes zod failures with a field path', () => {
    const r = LAB_API_PARAMS.sessionSave.safeParse([{ positions: { 'pod/a': { x: 'no', y: 1 } } }]);
    expect(r.success).toBe(false);
    if (!r.success) expect(describeZodError(r.error)).toMatch(/^params\[0\]\.positions\.pod\/a\.x: /);
  });

  it('client: drops trailing undefined arguments, returns results, throws LabApiErrors', async () => {
    const seen: unknown[] = [];
    const api = createLabApiClient(async (method, params): Promise<RpcOutcome> => {
      seen.push([method, params]);
      return method === 'readSample' ? { ok: false, error: { code: 'not-found', message: 'No sample', hint: 'Known: seed' } } : { ok: true, result: 42 };
    });
    expect(await api.sessionSave({ notes: 'a' }, undefined)).toBe(42);
    expect(seen[0]).toEqual(['sessionSave', [{ notes: 'a' }]]);
    const err = await api.readSample('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabApiError);
    expect(err).toMatchObject({ code: 'not-found', message: 'No sample', hint: 'Known: seed' });
  });
});
