import { LabApiError } from './errors';
import { LAB_API_METHODS } from './methods';
import type { LabApi, LabApiMethod, RpcOutcome } from './types';

/** One round trip over a transport: method name and argument list in, wire outcome out. */
export type RpcCall = (method: LabApiMethod, params: unknown[]) => Promise<RpcOutcome>;

/**
 * Build a LabApi from a transport. Both the Electron bridge and the WebSocket
 * client go through here, so the UI sees the same errors (LabApiError with a
 * code and a hint) whichever transport it runs on.
 */
export function createLabApiClient(call: RpcCall): LabApi {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of LAB_API_METHODS) {
    api[method] = async (...args: unknown[]) => {
      // Trailing undefined arguments are dropped: they do not survive JSON anyway.
      while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
      const outcome = await call(method, args);
      if (outcome.ok) return outcome.result;
      throw LabApiError.fromBody(outcome.error);
    };
  }
  return api as unknown as LabApi;
}
