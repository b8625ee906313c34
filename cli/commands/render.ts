// netlab render FILE… RENDERER [--node N] [--pod NS/NAME] [--OPTION VALUE]…:
// what a real tool would print for the model (iptables-save, conntrack -L,
// ipvsadm -Ln, resolv.conf, ip route…). Renderers live in core/render.

import { getRenderer, listRenderers, render, RenderError, type RenderOptions } from '../../core/render';
import { conntrackSummary } from '../../core/dataplane';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type Command } from '../types';

/** Options that take no value. */
const FLAGS = new Set(['list', 'counters', 'c', 'details', 'd', '4', '6', 'json', 'e']);
/** Options that may repeat (collected into arrays). */
const REPEATED = new Set(['flow']);

export function parseRenderArgv(argv: string[]): { positionals: string[]; opts: RenderOptions & { flow?: string[] } ; list: boolean } {
  const positionals: string[] = [];
  const opts: Record<string, string | boolean | string[] | undefined> = {};
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    if (key === 'list') {
      list = true;
      continue;
    }
    let value: string | boolean;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (FLAGS.has(key)) value = true;
    else {
      if (i + 1 >= argv.length) throw new UsageError(`option --${key} needs a value`);
      value = argv[++i];
    }
    if (REPEATED.has(key)) opts[key] = [...((opts[key] as string[] | undefined) ?? []), String(value)];
    else opts[key] = value;
  }
  return { positionals, opts: opts as RenderOptions & { flow?: string[] }, list };
}

export const renderCmd: Command = {
  name: 'render',
  summary: 'print what a real tool would show on a node or pod: iptables-save, conntrack -L, ipvsadm -Ln, resolv.conf, ip route…',
  usage: `usage: netlab render [--set key=value]… FILE… RENDERER [--node NODE] [--pod NS/NAME] [--OPTION VALUE]…
       netlab render --list

Loads the files as one topology and prints RENDERER's output for a node (or a
pod), in the exact format of the real tool. Examples:

  netlab render seed.yaml iptables-save --node node-1
  netlab render seed.yaml conntrack --node node-1 --flow 10.244.1.5:52345-10.96.5.20:80/tcp
  netlab render seed.yaml ipvsadm --node node-1 --set kubeProxy.mode=ipvs
  netlab render seed.yaml resolv.conf --pod default/pod-a

iptables-save prints the current time unless --date ISO is given. conntrack
prints its "N flow entries have been shown." line on standard error, as the
real tool does. --list shows every renderer and its options.`,
  async run({ argv, set, io }) {
    const { positionals, opts, list } = parseRenderArgv(argv);
    if (list) {
      const all = listRenderers();
      const width = Math.max(...all.map((r) => r.name.length)) + 2;
      for (const r of all) io.out(`${r.name.padEnd(width)}${r.summary}${r.options ? `\n${' '.repeat(width)}${r.options}` : ''}\n`);
      return EXIT.OK;
    }
    const names = positionals.filter((p) => getRenderer(p));
    const files = positionals.filter((p) => !getRenderer(p));
    if (names.length !== 1) throw new UsageError(names.length ? `give one RENDERER, not ${names.join(' and ')}` : `give a RENDERER (one of: ${listRenderers().map((r) => r.name).join(', ')})`);
    if (files.length === 0) throw new UsageError('give at least one FILE');
    const r = await loadFromFiles(files, set, io);
    if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err);
    if (!r.topology || countDiagnostics(r.diagnostics).errors) return EXIT.ERRORS;
    if (opts.date === undefined) opts.date = new Date().toISOString();
    try {
      const text = render(names[0], r.topology, opts);
      io.out(text);
      if (names[0] === 'conntrack') io.err(conntrackSummary(text ? text.trimEnd().split('\n').length : 0));
      return EXIT.OK;
    } catch (e) {
      if (e instanceof RenderError) {
        io.err(`netlab render ${names[0]}: ${e.message}\n  hint: ${e.hint}\n`);
        return EXIT.ERRORS;
      }
      throw e;
    }
  },
};
