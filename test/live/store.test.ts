// A SIGKILL during a save loses at most the change being saved: a real child
// process writes changes in a loop and is killed with SIGKILL at random
// moments; every reopen must find an intact database whose state matches its
// change log and holds every change the child reported as saved.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionDb } from '../../electron/host/store';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'netlab-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the writer until it has reported `after` more saves, then SIGKILL it. Returns the last reported number. */
function runAndKill(path: string, after: number): Promise<{ lastReported: number; reported: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'store-writer.ts'), path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let last = -1;
    let count = 0;
    let killed = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (!l) continue;
        last = Number(l);
        count++;
      }
      if (!killed && count >= after) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (!killed) return rejectRun(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      resolveRun({ lastReported: last, reported: count, signal });
    });
  });
}

describe('sessions store under SIGKILL', () => {
  it('keeps every acknowledged change and an intact, consistent database across 8 kills', async () => {
    const path = join(dir, 'crash.netlab');
    let previous = 0;
    for (let round = 0; round < 8; round++) {
      const after = 5 + Math.floor(Math.random() * 40);
      const run = await runAndKill(path, after);
      expect(run.signal).toBe('SIGKILL');

      // SQLite's own check, on a plain connection (this also replays the WAL).
      const raw = new Database(path);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      const head = raw.prepare('SELECT seq, forward FROM changes WHERE undone = 0 ORDER BY seq DESC LIMIT 1').get() as { seq: number; forward: string };
      const stateNotes = JSON.parse((raw.prepare("SELECT value FROM state WHERE key = 'notes'").get() as { value: string }).value) as string;
      raw.close();

      const s = SessionDb.open(path);
      expect(s.readOnly).toBe(false);
      const saved = Number(/^change (\d+)$/.exec(s.state().notes)?.[1]);
      // Every change the writer reported survived; at most the one in flight is lost
      // (or it committed just before the kill and was not reported yet).
      expect(saved === run.lastReported || saved === run.lastReported + 1).toBe(true);
      expect(saved).toBeGreaterThanOrEqual(previous + run.reported);
      // The state and the change log agree.
      expect(stateNotes).toBe(`change ${saved}`);
      expect((JSON.parse(head.forward) as { notes: string }).notes).toBe(`change ${saved}`);
      const positions = s.state().positions;
      expect(Object.keys(positions)).toHaveLength(2000);
      expect(positions['pod/ns/pod-1999']).toEqual({ x: saved, y: 1999 });
      // And the change before it can still be undone to.
      if (saved > 1) expect(s.undo().state.notes).toBe(`change ${saved - 1}`);
      if (saved > 1) expect(s.redo().state.notes).toBe(`change ${saved}`);
      s.close();
      previous = saved;
    }
  }, 120_000);
});
