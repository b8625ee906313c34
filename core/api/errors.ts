import type { RpcErrorBody } from './types';

export type LabApiErrorCode =
  | 'unknown-method'
  | 'invalid-params'
  | 'not-found'
  | 'no-session'
  | 'read-only'
  | 'invalid-file'
  | 'forbidden'
  | 'io'
  | 'transport'
  | 'internal';

/** An error a user can hit through the LabApi: what went wrong and what to do next. */
export class LabApiError extends Error {
  readonly code: LabApiErrorCode | string;
  readonly hint?: string;

  constructor(code: LabApiErrorCode | string, message: string, hint?: string) {
    super(message);
    this.name = 'LabApiError';
    this.code = code;
    this.hint = hint;
  }

  toBody(): RpcErrorBody {
    return this.hint === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, hint: this.hint };
  }

  static fromBody(body: RpcErrorBody): LabApiError {
    return new LabApiError(body.code, body.message, body.hint);
  }
}
