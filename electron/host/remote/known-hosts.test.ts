// known_hosts handling, cross-checked with OpenSSH's own ssh-keygen:
// fingerprints as `ssh-keygen -lf` prints them, and lines we write found by
// `ssh-keygen -F` (hashed entries included).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addKnownHost,
  changedKeyWarning,
  fingerprintSha256,
  hostFieldMatches,
  hostKeyInfo,
  hostKeyName,
  keyTypeOfBlob,
  knownHostsLine,
  matchPattern,
  parseKnownHosts,
  verifyHostKey,
} from './known-hosts';

let dir: string;
const keys: { type: string; blob: Buffer; pub: string; fp: string }[] = [];

function gen(type: string, name: string): { type: string; blob: Buffer; pub: string; fp: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
  const pub = readFileSync(`${path}.pub`, 'utf8').trim();
  const [kt, b64] = pub.split(' ');
  const fp = execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1];
  return { type: kt, blob: Buffer.from(b64, 'base64'), pub, fp };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-kh-'));
  keys.push(gen('ed25519', 'k1'), gen('ed25519', 'k2'), gen('ecdsa', 'k3'), gen('rsa', 'k4'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprints and key types', () => {
  it('match ssh-keygen -lf for ed25519, ecdsa and rsa keys', () => {
    for (const k of keys) {
      expect(fingerprintSha256(k.blob)).toBe(k.fp);
      expect(keyTypeOfBlob(k.blob)).toBe(k.type);
    }
    expect(keys.map((k) => k.type)).toEqual(['ssh-ed25519', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
  });

  it('names non-22 ports [host]:port', () => {
    expect(hostKeyName('10.0.1.5', 22)).toBe('10.0.1.5');
    expect(hostKeyName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });
});

describe('host patterns', () => {
  it('wildcards, negation, case', () => {
    expect(matchPattern('node-1.lab', '*.lab')).toBe(true);
    expect(matchPattern('node-1.lab', 'node-?.lab')).toBe(true);
    expect(matchPattern('node-10.lab', 'node-?.lab')).toBe(false);
    expect(matchPattern('Node-1', 'node-1')).toBe(true);
    expect(hostFieldMatches('*.lab,!bad.lab', 'good.lab')).toBe(true);
    expect(hostFieldMatches('*.lab,!bad.lab', 'bad.lab')).toBe(false);
    expect(hostFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
  });
});

describe('parse and verify', () => {
  it('reads plain, hashed and marked entries; reports bad lines without using them', () => {
    const k = keys[0];
    const info = hostKeyInfo('127.0.0.1', 2222, k.blob);
    const hashed = knownHostsLine(info, { hash: true });
    const text = [
      '# comment',
      `node-1,10.0.1.5 ${k.pub.split(' ').slice(0, 2).join(' ')} a comment`,
      hashed,
      `@revoked * ${keys[3].pub.split(' ').slice(0, 2).join(' ')}`,
      '@cert-authority *.lab ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmVQ2rsQZt6Fxq7YypCrAPQhy3T/uyYVGIxZZf7pA5N',
      'garbage-line',
      `x ssh-rsa ${k.pub.split(' ')[1]}`,
      '@bogus h ssh-ed25519 AAAA',
    ].join('\n');
    const f = parseKnownHosts(text, 'kh');
    expect(f.entries.map((e) => [e.line, e.marker ?? '', e.hashed])).toEqual([
      [2, '', false],
      [3, '', true],
      [4, 'revoked', false],
      [5, 'cert-authority', false],
    ]);
    expect(f.problems.map((p) => p.line)).toEqual([6, 7, 8]);
    expect(f.problems[1].message).toMatch(/does not match the key blob/);
    expect(verifyHostKey(f, info)).toMatchObject({ status: 'known', entry: { line: 3 } });
    expect(verifyHostKey(f, hostKeyInfo('10.0.1.5', 22, k.blob))).toMatchObject({ status: 'known', entry: { line: 2 } });
    // same type, other key: changed; other type only: unknown with a note; revoked wins
    expect(verifyHostKey(f, hostKeyInfo('127.0.0.1', 2222, keys[1].blob))).toMatchObject({ status: 'changed' });
    const other = verifyHostKey(f, hostKeyInfo('127.0.0.1', 2222, keys[2].blob));
    expect(other.status).toBe('unknown');
    if (other.status === 'unknown') expect(other.otherTypes.map((e) => e.keyType)).toEqual(['ssh-ed25519']);
    expect(verifyHostKey(f, hostKeyInfo('anything', 22, keys[3].blob))).toMatchObject({ status: 'revoked', entry: { line: 4 } });
    expect(verifyHostKey(f, hostKeyInfo('10.0.9.9', 22, k.blob))).toMatchObject({ status: 'unknown' });
  });

  it('the changed-key warning names both fingerprints and the line', () => {
    const f = parseKnownHosts(knownHostsLine(hostKeyInfo('h', 22, keys[0].blob), { hash: false }), '/x/known_hosts');
    const w = changedKeyWarning(f, hostKeyInfo('h', 22, keys[1].blob), f.entries);
    expect(w).toContain(keys[0].fp);
    expect(w).toContain(keys[1].fp);
    expect(w).toContain('/x/known_hosts line 1');
    expect(w).toContain('ssh-keygen -R');
  });
});

describe('writing', () => {
  it('appends lines that OpenSSH finds (hashed and plain), file mode 0600', () => {
    const path = join(dir, 'sub', 'known_hosts');
    const a = hostKeyInfo('127.0.0.1', 22201, keys[0].blob);
    const b = hostKeyInfo('node-2.lab', 22, keys[2].blob);
    expect(addKnownHost(path, a)).toBe(1);
    writeFileSync(path, `${readFileSync(path, 'utf8')}# no newline at the end`);
    expect(addKnownHost(path, b, { hash: false })).toBe(3);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:22201', '-f', path], { encoding: 'utf8' });
    expect(found).toContain(keys[0].pub.split(' ')[1]);
    const found2 = execFileSync('ssh-keygen', ['-F', 'node-2.lab', '-f', path], { encoding: 'utf8' });
    expect(found2).toContain('node-2.lab ecdsa-sha2-nistp256');
    const f = parseKnownHosts(readFileSync(path, 'utf8'), path);
    expect(verifyHostKey(f, a).status).toBe('known');
    expect(verifyHostKey(f, b).status).toBe('known');
  });

  it('reads entries ssh-keygen hashed (ssh-keygen -H)', () => {
    const path = join(dir, 'kh-openssh');
    writeFileSync(path, `[10.0.0.9]:2200 ${keys[2].pub.split(' ').slice(0, 2).join(' ')}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' });
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('|1|')).toBe(true);
    expect(verifyHostKey(parseKnownHosts(text), hostKeyInfo('10.0.0.9', 2200, keys[2].blob)).status).toBe('known');
    expect(verifyHostKey(parseKnownHosts(text), hostKeyInfo('10.0.0.9', 22, keys[2].blob)).status).toBe('unknown');
  });
});
