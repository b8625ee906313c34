// Benchmark: one session save (SessionDb.apply — a transaction that writes the
// changed fields, the undo log entry with its inverse, and fsyncs, WAL +
// synchronous=FULL) against baselines measured in the same process on the
// same disk:
//   - a bare UPDATE of the same state row, WAL + synchronous=FULL (the cost of
//     the change log: inverse computation, insert, prune);
//   - a bare UPDATE, WAL + synchronous=NORMAL (the cost of the per-commit fsync).
// Two patch sizes: a notes edit (~40 B) and a 2000-pod canvas move (~100 kB).
//
//   npx tsx bench/store.ts [iterations]

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { SessionPatch } from '../core/api';
import { SessionDb, emptySessionState } from '../electron/host/store';

const iterations = Number(process.argv[2] ?? 300);
const dir = mkdtempSync(join(os.tmpdir(), 'netlab-bench-store-'));

function positions(i: number, n: number): SessionPatch['positions'] {
  const p: Record<string, { x: number; y: number }> = {};
  for (let k = 0; k < n; k++) p[`pod/ns/pod-${k}`] = { x: i + k * 0.5, y: k };
  return p;
}

function timeIt(fn: (i: number) => void): { perOpUs: number; p50Us: number; p99Us: number } {
  for (let i = 0; i < 10; i++) fn(-1 - i); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    perOpUs: samples.reduce((a, b) => a + b, 0) / samples.length,
    p50Us: samples[Math.floor(samples.length * 0.5)],
    p99Us: samples[Math.floor(samples.length * 0.99)],
  };
}

function bareUpdate(sync: 'FULL' | 'NORMAL', value: (i: number) => string) {
  const db = new Database(join(dir, `bare-${sync}-${Math.random()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec('CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
  db.prepare("INSERT INTO state VALUES ('k', '')").run();
  const upd = db.prepare("UPDATE state SET value = ? WHERE key = 'k'");
  const r = timeIt((i) => db.transaction(() => upd.run(value(i))).immediate());
  db.close();
  return r;
}

const fmt = (r: { perOpUs: number; p50Us: number; p99Us: number }) => `${(r.perOpUs / 1000).toFixed(3)} ms/op (p50 ${(r.p50Us / 1000).toFixed(3)}, p99 ${(r.p99Us / 1000).toFixed(3)})`;

console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, node ${process.version}, ${os.platform()} ${os.release()}`);
console.log(`temp dir: ${dir} · ${iterations} saves per figure\n`);

for (const [label, make] of [
  ['notes edit', (i: number): SessionPatch => ({ notes: `note ${i}` })],
  ['move 2000 pods', (i: number): SessionPatch => ({ positions: positions(i, 2000) })],
] as const) {
  const size = JSON.stringify(make(0)).length;
  const session = SessionDb.create(join(dir, `${label.replace(/\W/g, '')}.netlab`), { name: 'bench', state: emptySessionState(), appVersion: 'bench' });
  const ours = timeIt((i) => session.apply(make(i), label));
  session.close();
  const full = bareUpdate('FULL', (i) => JSON.stringify(make(i)));
  const normal = bareUpdate('NORMAL', (i) => JSON.stringify(make(i)));
  console.log(`${label} (${size} B of JSON per patch)`);
  console.log(`  SessionDb.apply (WAL, FULL, undo log) ${fmt(ours)}`);
  console.log(`  baseline: bare UPDATE, WAL, FULL      ${fmt(full)}  → undo log costs ${(ours.perOpUs / full.perOpUs).toFixed(2)}×`);
  console.log(`  baseline: bare UPDATE, WAL, NORMAL    ${fmt(normal)}  → fsync per commit costs ${(full.perOpUs / normal.perOpUs).toFixed(2)}×\n`);
}

rmSync(dir, { recursive: true, force: true });
