import { describe, expect, it } from 'vitest';
import { TestbedError } from '../testbed';
import { RemoteError, type NodeRunner } from '../remote';
import { RemoteNodesRunner, TestbedRunner, testbedRef } from './live-runner';

describe('live runners', () => {
  it('maps lab targets onto the test-bed\'s own', () => {
    expect(testbedRef('node:node-1')).toBe('node-1');
    expect(testbedRef('pod:default/pod-a')).toBe('default/pod-a');
  });

  it('the test-bed runner passes results through and turns test-bed errors into exit codes', async () => {
    const calls: unknown[] = [];
    const ok = new TestbedRunner((async (ref: string, argv: string[], o?: { timeoutMs?: number }) => {
      calls.push([ref, argv, o]);
      return { code: 0, stdout: 'default via 169.254.1.1 dev eth0 \n', stderr: '' };
    }) as never);
    expect(await ok.run('pod:default/pod-a', ['ip', 'route'])).toEqual({ exitCode: 0, stdout: 'default via 169.254.1.1 dev eth0 \n', stderr: '' });
    expect(calls).toEqual([['default/pod-a', ['ip', 'route'], { timeoutMs: 15000 }]]);
    const slow = new TestbedRunner((async () => {
      throw new TestbedError('timeout', 'ip netns exec …: no answer within 1000 ms', 'the command hung');
    }) as never);
    expect(await slow.run('node:node-1', ['sleep', '9'], { timeoutMs: 1000 })).toMatchObject({ exitCode: 124, timedOut: true });
    const down = new TestbedRunner((async () => {
      throw new TestbedError('not-up', 'the test-bed is not up', 'run netlab testbed up FILE first');
    }) as never);
    expect(await down.run('node:node-1', ['ip', 'route'])).toEqual({ exitCode: 127, stdout: '', stderr: 'the test-bed is not up (run netlab testbed up FILE first)' });
  });

  it('the remote runner sends node targets to that node\'s connection', async () => {
    const fake = (out: string, fail?: RemoteError): NodeRunner => ({
      kind: 'ssh',
      target: 'ssh://root@10.0.1.5:22',
      defaults: {} as NodeRunner['defaults'],
      run: async () => {
        if (fail) throw fail;
        return { stdout: out, stderr: '', code: 0, durationMs: 3, command: 'ip route', classification: {} as never };
      },
      close: async () => {},
    });
    const r = new RemoteNodesRunner({ 'node-1': fake('10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird \n'), 'node-2': fake('', new RemoteError('timeout', 'no answer', 'check the node')) });
    expect(await r.run('node:node-1', ['ip', 'route'])).toMatchObject({ exitCode: 0, stdout: '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird \n' });
    expect(await r.run('node:node-2', ['ip', 'route'])).toMatchObject({ exitCode: 124, timedOut: true });
    expect((await r.run('node:node-9', ['ip', 'route'])).stderr).toMatch(/no connection to node node-9 \(connected: node-1, node-2\)/);
    expect((await r.run('pod:default/pod-a', ['ip', 'route'])).stderr).toMatch(/run on nodes only/);
    expect(r.describe()).toBe('remote nodes node-1 (ssh://root@10.0.1.5:22), node-2 (ssh://root@10.0.1.5:22)');
  });
});
