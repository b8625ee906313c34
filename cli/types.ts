// The contract between `netlab` and its verbs. A verb lives in
// cli/commands/<verb>.ts, exports a Command, and is listed once in
// cli/commands/index.ts.

export interface CliIO {
  /** Standard output (text is written as given; add the newline yourself). */
  out: (text: string) => void;
  /** Standard error. */
  err: (text: string) => void;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Reads standard input (for FILE "-"). */
  readStdin?: () => Promise<string>;
}

export interface CommandArgs {
  /** The verb's own arguments, global options (--set, --json) already taken out. */
  argv: string[];
  /** Every `--set key=value` given (repeatable), in order. */
  set: string[];
  /** `--json`: print machine-readable output. */
  json: boolean;
  io: CliIO;
}

export interface Command {
  name: string;
  /** One line for `netlab help`. */
  summary: string;
  /** Full usage text for `netlab help <verb>` (first line: `netlab <verb> ARGS…`). */
  usage: string;
  /** Returns the exit code: EXIT.OK, EXIT.ERRORS or EXIT.USAGE. */
  run(args: CommandArgs): Promise<number>;
}

export const EXIT = { OK: 0, ERRORS: 1, USAGE: 2 } as const;

/** Thrown by a verb for bad command-line usage; netlab prints it with the verb's usage and exits 2. */
export class UsageError extends Error {}
