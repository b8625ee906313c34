// docker exec for kind nodes: command construction, and the errors when the
// docker CLI is missing, the daemon is down or the container does not exist
// (docker is not running on the test machines; fake CLIs stand in for it).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRejected } from './command-line';
import { DockerRunner } from './docker';
import { RemoteError } from './types';

let dir: string;
function fake(name: string, script: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${script}\n`);
  chmodSync(p, 0o755);
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-docker-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DockerRunner', () => {
  it('builds docker exec -i <container> sh -c <quoted argv>', () => {
    const r = new DockerRunner('kind-worker');
    const c = r.commandFor("timeout 5 tcpdump -n -c 3 -i eth0 'udp port 4789'", {});
    expect(c.file).toBe('docker');
    expect(c.args).toEqual(['exec', '-i', 'kind-worker', 'sh', '-c', "timeout 5 tcpdump -n -c 3 -i eth0 'udp port 4789'"]);
    expect(r.commandFor(['ip', '-j', 'route'], {}).args.at(-1)).toBe('ip -j route');
  });

  it('refuses writes and shell tricks before docker runs', async () => {
    const r = new DockerRunner('kind-worker', { docker: fake('must-not-run', 'echo ran >&2; exit 99') });
    await expect(r.run('iptables -t nat -F')).rejects.toBeInstanceOf(CommandRejected);
    await expect(r.run('ip route; reboot')).rejects.toBeInstanceOf(CommandRejected);
  });

  it('rejects container names that could be options or shell', () => {
    expect(() => new DockerRunner('-v')).toThrow(RemoteError);
    expect(() => new DockerRunner('a b')).toThrow(RemoteError);
  });

  it('says so when the docker CLI is not installed', async () => {
    const r = new DockerRunner('kind-worker', { docker: join(dir, 'no-such-docker') });
    await expect(r.run('ip -j route')).rejects.toMatchObject({ code: 'docker-missing', hint: expect.stringMatching(/ssh:\/\//) });
  });

  it('says so when the daemon is not running (the message docker prints)', async () => {
    const docker = fake('docker-nodaemon', 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1');
    await expect(new DockerRunner('kind-worker', { docker }).run('ip -j route')).rejects.toMatchObject({ code: 'docker-daemon' });
  });

  it('says so when the container does not exist', async () => {
    const docker = fake('docker-nocontainer', 'echo "Error response from daemon: No such container: kind-wrker" >&2; exit 1');
    await expect(new DockerRunner('kind-wrker', { docker }).run('ip -j route')).rejects.toMatchObject({ code: 'container-missing' });
  });

  it('passes the argv through and returns output and exit status', async () => {
    const docker = fake('docker-echo', 'for a in "$@"; do printf "[%s]" "$a"; done; echo; echo err >&2; exit 3');
    const r = await new DockerRunner('kind-worker', { docker }).run(['ip', '-j', 'route']);
    expect(r.stdout.trim()).toBe('[exec][-i][kind-worker][sh][-c][ip -j route]');
    expect(r.stderr.trim()).toBe('err');
    expect(r.code).toBe(3);
    expect(r.command).toBe('docker exec -i kind-worker sh -c "ip -j route"');
  });

  it('times out and caps output like the other runners', async () => {
    const slow = fake('docker-slow', 'sleep 5');
    await expect(new DockerRunner('c', { docker: slow }).run('ip route', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'timeout' });
    const big = fake('docker-big', 'head -c 100000 /dev/zero | tr "\\0" x');
    await expect(new DockerRunner('c', { docker: big }).run('ip route', { maxBytes: 1000 })).rejects.toMatchObject({ code: 'output-limit' });
  });
});
