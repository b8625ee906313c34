// Parses what the source pod does: `curl http://backend.default.svc.cluster.local`,
// `http://backend`, `tcp://10.96.5.20:80`, `udp://10.244.2.8:53`, `ping 10.244.2.8`,
// `dns backend`, or a bare `IP:PORT` (TCP).

import { canonicalIP, parseIP } from '../net';
import type { TraceRequest } from './types';

export class TraceInputError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'TraceInputError';
    this.hint = hint;
  }
}

const FORMS = 'curl http://NAME[:PORT][/PATH], http://NAME, tcp://HOST:PORT, udp://HOST:PORT, ping HOST, dns NAME, or IP:PORT';

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/i;

function hostPart(raw: string, text: string): { host: string; isIP: boolean } {
  const h = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const ip = parseIP(h);
  if (ip) return { host: canonicalIP(h), isIP: true };
  if (h.includes(':')) throw new TraceInputError(`"${raw}" in "${text}" is not an IP address`, 'write IPv6 addresses in brackets: tcp://[fd00:10:96::a]:80');
  if (!NAME_RE.test(h) || h.length > 253) throw new TraceInputError(`"${h}" in "${text}" is neither an IP address nor a DNS name`, `use one of: ${FORMS}`);
  return { host: h.toLowerCase(), isIP: false };
}

function port(p: string, text: string): number {
  const n = Number(p);
  if (!/^\d{1,5}$/.test(p) || n < 1 || n > 65535) throw new TraceInputError(`port "${p}" in "${text}" is not 1..65535`, 'e.g. tcp://10.96.5.20:80');
  return n;
}

/** Splits `host[:port]` where host may be `[v6]`. */
function splitHostPort(s: string): { host: string; port?: string } {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return { host: s };
    const rest = s.slice(end + 1);
    return { host: s.slice(0, end + 1), port: rest.startsWith(':') ? rest.slice(1) : undefined };
  }
  const colons = (s.match(/:/g) ?? []).length;
  if (colons === 1) {
    const i = s.indexOf(':');
    return { host: s.slice(0, i), port: s.slice(i + 1) };
  }
  return { host: s };
}

/** curl/wget options that take a value (the value is not the URL). */
const CURL_ARG_OPTIONS = new Set(
  '-o --output -d --data --data-raw --data-binary --data-urlencode -u --user -A --user-agent -e --referer -m --max-time --connect-timeout -w --write-out -x --proxy --resolve -b --cookie -c --cookie-jar -T --upload-file -F --form -r --range --retry -K --config --cacert --cert --key -E --output-document -U --header-file --post-data'.split(' '),
);

/** Splits a command line the way a POSIX shell does for quotes ('…', "…") and backslashes; throws on an unclosed quote. */
function shellWords(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === q) q = undefined;
      else if (ch === '\\' && q === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      q = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (q) throw new TraceInputError(`"${text}": unclosed ${q === '"' ? 'double' : 'single'} quote`, 'close the quote around the header value');
  if (has) out.push(cur);
  return out;
}

/** Parses a request; throws TraceInputError with a hint on bad input. */
export function parseRequest(input: string): TraceRequest {
  const text = input.trim();
  if (!text) throw new TraceInputError('empty request', `use one of: ${FORMS}`);
  let s = text;
  const words = s.split(/\s+/);
  if (words[0] === 'ping' || words[0] === 'ping6') {
    const target = words.slice(1).filter((w) => !w.startsWith('-'));
    if (target.length !== 1) throw new TraceInputError(`"${text}": ping takes one host`, 'e.g. ping 10.244.2.8');
    const h = hostPart(target[0], text);
    return { kind: 'ping', text, host: h.host, hostIsIP: h.isIP };
  }
  if (words[0] === 'dns' || words[0] === 'nslookup' || words[0] === 'getent') {
    const target = words.slice(1).filter((w) => !w.startsWith('-') && w !== 'hosts' && w !== 'ahosts');
    if (target.length !== 1) throw new TraceInputError(`"${text}": dns takes one name`, 'e.g. dns backend.default.svc.cluster.local');
    const h = hostPart(target[0], text);
    if (h.isIP) throw new TraceInputError(`"${text}": dns needs a name, not an address`, 'e.g. dns backend');
    return { kind: 'dns', text, host: h.host, hostIsIP: false };
  }
  let method: string | undefined;
  let headers: Record<string, string> | undefined;
  if (words[0] === 'curl' || words[0] === 'wget') {
    const args = shellWords(text);
    let url: string | undefined;
    for (let i = 1; i < args.length; i++) {
      const a = args[i];
      if (a === '-H' || a === '--header') {
        const hv = args[++i];
        const c = hv?.indexOf(':') ?? -1;
        if (!hv || c <= 0) throw new TraceInputError(`"${text}": ${a} needs "Name: value"`, `e.g. curl -H 'authorization: Bearer token' http://api-service/api/v1/users`);
        (headers ??= {})[hv.slice(0, c).trim().toLowerCase()] = hv.slice(c + 1).trim();
      } else if (a === '-X' || a === '--request') {
        const m = args[++i];
        if (!m || !/^[A-Za-z]+$/.test(m)) throw new TraceInputError(`"${text}": ${a} needs a method`, 'e.g. curl -X POST http://backend/');
        method = m.toUpperCase();
      } else if (CURL_ARG_OPTIONS.has(a)) i++;
      else if (a.startsWith('-')) continue;
      else if (url === undefined || (!/^[a-z]+:\/\//i.test(url) && /^[a-z]+:\/\//i.test(a))) url = a;
    }
    if (!url) throw new TraceInputError(`"${text}": curl needs a URL`, 'e.g. curl http://backend.default.svc.cluster.local');
    s = url;
  }
  const m = /^([a-z]+):\/\/([^/?#]+)([^?#]*)/i.exec(s);
  if (m) {
    const scheme = m[1].toLowerCase();
    if (!m[2].startsWith('[') && (m[2].match(/:/g) ?? []).length > 1) {
      throw new TraceInputError(`"${m[2]}" in "${text}": an IPv6 address in a URL must be in brackets`, `write ${scheme}://[${m[2]}]${scheme === 'http' || scheme === 'https' ? '/' : ':PORT'}`);
    }
    const hp = splitHostPort(m[2]);
    const h = hostPart(hp.host, text);
    if (scheme === 'http' || scheme === 'https') {
      return {
        kind: 'http',
        text,
        host: h.host,
        hostIsIP: h.isIP,
        port: hp.port !== undefined ? port(hp.port, text) : scheme === 'https' ? 443 : 80,
        method: method ?? 'GET',
        path: m[3] || '/',
        ...(headers ? { headers } : {}),
      };
    }
    if (scheme === 'tcp' || scheme === 'udp') {
      if (hp.port === undefined) throw new TraceInputError(`"${text}" has no port`, `e.g. ${scheme}://10.96.5.20:80`);
      return { kind: scheme, text, host: h.host, hostIsIP: h.isIP, port: port(hp.port, text) };
    }
    throw new TraceInputError(`unknown scheme "${scheme}://" in "${text}"`, `use one of: ${FORMS}`);
  }
  const hp = splitHostPort(s);
  if (hp.port !== undefined) {
    const h = hostPart(hp.host, text);
    return { kind: 'tcp', text, host: h.host, hostIsIP: h.isIP, port: port(hp.port, text) };
  }
  throw new TraceInputError(`cannot read "${text}" as a request`, `use one of: ${FORMS}`);
}
