// CoreDNS `kubernetes` plugin answers for the cluster zone: Service A/AAAA
// (ClusterIP, or the ready endpoints of a headless Service, with
// `<hostname>.<svc>` records), ExternalName CNAMEs, SRV `_port._proto.svc`,
// `a-b-c-d.<ns>.pod` records (pods insecure, kubeadm's Corefile), PTR for
// Service and endpoint addresses, NXDOMAIN / NODATA with the zone SOA.
// Names outside the zone are forwarded upstream (`forward . /etc/resolv.conf`).

import { canonicalIP, parseIP, formatIP, ipFamily } from '../net';
import type { EndpointModel, ServiceModel, Topology } from '../model/types';

export type RRType = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME' | 'SOA' | 'NS' | 'TXT';

export interface RR {
  name: string;
  ttl: number;
  type: RRType;
  /** Presentation-format RDATA (`10.96.5.20`, `0 100 80 backend.default.svc.cluster.local.`). */
  data: string;
}

export interface DnsAnswer {
  /** FORWARD: outside the cluster zone; CoreDNS forwards it upstream (outside the model). */
  rcode: 'NOERROR' | 'NXDOMAIN' | 'FORWARD';
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** What produced the answer, for the UI. */
  explain: string;
}

export interface CoreDnsOptions {
  /** SOA serial (CoreDNS uses the API's last-modified time); default 1. */
  soaSerial?: number;
  /** `pods insecure` (kubeadm default) answers any dashed IP; `verified` needs a pod with that IP in the namespace. */
  pods?: 'insecure' | 'verified' | 'disabled';
}

type EndpointH = EndpointModel & { hostname?: string };

function dashed(ip: string): string {
  return ip.includes(':') ? canonicalIP(ip).replace(/:/g, '-') : ip.replace(/\./g, '-');
}

function undash(label: string): string | null {
  const v4 = label.replace(/-/g, '.');
  if (parseIP(v4)?.family === 4) return v4;
  const v6 = label.replace(/-/g, ':');
  return parseIP(v6)?.family === 6 ? canonicalIP(v6) : null;
}

/** The reverse-lookup name of an address (in-addr.arpa / ip6.arpa), with the trailing dot. */
export function reverseName(ip: string): string {
  const a = parseIP(ip);
  if (!a) throw new Error(`"${ip}" is not an IP address`);
  if (a.family === 4) return `${formatIP(a).split('.').reverse().join('.')}.in-addr.arpa.`;
  const hex = a.value.toString(16).padStart(32, '0');
  return `${hex.split('').reverse().join('.')}.ip6.arpa.`;
}

function fromReverse(name: string): string | null {
  const n = name.replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return null;
    const ip = parts.reverse().join('.');
    return parseIP(ip)?.family === 4 ? ip : null;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nib = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nib.length !== 32 || nib.some((x) => !/^[0-9a-f]$/i.test(x))) return null;
    const hex = nib.reverse().join('');
    return canonicalIP(hex.match(/.{4}/g)!.join(':'));
  }
  return null;
}

export class CoreDns {
  readonly zone: string;
  readonly ttl: number;
  private readonly opts: CoreDnsOptions;

  constructor(
    private readonly topo: Topology,
    opts: CoreDnsOptions = {},
  ) {
    this.zone = topo.settings.dns.clusterDomain.replace(/\.$/, '').toLowerCase();
    this.ttl = topo.settings.dns.ttl;
    this.opts = opts;
  }

  /** Services by `namespace/name`, and the namespaces that exist (built on first use; the topology is not changed under a CoreDns). */
  private index?: { services: Map<string, ServiceModel>; namespaces: Set<string> };

  private lookupIndex(): { services: Map<string, ServiceModel>; namespaces: Set<string> } {
    if (!this.index) {
      const services = new Map<string, ServiceModel>();
      const namespaces = new Set<string>(this.topo.namespaces.map((n) => n.name));
      for (const s of this.topo.services) {
        const k = `${s.namespace}/${s.name}`;
        if (!services.has(k)) services.set(k, s);
        namespaces.add(s.namespace);
      }
      this.index = { services, namespaces };
    }
    return this.index;
  }

  private soa(): RR {
    return { name: `${this.zone}.`, ttl: this.ttl, type: 'SOA', data: `ns.dns.${this.zone}. hostmaster.${this.zone}. ${this.opts.soaSerial ?? 1} 7200 1800 86400 ${this.ttl}` };
  }

  private nx(explain: string): DnsAnswer {
    return { rcode: 'NXDOMAIN', answer: [], authority: [this.soa()], additional: [], explain };
  }

  private nodata(explain: string): DnsAnswer {
    return { rcode: 'NOERROR', answer: [], authority: [this.soa()], additional: [], explain };
  }

  private ok(answer: RR[], explain: string, additional: RR[] = []): DnsAnswer {
    return answer.length ? { rcode: 'NOERROR', answer, authority: [], additional, explain } : this.nodata(`${explain} (no records of the asked type: NODATA)`);
  }

  private endpointsOf(s: ServiceModel): { ep: EndpointH; ip: string; ports: { name?: string; port: number; protocol: string }[] }[] {
    const out: { ep: EndpointH; ip: string; ports: { name?: string; port: number; protocol: string }[] }[] = [];
    for (const sl of this.topo.endpointSlices) {
      if (sl.namespace !== s.namespace || sl.serviceName !== s.name) continue;
      for (const ep of sl.endpoints as EndpointH[]) {
        const ready = ep.conditions.ready === undefined || ep.conditions.ready;
        if (!ready && !s.publishNotReadyAddresses) continue;
        for (const ip of ep.addresses) out.push({ ep, ip: canonicalIP(ip), ports: sl.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) });
      }
    }
    return out;
  }

  private epHost(ep: EndpointH, ip: string): string {
    return ep.hostname ?? dashed(ip);
  }

  /** Answers one question. `qname` may or may not end with a dot; case-insensitive. */
  answer(qname: string, qtype: RRType): DnsAnswer {
    const name = qname.toLowerCase().replace(/\.$/, '');
    const fq = `${name}.`;
    if (qtype === 'PTR' || name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return this.ptr(fq, qtype);
    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) {
      return { rcode: 'FORWARD', answer: [], authority: [], additional: [], explain: `${fq} is outside ${this.zone}: CoreDNS forwards it to the upstream resolvers (forward . /etc/resolv.conf)` };
    }
    if (name === this.zone) {
      if (qtype === 'SOA') return this.ok([this.soa()], 'zone apex');
      if (qtype === 'NS') return this.ok([{ name: fq, ttl: this.ttl, type: 'NS', data: `ns.dns.${this.zone}.` }], 'zone apex');
      return this.nodata('zone apex');
    }
    const labels = name.slice(0, -(this.zone.length + 1)).split('.');
    const last = labels[labels.length - 1];
    const nsExists = (ns: string): boolean => this.lookupIndex().namespaces.has(ns);
    if (last === 'pod') {
      if (labels.length !== 3) return this.nx(`${fq}: pod names are <a-b-c-d>.<namespace>.pod.${this.zone}`);
      const ip = undash(labels[0]);
      if (!ip || (this.opts.pods ?? 'insecure') === 'disabled') return this.nx(`${fq}: not a dashed pod address`);
      if (this.opts.pods === 'verified' && !this.topo.pods.some((p) => p.namespace === labels[1] && p.ips.map(canonicalIP).includes(ip))) return this.nx(`${fq}: pods verified and no pod with ${ip} in ${labels[1]}`);
      const type = ipFamily(ip) === 4 ? 'A' : 'AAAA';
      return this.ok(qtype === type ? [{ name: fq, ttl: this.ttl, type, data: ip }] : [], `pod record (pods ${this.opts.pods ?? 'insecure'}: the address is read from the name)`);
    }
    if (last !== 'svc' || labels.length < 3) return this.nx(`${fq}: no such name in ${this.zone} (names are <svc>.<ns>.svc.${this.zone} or <a-b-c-d>.<ns>.pod.${this.zone})`);
    const ns = labels[labels.length - 2];
    const svcName = labels[labels.length - 3];
    const rest = labels.slice(0, -3);
    if (!nsExists(ns)) return this.nx(`${fq}: namespace "${ns}" does not exist`);
    const s = this.lookupIndex().services.get(`${ns}/${svcName}`);
    if (!s) return this.nx(`${fq}: no Service "${svcName}" in namespace "${ns}"`);
    const svcFq = `${svcName}.${ns}.svc.${this.zone}.`;
    const headless = s.type !== 'ExternalName' && (s.clusterIPs.length === 0 || s.clusterIPs[0] === 'None');
    if (s.type === 'ExternalName') {
      if (rest.length) return this.nx(`${fq}: ExternalName services have no sub-names`);
      return this.ok([{ name: fq, ttl: this.ttl, type: 'CNAME', data: `${(s.externalName ?? '').replace(/\.$/, '')}.` }], `ExternalName Service: CNAME to ${s.externalName} (CoreDNS then resolves the target upstream)`);
    }
    const addrRecords = (owner: string, ips: string[]): RR[] =>
      ips.filter((ip) => (qtype === 'A' ? ipFamily(ip) === 4 : qtype === 'AAAA' ? ipFamily(ip) === 6 : false)).map((ip) => ({ name: owner, ttl: this.ttl, type: qtype, data: ip }));
    const eps = headless ? this.endpointsOf(s) : [];
    // _port._proto.<svc>: SRV
    if (rest.length === 2 && rest[0].startsWith('_') && rest[1].startsWith('_')) {
      const portName = rest[0].slice(1);
      const proto = rest[1].slice(1);
      const ports = s.ports.filter((p) => (p.name ?? '') === portName && p.protocol.toLowerCase() === proto);
      if (!ports.length) return this.nx(`${fq}: Service ${ns}/${svcName} has no port named "${portName}" with protocol ${proto}`);
      if (qtype !== 'SRV') return this.ok(headless ? addrRecords(fq, eps.map((e) => e.ip)) : addrRecords(fq, s.clusterIPs), 'SRV owner name asked for addresses');
      return this.srv(fq, s, headless, eps, ports.map((p) => ({ name: p.name, protocol: p.protocol })), svcFq);
    }
    if (rest.length === 1) {
      if (!headless) return this.nx(`${fq}: ${svcName} has a ClusterIP; only headless Services have per-endpoint names`);
      const hits = eps.filter((e) => this.epHost(e.ep, e.ip) === rest[0]);
      if (!hits.length) return this.nx(`${fq}: no endpoint named "${rest[0]}" in headless Service ${ns}/${svcName}`);
      return this.ok(addrRecords(fq, hits.map((h) => h.ip)), `endpoint ${rest[0]} of headless Service ${ns}/${svcName}`);
    }
    if (rest.length) return this.nx(`${fq}: too many labels before ${svcName}.${ns}.svc`);
    if (qtype === 'SRV') return this.srv(fq, s, headless, eps, s.ports.map((p) => ({ name: p.name, protocol: p.protocol })), svcFq);
    if (headless) return this.ok(addrRecords(fq, [...new Set(eps.map((e) => e.ip))]), `headless Service ${ns}/${svcName}: one record per ready endpoint`);
    return this.ok(addrRecords(fq, s.clusterIPs), `Service ${ns}/${svcName}: its ClusterIP`);
  }

  private srv(fq: string, s: ServiceModel, headless: boolean, eps: ReturnType<CoreDns['endpointsOf']>, ports: { name?: string; protocol: string }[], svcFq: string): DnsAnswer {
    const answer: RR[] = [];
    const additional: RR[] = [];
    type T = { target: string; port: number; ip: string };
    const targets: T[] = [];
    for (const p of ports) {
      if (headless) {
        for (const e of eps) {
          const ep = e.ports.find((x) => (x.name ?? '') === (p.name ?? '') && x.protocol === p.protocol);
          if (ep) targets.push({ target: `${this.epHost(e.ep, e.ip)}.${svcFq}`, port: ep.port, ip: e.ip });
        }
      } else {
        const sp = s.ports.find((x) => (x.name ?? '') === (p.name ?? '') && x.protocol === p.protocol)!;
        for (const ip of s.clusterIPs) targets.push({ target: svcFq, port: sp.port, ip });
      }
    }
    const uniq = targets.filter((t, i) => targets.findIndex((u) => u.target === t.target && u.port === t.port) === i);
    // CoreDNS: weight = floor(100 / n) for n records of the same priority.
    const weight = uniq.length ? Math.floor(100 / uniq.length) : 0;
    for (const t of uniq) answer.push({ name: fq, ttl: this.ttl, type: 'SRV', data: `0 ${weight} ${t.port} ${t.target}` });
    for (const t of targets) {
      const type = ipFamily(t.ip) === 4 ? 'A' : 'AAAA';
      if (!additional.some((a) => a.name === t.target && a.data === t.ip)) additional.push({ name: t.target, ttl: this.ttl, type, data: t.ip });
    }
    return this.ok(answer, `SRV for ${s.namespace}/${s.name}: priority 0, weight 100/${uniq.length || 1} each`, additional);
  }

  private ptr(fq: string, qtype: RRType): DnsAnswer {
    const ip = fromReverse(fq);
    if (!ip) return { rcode: 'FORWARD', answer: [], authority: [], additional: [], explain: `${fq} is not a reverse name CoreDNS answers` };
    if (qtype !== 'PTR') return this.nodata('reverse name asked for another type');
    const rr = (target: string): RR => ({ name: fq, ttl: this.ttl, type: 'PTR', data: target });
    for (const s of this.topo.services) {
      if (s.clusterIPs.map((x) => (x === 'None' ? x : canonicalIP(x))).includes(ip)) return this.ok([rr(`${s.name}.${s.namespace}.svc.${this.zone}.`)], `${ip} is the ClusterIP of ${s.namespace}/${s.name}`);
    }
    for (const s of this.topo.services) {
      for (const e of this.endpointsOf(s)) {
        if (e.ip === ip) return this.ok([rr(`${this.epHost(e.ep, e.ip)}.${s.name}.${s.namespace}.svc.${this.zone}.`)], `${ip} is an endpoint of ${s.namespace}/${s.name}`);
      }
    }
    return {
      rcode: 'FORWARD',
      answer: [],
      authority: [],
      additional: [],
      explain: `${ip} is neither a Service nor an endpoint address: the kubernetes plugin falls through (fallthrough in-addr.arpa ip6.arpa) and the query goes upstream`,
    };
  }
}

/**
 * dig's answer-section lines (BIND master-file style: TTL at column 24, class
 * at 32, type at 40, data at 48, reached with 8-column tabs, or one space once
 * a column is passed): `google.com.\t\t300\tIN\tA\t142.250.72.14`,
 * `kubernetes.default.svc.cluster.local. 30 IN A\t10.96.0.1`.
 */
export function renderDigRecords(rrs: readonly RR[]): string {
  const lines = rrs.map((r) => {
    let s = '';
    let col = 0;
    const put = (t: string): void => {
      s += t;
      col += t.length;
    };
    const padTo = (target: number): void => {
      if (col >= target) return put(' ');
      while (col < target) {
        s += '\t';
        col = (Math.floor(col / 8) + 1) * 8;
      }
    };
    put(r.name);
    padTo(24);
    put(String(r.ttl));
    padTo(32);
    put('IN');
    padTo(40);
    put(r.type);
    padTo(48);
    put(r.data);
    return s;
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}
