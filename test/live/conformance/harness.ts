// Shared machinery of the conformance suites: network namespaces named
// `nlconf-<pid>-<tag>` (created here, always deleted in afterAll, also when a
// test fails; leftovers of crashed runs are swept at start), commands run
// inside them, and the requirement check that skips a suite outside CI but
// FAILS it in CI (`CI` set) when not root or a tool is missing.
//
// Safety: nothing here touches the root namespace's routes, addresses or
// rules; every device, address and rule lives inside an nlconf- namespace.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { loadTopology } from '../../../core/model';
import type { Topology } from '../../../core/model/types';

export const PREFIX = 'nlconf-';
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const NETNS_DIR = '/var/run/netns';
const ETC_NETNS = '/etc/netns';

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a tool (file path or name looked up in the usual sbin/bin dirs), or undefined. */
export function findTool(tool: string): string | undefined {
  if (tool.startsWith('/')) return existsSync(tool) ? tool : undefined;
  for (const d of PATH_DIRS) if (existsSync(join(d, tool))) return join(d, tool);
  return undefined;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why a suite cannot run here (not root, missing tools), or undefined when it can. */
export function missingRequirements(tools: string[]): string | undefined {
  const why: string[] = [];
  if (process.platform !== 'linux') why.push('not Linux');
  if (!isRoot) why.push('not root (network namespaces need root)');
  const missing = tools.filter((t) => !findTool(t));
  if (missing.length) why.push(`missing tools: ${missing.join(', ')}`);
  return why.length ? why.join('; ') : undefined;
}

/**
 * A describe block that runs only where its requirements are met. Outside CI
 * an unmet requirement skips it (the reason is in the suite name); with `CI`
 * set it becomes one failing test naming what is missing.
 */
export function liveDescribe(name: string, tools: string[], body: () => void): void {
  const why = missingRequirements(tools);
  if (!why) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('has its requirements (root and the real tools)', () => {
        throw new Error(`conformance suite "${name}" cannot run: ${why}. Run the suite as root on Linux with iproute2, iptables, ipset, conntrack-tools, dnsmasq, socat and containernetworking-plugins installed.`);
      });
    });
    return;
  }
  describe.skip(`${name} [skipped: ${why}]`, body);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids living in a namespace (`ip netns pids`). */
function netnsPids(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** Kills the processes left inside a namespace, one by one by their id, then deletes it and its /etc/netns dir. */
function removeNamespace(ns: string): void {
  for (const pid of netnsPids(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not there
  }
  rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
}

/**
 * Removes `nlconf-<pid>-…` namespaces (and their /etc/netns dirs) whose
 * creating process is gone: what a crashed or killed earlier run left behind.
 * Namespaces of live runs (other test files running in parallel) are kept.
 */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  const names = new Set<string>();
  if (existsSync(NETNS_DIR)) for (const n of readdirSync(NETNS_DIR)) if (n.startsWith(PREFIX)) names.add(n);
  if (existsSync(ETC_NETNS)) for (const n of readdirSync(ETC_NETNS)) if (n.startsWith(PREFIX)) names.add(n);
  for (const n of names) {
    const m = /^nlconf-(\d+)-/.exec(n);
    const owner = m ? Number(m[1]) : NaN;
    // Keep our own and those of live runs (other conformance files run in parallel workers).
    if (owner === process.pid || (Number.isInteger(owner) && pidAlive(owner))) continue;
    removeNamespace(n);
    removed.push(n);
  }
  // host-local IPAM data dirs of dead runs (cni-plugins.test.ts).
  for (const n of readdirSync(tmpdir())) {
    const m = /^nlconf-(\d+)-/.exec(n);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), n), { recursive: true, force: true });
    removed.push(join(tmpdir(), n));
  }
  return removed;
}

export interface RunOptions {
  input?: string;
  /** Return stdout even when the command fails (the caller checks). */
  allowFail?: boolean;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly stderr: string,
    readonly status: number | null,
  ) {
    super(`command failed (${status}): ${argv.join(' ')}\n${stderr}`);
    this.name = 'CommandError';
  }
}

/** Runs a command (no shell), returns stdout; a failure throws CommandError with stderr. */
export function run(argv: string[], opts: RunOptions = {}): string {
  try {
    return execFileSync(argv[0], argv.slice(1), {
      encoding: 'utf8',
      input: opts.input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 20_000,
      env: opts.env ?? { ...process.env, LC_ALL: 'C' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number | null };
    if (opts.allowFail) return err.stdout ?? '';
    throw new CommandError(argv, String(err.stderr ?? ''), err.status ?? null);
  }
}

/** Runs a command (no shell) and returns stdout, stderr and the exit status, whatever it is. */
export function runFull(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 20_000, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/** A network namespace owned by this process; `exec` runs commands inside it. */
export class Netns {
  private procs: ChildProcess[] = [];
  private constructor(readonly name: string) {}

  static create(tag: string): Netns {
    const name = `${PREFIX}${process.pid}-${tag}`;
    if (!/^nlconf-\d+-[a-z0-9-]+$/.test(name)) throw new Error(`bad namespace tag ${tag}`);
    removeNamespace(name);
    run(['ip', 'netns', 'add', name]);
    const ns = new Netns(name);
    NAMESPACES.add(ns);
    return ns;
  }

  exec(argv: string[], opts: RunOptions = {}): string {
    return run(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }

  /** stdout, stderr and status of a command inside the namespace (no throw). */
  execFull(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): { stdout: string; stderr: string; status: number | null } {
    return runFull(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }

  /** Several `ip …` commands in one process (`ip -batch -`), failing on the first error. */
  ipBatch(lines: string[]): void {
    if (lines.length) this.exec(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }

  /** A long-running process inside the namespace (killed by its pid in destroy()). */
  spawn(argv: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    this.procs.push(p);
    return p;
  }

  /** /etc/netns/<name>/<file>: bind-mounted over /etc/<file> by `ip netns exec`. */
  writeEtc(file: string, text: string): void {
    const dir = join(ETC_NETNS, this.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), text);
  }

  destroy(): void {
    for (const p of this.procs) {
      if (p.pid !== undefined && p.exitCode === null) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
    this.procs = [];
    removeNamespace(this.name);
    NAMESPACES.delete(this);
  }
}

const NAMESPACES = new Set<Netns>();

/** `net.ipv4.conf.vxlan.calico.rp_filter` → `net/ipv4/conf/vxlan.calico/rp_filter` (interface names may hold dots). */
export function sysctlPath(key: string): string {
  const m = /^(net\.ipv[46]\.(?:conf|neigh))\.(.+)\.([^.]+)$/.exec(key);
  const rel = m ? `${m[1].replace(/\./g, '/')}/${m[2]}/${m[3]}` : key.replace(/\./g, '/');
  return `/proc/sys/${rel}`;
}

/** Writes sysctls from inside the namespace (its /proc/sys/net is the namespace's); no procps needed. */
export function writeSysctls(ns: Netns, values: Record<string, string>): void {
  const args = Object.entries(values).flatMap(([k, v]) => [sysctlPath(k), v]);
  if (!args.length) return;
  ns.exec(['sh', '-c', 'while [ $# -gt 1 ]; do printf "%s\n" "$2" > "$1" || exit 1; shift 2; done', 'sh', ...args]);
}

/** Reads sysctls from inside the namespace, in the order given. */
export function readSysctls(ns: Netns, keys: string[]): string[] {
  if (!keys.length) return [];
  return ns.exec(['sh', '-c', 'for f; do cat "$f" || exit 1; done', 'sh', ...keys.map(sysctlPath)]).split('\n').slice(0, keys.length);
}

/** Deletes every namespace this process created (afterAll; also safe to call twice). */
export function destroyAll(): void {
  for (const ns of [...NAMESPACES]) ns.destroy();
}

process.once('exit', () => {
  // Last resort if afterAll never ran (worker torn down): synchronous and idempotent.
  for (const ns of [...NAMESPACES]) {
    try {
      ns.destroy();
    } catch {
      // best effort at exit
    }
  }
});

/** Loads a topology file of the repository (errors fail loudly with the diagnostics). */
export function loadRepoTopology(rel: string, set: string[] = []): Topology {
  const text = readFileSync(join(REPO, rel), 'utf8');
  const r = loadTopology({ file: rel, text }, { set });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.topology || errors.length) throw new Error(`${rel} did not load: ${errors.map((d) => d.message).join('; ')}`);
  return r.topology;
}

/** Waits until `pred` holds (polling), or throws naming `what`. */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The iptables variant behind `iptables` (iptables -V: `iptables v1.8.9 (nf_tables)` or `(legacy)`). */
export function iptablesVariant(): { version: string; variant: 'nft' | 'legacy' } {
  const v = run(['iptables', '-V']).trim();
  const m = /v([\d.]+)(?:\s+\((\w+)\))?/.exec(v);
  return { version: m?.[1] ?? '?', variant: m?.[2] === 'nf_tables' ? 'nft' : 'legacy' };
}
