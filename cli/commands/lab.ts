// netlab lab …: graded labs — list, show, check a submission, grade a class,
// validate lab folders, export/import packs, author a lab from a topology.

import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  authorAndValidate,
  DEFAULT_SEED,
  exportPack,
  formatSubmission,
  gradeLab,
  importPack,
  loadLab,
  parseSubmissionFile,
  submissionFor,
  suggestChecks,
  type LabBundle,
  type LabLevel,
  type LabReport,
  type LiveRunner,
  type LoadedLab,
  type SampleResolver,
  type SubmissionFile,
  type TaskResult,
} from '../../core/labs';
import type { Diagnostic } from '../../core/model';
import { gradersFor, graderNames } from '../../labs/graders';
import { LABS_DIR, readLabBundle, readLabsDir, sampleResolver } from '../../electron/host/labs/library';
import { parseVerbArgs } from '../args';
import { printDiagnostics } from '../load';
import { EXIT, UsageError, type CliIO, type Command } from '../types';

const USAGE = `usage: netlab lab list [--json]
       netlab lab show LAB [--json] [--topology] [--seed N]
       netlab lab check LAB [--submission FILE]… | --answer | --start [--seed N] [--exam] [--live testbed] [--json]
       netlab lab answer LAB [--seed N]
       netlab lab grade PACK|LAB SUBMISSIONS_DIR --report report.csv|report.json [--seed N]
       netlab lab validate [LAB|DIR]…
       netlab lab pack OUT.yaml|OUT.json LAB… [--name NAME] [--author WHO]
       netlab lab import PACK [--into DIR]
       netlab lab author --start START.yaml [--answer ANSWER.yaml] --id ID --title TITLE [--out DIR]

LAB is a lab id from labs/ (netlab lab list), or a path to a lab folder.

Submissions (--submission FILE, repeatable):
  a topology YAML (a Topology file and/or manifests) for build/fix/trace tasks,
  and/or a LabSubmission document with typed answers:
    apiVersion: netlab.dev/v1alpha1
    kind: LabSubmission
    lab: vxlan-mtu                 # optional when grading one lab
    seed: 1234                     # optional: the run's seed (random-fault labs)
    topology: |                    # optional: the whole topology as YAML text
      …
    commands:                      # optional: commands run on nodes
      node-1: ["ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0"]
    tasks:                         # typed answers per task id
      pod-mtu: 1450
      outer-header: {src: 10.0.1.5, dst: 10.0.1.6, dport: 4789, vni: 4096}
  \`netlab lab answer LAB\` prints the lab's own answer in this format.
--answer grades the lab's own answer, --start its starting state (no answers).
--exam hides expected values in the feedback; --live testbed runs live checks
in the local test-bed (netlab testbed up), otherwise they are skipped.

grade: SUBMISSIONS_DIR holds one file or folder per student (the name is the
student); a folder's files named <lab-id>.yaml or under <lab-id>/ belong to
that lab, LabSubmission documents say their lab. The report has one row per
student and lab: student, lab, seed, one column per task (percent), total %.

Exit codes: 0 ok, 1 errors (or --answer below 100%), 2 usage error.`;

function findBundle(ref: string, io: CliIO): LabBundle {
  const p = resolve(io.cwd, ref);
  if (existsSync(join(p, 'lab.yaml'))) return readLabBundle(p);
  if (/^[a-z0-9][-a-z0-9]*$/.test(ref) && existsSync(join(LABS_DIR, ref, 'lab.yaml'))) return readLabBundle(join(LABS_DIR, ref));
  throw new UsageError(`no lab "${ref}": give a lab id (netlab lab list) or a folder holding lab.yaml`);
}

function load(bundle: LabBundle, samples: SampleResolver, io: CliIO): LoadedLab | null {
  const r = loadLab(bundle, samples, { graders: graderNames(bundle.id) });
  const problems = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.lab) {
    printDiagnostics(r.diagnostics, io.err);
    return null;
  }
  if (problems.length) printDiagnostics(problems, io.err);
  return r.lab;
}

function seedOf(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed ${String(v)}: give a whole number`);
  return n;
}

async function liveRunner(v: unknown): Promise<LiveRunner | undefined> {
  if (v === undefined) return undefined;
  if (v !== 'testbed') throw new UsageError(`--live ${String(v)}: only "testbed" (the local test-bed) is supported from the CLI`);
  const { TestbedRunner } = await import('../../electron/host/labs/live-runner');
  return new TestbedRunner();
}

function pct(n: number): string {
  return `${Math.round(n * 1000) / 10}%`;
}

function printTask(t: TaskResult, io: CliIO): void {
  const head = t.skipped ? 'not graded' : `${t.earned}/${t.points}${t.hintCost ? ` (hints −${t.hintCost})` : ''}`;
  io.out(`  ${t.passed ? '✓' : t.skipped ? '·' : '✗'} ${t.taskId} [${t.kind}] ${head}\n`);
  for (const c of t.checks) {
    if (c.passed) continue;
    io.out(`      - ${c.title ?? c.id}: ${c.message}${c.skipped ? '' : ` (${pct(c.score)})`}\n`);
    for (const d of c.diffs ?? []) io.out(`          ${d.field}: yours ${JSON.stringify(d.got)}${d.expected !== undefined ? `, expected ${JSON.stringify(d.expected)}` : ''}\n`);
  }
}

function printReport(r: LabReport, io: CliIO, debrief: boolean): void {
  io.out(`${r.title} (${r.labId}${r.seed !== DEFAULT_SEED ? `, seed ${r.seed}` : ''})\n`);
  for (const t of r.tasks) printTask(t, io);
  io.out(`score: ${r.earned}/${r.possible} = ${r.percent}%\n`);
  if (debrief && r.debrief.length) {
    io.out('debrief:\n');
    for (const d of r.debrief) io.out(`  - ${d}\n`);
  }
}

function readSubmissionFiles(paths: string[], io: CliIO): { files: SubmissionFile[]; diagnostics: Diagnostic[] } {
  const files: SubmissionFile[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, p), 'utf8');
    } catch (e) {
      diagnostics.push({ severity: 'error', code: 'file-unreadable', message: `${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, file: p });
      continue;
    }
    const f = parseSubmissionFile(text, p);
    files.push(f);
    diagnostics.push(...f.diagnostics);
  }
  return { files, diagnostics };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    if (n.startsWith('.')) continue;
    const p = join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...listFiles(p));
    else if (/\.(ya?ml|json)$/i.test(n)) out.push(p);
  }
  return out;
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function cmdList(json: boolean, io: CliIO): Promise<number> {
  const samples = sampleResolver();
  const rows = readLabsDir().map((b) => {
    const r = loadLab(b, samples, { graders: graderNames(b.id) });
    const d = r.lab?.def;
    return {
      id: b.id,
      title: d?.title ?? '(invalid lab)',
      level: d?.level ?? '',
      minutes: d?.estimatedMinutes ?? 0,
      tasks: d?.tasks.length ?? 0,
      points: d?.tasks.reduce((a, t) => a + t.points, 0) ?? 0,
      kinds: d ? [...new Set(d.tasks.map((t) => t.kind))] : [],
      ok: !!r.lab,
      errors: r.diagnostics.filter((x) => x.severity === 'error').length,
    };
  });
  if (json) {
    io.out(`${JSON.stringify({ labs: rows }, null, 2)}\n`);
    return rows.every((r) => r.ok) ? EXIT.OK : EXIT.ERRORS;
  }
  const w = Math.max(...rows.map((r) => r.id.length), 2);
  io.out(`${'ID'.padEnd(w)}  LEVEL         MIN  TASKS  ${'KINDS'.padEnd(28)}  TITLE\n`);
  for (const r of rows) io.out(`${r.id.padEnd(w)}  ${r.level.padEnd(12)}  ${String(r.minutes).padStart(3)}  ${String(r.tasks).padStart(5)}  ${r.kinds.join(',').padEnd(28)}  ${r.title}${r.ok ? '' : `  [${r.errors} error(s): netlab lab validate ${r.id}]`}\n`);
  return rows.every((r) => r.ok) ? EXIT.OK : EXIT.ERRORS;
}

export const lab: Command = {
  name: 'lab',
  summary: 'graded labs: list, show, check a submission, grade a class, validate, pack, author',
  usage: USAGE,
  async run({ argv, json, io }) {
    const sub = argv[0];
    const rest = argv.slice(1);
    const samples = sampleResolver();
    switch (sub) {
      case 'list': {
        parseVerbArgs(rest, {});
        return cmdList(json, io);
      }
      case 'show': {
        const { values, positionals } = parseVerbArgs(rest, { topology: { type: 'boolean' }, seed: { type: 'string' } });
        if (positionals.length !== 1) throw new UsageError('give one LAB');
        const l = load(findBundle(positionals[0], io), samples, io);
        if (!l) return EXIT.ERRORS;
        const inst = l.instance(seedOf(values.seed) ?? DEFAULT_SEED);
        if (values.topology) {
          io.out(inst.startYaml);
          return EXIT.OK;
        }
        const d = l.def;
        if (json) {
          io.out(`${JSON.stringify({ id: d.id, title: d.title, summary: d.summary, level: d.level, estimatedMinutes: d.estimatedMinutes, objectives: d.objectives, tags: d.tags, tasks: d.tasks.map((t) => ({ id: t.id, title: t.title, kind: t.kind, points: t.points, prompt: t.prompt, answerFormat: t.answerFormat, hints: t.hints.length })) }, null, 2)}\n`);
          return EXIT.OK;
        }
        io.out(`# ${d.title}\n\n${d.summary}\n\nLevel: ${d.level} · about ${d.estimatedMinutes} min · ${d.tasks.reduce((a, t) => a + t.points, 0)} points\n\nObjectives:\n${d.objectives.map((o) => `- ${o}`).join('\n')}\n`);
        for (const [i, t] of d.tasks.entries()) {
          io.out(`\n## ${i + 1}. ${t.title} (${t.id}, ${t.kind}, ${t.points} points${t.hints.length ? `, ${t.hints.length} hint${t.hints.length > 1 ? 's' : ''}` : ''})\n\n${t.prompt.trimEnd()}\n`);
          if (t.answerFormat) io.out(`\nAnswer: ${t.answerFormat}\n`);
        }
        io.out(`\nStarting topology: netlab lab show ${d.id} --topology\n`);
        return EXIT.OK;
      }
      case 'answer': {
        const { values, positionals } = parseVerbArgs(rest, { seed: { type: 'string' } });
        if (positionals.length !== 1) throw new UsageError('give one LAB');
        const l = load(findBundle(positionals[0], io), samples, io);
        if (!l) return EXIT.ERRORS;
        const seed = seedOf(values.seed) ?? DEFAULT_SEED;
        io.out(formatSubmission(l.instance(seed).answer, { lab: l.def.id, seed: l.def.start.randomFault ? seed : undefined }));
        return EXIT.OK;
      }
      case 'check': {
        const { values, positionals } = parseVerbArgs(rest, { submission: { type: 'string', multiple: true }, answer: { type: 'boolean' }, start: { type: 'boolean' }, seed: { type: 'string' }, exam: { type: 'boolean' }, live: { type: 'string' } });
        if (positionals.length !== 1) throw new UsageError('give one LAB');
        const subs = (values.submission as string[] | undefined) ?? [];
        const modes = [subs.length > 0, !!values.answer, !!values.start].filter(Boolean).length;
        if (modes !== 1) throw new UsageError('give --submission FILE (repeatable), --answer or --start');
        const l = load(findBundle(positionals[0], io), samples, io);
        if (!l) return EXIT.ERRORS;
        let seed = seedOf(values.seed);
        let submission = {};
        if (values.answer) submission = l.instance(seed ?? DEFAULT_SEED).answer;
        else if (subs.length) {
          const r = readSubmissionFiles(subs, io);
          if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err);
          if (r.diagnostics.some((d) => d.severity === 'error')) return EXIT.ERRORS;
          const s = submissionFor(r.files, l.def.id, true);
          if (!s) {
            io.err(`netlab lab check: the submission files hold nothing for lab ${l.def.id}\n`);
            return EXIT.ERRORS;
          }
          submission = s.submission;
          seed ??= s.seed;
        }
        const report = await gradeLab(l.instance(seed ?? DEFAULT_SEED), submission, { graders: gradersFor(l.def.id), exam: values.exam ? true : undefined, live: await liveRunner(values.live) });
        if (json) io.out(`${JSON.stringify(report, null, 2)}\n`);
        else printReport(report, io, !!values.answer || !!values.start);
        return values.answer && report.percent < 100 ? EXIT.ERRORS : EXIT.OK;
      }
      case 'grade': {
        const { values, positionals } = parseVerbArgs(rest, { report: { type: 'string' }, seed: { type: 'string' } });
        if (positionals.length !== 2) throw new UsageError('give PACK (or LAB) and SUBMISSIONS_DIR');
        if (typeof values.report !== 'string') throw new UsageError('give --report report.csv or report.json');
        const [source, dir] = positionals;
        let labs: LoadedLab[];
        const sp = resolve(io.cwd, source);
        if (existsSync(sp) && statSync(sp).isFile()) {
          const p = importPack(readFileSync(sp, 'utf8'), source, samples, graderNames);
          if (p.diagnostics.some((d) => d.severity === 'error') || !p.labs.length) {
            printDiagnostics(p.diagnostics, io.err);
            return EXIT.ERRORS;
          }
          labs = p.labs;
        } else {
          const l = load(findBundle(source, io), samples, io);
          if (!l) return EXIT.ERRORS;
          labs = [l];
        }
        const root = resolve(io.cwd, dir);
        if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${dir} is not a directory`);
        const students = readdirSync(root).filter((n) => !n.startsWith('.')).sort();
        const taskCols = [...new Set(labs.flatMap((l) => l.def.tasks.map((t) => t.id)))];
        const rows: { student: string; lab: string; seed: number; tasks: Record<string, number | null>; total: number; missing: boolean; errors: string[] }[] = [];
        for (const st of students) {
          const p = join(root, st);
          const isDir = statSync(p).isDirectory();
          const paths = isDir ? listFiles(p) : /\.(ya?ml|json)$/i.test(st) ? [p] : [];
          if (!paths.length) continue;
          const name = isDir ? st : basename(st).replace(/\.(ya?ml|json)$/i, '');
          const r = readSubmissionFiles(paths, io);
          for (const l of labs) {
            const rel = r.files.map((f) => ({ ...f, file: f.file.slice(root.length + 1) }));
            const s = submissionFor(rel, l.def.id, labs.length === 1);
            const seed = s?.seed ?? seedOf(values.seed) ?? DEFAULT_SEED;
            const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line ?? 0}: ${d.message}`);
            if (!s) {
              rows.push({ student: name, lab: l.def.id, seed, tasks: {}, total: 0, missing: true, errors });
              continue;
            }
            const rep = await gradeLab(l.instance(seed), s.submission, { graders: gradersFor(l.def.id) });
            const tasks: Record<string, number | null> = {};
            for (const t of rep.tasks) tasks[t.taskId] = t.skipped ? null : Math.round(t.score * 1000) / 10;
            rows.push({ student: name, lab: l.def.id, seed, tasks, total: rep.percent, missing: false, errors });
          }
        }
        const out = resolve(io.cwd, values.report);
        if (/\.json$/i.test(values.report)) writeFileSync(out, `${JSON.stringify({ labs: labs.map((l) => l.def.id), rows }, null, 2)}\n`);
        else {
          const lines = [['student', 'lab', 'seed', ...taskCols, 'total %'].map(csvCell).join(',')];
          for (const r of rows) lines.push([r.student, r.lab, String(r.seed), ...taskCols.map((t) => (r.missing ? '' : t in r.tasks ? (r.tasks[t] === null ? 'n/a' : String(r.tasks[t])) : '')), r.missing ? 'missing' : String(r.total)].map(csvCell).join(','));
          writeFileSync(out, `${lines.join('\n')}\n`);
        }
        io.out(`graded ${rows.filter((r) => !r.missing).length} submission(s) of ${new Set(rows.map((r) => r.student)).size} student(s) for ${labs.length} lab(s) → ${values.report}\n`);
        for (const r of rows) io.out(`  ${r.student.padEnd(16)} ${r.lab.padEnd(24)} ${r.missing ? 'missing' : `${r.total}%`}${r.errors.length ? `  (${r.errors.length} file error(s))` : ''}\n`);
        return EXIT.OK;
      }
      case 'validate': {
        const { positionals } = parseVerbArgs(rest, {});
        const bundles = positionals.length ? positionals.flatMap((p) => {
          const abs = resolve(io.cwd, p);
          if (existsSync(join(abs, 'lab.yaml')) || !existsSync(abs)) return [findBundle(p, io)];
          return readLabsDir(abs);
        }) : readLabsDir();
        let errors = 0;
        for (const b of bundles) {
          const r = loadLab(b, samples, { graders: graderNames(b.id) });
          const n = r.diagnostics.filter((d) => d.severity === 'error').length;
          errors += n;
          if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.out, { summary: false });
          io.out(`${b.id}: ${r.lab ? `ok, ${r.lab.def.tasks.length} tasks` : `${n} error(s)`}\n`);
        }
        return errors ? EXIT.ERRORS : EXIT.OK;
      }
      case 'pack': {
        const { values, positionals } = parseVerbArgs(rest, { name: { type: 'string' }, author: { type: 'string' } });
        if (positionals.length < 2) throw new UsageError('give OUT.yaml|OUT.json and at least one LAB');
        const [outFile, ...refs] = positionals;
        const bundles = refs.map((r) => findBundle(r, io));
        for (const b of bundles) if (!load(b, samples, io)) return EXIT.ERRORS;
        const text = exportPack(bundles, samples, { name: typeof values.name === 'string' ? values.name : basename(outFile).replace(/\.(ya?ml|json)$/i, ''), author: typeof values.author === 'string' ? values.author : undefined, createdAt: new Date().toISOString() }, /\.json$/i.test(outFile) ? 'json' : 'yaml');
        writeFileSync(resolve(io.cwd, outFile), text);
        io.out(`wrote ${outFile}: ${bundles.length} lab(s), ${text.length} bytes\n`);
        return EXIT.OK;
      }
      case 'import': {
        const { values, positionals } = parseVerbArgs(rest, { into: { type: 'string' } });
        if (positionals.length !== 1) throw new UsageError('give one PACK file');
        let text: string;
        try {
          text = readFileSync(resolve(io.cwd, positionals[0]), 'utf8');
        } catch (e) {
          io.err(`${positionals[0]}: ${(e as Error).message}\n`);
          return EXIT.ERRORS;
        }
        const p = importPack(text, positionals[0], samples, graderNames);
        if (p.diagnostics.length) printDiagnostics(p.diagnostics, io.err);
        if (p.diagnostics.some((d) => d.severity === 'error')) return EXIT.ERRORS;
        io.out(`pack ${p.meta?.name ?? ''}: ${p.labs.map((l) => l.def.id).join(', ')} (valid)\n`);
        if (typeof values.into === 'string') {
          const into = resolve(io.cwd, values.into);
          for (const b of p.bundles) {
            const dir = join(into, b.id);
            if (existsSync(dir)) {
              io.err(`${dir} exists; not overwritten\n`);
              return EXIT.ERRORS;
            }
          }
          for (const b of p.bundles) {
            for (const [name, content] of Object.entries(b.files)) {
              if (name.split('/').some((seg) => seg === '..' || seg === '') || name.startsWith('/')) {
                io.err(`${b.id}: refusing the file name "${name}"\n`);
                return EXIT.ERRORS;
              }
              const f = join(into, b.id, name);
              mkdirSync(resolve(f, '..'), { recursive: true });
              writeFileSync(f, content);
            }
          }
          io.out(`wrote ${p.bundles.length} lab folder(s) under ${values.into}${Object.keys(p.samples).length ? `; the pack's samples (${Object.keys(p.samples).join(', ')}) are referenced by id` : ''}\n`);
        }
        return EXIT.OK;
      }
      case 'author': {
        const { values, positionals } = parseVerbArgs(rest, { start: { type: 'string' }, answer: { type: 'string' }, id: { type: 'string' }, title: { type: 'string' }, out: { type: 'string' }, level: { type: 'string' }, minutes: { type: 'string' } });
        if (positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`);
        if (typeof values.start !== 'string' || typeof values.id !== 'string' || typeof values.title !== 'string') throw new UsageError('give --start START.yaml, --id ID and --title TITLE');
        const startYaml = readFileSync(resolve(io.cwd, values.start), 'utf8');
        const answerYaml = typeof values.answer === 'string' ? readFileSync(resolve(io.cwd, values.answer), 'utf8') : undefined;
        const suggested = answerYaml ? suggestChecks(startYaml, answerYaml) : { checks: [], summary: [] };
        if (answerYaml && !suggested.checks.length) {
          io.err('the answer does not differ from the start in anything a check can see (reachability, endpoints, settings)\n');
          return EXIT.ERRORS;
        }
        const level = (values.level ?? 'intermediate') as LabLevel;
        if (!['beginner', 'intermediate', 'advanced'].includes(level)) throw new UsageError('--level beginner|intermediate|advanced');
        const r = authorAndValidate(
          {
            id: values.id,
            title: values.title,
            summary: `${values.title}.`,
            level,
            estimatedMinutes: Number(values.minutes ?? 20),
            objectives: suggested.summary.length ? suggested.summary.map((s) => `Change the cluster so that ${s.replace(/^\d+ /, '')}.`) : ['Explore the topology.'],
            startYaml,
            answerYaml,
            tasks: answerYaml
              ? [{ id: 'build', title: values.title, kind: 'build', prompt: `Change the topology into the one the instructor marked as the answer:\n\n${suggested.summary.map((s) => `- ${s}`).join('\n')}\n`, points: 100, checks: suggested.checks }]
              : [{ id: 'explore', title: 'Explore', kind: 'predict', prompt: 'How many pods does the topology hold?', points: 10, checks: [{ type: 'predict', format: 'integer', probe: { name: 'value', args: { expr: 'count(*)' } } }] }],
          },
          samples,
        );
        if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err);
        if (!r.lab) return EXIT.ERRORS;
        const out = resolve(io.cwd, typeof values.out === 'string' ? values.out : values.id);
        if (existsSync(join(out, 'lab.yaml'))) {
          io.err(`${out}/lab.yaml exists; not overwritten\n`);
          return EXIT.ERRORS;
        }
        mkdirSync(out, { recursive: true });
        for (const [name, content] of Object.entries(r.bundle.files)) writeFileSync(join(out, name), content);
        io.out(`wrote ${Object.keys(r.bundle.files).join(', ')} to ${out} (${r.lab.def.tasks[0].checks.length} check(s)); edit the prompt and points, then netlab lab check ${out} --answer\n`);
        return EXIT.OK;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'give a subcommand: list, show, check, answer, grade, validate, pack, import, author');
    }
  },
};
