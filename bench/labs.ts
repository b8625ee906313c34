// Grading a class: how long one submission takes to grade, per lab, next to
// the baseline of loading the submission's topology alone (loadTopology of
// the same YAML, which every grade has to do). Each submission is a fresh
// copy of the lab's answer (so no cache is shared between students).
// Run: npx tsx bench/labs.ts [--students 30] [--labs three-tier,troubleshoot-random,...]

import os from 'node:os';
import { gradeLab, type LabInstance, type Submission } from '../core/labs';
import { loadTopology } from '../core/model';
import { loadLibrary } from '../electron/host/labs/library';
import { gradersFor } from '../labs/graders';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

const STUDENTS = Number(arg('students', '30'));
const LABS = arg('labs', 'default-deny-dns,three-tier,multi-tenancy,service-lb-conntrack,vxlan-mtu,troubleshoot-random,conntrack-full').split(',');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function copy(sub: Submission, i: number): Submission {
  // A distinct object graph and text per student, as parsed from their file.
  return JSON.parse(JSON.stringify({ ...sub, topology: sub.topology?.map((t) => ({ file: `student-${i}.yaml`, text: `# student ${i}\n${t.text}` })) })) as Submission;
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, node ${process.version}`);
  const t0 = performance.now();
  const lib = loadLibrary();
  console.log(`loading ${lib.length} labs (validate + instantiate): ${(performance.now() - t0).toFixed(0)} ms`);
  console.log(`${STUDENTS} students per lab; per submission, median:`);
  console.log(`${'lab'.padEnd(24)} ${'grade'.padStart(10)} ${'load only'.padStart(10)} ${'ratio'.padStart(7)} ${'class'.padStart(10)}`);
  for (const id of LABS) {
    const lab = lib.find((e) => e.bundle.id === id)?.lab;
    if (!lab) throw new Error(`no lab ${id}`);
    const inst: LabInstance = lab.instance(1);
    const grade: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < STUDENTS; i++) {
      const sub = copy(inst.answer, i);
      let t = performance.now();
      const r = await gradeLab(inst, sub, { graders: gradersFor(id) });
      grade.push(performance.now() - t);
      if (r.percent !== 100) throw new Error(`${id}: the answer scored ${r.percent}%`);
      t = performance.now();
      loadTopology(sub.topology ?? []);
      baseline.push(performance.now() - t);
    }
    const g = median(grade);
    const b = median(baseline);
    console.log(`${id.padEnd(24)} ${`${g.toFixed(1)} ms`.padStart(10)} ${`${b.toFixed(1)} ms`.padStart(10)} ${`${(g / b).toFixed(1)}x`.padStart(7)} ${`${(grade.reduce((a, x) => a + x, 0) / 1000).toFixed(2)} s`.padStart(10)}`);
  }
}

await main();
