// LiveRunner implementations for live lab checks: the local test-bed (its
// `ip netns exec` through electron/host/testbed) and remote nodes (any
// electron/host/remote NodeRunner: SSH, docker exec, netns), one runner per
// node name. Commands of lab checks are read-only probes (ip route, curl).

import type { LiveResult, LiveRunner } from '../../../core/labs';
import { testbedExec, testbedStatus, TestbedError } from '../testbed';
import { RemoteError, type NodeRunner } from '../remote';

/** `node:node-1` → `node-1`; `pod:default/pod-a` → `default/pod-a` (the test-bed's own target syntax). */
export function testbedRef(target: string): string {
  if (target.startsWith('node:')) return target.slice(5);
  if (target.startsWith('pod:')) return target.slice(4);
  return target;
}

/** Runs live checks in the local test-bed's node and pod namespaces. */
export class TestbedRunner implements LiveRunner {
  constructor(private readonly exec: typeof testbedExec = testbedExec) {}

  async run(target: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<LiveResult> {
    try {
      const r = await this.exec(testbedRef(target), argv, { timeoutMs: opts.timeoutMs ?? 15_000 });
      return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      if (e instanceof TestbedError) {
        if (e.code === 'timeout') return { exitCode: 124, stdout: '', stderr: e.message, timedOut: true };
        return { exitCode: 127, stdout: '', stderr: `${e.message}${e.hint ? ` (${e.hint})` : ''}` };
      }
      throw e;
    }
  }

  describe(): string {
    const s = testbedStatus();
    return s.up ? `the local test-bed (${s.topology ?? 'topology'}, ${s.nodes.length} nodes)` : 'the local test-bed (not up)';
  }
}

/** Whether the local test-bed is up (live checks can run). */
export function testbedAvailable(): boolean {
  try {
    return testbedStatus().up;
  } catch {
    return false;
  }
}

/**
 * Runs live checks on remote nodes: `node:NAME` goes to the runner registered
 * for NAME. Pod targets need a pod netns on that node, which remote runners
 * do not expose: they fail with a clear message.
 */
export class RemoteNodesRunner implements LiveRunner {
  constructor(private readonly nodes: Record<string, NodeRunner>) {}

  async run(target: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<LiveResult> {
    if (!target.startsWith('node:')) return { exitCode: 127, stdout: '', stderr: `${target}: live checks on remote clusters run on nodes only (pod namespaces are reached through the test-bed)` };
    const name = target.slice(5);
    const runner = this.nodes[name];
    if (!runner) return { exitCode: 127, stdout: '', stderr: `no connection to node ${name} (connected: ${Object.keys(this.nodes).join(', ') || 'none'})` };
    try {
      const r = await runner.run(argv, { timeoutMs: opts.timeoutMs ?? 15_000 });
      return { exitCode: r.code ?? 128, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      if (e instanceof RemoteError) {
        if (e.code === 'timeout') return { exitCode: 124, stdout: e.partial?.stdout ?? '', stderr: e.message, timedOut: true };
        return { exitCode: 127, stdout: '', stderr: `${e.message} (${e.hint})` };
      }
      throw e;
    }
  }

  describe(): string {
    return `remote nodes ${Object.entries(this.nodes).map(([n, r]) => `${n} (${r.target})`).join(', ')}`;
  }
}
