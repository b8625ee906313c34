// netlab compare: usage errors, the docker path without a daemon, and the
// SSH path against a real local sshd — first contact stops with the
// fingerprint and runs nothing, an accepted key runs the checks (the root
// namespace is not node-1, so differences and exit 1), a changed key is
// refused.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeReport } from '../../core/compare';
import { startSshd, type Sshd } from '../../electron/host/remote/sshd-fixture';
import { main } from '../netlab';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SEED = 'resources/samples/seed.yaml';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), cwd: root });
  return { code, out, err };
}

describe('netlab compare: usage', () => {
  it.each([
    [['compare', SEED, '--node', 'node-1'], /--via is required/],
    [['compare', '--via', 'testbed', '--node', 'node-1'], /give the topology file/],
    [['compare', SEED, '--via', 'ftp://x', '--node', 'node-1'], /not a node address/],
    [['compare', SEED, '--via', 'testbed', '--node', 'node-1', '--check', 'routes,bogus'], /--check bogus: unknown check/],
    [['compare', SEED, '--via', 'ssh://root@10.0.1.5', '--node', 'all'], /--node all works with --via testbed only/],
    [['compare', SEED, '--via', 'testbed', '--node', 'node-9'], /no node node-9/],
    [['compare', SEED, '--via', 'ssh://root@10.0.1.5', '--node', 'node-1', '--accept-host-key=MD5:aa'], /expected SHA256/],
    [['compare', SEED, '--via', 'testbed', '--node', 'node-1', '--policy-pairs', 'some'], /--policy-pairs node\|all/],
  ])('%j → exit 2', async (argv, msg) => {
    const r = await run(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg as RegExp);
  });

  it('help lists the checks and the --via forms', async () => {
    const r = await run('help', 'compare');
    expect(r.code).toBe(0);
    for (const c of ['routes', 'iptables', 'conntrack', 'tcpdump', 'dns', 'policy', 'cni', 'ssh://', 'docker://', '--accept-host-key', '--yes-modify']) expect(r.out).toContain(c);
  });
});

describe('netlab compare: docker:// without a daemon', () => {
  let dir: string;
  const path = process.env.PATH;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlab-cli-docker-'));
    const fake = join(dir, 'docker');
    writeFileSync(fake, '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    process.env.PATH = `${dir}:${path}`;
  });
  afterAll(() => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  });

  it('every check says the daemon is not reachable, exit 1', async () => {
    const r = await run('compare', SEED, '--node', 'node-1', '--via', 'docker://kind-worker', '--check', 'routes,iptables', '--json');
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out) as NodeReport;
    expect(rep.via).toBe('docker://kind-worker');
    expect(rep.checks.map((c) => c.status)).toEqual(['different', 'different']);
    for (const c of rep.checks) expect(c.items[0].explanation).toMatch(/Docker daemon is not reachable/);
  });
});

describe('netlab compare: ssh:// host keys (real sshd)', () => {
  let sshd: Sshd;
  let dir: string;
  let kh: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'netlab-cli-ssh-'));
    kh = join(dir, 'known_hosts');
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const via = () => `ssh://${sshd.user}@127.0.0.1:${sshd.port}`;

  it('first contact: shows the fingerprint, runs nothing, writes nothing, exit 1', async () => {
    const r = await run('compare', SEED, '--node', 'node-1', '--via', via(), '--identity', sshd.clientKey, '--known-hosts', kh);
    expect(r.code).toBe(1);
    expect(r.err).toContain(sshd.hostFingerprint);
    expect(r.err).toContain(`--accept-host-key=${sshd.hostFingerprint}`);
    expect(r.out).toBe('');
    expect(existsSync(kh)).toBe(false);
  });

  it('accepted: runs the read-only checks over SSH and reports the differences (this host is not node-1), exit 1', async () => {
    const r = await run('compare', SEED, '--node', 'node-1', '--via', via(), '--identity', sshd.clientKey, '--known-hosts', kh, `--accept-host-key=${sshd.hostFingerprint}`, '--check', 'routes,iptables', '--json');
    expect(r.err).toContain(`Permanently added [127.0.0.1]:${sshd.port}`);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out) as NodeReport;
    expect(rep.node).toBe('node-1');
    expect(rep.via).toBe(via());
    expect(rep.checks.map((c) => c.check)).toEqual(['routes', 'iptables']);
    // the model's node-1 routes (10.244.x pod blocks via the peers) are not on this host
    expect(rep.checks[0].items.some((i) => i.kind === 'missing' && i.model === '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird')).toBe(true);
    expect(readFileSync(kh, 'utf8').startsWith('|1|')).toBe(true);
  });

  it('a changed host key is refused with both fingerprints, even with --accept-host-key', async () => {
    const old = sshd.hostFingerprint;
    await sshd.rotateHostKey();
    const r = await run('compare', SEED, '--node', 'node-1', '--via', via(), '--identity', sshd.clientKey, '--known-hosts', kh, '--accept-host-key', '--check', 'routes');
    expect(r.code).toBe(1);
    expect(r.err).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(r.err).toContain(old);
    expect(r.err).toContain(sshd.hostFingerprint);
    expect(r.out).toBe('');
  });
});
