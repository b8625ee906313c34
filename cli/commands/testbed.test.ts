import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../netlab';
import type { CliIO } from '../types';
import { formatStatus } from './testbed';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), cwd: root };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('netlab testbed (arguments; the live suite builds the real thing)', () => {
  it('shows its usage and rejects bad subcommands with exit code 2', async () => {
    expect((await run('help', 'testbed')).out).toMatch(/^usage: netlab testbed up/);
    const none = await run('testbed');
    expect(none.code).toBe(2);
    expect(none.err).toContain('give a subcommand: up, down, status or exec');
    expect((await run('testbed', 'sideways')).err).toContain('unknown subcommand "sideways"');
    const ex = await run('testbed', 'exec', 'node-1');
    expect(ex.code).toBe(2);
    expect(ex.err).toContain('exec needs a target and a command');
    expect((await run('testbed', 'up', '--ssh-port', '80')).err).toContain('--ssh-port takes a port number between 1024 and 64999');
    expect((await run('testbed', 'status', 'extra')).code).toBe(2);
  });

  it('stops on topology errors before touching anything', async () => {
    const r = await run('testbed', 'up', 'no-such-file.yaml');
    expect(r.code).toBe(1);
    expect(r.err).toContain('no-such-file.yaml: no such file');
  });

  it('formats the status: nodes with SSH endpoints and host keys, pods, processes', () => {
    const text = formatStatus({
      up: true,
      phase: 'up',
      topology: 'seed',
      mode: 'calico-bgp',
      createdAt: '2026-01-01T00:00:00.000Z',
      nodes: [{ name: 'node-1', ip: '10.0.1.5', netns: 'nl-n-node-1', present: true, ssh: '127.0.0.1:22201', hostKeyFingerprint: 'SHA256:abc' }],
      pods: [{ pod: 'default/pod-a', node: 'node-1', ip: '10.244.1.5', netns: 'nl-p-default-pod-a', present: false, servers: [] }],
      processes: [
        { name: 'bird node-1', pid: 1, running: true },
        { name: 'sshd node-1', pid: 2, running: false },
      ],
      clientKey: '/run/netlab/ssh/client_ed25519',
      differences: [],
      warnings: ['the topology is dual-stack or IPv6: the test-bed builds its IPv4 part only'],
    });
    expect(text).toContain('test-bed: up — topology seed, calico-bgp');
    expect(text).toMatch(/node-1 +10\.0\.1\.5 +nl-n-node-1 +127\.0\.0\.1:22201 +SHA256:abc/);
    expect(text).toContain('nl-p-default-pod-a (missing)');
    expect(text).toContain('processes: 1 of 2 running (stopped: sshd node-1)');
    expect(text).toContain('ssh -i /run/netlab/ssh/client_ed25519 -p 22201 root@127.0.0.1');
    expect(text).toContain('warning: the topology is dual-stack or IPv6');
    expect(formatStatus({ up: false, nodes: [], pods: [], processes: [], differences: [], warnings: [] })).toBe('test-bed: down (nothing built)\n');
    // dual-stack: both addresses in the IP column
    const dual = formatStatus({
      up: true,
      phase: 'up',
      topology: 'dual-stack',
      mode: 'calico-vxlan',
      nodes: [{ name: 'node-1', ip: '10.0.1.5', ip6: 'fd00:10::1:5', netns: 'nl-n-node-1', present: true }],
      pods: [{ pod: 'default/web', node: 'node-1', ip: '10.244.1.2', ip6: 'fd00:10:244:1::2', netns: 'nl-p-default-web', present: true, servers: [] }],
      processes: [],
      differences: [],
      warnings: [],
    });
    expect(dual).toMatch(/node-1 +10\.0\.1\.5 fd00:10::1:5 +nl-n-node-1/);
    expect(dual).toMatch(/default\/web +node-1 +10\.244\.1\.2 fd00:10:244:1::2 +nl-p-default-web/);
  });
});
