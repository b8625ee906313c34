// Errors a user of the test-bed can hit: each says what went wrong and what to do next.

export type TestbedErrorCode =
  | 'not-root'
  | 'missing-binary'
  | 'unsupported-mode'
  | 'unsupported-topology'
  | 'already-up'
  | 'not-up'
  | 'command-failed'
  | 'cni-failed'
  | 'daemon-failed'
  | 'timeout'
  | 'unknown-target'
  | 'safety';

export class TestbedError extends Error {
  readonly code: TestbedErrorCode;
  readonly hint: string;
  /** Extra detail (command output, logs), shown under the message. */
  readonly detail?: string;

  constructor(code: TestbedErrorCode, message: string, hint: string, detail?: string) {
    super(message);
    this.name = 'TestbedError';
    this.code = code;
    this.hint = hint;
    if (detail !== undefined) this.detail = detail;
  }
}
