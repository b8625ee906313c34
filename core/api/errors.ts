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
  /** Extra detail (command output, a log tail), shown under the message. */
  readonly detail?: string;

  constructor(code: LabApiErrorCode | string, message: string, hint?: string, detail?: string) {
    super(message);
    this.name = 'LabApiError';
    this.code = code;
    this.hint = hint;
    if (detail !== undefined) this.detail = detail;
  }

  toBody(): RpcErrorBody {
    const body: RpcErrorBody = { code: this.code, message: this.message };
    if (this.hint !== undefined) body.hint = this.hint;
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }

  static fromBody(body: RpcErrorBody): LabApiError {
    return new LabApiError(body.code, body.message, body.hint, typeof body.detail === 'string' ? body.detail : undefined);
  }
}
