import { describe, expect, it } from 'vitest';
import { parseVia, viaText } from './target';
import { RemoteError } from './types';

describe('parseVia', () => {
  it('reads the four kinds', () => {
    expect(parseVia('testbed')).toEqual({ kind: 'testbed' });
    expect(parseVia('ssh://root@127.0.0.1:22201')).toEqual({ kind: 'ssh', user: 'root', host: '127.0.0.1', port: 22201 });
    expect(parseVia('ssh://ops@node-1.lab')).toEqual({ kind: 'ssh', user: 'ops', host: 'node-1.lab', port: 22 });
    expect(parseVia('ssh://root@[fd00::5]:2222')).toEqual({ kind: 'ssh', user: 'root', host: 'fd00::5', port: 2222 });
    expect(parseVia('docker://kind-worker')).toEqual({ kind: 'docker', container: 'kind-worker' });
    expect(parseVia('netns://nl-n-node-1')).toEqual({ kind: 'netns', namespace: 'nl-n-node-1' });
    expect(viaText(parseVia('ssh://root@[fd00::5]:2222'))).toBe('ssh://root@[fd00::5]:2222');
  });

  it.each(['ftp://x', 'ssh://root@host:0', 'ssh://root@host:99999', 'ssh://ro ot@host', 'docker://-rm', 'docker://a;b', 'ssh://root@ho;st', 'netns://../x'])('rejects %s', (s) => {
    expect(() => parseVia(s)).toThrow(RemoteError);
  });
});
