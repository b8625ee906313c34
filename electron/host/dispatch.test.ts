import { describe, expect, it, vi } from 'vitest';
import { LAB_API_METHODS, LabApiError } from '../../core/api';
import type { LabApi } from '../../core/api';
import { createDispatcher } from './dispatch';

function fakeApi(overrides: Partial<LabApi> = {}): LabApi {
  const api: Record<string, unknown> = {};
  for (const m of LAB_API_METHODS) api[m] = vi.fn(async () => `${m} called`);
  return { ...(api as unknown as LabApi), ...overrides };
}

describe('createDispatcher', () => {
  it('calls the method with validated arguments', async () => {
    const api = fakeApi();
    const d = createDispatcher(api);
    expect(await d('readSample', ['seed'])).toEqual({ ok: true, result: 'readSample called' });
    expect(api.readSample).toHaveBeenCalledWith('seed');
    expect(await d('appInfo', undefined)).toEqual({ ok: true, result: 'appInfo called' });
    expect(await d('sessionSave', [{ notes: 'x' }, 'Edit notes'])).toMatchObject({ ok: true });
    expect(api.sessionSave).toHaveBeenCalledWith({ notes: 'x' }, 'Edit notes');
  });

  it('refuses names that are not LabApi methods, including prototype properties', async () => {
    const d = createDispatcher(fakeApi());
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'allowPath', 'close', '', 42, null]) {
      const out = await d(name, []);
      expect(out).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    }
  });

  it('refuses bad arguments with the method, the place and the reason', async () => {
    const d = createDispatcher(fakeApi());
    expect(await d('readSample', 'seed')).toMatchObject({ ok: false, error: { code: 'invalid-params', message: expect.stringContaining('must be an array') } });
    expect(await d('readSample', [])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await d('readSample', ['seed', 'extra'])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await d('readSample', ['../etc/passwd'])).toMatchObject({ ok: false, error: { message: expect.stringMatching(/readSample: invalid arguments: params\[0\]: a sample id/) } });
    expect(await d('sessionSave', [{}])).toMatchObject({ ok: false, error: { message: expect.stringContaining('at least one field') } });
    expect(await d('sessionSave', [{ notes: 1 }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('params[0].notes') } });
    expect(await d('sessionSave', [{ nots: 'typo' }])).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await d('sessionSave', [{ positions: { a: { x: Number.NaN, y: 0 } } }])).toMatchObject({ ok: false });
    expect(await d('sessionOpen', ['a\0b'])).toMatchObject({ ok: false, error: { message: expect.stringContaining('NUL') } });
    expect(await d('sessionExport', ['xml'])).toMatchObject({ ok: false, error: { message: expect.stringContaining('params[0]') } });
  });

  it('passes LabApiErrors through and wraps other failures as internal errors', async () => {
    const onInternalError = vi.fn();
    const d = createDispatcher(
      fakeApi({
        sessionUndo: async () => {
          throw new LabApiError('no-session', 'No session is open.', 'Start one.');
        },
        sessionRedo: async () => {
          throw new TypeError('boom');
        },
      }),
      { onInternalError },
    );
    expect(await d('sessionUndo', [])).toEqual({ ok: false, error: { code: 'no-session', message: 'No session is open.', hint: 'Start one.' } });
    expect(await d('sessionRedo', [])).toMatchObject({ ok: false, error: { code: 'internal', message: 'sessionRedo failed: boom' } });
    expect(onInternalError).toHaveBeenCalledOnce();
  });
});
