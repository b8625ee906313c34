// Parsing and printing of the designer's compact form fields: labels
// (`app=web, tier=frontend`), container ports (`8080/TCP, 53/UDP, http:80`),
// Service ports (`80:8080/TCP`). Every parser reports the first problem with
// the piece of text it is about, so the form can say what to fix.

import type { PortSpec, ServicePortSpec } from './topology-edit';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Label keys: optional DNS subdomain prefix and "/", then a name of up to 63 characters.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A name of a namespace, pod, Service or node: an RFC 1123 label (Services and namespaces must be one). */
export function checkName(name: string, what: string): string | null {
  if (!name) return `The ${what} needs a name.`;
  if (name.length > 63) return `The ${what} name "${name}" is longer than 63 characters.`;
  if (!DNS1123_LABEL.test(name)) return `The ${what} name "${name}" must be lowercase letters, digits and "-", starting and ending with a letter or digit.`;
  return null;
}

export function checkLabelKey(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && (!prefix || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return `label key "${key}": the prefix before "/" must be a DNS subdomain (e.g. app.kubernetes.io)`;
  if (!name || name.length > 63 || !LABEL_NAME.test(name)) return `label key "${key}": the name must be 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  return null;
}

export function checkLabelValue(key: string, value: string): string | null {
  if (value.length > 63 || !LABEL_VALUE.test(value)) return `label ${key}="${value}": a value is up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  return null;
}

/** `app=web, tier=frontend` (commas or newlines; spaces around "=" are allowed). */
export function parseLabels(text: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/[,\n]/)) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, error: `"${part}" is not key=value` };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const bad = checkLabelKey(key) ?? checkLabelValue(key, value);
    if (bad) return { ok: false, error: bad };
    if (key in out && out[key] !== value) return { ok: false, error: `label ${key} is given twice` };
    out[key] = value;
  }
  return { ok: true, value: out };
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function parseProtocol(p: string | undefined, where: string): Parsed<'TCP' | 'UDP' | 'SCTP'> {
  if (p === undefined || p === '') return { ok: true, value: 'TCP' };
  const up = p.toUpperCase();
  if (up === 'TCP' || up === 'UDP' || up === 'SCTP') return { ok: true, value: up };
  return { ok: false, error: `${where}: protocol "${p}" is not TCP, UDP or SCTP` };
}

function parsePortNumber(s: string, where: string): Parsed<number> {
  if (!/^\d+$/.test(s)) return { ok: false, error: `${where}: "${s}" is not a port number` };
  const n = Number(s);
  if (n < 1 || n > 65535) return { ok: false, error: `${where}: port ${n} is outside 1-65535` };
  return { ok: true, value: n };
}

/** Container ports: `8080`, `8080/TCP`, `53/UDP`, `http:8080/TCP` (name:number/protocol). */
export function parseContainerPorts(text: string): Parsed<PortSpec[]> {
  const out: PortSpec[] = [];
  for (const raw of text.split(/[,\s]+/)) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^(?:([a-z0-9-]+):)?(\d+)(?:\/([A-Za-z]+))?$/.exec(part);
    if (!m) return { ok: false, error: `"${part}" is not a port (write 8080/TCP, 53/UDP or http:8080/TCP)` };
    const num = parsePortNumber(m[2], `"${part}"`);
    if (!num.ok) return num;
    const proto = parseProtocol(m[3], `"${part}"`);
    if (!proto.ok) return proto;
    if (m[1] && (m[1].length > 15 || !IANA_SVC_NAME.test(m[1]) || !/[a-z]/.test(m[1]))) {
      return { ok: false, error: `"${part}": a port name is up to 15 lowercase letters, digits and "-", with at least one letter` };
    }
    if (out.some((p) => p.containerPort === num.value && p.protocol === proto.value)) return { ok: false, error: `port ${num.value}/${proto.value} is given twice` };
    out.push({ containerPort: num.value, protocol: proto.value, ...(m[1] ? { name: m[1] } : {}) });
  }
  return { ok: true, value: out };
}

export function formatContainerPorts(ports: { containerPort: number; protocol: string; name?: string }[]): string {
  return ports.map((p) => `${p.name ? `${p.name}:` : ''}${p.containerPort}/${p.protocol}`).join(', ');
}

/** Service ports: `80:8080/TCP` (port:targetPort/protocol), `53/UDP` (target = port), `80:http` (named target port). */
export function parseServicePorts(text: string): Parsed<ServicePortSpec[]> {
  const out: ServicePortSpec[] = [];
  for (const raw of text.split(/[,\s]+/)) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^(\d+)(?::([a-z0-9-]+))?(?:\/([A-Za-z]+))?$/.exec(part);
    if (!m) return { ok: false, error: `"${part}" is not a Service port (write 80:8080/TCP, 53/UDP or 80:http)` };
    const port = parsePortNumber(m[1], `"${part}"`);
    if (!port.ok) return port;
    const proto = parseProtocol(m[3], `"${part}"`);
    if (!proto.ok) return proto;
    let target: number | string = port.value;
    if (m[2] !== undefined) {
      if (/^\d+$/.test(m[2])) {
        const t = parsePortNumber(m[2], `"${part}"`);
        if (!t.ok) return t;
        target = t.value;
      } else {
        target = m[2];
      }
    }
    if (out.some((p) => p.port === port.value && p.protocol === proto.value)) return { ok: false, error: `Service port ${port.value}/${proto.value} is given twice` };
    out.push({ port: port.value, targetPort: target, protocol: proto.value });
  }
  return { ok: true, value: out };
}

export function formatServicePorts(ports: { port: number; targetPort: number | string; protocol: string }[]): string {
  return ports.map((p) => `${p.port}${String(p.targetPort) !== String(p.port) ? `:${p.targetPort}` : ''}/${p.protocol}`).join(', ');
}

/** A policy-overlay port: `8080`, `8080/TCP`, `53/udp`. */
export function parsePortProtocol(text: string): Parsed<{ port: number; protocol: 'TCP' | 'UDP' | 'SCTP' }> {
  const m = /^\s*(\d+)\s*(?:\/\s*([A-Za-z]+))?\s*$/.exec(text);
  if (!m) return { ok: false, error: `"${text}" is not PORT/PROTOCOL (e.g. 8080/TCP)` };
  const port = parsePortNumber(m[1], `"${text}"`);
  if (!port.ok) return port;
  const proto = parseProtocol(m[2], `"${text}"`);
  if (!proto.ok) return proto;
  return { ok: true, value: { port: port.value, protocol: proto.value } };
}

/** The next free name like `pod-3` given the names in use. */
export function nextName(prefix: string, used: Iterable<string>): string {
  const set = new Set(used);
  for (let i = 1; ; i++) {
    const n = `${prefix}-${i}`;
    if (!set.has(n)) return n;
  }
}
