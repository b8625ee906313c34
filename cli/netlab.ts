// netlab: the command-line face of the lab core. Global options are taken
// out here; each verb (cli/commands/<verb>.ts) parses the rest.

import { commands } from './commands';
import { EXIT, UsageError, type CliIO, type Command } from './types';

const GLOBAL_HELP = `Global options (any verb that loads a topology):
  --set key=value   override a cluster setting (repeatable), e.g. --set cni=calico-vxlan --set kubeProxy=ipvs
  --json            machine-readable output where the verb supports it
  -h, --help        help for the verb

Exit codes: 0 ok, 1 errors found, 2 usage error.`;

export function findCommand(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push(`  ${'help'.padEnd(width)}  show this list, or the usage of one verb`);
  return `usage: netlab <verb> [options] [args]\n\nVerbs:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n\nRun \`netlab help <verb>\` for a verb's usage.\n`;
}

function verbHelp(c: Command): string {
  return `${c.usage.trimEnd()}\n\n${GLOBAL_HELP}\n`;
}

export const defaultIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  cwd: process.cwd(),
};

/** Runs netlab with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const set: string[] = [];
  let json = false;
  let help = false;
  let verb: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--set') {
      const v = argv[i + 1];
      if (v === undefined) {
        io.err('netlab: --set needs key=value (e.g. --set cni=calico-vxlan)\n');
        return EXIT.USAGE;
      }
      set.push(v);
      i++;
    } else if (a.startsWith('--set=')) {
      set.push(a.slice('--set='.length));
    } else if (a === '--json') {
      json = true;
    } else if (a === '-h' || a === '--help') {
      help = true;
    } else if (verb === undefined && !a.startsWith('-')) {
      verb = a;
    } else {
      rest.push(a);
    }
  }
  if (verb === undefined) {
    if (help || argv.length === 0) {
      io.out(overview());
      return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
    }
    io.err(`netlab: no verb given\n\n${overview()}`);
    return EXIT.USAGE;
  }
  if (verb === 'help') {
    const target = rest.find((x) => !x.startsWith('-'));
    if (!target) {
      io.out(overview());
      return EXIT.OK;
    }
    const c = findCommand(target);
    if (!c) {
      io.err(`netlab: unknown verb "${target}"\n\n${overview()}`);
      return EXIT.USAGE;
    }
    io.out(verbHelp(c));
    return EXIT.OK;
  }
  const cmd = findCommand(verb);
  if (!cmd) {
    io.err(`netlab: unknown verb "${verb}"\n\n${overview()}`);
    return EXIT.USAGE;
  }
  if (help) {
    io.out(verbHelp(cmd));
    return EXIT.OK;
  }
  try {
    return await cmd.run({ argv: rest, set, json, io });
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`netlab ${cmd.name}: ${e.message}\n\n${cmd.usage.trimEnd()}\n`);
      return EXIT.USAGE;
    }
    // The core's typed errors are a user's input the model cannot take (a node that is not in the
    // topology, a plugin mode that does not exist…): a message and a hint, not a stack trace.
    const known = userError(e);
    if (known) {
      io.err(`netlab ${cmd.name}: ${known.message}${known.hint ? `\n  hint: ${known.hint}` : ''}\n`);
      return EXIT.ERRORS;
    }
    throw e;
  }
}

/** Errors the core throws for input it cannot model (typed, with a hint), as opposed to bugs. */
const USER_ERRORS = new Set(['CniModelError', 'TraceInputError', 'PolicyInputError', 'RenderError', 'LabError', 'LabApiError', 'ProbeError', 'CniConfigError', 'IptablesParseError']);

function userError(e: unknown): { message: string; hint?: string } | undefined {
  if (!(e instanceof Error) || !USER_ERRORS.has(e.name)) return undefined;
  const hint = (e as { hint?: unknown }).hint;
  return { message: e.message, hint: typeof hint === 'string' ? hint : undefined };
}
