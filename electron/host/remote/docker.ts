// `docker exec -i <container> sh -c …` for kind nodes without sshd. The
// command is checked and quoted word by word before it reaches `sh -c`.

import { prepareCommand, shellLine, type Permissions } from './command-line';
import { spawnCollect, SpawnMissing } from './local';
import { RemoteError, type NodeRunner, type RunOptions, type RunResult } from './types';

const CONTAINER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface DockerRunnerOptions {
  defaults?: Permissions;
  /** The docker CLI (default `docker` on PATH). */
  docker?: string;
  env?: NodeJS.ProcessEnv;
}

export class DockerRunner implements NodeRunner {
  readonly kind = 'docker' as const;
  readonly target: string;
  readonly defaults: Permissions;
  private readonly docker: string;

  constructor(readonly container: string, private readonly opts: DockerRunnerOptions = {}) {
    if (!CONTAINER.test(container)) {
      throw new RemoteError('bad-target', `"${container}" is not a container name or ID`, 'use the name docker ps shows, e.g. docker://kind-worker');
    }
    this.target = `docker://${container}`;
    this.defaults = opts.defaults ?? {};
    this.docker = opts.docker ?? 'docker';
  }

  /** The argv that runs `cmd` in the container. */
  commandFor(cmd: string | readonly string[], perms: Permissions): { file: string; args: string[]; line: string; prepared: ReturnType<typeof prepareCommand> } {
    const prepared = prepareCommand(cmd, perms);
    const line = shellLine(prepared);
    return { file: this.docker, args: ['exec', '-i', this.container, 'sh', '-c', line], line, prepared };
  }

  async run(cmd: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const perms = { allowWrite: opts.allowWrite ?? this.defaults.allowWrite, allowProbe: opts.allowProbe ?? this.defaults.allowProbe };
    const c = this.commandFor(cmd, perms);
    let r;
    try {
      r = await spawnCollect(c.file, c.args, { ...opts, what: `${this.target}: ${c.line}`, env: this.opts.env });
    } catch (e) {
      if (e instanceof SpawnMissing) {
        throw new RemoteError('docker-missing', `${this.target}: the docker CLI (${this.docker}) is not installed`, 'install docker, or reach the node over SSH (--via ssh://user@host:port)');
      }
      throw e;
    }
    if (r.code !== 0) {
      const err = r.stderr;
      if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(err)) {
        throw new RemoteError('docker-daemon', `${this.target}: the Docker daemon is not reachable (${err.trim().split('\n')[0]})`, 'start Docker (systemctl start docker) or set DOCKER_HOST; or reach the node over SSH');
      }
      if (/No such container/i.test(err)) {
        throw new RemoteError('container-missing', `${this.target}: no container named ${this.container}`, 'list the kind nodes with docker ps (e.g. kind-control-plane, kind-worker)');
      }
      if (/is not running/i.test(err)) {
        throw new RemoteError('container-missing', `${this.target}: container ${this.container} is not running`, `start it: docker start ${this.container}`);
      }
    }
    return { ...r, command: `docker exec -i ${this.container} sh -c ${JSON.stringify(c.line)}`, classification: c.prepared.classification };
  }

  async close(): Promise<void> {}
}
