import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../netlab';
import type { CliIO } from '../types';

function capture(cwd = process.cwd()): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', cwd, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-lab-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('netlab lab', () => {
  it('list --json: every lab, valid', async () => {
    const io = capture();
    expect(await main(['lab', 'list', '--json'], io)).toBe(0);
    const labs = JSON.parse(io.stdout).labs as { id: string; ok: boolean; tasks: number }[];
    expect(labs.length).toBeGreaterThanOrEqual(16);
    expect(labs.every((l) => l.ok && l.tasks > 0)).toBe(true);
  });

  it('show prints the prompts; --topology the starting YAML', async () => {
    const io = capture();
    expect(await main(['lab', 'show', 'vxlan-mtu'], io)).toBe(0);
    expect(io.stdout).toMatch(/^# VXLAN encapsulation and the MTU 1450 trap\n/);
    expect(io.stdout).toMatch(/## 5\. ping -M do at the limit \(max-ping, predict, 15 points, 1 hint\)/);
    const t = capture();
    expect(await main(['lab', 'show', 'vxlan-mtu', '--topology'], t)).toBe(0);
    expect(t.stdout).toMatch(/mtu: 1500/);
  });

  it('check --answer is 100% (exit 0); --start is less and prints the debrief', async () => {
    const a = capture();
    expect(await main(['lab', 'check', 'default-deny-dns', '--answer'], a)).toBe(0);
    expect(a.stdout).toMatch(/score: 100\/100 = 100%/);
    const s = capture();
    expect(await main(['lab', 'check', 'default-deny-dns', '--start', '--json'], s)).toBe(0);
    const r = JSON.parse(s.stdout);
    expect(r.percent).toBeLessThan(100);
    expect(r.tasks[0].checks[0].message).toMatch(/is not isolated for ingress/);
  });

  it('check --submission: a LabSubmission with typed answers and commands, and a topology file', async () => {
    const sub = join(dir, 'sub.yaml');
    writeFileSync(sub, 'apiVersion: netlab.dev/v1alpha1\nkind: LabSubmission\ncommands:\n  node-1: ["ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0"]\ntasks:\n  remote-block: 10.244.2.0/24 via 10.0.1.6 dev eth0\n');
    const io = capture(dir);
    expect(await main(['lab', 'check', 'calico-bgp-routes', '--submission', 'sub.yaml'], io)).toBe(0);
    expect(io.stdout).toMatch(/✗ remote-block \[predict\] 6\/15\n {6}- predict-1: your route's destination is wrong \(40%\)\n {10}destination: yours "10\.244\.2\.0\/24", expected "10\.244\.2\.0\/26"/);
    expect(io.stdout).toMatch(/✓ restore-route \[fix\] 35\/35/);
    const exam = capture(dir);
    await main(['lab', 'check', 'calico-bgp-routes', '--submission', 'sub.yaml', '--exam'], exam);
    expect(exam.stdout).toMatch(/destination: yours "10\.244\.2\.0\/24"\n/);
    const topo = join(dir, 'topo.yaml');
    const ans = capture();
    await main(['lab', 'answer', 'vxlan-mtu'], ans);
    const t = ans.stdout.match(/topology: \|\n([\s\S]*?)\ntasks:/)![1].replace(/^ {2}/gm, '');
    writeFileSync(topo, t);
    const io2 = capture(dir);
    expect(await main(['lab', 'check', 'vxlan-mtu', '--submission', 'topo.yaml', '--json'], io2)).toBe(0);
    const r = JSON.parse(io2.stdout);
    expect(r.tasks.find((x: { taskId: string }) => x.taskId === 'switch-vxlan').score).toBe(1);
    expect(r.tasks.find((x: { taskId: string }) => x.taskId === 'pod-mtu').score).toBe(0);
  });

  it('usage errors exit 2; unreadable or broken submissions exit 1 with positions', async () => {
    expect(await main(['lab', 'check', 'vxlan-mtu'], capture())).toBe(2);
    expect(await main(['lab', 'check', 'no-such-lab', '--answer'], capture())).toBe(2);
    expect(await main(['lab', 'frobnicate'], capture())).toBe(2);
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: netlab.dev/v1alpha1\nkind: LabSubmission\ntaks: {}\n');
    const io = capture(dir);
    expect(await main(['lab', 'check', 'vxlan-mtu', '--submission', 'bad.yaml'], io)).toBe(1);
    expect(io.stderr).toMatch(/^bad\.yaml:3:7: error \[unknown-field\] LabSubmission: unknown field taks/m);
  });

  it('grade: a class directory into CSV and JSON', async () => {
    const subs = join(dir, 'class');
    mkdirSync(join(subs, 'bob', 'default-deny-dns'), { recursive: true });
    const ans = capture();
    await main(['lab', 'answer', 'default-deny-dns'], ans);
    writeFileSync(join(subs, 'alice.yaml'), ans.stdout);
    writeFileSync(join(subs, 'bob', 'default-deny-dns', 'topology.yaml'), readFileSync('labs/default-deny-dns/start.yaml', 'utf8'));
    writeFileSync(join(subs, 'notes.txt'), 'ignored');
    const io = capture(dir);
    expect(await main(['lab', 'grade', join(process.cwd(), 'labs/default-deny-dns'), 'class', '--report', 'report.csv'], io)).toBe(0);
    const csv = readFileSync(join(dir, 'report.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('student,lab,seed,default-deny,allow-frontend-backend,dns,total %');
    expect(csv[1]).toBe('alice,default-deny-dns,1,100,100,100,100');
    expect(csv[2]).toMatch(/^bob,default-deny-dns,1,0,0,66\.7,26\.7$/);
    // A pack of two labs, JSON report; bob has nothing for the second lab.
    const pack = capture(dir);
    expect(await main(['lab', 'pack', 'week.yaml', 'default-deny-dns', 'cni-add', '--name', 'week-1'], pack)).toBe(0);
    const g = capture(dir);
    expect(await main(['lab', 'grade', 'week.yaml', 'class', '--report', 'report.json'], g)).toBe(0);
    const rows = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).rows as { student: string; lab: string; total: number; missing: boolean }[];
    expect(rows.map((r) => `${r.student} ${r.lab} ${r.missing ? 'missing' : r.total}`)).toEqual(['alice default-deny-dns 100', 'alice cni-add missing', 'bob default-deny-dns 26.7', 'bob cni-add missing']);
  });

  it('pack → import --into round trip; validate finds errors with file:line:col', async () => {
    const p = capture(dir);
    expect(await main(['lab', 'pack', 'p.json', 'three-tier', 'conntrack-full'], p)).toBe(0);
    const i = capture(dir);
    expect(await main(['lab', 'import', 'p.json', '--into', 'out'], i)).toBe(0);
    expect(i.stdout).toMatch(/^pack p: three-tier, conntrack-full \(valid\)/);
    expect(readFileSync(join(dir, 'out/three-tier/lab.yaml'), 'utf8')).toBe(readFileSync('labs/three-tier/lab.yaml', 'utf8'));
    expect(existsSync(join(dir, 'out/conntrack-full/grader.ts'))).toBe(false);
    expect(await main(['lab', 'import', 'p.json', '--into', 'out'], capture(dir))).toBe(1);
    writeFileSync(join(dir, 'out/three-tier/lab.yaml'), readFileSync('labs/three-tier/lab.yaml', 'utf8').replace('level: intermediate', 'level: expert'));
    const v = capture(dir);
    expect(await main(['lab', 'validate', 'out/three-tier'], v)).toBe(1);
    expect(v.stdout).toMatch(/^three-tier\/lab\.yaml:\d+:8: error \[invalid-value\] lab: level: .*"beginner"/m);
    const all = capture();
    expect(await main(['lab', 'validate'], all)).toBe(0);
  });

  it('author: a lab from a start and an answer topology, that checks itself', async () => {
    writeFileSync(join(dir, 'answer.yaml'), `${readFileSync('labs/default-deny-dns/start.yaml', 'utf8')}\n---\n${readFileSync('labs/default-deny-dns/answer-policies.yaml', 'utf8')}`);
    const io = capture(dir);
    expect(await main(['lab', 'author', '--start', join(process.cwd(), 'labs/default-deny-dns/start.yaml'), '--answer', 'answer.yaml', '--id', 'my-lab', '--title', 'Lock down the shop'], io)).toBe(0);
    expect(io.stdout).toMatch(/wrote lab\.yaml, start\.yaml, answer\.yaml to .*my-lab \(2 check\(s\)\)/);
    const c = capture(dir);
    expect(await main(['lab', 'check', 'my-lab', '--answer'], c)).toBe(0);
    expect(c.stdout).toMatch(/score: 100\/100 = 100%/);
    const s = capture(dir);
    await main(['lab', 'check', 'my-lab', '--start'], s);
    expect(s.stdout).toMatch(/score: 33\.33\/100 = 33\.3%/);
  });
});
