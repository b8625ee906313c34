// `testbed down`: removes every namespace, process, file and rule of the
// test-bed. Works from the state file and, independently of it, by sweeping
// everything that carries the prefix (so it also cleans up after a SIGKILL
// mid-`up`, or a lost state file). Idempotent.

import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { TestbedError } from './errors';
import { isAlive, isSameProcess, procCmdline, run, sleep } from './exec';
import { ETC_NETNS, NETNS_DIR, RUN_DIR, isOurs } from './names';
import { loadState } from './state';

export interface DownReport {
  /** Processes signalled. */
  killed: number[];
  /** Namespaces deleted. */
  namespaces: string[];
  /** Files and directories removed. */
  files: string[];
  /** Anything that could not be removed (empty when down succeeded). */
  leftovers: string[];
}

/** Names of existing namespaces with our prefix. */
export async function ourNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { check: false });
  const names = r.stdout
    .split('\n')
    .map((l) => l.trim().split(' ')[0])
    .filter((n) => n && isOurs(n));
  // pinned files whose mount is gone do not show up in `ip netns list` on every version
  if (existsSync(NETNS_DIR)) for (const f of readdirSync(NETNS_DIR)) if (isOurs(f) && !names.includes(f)) names.push(f);
  return names;
}

/** Root-namespace (or any) processes that belong to the test-bed by their command line. */
export function ourProcessesByCmdline(): number[] {
  const self = new Set<number>([process.pid, process.ppid]);
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || self.has(pid)) continue;
    const argv = procCmdline(pid);
    if (!argv || argv.length === 0) continue;
    const joined = argv.join(' ');
    const ours =
      joined.includes(`${RUN_DIR}/`) ||
      /(^|\s)ip netns exec nl-/.test(joined) ||
      argv.some((a, i) => a === 'exec' && argv[i - 1] === 'netns' && isOurs(argv[i + 1] ?? ''));
    if (ours) out.push(pid);
  }
  return out;
}

async function pidsInNetns(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { check: false });
  return r.stdout
    .split('\n')
    .map((x) => Number(x.trim()))
    .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export async function testbedDown(): Promise<DownReport> {
  const report: DownReport = { killed: [], namespaces: [], files: [], leftovers: [] };
  const state = loadState();
  // 1. processes: recorded ones (checked against their start time), those inside our namespaces, and root-namespace forwards
  const victims = new Set<number>();
  for (const p of state?.processes ?? []) if (isSameProcess(p)) victims.add(p.pid);
  const namespaces = new Set<string>(await ourNamespaces());
  for (const ns of namespaces) for (const pid of await pidsInNetns(ns)) victims.add(pid);
  for (const pid of ourProcessesByCmdline()) victims.add(pid);
  for (const pid of victims) if (signal(pid, 'SIGTERM')) report.killed.push(pid);
  const deadline = Date.now() + 2000;
  while ([...victims].some((p) => isAlive(p)) && Date.now() < deadline) await sleep(50);
  for (const pid of victims) if (isAlive(pid)) signal(pid, 'SIGKILL');
  // processes started meanwhile inside our namespaces (e.g. socat children)
  for (const ns of namespaces) for (const pid of await pidsInNetns(ns)) signal(pid, 'SIGKILL');
  await sleep(victims.size ? 50 : 0);

  // 2. namespaces (this removes every veth, bridge, VXLAN device, route, iptables rule, ipset and conntrack entry in them)
  for (const ns of state?.netns ?? []) if (existsSync(`${NETNS_DIR}/${ns}`)) namespaces.add(ns);
  for (const ns of namespaces) {
    const r = await run('ip', ['netns', 'del', ns], { check: false });
    if (r.code !== 0 && existsSync(`${NETNS_DIR}/${ns}`)) {
      await run('umount', ['-l', `${NETNS_DIR}/${ns}`], { check: false });
      try {
        rmSync(`${NETNS_DIR}/${ns}`, { force: true });
      } catch {
        /* reported below */
      }
    }
    if (existsSync(`${NETNS_DIR}/${ns}`)) report.leftovers.push(`namespace ${ns}: ${r.stderr.trim()}`);
    else report.namespaces.push(ns);
  }

  // 3. files
  const files = new Set<string>(state?.files ?? []);
  if (existsSync(ETC_NETNS)) for (const f of readdirSync(ETC_NETNS)) if (isOurs(f)) files.add(`${ETC_NETNS}/${f}`);
  for (const f of files) {
    if (!existsSync(f)) continue;
    try {
      rmSync(f, { recursive: true, force: true });
      report.files.push(f);
    } catch (e) {
      report.leftovers.push(`${f}: ${(e as Error).message}`);
    }
  }
  for (const d of state?.sharedDirs ?? []) {
    try {
      rmdirSync(d);
      report.files.push(d);
    } catch {
      /* not empty (someone else uses it) or gone */
    }
  }
  if (existsSync(RUN_DIR)) {
    try {
      rmSync(RUN_DIR, { recursive: true, force: true });
      report.files.push(RUN_DIR);
    } catch (e) {
      report.leftovers.push(`${RUN_DIR}: ${(e as Error).message}`);
    }
  }

  // 4. verify
  for (const ns of await ourNamespaces()) report.leftovers.push(`namespace ${ns} still exists`);
  for (const pid of ourProcessesByCmdline()) if (isAlive(pid)) report.leftovers.push(`process ${pid} (${(procCmdline(pid) ?? []).join(' ')}) still runs`);
  return report;
}

/** Like testbedDown, but throws when something could not be removed. */
export async function testbedDownOrThrow(): Promise<DownReport> {
  const r = await testbedDown();
  if (r.leftovers.length) {
    throw new TestbedError('command-failed', `testbed down could not remove everything (${r.leftovers.length} left)`, 'run netlab testbed down again; if it persists, remove them by hand', r.leftovers.join('\n'));
  }
  return r;
}
