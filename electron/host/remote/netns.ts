// `ip netns exec <ns> …`: the local test-bed's node and pod namespaces.
// The program runs without a shell; a confirmed write given as a shell line
// runs under `sh -c` inside the namespace.

import { existsSync } from 'node:fs';
import { prepareCommand, quoteArgv, type Permissions } from './command-line';
import { spawnCollect, SpawnMissing } from './local';
import { RemoteError, type NodeRunner, type RunOptions, type RunResult } from './types';

const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface NetnsRunnerOptions {
  /** Defaults for calls that give no permissions (the test-bed allows probes in its own namespaces). */
  defaults?: Permissions;
  /** Where named namespaces live (iproute2: /run/netns). */
  netnsDir?: string;
  /** The `ip` binary. */
  ip?: string;
}

export class NetnsRunner implements NodeRunner {
  readonly kind = 'netns' as const;
  readonly target: string;
  readonly defaults: Permissions;
  private readonly ip: string;
  private readonly netnsDir: string;

  constructor(readonly namespace: string, opts: NetnsRunnerOptions = {}) {
    if (!NETNS_NAME.test(namespace)) {
      throw new RemoteError('bad-target', `"${namespace}" is not a network namespace name`, 'use letters, digits, ".", "_" and "-" (e.g. nl-n-node-1)');
    }
    this.target = `netns://${namespace}`;
    this.defaults = opts.defaults ?? {};
    this.ip = opts.ip ?? 'ip';
    this.netnsDir = opts.netnsDir ?? '/run/netns';
  }

  /** The argv that runs `cmd` in the namespace (exported for tests and for showing the user). */
  commandFor(cmd: string | readonly string[], perms: Permissions): { file: string; args: string[]; shown: string; prepared: ReturnType<typeof prepareCommand> } {
    const prepared = prepareCommand(cmd, perms);
    const inner = prepared.argv ?? ['sh', '-c', prepared.shell];
    const args = ['netns', 'exec', this.namespace, ...inner];
    return { file: this.ip, args, shown: quoteArgv([this.ip, ...args]), prepared };
  }

  async run(cmd: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const perms = { allowWrite: opts.allowWrite ?? this.defaults.allowWrite, allowProbe: opts.allowProbe ?? this.defaults.allowProbe };
    const c = this.commandFor(cmd, perms);
    if (process.getuid && process.getuid() !== 0) {
      throw new RemoteError('not-root', `${this.target}: ip netns exec needs root`, 'run netlab as root (sudo) to reach the local test-bed');
    }
    if (!existsSync(`${this.netnsDir}/${this.namespace}`)) {
      throw new RemoteError('netns-missing', `${this.target}: network namespace ${this.namespace} does not exist`, 'start the test-bed first: netlab testbed up TOPOLOGY (and check the node name)');
    }
    try {
      const r = await spawnCollect(c.file, c.args, { ...opts, what: `${this.target}: ${c.shown}` });
      return { ...r, command: c.shown, classification: c.prepared.classification };
    } catch (e) {
      if (e instanceof SpawnMissing) throw new RemoteError('netns-missing', `${this.target}: ${this.ip} is not installed`, 'install iproute2');
      throw e;
    }
  }

  async close(): Promise<void> {}
}
