// Argument helpers for verbs: node:util parseArgs with usage errors.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './types';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a verb's argv (strict: unknown options are usage errors).
 * Returns option values and positionals.
 */
export function parseVerbArgs<O extends Options>(argv: string[], options: O): { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
