// Conformance of the DNS model (core/dns: the pod's resolv.conf, glibc's
// search-list walk under ndots, A+AAAA pairs) with the REAL glibc resolver.
//
// seed.yaml's node-1 is built from the model with kube-proxy's rules
// (kube-node.ts), pod-a gets /etc/netns/<ns>/resolv.conf = the model's
// `resolv.conf` rendering, and a real dnsmasq on CoreDNS's address
// (10.244.2.15, behind the kube-dns ClusterIP 10.96.0.10 via the DNAT rules)
// answers for cluster.local like CoreDNS's kubernetes plugin: the Services'
// records, NXDOMAIN for every other cluster.local name. `getent ahosts NAME`
// (glibc getaddrinfo, AF_UNSPEC) runs in pod-a while the real `tcpdump -n -l`
// captures pod-a's eth0; the queries (type, name, order) and the answers'
// rcodes and records must equal the model's `dns-queries` rendering, and
// getent's result its final line.
//
// Each lookup is followed by a marker lookup of an absolute name, which
// delimits its packets in the capture.
//
// Not compared: DNS ids and source ports (random), and the authority section
// (CoreDNS adds a SOA to NXDOMAIN answers, dnsmasq does not; the model
// renders neither).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { render } from '../../../core/render';
import type { BuiltNode } from './build-netns';
import { Netns, destroyAll, liveDescribe, loadRepoTopology, sweepLeftovers, waitFor } from './harness';
import { buildSeedNode1 } from './kube-node';

const t = loadRepoTopology('resources/samples/seed.yaml');
const NAMES = ['backend.default.svc.cluster.local', 'backend', 'backend.default', 'kube-dns.kube-system', 'kubernetes.default.svc'];

/** tcpdump -n lines of one lookup → `TYPE? NAME RCODE[ TYPE DATA, …]` per query, in the order sent. */
function queriesFromTcpdump(lines: string[]): string[] {
  const queries: { id: string; text: string }[] = [];
  const answers = new Map<string, string>();
  for (const l of lines) {
    const q = /: (\d+)\+ (A|AAAA)\? (\S+) \(\d+\)$/.exec(l);
    if (q) {
      queries.push({ id: q[1], text: `${q[2]}? ${q[3]}` });
      continue;
    }
    const r = /: (\d+)[*\-|$]* (?:(NXDomain|ServFail|Refused|FormErr|NotImp)[*\-|$]* )?(\d+)\/(\d+)\/(\d+)(?: (.*?))? \(\d+\)$/.exec(l);
    if (r) {
      const rcode = ({ NXDomain: 'NXDOMAIN', ServFail: 'SERVFAIL', Refused: 'REFUSED', FormErr: 'FORMERR', NotImp: 'NOTIMP' } as Record<string, string>)[r[2] ?? ''] ?? 'NOERROR';
      answers.set(r[1], `${rcode}${Number(r[3]) > 0 && r[6] ? ` ${r[6]}` : ''}`);
    }
  }
  return queries.map((q) => `${q.text} ${answers.get(q.id) ?? '<no answer>'}`);
}

liveDescribe('conformance: glibc resolver (getent ahosts) through the modelled resolv.conf vs dns-queries', ['ip', 'iptables-nft', 'dnsmasq', 'tcpdump', 'getent'], () => {
  let b: BuiltNode;
  let pod: Netns;
  let captured = '';
  const realQueries = new Map<string, string[]>();
  const realResults = new Map<string, string>();

  beforeAll(async () => {
    sweepLeftovers();
    b = buildSeedNode1('dns', t);
    pod = [...b.pods.values()].find((p) => p.model.pod === 'pod-a')!.ns;
    pod.writeEtc('resolv.conf', render('resolv.conf', t, { pod: 'default/pod-a' }));
    // CoreDNS stand-in on CoreDNS's pod address: the Services' A records, NXDOMAIN for the rest of cluster.local.
    const records = t.services
      .filter((s) => s.clusterIPs.length && s.clusterIPs[0] !== 'None')
      .map((s) => `--host-record=${s.name}.${s.namespace}.svc.${t.settings.dns.clusterDomain},${s.clusterIPs.filter((ip) => !ip.includes(':')).join(',')}`);
    const dnsmasq = b.lan.spawn(['dnsmasq', '-k', '--no-resolv', '--no-hosts', '--listen-address=10.244.2.15', '--bind-interfaces', `--local=/${t.settings.dns.clusterDomain}/`, ...records, '--port=53', '--user=root', '--pid-file=', '--cache-size=0']);
    let dnsmasqOut = '';
    dnsmasq.stderr!.on('data', (d) => (dnsmasqOut += String(d)));
    await waitFor(() => /10\.244\.2\.15:53/.test(b.lan.exec(['ss', '-lun'], { allowFail: true })), `dnsmasq listening (${dnsmasqOut})`);
    const tcpdump = pod.spawn(['tcpdump', '-n', '-l', '-i', 'eth0', 'udp port 53']);
    let tcpdumpErr = '';
    tcpdump.stdout!.on('data', (d) => (captured += String(d)));
    tcpdump.stderr!.on('data', (d) => (tcpdumpErr += String(d)));
    await waitFor(() => tcpdumpErr.includes('listening on'), 'tcpdump to start');
    // After each lookup, a marker lookup (an absolute name, so no search list): tcpdump prints packets
    // in capture order, so everything before marker i's query belongs to lookup i.
    const domain = t.settings.dns.clusterDomain;
    const marker = (i: number) => `nlconf-marker-${i}.${domain}.`;
    NAMES.forEach((name, i) => {
      const r = pod.execFull(['getent', 'ahosts', name]);
      realResults.set(name, r.status === 0 ? r.stdout : `<getent exit ${r.status}>`);
      pod.execFull(['getent', 'ahosts', marker(i)]);
    });
    await waitFor(() => captured.includes(`? ${marker(NAMES.length - 1)} `), 'the last marker query in the capture');
    const segments: string[][] = NAMES.map(() => []);
    let k = 0;
    for (const line of captured.split('\n').filter((l) => / > /.test(l))) {
      if (k < NAMES.length && line.includes(`? ${marker(k)} `)) k++;
      if (/\? nlconf-marker-\d+\./.test(line)) continue; // the markers' own A and AAAA queries
      if (k < NAMES.length) segments[k].push(line);
    }
    NAMES.forEach((name, i) => realQueries.set(name, queriesFromTcpdump(segments[i])));
  });
  afterAll(() => destroyAll());

  it("pod-a's /etc/resolv.conf inside the namespace is the model's rendering", () => {
    expect(pod.exec(['cat', '/etc/resolv.conf'])).toBe(render('resolv.conf', t, { pod: 'default/pod-a' }));
  });

  for (const name of NAMES) {
    it(`getent ahosts ${name}: the queries glibc sends (names, A/AAAA order, rcodes, answers) equal dns-queries`, () => {
      const model = render('dns-queries', t, { pod: 'default/pod-a', name }).trim().split('\n');
      const last = model.pop()!;
      expect(realQueries.get(name)).toEqual(model);
      // The final line: what getaddrinfo returned (canonical name and addresses).
      const got = realResults.get(name)!;
      const canon = /^\S+\s+STREAM (\S+)$/m.exec(got)?.[1];
      const addrs = [...new Set(got.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]))];
      expect(`=> ${canon}. ${addrs.join(' ')}`, got).toBe(last);
    });
  }
});
