import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from './netlab';
import { commands } from './commands';
import { formatDiagnostic } from './load';
import type { CliIO } from './types';

const root = fileURLToPath(new URL('..', import.meta.url));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), cwd: root, readStdin: async () => 'apiVersion: v1\nkind: Pod\nmetadata: { name: x }\nspec: {}\n' };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('netlab framework', () => {
  it('lists verbs with `help`, shows a verb usage with `help <verb>` and --help', async () => {
    const h = await run('help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('usage: netlab <verb>');
    for (const c of commands) expect(h.out).toContain(`  ${c.name}`);
    const v = await run('help', 'validate');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^usage: netlab validate/);
    expect((await run('ipam', '--help')).out).toMatch(/^usage: netlab ipam/);
  });

  it('exit code 2 for usage errors', async () => {
    expect((await run()).code).toBe(2);
    const u = await run('frobnicate');
    expect(u.code).toBe(2);
    expect(u.err).toContain('unknown verb "frobnicate"');
    const n = await run('validate');
    expect(n.code).toBe(2);
    expect(n.err).toContain('netlab validate: give at least one FILE');
    const o = await run('validate', '--bogus', 'x.yaml');
    expect(o.code).toBe(2);
    expect(o.err).toContain("Unknown option '--bogus'");
    expect((await run('validate', 'x.yaml', '--set')).code).toBe(2);
  });

  it('every verb has a name, summary and usage', () => {
    const names = new Set<string>();
    for (const c of commands) {
      expect(c.name).toMatch(/^[a-z][a-z-]*$/);
      expect(names.has(c.name)).toBe(false);
      names.add(c.name);
      expect(c.summary.length).toBeGreaterThan(10);
      expect(c.usage).toMatch(new RegExp(`^usage: netlab ${c.name}`));
    }
  });
});

describe('netlab validate', () => {
  it('exit 0 and a summary for the seed', async () => {
    const r = await run('validate', 'resources/samples/seed.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toBe('0 errors, 0 warnings\ntopology seed: 3 nodes, 2 namespaces, 6 pods, 3 services, 3 endpoint slices, 0 network policies, 0 other objects\n');
  });

  it('prints file:line:col: severity [code] message (path) and hints; exit 1 on errors', async () => {
    const r = await run('validate', 'core/model/testdata/bad-addresses.yaml');
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines).toContain('core/model/testdata/bad-addresses.yaml:21:10: error [ip-outside-cidr] pod default/a: address 10.1.2.3 is outside the cluster CIDR 10.244.0.0/16 (status.podIP)');
    expect(lines).toContain('  hint: Known nodes: node-1, node-2.');
    expect(lines.at(-2)).toBe('7 errors, 4 warnings');
  });

  it('loads several files as one topology', async () => {
    const r = await run('validate', '--json', 'resources/samples/seed.yaml', 'core/model/testdata/bad-networkpolicy.yaml');
    const j = JSON.parse(r.out);
    expect(j.files).toEqual(['resources/samples/seed.yaml', 'core/model/testdata/bad-networkpolicy.yaml']);
    expect(j.ok).toBe(false);
    expect(j.errors).toBe(16);
    expect(j.diagnostics.some((d: { code: string }) => d.code === 'no-nodes')).toBe(false); // the seed brings nodes
  });

  it('applies --set (both spellings) and reports unknown keys', async () => {
    const ok = await run('validate', '--set', 'nodeCIDR=172.18.0.0/16', '--set=cni=flannel-host-gw', 'core/model/testdata/kubectl-kind.yaml');
    expect(ok.code).toBe(0);
    const bad = await run('validate', 'resources/samples/seed.yaml', '--set', 'cnii=x');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('--set: error [set-unknown-key] --set: unknown key "cnii" (cnii)');
    expect(bad.out).toContain('  hint: Valid keys: name, cni,');
  });

  it('reports missing files and reads standard input for "-"', async () => {
    const m = await run('validate', 'nope.yaml');
    expect(m.code).toBe(1);
    expect(m.out).toContain('nope.yaml: error [file-unreadable] nope.yaml: no such file');
    const s = await run('validate', '-');
    expect(s.code).toBe(1);
    expect(s.out).toContain('<stdin>:4:7: error [missing-field] Pod default/x: required field spec.containers is missing (spec.containers)');
  });
});

describe('netlab ipam', () => {
  it('prints nodes, pods per node and services for the seed', async () => {
    const r = await run('ipam', 'resources/samples/seed.yaml');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('cluster seed: cni calico-bgp, cluster CIDR 10.244.0.0/16, service CIDR 10.96.0.0/12, node CIDR 10.0.0.0/16');
    expect(r.out).toContain('NODE     INTERNAL-IP   POD-CIDR        BLOCKS          CNI-ADDRESS\nnode-1   10.0.1.5      10.244.1.0/24   10.244.1.0/26   <none>\n');
    expect(r.out).toMatch(/node-1 +default +pod-a +10\.244\.1\.5\n/);
    expect(r.out).toMatch(/node-3 +default +backend-2 +10\.244\.3\.9\n/);
    expect(r.out).toMatch(/default +backend +ClusterIP +10\.96\.5\.20 +80\/TCP\n/);
    expect(r.out).toMatch(/kube-system +kube-dns +ClusterIP +10\.96\.0\.10 +53\/UDP,53\/TCP,9153\/TCP\n/);
  });

  it('--json, with the CNI addresses of the nodes', async () => {
    const r = await run('ipam', '--json', '--set', 'cni=calico-vxlan', 'resources/samples/seed.yaml');
    const j = JSON.parse(r.out);
    expect(j.cluster.cni).toBe('calico-vxlan');
    expect(j.nodes[0]).toEqual({ name: 'node-1', ips: ['10.0.1.5'], podCIDRs: ['10.244.1.0/24'], blocks: ['10.244.1.0/26'], reserved: [{ role: 'tunnel', device: 'vxlan.calico', ip: '10.244.1.0', family: 4 }] });
    expect(j.pods.find((p: { name: string }) => p.name === 'pod-a').ips).toEqual(['10.244.1.5']);
    expect(j.services.map((s: { name: string; clusterIPs: string[] }) => `${s.name}=${s.clusterIPs}`)).toEqual(['kubernetes=10.96.0.1', 'backend=10.96.5.20', 'kube-dns=10.96.0.10']);
    expect(j.notes.firstNodeCIDRIndex).toContain('starts at index 0');
    expect(j.diagnostics).toEqual([]);
  });

  it('diagnostics go to stderr, exit 1', async () => {
    const r = await run('ipam', 'core/model/testdata/bad-exhausted.yaml');
    expect(r.code).toBe(1);
    expect(r.err).toContain('[cidr-exhausted]');
    expect(r.out).toContain('NODE');
  });
});

describe('formatDiagnostic', () => {
  it('falls back when there is no position', () => {
    expect(formatDiagnostic({ severity: 'warning', code: 'no-cluster-dns', message: 'm' })).toBe('<topology>: warning [no-cluster-dns] m');
    expect(formatDiagnostic({ severity: 'error', code: 'x', message: 'm', file: 'f.yaml' })).toBe('f.yaml: error [x] m');
  });
});

describe('bin/netlab.mjs', () => {
  it('runs through tsx and returns the exit code', async () => {
    const exec = promisify(execFile);
    const r = await exec(process.execPath, ['bin/netlab.mjs', 'validate', 'resources/samples/seed.yaml'], { cwd: root });
    expect(r.stdout).toContain('0 errors, 0 warnings');
    await expect(exec(process.execPath, ['bin/netlab.mjs', 'validate', 'core/model/testdata/bad-manifests.yaml'], { cwd: root })).rejects.toMatchObject({ code: 1 });
    await expect(exec(process.execPath, ['bin/netlab.mjs', 'nope'], { cwd: root })).rejects.toMatchObject({ code: 2 });
  });
});

describe('bin/netlab.mjs as a process', () => {
  it('stops quietly with its exit code when the reader of its output goes away (netlab … | head)', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { generateCluster } = await import('../core/trace/testing');
    const dir = mkdtempSync(join(tmpdir(), 'netlab-epipe-'));
    try {
      const file = join(dir, 'big.yaml');
      writeFileSync(file, generateCluster({ nodes: 20, pods: 2000, services: 500, cni: 'calico-vxlan' }));
      const child = spawn(process.execPath, [join(root, 'bin/netlab.mjs'), 'ipam', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      // Read the first chunk, then close the pipe like `head -1` does.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(err).not.toMatch(/EPIPE|Unhandled|at .*\.ts/);
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
