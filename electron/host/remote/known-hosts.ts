// The lab's known_hosts file, in OpenSSH's format (sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"): `[marker] hostpatterns keytype base64-key [comment]`, host
// patterns plain (`host`, `[host]:port`, wildcards `*`/`?`, negation `!`) or
// hashed (`|1|base64(salt)|base64(HMAC-SHA1(salt, host))`), markers
// `@revoked` and `@cert-authority`. Fingerprints as `ssh-keygen -lf` prints
// them: `SHA256:` + base64 of the key blob's SHA-256, without padding.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  /** 1-based line in the file. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (comma-separated patterns, or one hashed entry). */
  hosts: string;
  hashed: boolean;
  keyType: string;
  /** base64 of the key blob. */
  key: string;
  comment?: string;
}

export interface KnownHostsFile {
  path: string;
  entries: KnownHostEntry[];
  /** Lines that could not be read, with why (kept out of matching). */
  problems: { line: number; message: string }[];
}

/** The name known_hosts stores for a host: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:…` of a key blob (base64 without `=` padding, as ssh-keygen -l prints). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written at the start of an SSH public-key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`…). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return 'unknown';
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** OpenSSH match_pattern: `*` any run, `?` one character, case-insensitive for host names. */
export function matchPattern(name: string, pattern: string): boolean {
  const s = name.toLowerCase();
  const p = pattern.toLowerCase();
  // iterative wildcard match with backtracking to the last star (linear in practice)
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    if (j < p.length && (p[j] === '?' || p[j] === s[i])) {
      i++;
      j++;
    } else if (j < p.length && p[j] === '*') {
      star = j++;
      mark = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++mark;
    } else return false;
  }
  while (j < p.length && p[j] === '*') j++;
  return j === p.length;
}

function hashedMatches(field: string, name: string): boolean {
  // |1|salt|hash
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** True when the host field of an entry matches `name` (`host` or `[host]:port`). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const neg = raw.startsWith('!');
    const pat = neg ? raw.slice(1) : raw;
    if (!pat) continue;
    if (matchPattern(name, pat)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

export function parseKnownHosts(text: string, path = 'known_hosts'): KnownHostsFile {
  const entries: KnownHostEntry[] = [];
  const problems: { line: number; message: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '').trim();
    if (!raw || raw.startsWith('#')) continue;
    const words = raw.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (words[0].startsWith('@')) {
      const m = words.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ line: i + 1, message: `unknown marker ${m}` });
        continue;
      }
    }
    if (words.length < 3) {
      problems.push({ line: i + 1, message: 'expected: hosts keytype base64-key [comment]' });
      continue;
    }
    const [hosts, keyType, key, ...rest] = words;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
      problems.push({ line: i + 1, message: 'the key is not base64' });
      continue;
    }
    const blobType = keyTypeOfBlob(Buffer.from(key, 'base64'));
    if (blobType !== keyType) {
      problems.push({ line: i + 1, message: `key type ${keyType} does not match the key blob (${blobType})` });
      continue;
    }
    entries.push({ line: i + 1, marker, hosts, hashed: hosts.startsWith('|'), keyType, key, comment: rest.length ? rest.join(' ') : undefined });
  }
  return { path, entries, problems };
}

export function readKnownHosts(path: string): KnownHostsFile {
  if (!existsSync(path)) return { path, entries: [], problems: [] };
  return parseKnownHosts(readFileSync(path, 'utf8'), path);
}

export interface HostKeyInfo {
  host: string;
  port: number;
  /** `host` or `[host]:port`, the name looked up in known_hosts. */
  name: string;
  keyType: string;
  /** base64 of the key blob. */
  key: string;
  fingerprint: string;
}

export function hostKeyInfo(host: string, port: number, blob: Buffer): HostKeyInfo {
  return { host, port, name: hostKeyName(host, port), keyType: keyTypeOfBlob(blob), key: blob.toString('base64'), fingerprint: fingerprintSha256(blob) };
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: KnownHostEntry[] }
  | { status: 'changed'; known: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/** Checks a presented key against the file, as OpenSSH's check_host_key does (revocation first). */
export function verifyHostKey(file: KnownHostsFile, info: HostKeyInfo): HostKeyVerdict {
  for (const e of file.entries) {
    if (e.marker === 'revoked' && e.key === info.key) return { status: 'revoked', entry: e };
  }
  const forHost = file.entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, info.name));
  const same = forHost.find((e) => e.keyType === info.keyType && e.key === info.key);
  if (same) return { status: 'known', entry: same };
  const sameType = forHost.filter((e) => e.keyType === info.keyType);
  if (sameType.length) return { status: 'changed', known: sameType };
  return { status: 'unknown', otherTypes: forHost };
}

/** Key types known for a host, to ask the server for those first (as OpenSSH orders HostKeyAlgorithms). */
export function knownKeyTypes(file: KnownHostsFile, host: string, port: number): string[] {
  const name = hostKeyName(host, port);
  return [...new Set(file.entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.keyType))];
}

function fingerprintOfEntry(e: KnownHostEntry): string {
  return fingerprintSha256(Buffer.from(e.key, 'base64'));
}

export function describeEntry(file: KnownHostsFile, e: KnownHostEntry): string {
  return `${file.path}:${e.line} (${e.keyType} ${fingerprintOfEntry(e)})`;
}

/** The warning shown for a changed key: old and new fingerprints and the line to remove. */
export function changedKeyWarning(file: KnownHostsFile, info: HostKeyInfo, known: KnownHostEntry[]): string {
  const lines = [
    `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${info.name}. The connection was refused.`,
    `The host presented ${info.keyType} ${info.fingerprint},`,
    ...known.map((e) => `but ${file.path} line ${e.line} holds ${e.keyType} ${fingerprintOfEntry(e)} for it.`),
    'Someone could be intercepting the connection (man-in-the-middle), or the node was reinstalled and got a new key.',
    `If you know the key was replaced, remove line ${known.map((e) => e.line).join(', ')} from ${file.path} (ssh-keygen -R '${info.name}' -f ${file.path}) and connect again to be asked about the new key.`,
  ];
  return lines.join('\n');
}

export function unknownKeyMessage(info: HostKeyInfo, otherTypes: KnownHostEntry[]): string {
  let s = `The authenticity of host ${info.name} can't be established.\n${info.keyType} key fingerprint is ${info.fingerprint}.`;
  if (otherTypes.length) s += `\nNote: keys of another type are already known for this host (${[...new Set(otherTypes.map((e) => e.keyType))].join(', ')}); a new key type deserves a check.`;
  s += '\nCompare the fingerprint with the node\'s own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the node) before accepting it.';
  return s;
}

/** The known_hosts line for a key: hashed (`|1|salt|hmac`, like HashKnownHosts yes) or plain. */
export function knownHostsLine(info: HostKeyInfo, opts: { hash?: boolean; comment?: string } = {}): string {
  let hostField = info.name;
  if (opts.hash ?? true) {
    const salt = randomBytes(20);
    const mac = createHmac('sha1', salt).update(info.name).digest();
    hostField = `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
  }
  return `${hostField} ${info.keyType} ${info.key}${opts.comment ? ` ${opts.comment}` : ''}`;
}

/** Appends the key to the file (created 0600 in a 0700 directory when absent). Returns the line number written. */
export function addKnownHost(path: string, info: HostKeyInfo, opts: { hash?: boolean; comment?: string } = {}): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  let lineNo = 1;
  if (existsSync(path)) {
    const cur = readFileSync(path, 'utf8');
    if (cur.length && !cur.endsWith('\n')) prefix = '\n';
    lineNo = (cur + prefix).split('\n').length;
  }
  appendFileSync(path, `${prefix}${knownHostsLine(info, opts)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return lineNo;
}
