import { LAB_API_PARAMS, LabApiError, describeZodError, isLabApiMethod } from '../../core/api';
import type { LabApi, RpcOutcome } from '../../core/api';

export type Dispatch = (method: unknown, params: unknown) => Promise<RpcOutcome>;

export interface DispatchOptions {
  /** Called with errors that are not LabApiErrors (bugs), for the log. */
  onInternalError?: (method: string, err: unknown) => void;
}

/**
 * The one entry point both transports use: checks the method name against
 * LAB_API_METHODS, validates the arguments with the method's zod schema, calls
 * the host and wraps the outcome. Never throws.
 */
export function createDispatcher(api: LabApi, options: DispatchOptions = {}): Dispatch {
  return async (method, params) => {
    if (!isLabApiMethod(method)) {
      return fail(new LabApiError('unknown-method', `Unknown LabApi method ${JSON.stringify(method)}.`, 'The UI and the host are from different versions; restart the lab.'));
    }
    const args = params === undefined ? [] : params;
    if (!Array.isArray(args)) {
      return fail(new LabApiError('invalid-params', `${method}: params must be an array of arguments.`));
    }
    const parsed = LAB_API_PARAMS[method].safeParse(args);
    if (!parsed.success) {
      return fail(new LabApiError('invalid-params', `${method}: invalid arguments: ${describeZodError(parsed.error, 'params')}.`));
    }
    try {
      const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(api, parsed.data as unknown[]);
      return { ok: true, result: result === undefined ? null : result };
    } catch (err) {
      if (err instanceof LabApiError) return fail(err);
      options.onInternalError?.(method, err);
      const message = err instanceof Error ? err.message : String(err);
      return fail(new LabApiError('internal', `${method} failed: ${message}`, 'This is a bug in the lab; the details are in the terminal or log.'));
    }
  };
}

function fail(err: LabApiError): RpcOutcome {
  return { ok: false, error: err.toBody() };
}
