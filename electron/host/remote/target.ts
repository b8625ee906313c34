// Where a node's commands go: `testbed` (the local test-bed's node
// namespace), `ssh://user@host:port`, `docker://container` or `netns://name`.

import { userInfo } from 'node:os';
import { RemoteError } from './types';

export type Via =
  | { kind: 'testbed' }
  | { kind: 'ssh'; user: string; host: string; port: number }
  | { kind: 'docker'; container: string }
  | { kind: 'netns'; namespace: string };

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

/** Parses a --via value. Throws RemoteError('bad-target') naming what is wrong. */
export function parseVia(spec: string): Via {
  const s = spec.trim();
  if (s === 'testbed' || s === 'testbed://') return { kind: 'testbed' };
  if (s.startsWith('docker://')) {
    const container = s.slice('docker://'.length);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(container)) throw new RemoteError('bad-target', `--via ${spec}: "${container}" is not a container name`, 'e.g. docker://kind-worker');
    return { kind: 'docker', container };
  }
  if (s.startsWith('netns://')) {
    const namespace = s.slice('netns://'.length);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(namespace)) throw new RemoteError('bad-target', `--via ${spec}: "${namespace}" is not a namespace name`, 'e.g. netns://nl-n-node-1');
    return { kind: 'netns', namespace };
  }
  if (s.startsWith('ssh://')) {
    const rest = s.slice('ssh://'.length).replace(/\/$/, '');
    const at = rest.lastIndexOf('@');
    const user = at >= 0 ? decodeURIComponent(rest.slice(0, at)) : localUser();
    const hostPort = at >= 0 ? rest.slice(at + 1) : rest;
    let host: string;
    let portText: string | undefined;
    const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(hostPort);
    if (v6) {
      host = v6[1];
      portText = v6[2];
    } else {
      const m = /^([A-Za-z0-9_.-]+)(?::(\d+))?$/.exec(hostPort);
      if (!m) throw new RemoteError('bad-target', `--via ${spec}: "${hostPort}" is not host[:port]`, 'e.g. ssh://root@10.0.1.5:22 or ssh://root@[fd00::5]:22');
      host = m[1];
      portText = m[2];
    }
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user)) throw new RemoteError('bad-target', `--via ${spec}: "${user}" is not a user name`, 'e.g. ssh://root@host');
    const port = portText === undefined ? 22 : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RemoteError('bad-target', `--via ${spec}: port ${portText} is not 1-65535`, 'e.g. ssh://root@127.0.0.1:2222');
    return { kind: 'ssh', user, host, port };
  }
  throw new RemoteError('bad-target', `--via ${spec} is not a node address`, 'use testbed, ssh://user@host:port, docker://container or netns://name');
}

export function viaText(v: Via): string {
  switch (v.kind) {
    case 'testbed':
      return 'testbed';
    case 'ssh':
      return `ssh://${v.user}@${v.host.includes(':') ? `[${v.host}]` : v.host}:${v.port}`;
    case 'docker':
      return `docker://${v.container}`;
    case 'netns':
      return `netns://${v.namespace}`;
  }
}
