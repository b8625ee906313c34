// Checks a host's SSH key against the lab's known_hosts WITHOUT logging in:
// the key exchange runs until the server has proved it holds its host key,
// then the verifier always says no, so no authentication is attempted. Used
// before handing a connection to the system `ssh` client (terminals), where
// the key file's passphrase is asked by ssh itself.

import ssh2 from 'ssh2';
import { changedKeyWarning, hostKeyInfo, knownKeyTypes, readKnownHosts, unknownKeyMessage, verifyHostKey, type HostKeyInfo, type KnownHostEntry } from './known-hosts';
import { hostKeyAlgorithms, sshTargetText } from './ssh';
import { RemoteError, fmtMs } from './types';

const { Client } = ssh2;

export type HostKeyProbe =
  | { status: 'known'; hostKey: HostKeyInfo }
  | { status: 'host-key-unknown'; hostKey: HostKeyInfo; message: string; otherKnown: KnownHostEntry[] }
  | { status: 'host-key-changed'; hostKey: HostKeyInfo; message: string; known: KnownHostEntry[] }
  | { status: 'host-key-revoked'; hostKey: HostKeyInfo; message: string; entry: KnownHostEntry };

export function probeHostKey(opts: { host: string; port: number; user: string; knownHostsPath: string; timeoutMs?: number }): Promise<HostKeyProbe> {
  const target = sshTargetText(opts);
  const known = readKnownHosts(opts.knownHostsPath);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<HostKeyProbe>((resolve, reject) => {
    const client = new Client();
    let decided: HostKeyProbe | null = null;
    let done = false;
    const settle = (fn: () => void): void => {
      if (done) return;
      done = true;
      fn();
      client.end();
    };
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (decided) {
        const d = decided;
        return settle(() => resolve(d));
      }
      let e: RemoteError;
      if (err.level === 'client-timeout') e = new RemoteError('connect-failed', `${target}: no SSH handshake within ${fmtMs(timeoutMs)}`, 'check the host and port, and that sshd runs on the node');
      else if (err.code === 'ECONNREFUSED') e = new RemoteError('connect-failed', `${target}: connection refused (nothing listens on port ${opts.port})`, 'check the port and that sshd runs on the node');
      else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') e = new RemoteError('connect-failed', `${target}: cannot resolve host ${opts.host}`, 'check the host name');
      else e = new RemoteError('connect-failed', `${target}: ${err.message}`, 'check the host, the port and the network path to it');
      settle(() => reject(e));
    });
    client.on('close', () => {
      if (decided) {
        const d = decided;
        settle(() => resolve(d));
      } else settle(() => reject(new RemoteError('connect-failed', `${target}: the connection closed during the handshake`, 'check sshd on the node (its log says why)')));
    });
    client.on('ready', () => {
      // cannot happen (the verifier always refuses), but never leave a session open
      settle(() => reject(new RemoteError('connect-failed', `${target}: unexpected login during a host-key check`, 'report this')));
    });
    try {
      client.connect({
        host: opts.host,
        port: opts.port,
        username: opts.user,
        readyTimeout: timeoutMs,
        algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(known, opts.host, opts.port)) as never },
        hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
          const info = hostKeyInfo(opts.host, opts.port, blob);
          const v = verifyHostKey(known, info);
          if (v.status === 'known') decided = { status: 'known', hostKey: info };
          else if (v.status === 'revoked') decided = { status: 'host-key-revoked', hostKey: info, entry: v.entry, message: `the host key ${info.keyType} ${info.fingerprint} of ${info.name} is marked @revoked in ${known.path} line ${v.entry.line}; the connection was refused` };
          else if (v.status === 'changed') decided = { status: 'host-key-changed', hostKey: info, known: v.known, message: changedKeyWarning(known, info, v.known) };
          else decided = { status: 'host-key-unknown', hostKey: info, otherKnown: v.otherTypes, message: unknownKeyMessage(info, v.otherTypes) };
          verify(false);
        },
      });
    } catch (e) {
      settle(() => reject(new RemoteError('connect-failed', `${target}: ${(e as Error).message}`, 'check the connection settings')));
    }
  });
}
