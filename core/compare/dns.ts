// DNS: the client pod's /etc/resolv.conf against the model's (kubelet's
// ClusterFirst file: nameserver, search list, ndots), and — from the capture
// taken during the request — the question sequence and each answer (rcode,
// addresses) against the model's resolver walk and CoreDNS answers.

import { parseResolvConf } from '../dns';
import type { TcpdumpPacket } from '../parse/tcpdump';
import { myersDiff } from './diff';
import type { ExpectedProbe } from './probe';
import { dnsServerAddresses, flattenCapture, fqdn, realDnsQuestions } from './tcpdump';
import { checkResult, type CheckResult, type DiffItem } from './types';

export interface DnsObserved {
  /** The pod's /etc/resolv.conf as read in its namespace. */
  resolvConf?: string;
  /** The capture taken during the request (parsed tcpdump). */
  packets?: readonly TcpdumpPacket[];
  /** Addresses the client connected to (e.g. curl's %{remote_ip}). */
  connectedTo?: string;
}

const RCODE_MAP: Record<string, string> = { NXDomain: 'NXDOMAIN', ServFail: 'SERVFAIL', Refused: 'REFUSED', FormErr: 'FORMERR', NotImp: 'NOTIMP' };

export function compareDns(expected: ExpectedProbe, seen: DnsObserved): CheckResult {
  const items: DiffItem[] = [];
  const notes: string[] = [];
  let compared = 0;
  const res = expected.resolution;
  if (!res) {
    return checkResult('dns', [], 0, `${expected.spec.host} is an address: no name is resolved`);
  }
  const rc = res.resolv;
  if (seen.resolvConf !== undefined) {
    const real = parseResolvConf(seen.resolvConf);
    compared += 4;
    const where = `${expected.spec.client} /etc/resolv.conf`;
    const list = (a: string[]) => a.join(' ');
    if (list(real.nameservers) !== list(rc.nameservers)) {
      items.push({ kind: 'changed', where, model: `nameserver ${list(rc.nameservers)}`, real: `nameserver ${list(real.nameservers)}`, explanation: `queries go to ${real.nameservers[0] ?? 'no server'} on the node, to ${rc.nameservers[0]} (${rc.servedBy}) in the model`, explained: false });
    }
    if (list(real.search) !== list(rc.search)) {
      items.push({ kind: 'changed', where, model: `search ${list(rc.search)}`, real: `search ${list(real.search)}`, explanation: 'the search list differs: short names expand to different candidates, in a different order', explained: false });
    }
    if (real.ndots !== rc.ndots) {
      items.push({ kind: 'changed', where, model: `options ndots:${rc.ndots}`, real: `options ndots:${real.ndots}`, explanation: `names with fewer than ${Math.max(real.ndots, rc.ndots)} dots are tried ${real.ndots > rc.ndots ? 'with the search list first on the node' : 'as-is first on the node'}`, explained: false });
    }
    const ro = [...real.options].sort().join(' ');
    const mo = [...rc.options].sort().join(' ');
    if (ro !== mo) {
      items.push({ kind: 'changed', where, model: `options ${mo || '(none)'}`, real: `options ${ro || '(none)'}`, explanation: 'resolver options differ (e.g. single-request, timeout, attempts change how queries are sent and retried)', explained: false });
    }
  } else notes.push('resolv.conf was not read (the pod namespace was not reachable)');

  if (seen.packets && expected.dnsServer) {
    const servers = dnsServerAddresses(expected);
    const questions = realDnsQuestions(seen.packets, expected.clientIP, servers);
    const model = res.queries.map((q) => ({ key: `${q.qtype}? ${fqdn(q.qname)}`, q }));
    compared += model.length;
    // answers: pair by DNS id and client port
    const responses = flattenCapture(seen.packets)
      .map(({ p }) => p)
      .filter((p) => p.dns && !p.dns.query && p.dst === expected.clientIP && !!p.src && servers.includes(p.src));
    const edits = myersDiff(
      model,
      questions.map((x) => ({ key: x.q, p: x.p })),
      (x) => x.key,
    );
    for (const e of edits) {
      if (e.op === 'delete') {
        items.push({ kind: 'missing', where: 'query sequence', model: `${e.a.key} → ${e.a.q.rcode}`, explanation: `the resolver did not send ${e.a.key}; in the model it is ${e.a.q.via === 'search' ? 'a search-list expansion' : 'the name as given'} (ndots:${rc.ndots})`, explained: false });
      } else if (e.op === 'insert') {
        items.push({ kind: 'extra', where: 'query sequence', real: e.b.key, explanation: `the resolver sent ${e.b.key}, which the model's search walk does not`, explained: false });
      } else {
        const q = e.a.q;
        const resp = responses.find((r) => r.dns!.id === e.b.p.dns!.id && r.dport === e.b.p.sport);
        if (!resp) {
          items.push({ kind: 'missing', where: `answer to ${e.a.key}`, model: q.rcode, explanation: 'no answer in the capture (lost, or the capture ended first)', explained: false });
          continue;
        }
        const rcode = resp.dns!.rcode ? (RCODE_MAP[resp.dns!.rcode] ?? resp.dns!.rcode.toUpperCase()) : 'NOERROR';
        const modelRcode = q.rcode === 'FORWARD' ? 'NOERROR' : q.rcode;
        const modelData = q.answer.filter((a) => a.type === q.qtype).map((a) => a.data).sort();
        const realData = resp.dns!.answers.filter((a) => a.type === q.qtype).map((a) => a.data).sort();
        if (rcode !== modelRcode) {
          items.push({ kind: 'changed', where: `answer to ${e.a.key}`, model: modelRcode, real: rcode, explanation: `the DNS server answered ${rcode}, the model's CoreDNS ${modelRcode}${q.explain ? ` (${q.explain})` : ''}`, explained: false });
        } else if (modelData.join(',') !== realData.join(',')) {
          items.push({ kind: 'changed', where: `answer to ${e.a.key}`, model: modelData.join(', ') || '(no records)', real: realData.join(', ') || '(no records)', explanation: 'the answer records differ', explained: false });
        }
      }
    }
  } else if (!seen.packets) notes.push('no capture: the query sequence was not compared');

  if (seen.connectedTo !== undefined && expected.target && seen.connectedTo !== expected.target) {
    items.push({ kind: 'changed', where: `${expected.spec.host} resolved to`, model: expected.target, real: seen.connectedTo, explanation: `the client connected to ${seen.connectedTo}; the model resolves ${expected.spec.host} to ${res.addresses.join(', ')}`, explained: false });
  }
  return checkResult('dns', items, compared, `resolv.conf of ${expected.spec.client} and the resolution of ${expected.spec.host} (${res.queries.length} questions in the model, answered by ${res.answeredBy ?? 'none'})`, notes);
}
