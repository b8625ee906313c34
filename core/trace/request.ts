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
  if (words[0] === 'curl' || words[0] === 'wget') {
    const url = words.slice(1).find((w) => !w.startsWith('-'));
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
        method: 'GET',
        path: m[3] || '/',
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
