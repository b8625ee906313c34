import { describe, expect, it } from 'vitest';
import { TopologyBuilder, seedTopology } from '../kubeproxy/testing';
import { CoreDns, DnsCache, SEED_NOTES, parseResolvConf, podResolvConf, renderDigRecords, resolveName, reverseName, searchCandidates } from './index';

const pod = { namespace: 'default', hostNetwork: false };

describe('pod resolv.conf', () => {
  it('is what kubelet + containerd write for ClusterFirst', () => {
    const rc = podResolvConf(seedTopology(), pod);
    expect(rc.text).toBe('search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    expect(parseResolvConf(rc.text)).toEqual({ nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5, options: [] });
  });
  it('appends the node search domains and keeps dnsConfig options', () => {
    const rc = podResolvConf(seedTopology(), { namespace: 'prod', hostNetwork: false }, { nodeResolvConf: { nameservers: ['10.0.0.2'], search: ['ec2.internal'] }, options: ['single-request-reopen'] });
    expect(rc.text).toBe('search prod.svc.cluster.local svc.cluster.local cluster.local ec2.internal\nnameserver 10.96.0.10\noptions ndots:5 single-request-reopen\n');
  });
  it('hostNetwork pods: ClusterFirst falls back to the node resolver; ClusterFirstWithHostNet uses cluster DNS', () => {
    const t = seedTopology();
    const host = podResolvConf(t, { namespace: 'kube-system', hostNetwork: true }, { nodeResolvConf: { nameservers: ['10.0.0.2'], search: [] } });
    expect(host.text).toBe('nameserver 10.0.0.2\n');
    expect(host.notes[0]).toMatch(/ClusterFirstWithHostNet/);
    expect(podResolvConf(t, { namespace: 'kube-system', hostNetwork: true }, { dnsPolicy: 'ClusterFirstWithHostNet' }).nameservers).toEqual(['10.96.0.10']);
  });
  it('NodeLocal DNSCache: 169.254.20.10 only when kubelet clusterDNS says so (required in IPVS mode)', () => {
    const dns = { clusterDomain: 'cluster.local', ndots: 5, nodeLocalDNS: true, nodeLocalIP: '169.254.20.10', ttl: 30 };
    const ipt = podResolvConf(seedTopology({ dns }), pod);
    expect(ipt.nameservers).toEqual(['10.96.0.10']);
    expect(ipt.servedBy).toBe('node-local-dns');
    const ipvs = podResolvConf(seedTopology({ dns, kubeProxy: { mode: 'ipvs', ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 } }), pod);
    expect(ipvs.nameservers).toEqual(['169.254.20.10']);
    expect(podResolvConf(seedTopology({ dns }), pod, { kubeletClusterDNS: ['169.254.20.10'] }).text).toContain('nameserver 169.254.20.10\n');
  });
});

describe('glibc search order', () => {
  const rc = { search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5 };
  it('tries search domains first below ndots, the name as is first at or above it, only the FQDN with a trailing dot', () => {
    expect(searchCandidates('backend', rc).map((c) => c.fqdn)).toEqual(['backend.default.svc.cluster.local.', 'backend.svc.cluster.local.', 'backend.cluster.local.', 'backend.']);
    expect(searchCandidates('a.b.c.d.e.f', rc)[0]).toEqual({ fqdn: 'a.b.c.d.e.f.', via: 'as-is' });
    expect(searchCandidates('backend.default.svc.cluster.local.', rc)).toEqual([{ fqdn: 'backend.default.svc.cluster.local.', via: 'as-is' }]);
  });
  it('"backend" resolves on the first A+AAAA pair', () => {
    const r = resolveName(seedTopology(), pod, 'backend');
    expect(r.queries.map((q) => `${q.qtype} ${q.qname} ${q.rcode} ${q.answer.map((a) => a.data).join(',')}`)).toEqual([
      'A backend.default.svc.cluster.local. NOERROR 10.96.5.20',
      'AAAA backend.default.svc.cluster.local. NOERROR ',
    ]);
    expect(r.addresses).toEqual(['10.96.5.20']);
  });
  it('"backend.default.svc.cluster.local" (4 dots < ndots 5) walks the whole search list first', () => {
    const r = resolveName(seedTopology(), pod, 'backend.default.svc.cluster.local');
    expect(r.queries.map((q) => `${q.qtype} ${q.qname} ${q.rcode}`)).toEqual([
      'A backend.default.svc.cluster.local.default.svc.cluster.local. NXDOMAIN',
      'AAAA backend.default.svc.cluster.local.default.svc.cluster.local. NXDOMAIN',
      'A backend.default.svc.cluster.local.svc.cluster.local. NXDOMAIN',
      'AAAA backend.default.svc.cluster.local.svc.cluster.local. NXDOMAIN',
      'A backend.default.svc.cluster.local.cluster.local. NXDOMAIN',
      'AAAA backend.default.svc.cluster.local.cluster.local. NXDOMAIN',
      'A backend.default.svc.cluster.local. NOERROR',
      'AAAA backend.default.svc.cluster.local. NOERROR',
    ]);
    expect(r.answeredBy).toBe('backend.default.svc.cluster.local.');
    expect(r.queries[0].sending).toBe('parallel');
    expect(SEED_NOTES.resolverAttempts).toContain('eight queries');
  });
  it('single-request serialises A and AAAA; AF_INET asks only A', () => {
    expect(resolveName(seedTopology(), pod, 'backend', { resolv: { options: ['single-request'] } }).queries[0].sending).toBe('sequential');
    expect(resolveName(seedTopology(), pod, 'backend', { family: 'inet' }).queries.map((q) => q.qtype)).toEqual(['A']);
  });
  it('names outside the cluster end upstream, unknown cluster names end NXDOMAIN', () => {
    const ext = resolveName(seedTopology(), pod, 'example.com');
    expect(ext.queries).toHaveLength(8);
    expect(ext.outcome).toBe('forwarded');
    const nx = resolveName(seedTopology(), pod, 'nosuch.default.svc.cluster.local.');
    expect(nx.outcome).toBe('nxdomain');
  });
});

describe('CoreDNS answers', () => {
  const topo = new TopologyBuilder()
    .node('node-1', '10.0.1.5')
    .service({ name: 'web', clusterIP: '10.96.0.80', ports: [{ name: 'http', port: 80, targetPort: 8080 }] })
    .endpoints('default', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.7', node: 'node-1' }])
    .service({ name: 'db', ports: [{ name: 'pg', port: 5432 }] })
    .endpoints('default', 'db', [{ name: 'pg', port: 5432 }], [
      { ip: '10.244.1.8', node: 'node-1', hostname: 'db-0' },
      { ip: '10.244.2.8', node: 'node-2', hostname: 'db-1' },
      { ip: '10.244.3.8', node: 'node-2', ready: false },
    ])
    .service({ name: 'ext', type: 'ExternalName', externalName: 'api.example.com' })
    .build();
  const dns = new CoreDns(topo);
  it('answers ClusterIP services with their ClusterIP and the configured TTL', () => {
    expect(dns.answer('web.default.svc.cluster.local.', 'A').answer).toEqual([{ name: 'web.default.svc.cluster.local.', ttl: 30, type: 'A', data: '10.96.0.80' }]);
    const aaaa = dns.answer('web.default.svc.cluster.local', 'AAAA');
    expect(aaaa.rcode).toBe('NOERROR');
    expect(aaaa.answer).toEqual([]);
    expect(aaaa.authority[0].data).toBe('ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30');
  });
  it('answers headless services with the ready endpoints and per-hostname records', () => {
    expect(dns.answer('db.default.svc.cluster.local.', 'A').answer.map((r) => r.data)).toEqual(['10.244.1.8', '10.244.2.8']);
    expect(dns.answer('db-1.db.default.svc.cluster.local.', 'A').answer.map((r) => r.data)).toEqual(['10.244.2.8']);
    expect(dns.answer('db-9.db.default.svc.cluster.local.', 'A').rcode).toBe('NXDOMAIN');
  });
  it('answers SRV with priority 0 and weight 100/n', () => {
    expect(dns.answer('_pg._tcp.db.default.svc.cluster.local.', 'SRV').answer.map((r) => r.data)).toEqual(['0 50 5432 db-0.db.default.svc.cluster.local.', '0 50 5432 db-1.db.default.svc.cluster.local.']);
    const web = dns.answer('_http._tcp.web.default.svc.cluster.local.', 'SRV');
    expect(web.answer.map((r) => r.data)).toEqual(['0 100 80 web.default.svc.cluster.local.']);
    expect(web.additional).toEqual([{ name: 'web.default.svc.cluster.local.', ttl: 30, type: 'A', data: '10.96.0.80' }]);
    expect(dns.answer('_https._tcp.web.default.svc.cluster.local.', 'SRV').rcode).toBe('NXDOMAIN');
  });
  it('answers ExternalName with a CNAME, pods by dashed address, PTR for services and endpoints', () => {
    expect(dns.answer('ext.default.svc.cluster.local.', 'A').answer).toEqual([{ name: 'ext.default.svc.cluster.local.', ttl: 30, type: 'CNAME', data: 'api.example.com.' }]);
    expect(dns.answer('10-244-1-7.default.pod.cluster.local.', 'A').answer[0].data).toBe('10.244.1.7');
    expect(reverseName('10.96.0.80')).toBe('80.0.96.10.in-addr.arpa.');
    expect(dns.answer(reverseName('10.96.0.80'), 'PTR').answer[0].data).toBe('web.default.svc.cluster.local.');
    expect(dns.answer(reverseName('10.244.2.8'), 'PTR').answer[0].data).toBe('db-1.db.default.svc.cluster.local.');
    expect(dns.answer(reverseName('10.244.1.7'), 'PTR').answer[0].data).toBe('10-244-1-7.web.default.svc.cluster.local.');
    expect(dns.answer(reverseName('10.244.9.9'), 'PTR').rcode).toBe('FORWARD');
    expect(dns.answer('web.nosuchns.svc.cluster.local.', 'A').rcode).toBe('NXDOMAIN');
  });
  it('renders a dig answer section with BIND column tabs', () => {
    expect(renderDigRecords([{ name: 'google.com.', ttl: 300, type: 'A', data: '142.250.72.14' }])).toBe('google.com.\t\t300\tIN\tA\t142.250.72.14\n');
    expect(renderDigRecords(dns.answer('web.default.svc.cluster.local.', 'A').answer)).toBe('web.default.svc.cluster.local. 30 IN\tA\t10.96.0.80\n');
    expect(renderDigRecords([{ name: 'kubernetes.default.svc.cluster.local.', ttl: 30, type: 'A', data: '10.96.0.1' }])).toBe('kubernetes.default.svc.cluster.local. 30 IN A\t10.96.0.1\n');
  });
});

describe('NodeLocal DNSCache', () => {
  it('caches success for min(TTL, 30 s) and denial for 5 s, counting hits and misses', () => {
    const topo = seedTopology({ dns: { clusterDomain: 'cluster.local', ndots: 5, nodeLocalDNS: true, nodeLocalIP: '169.254.20.10', ttl: 30 } });
    const cache = new DnsCache();
    const first = resolveName(topo, pod, 'backend.default.svc.cluster.local', { cache, now: 0 });
    expect(first.queries.every((q) => q.servedBy === 'node-local-dns → kube-dns')).toBe(true);
    expect(cache.misses).toBe(8);
    const at4 = resolveName(topo, pod, 'backend.default.svc.cluster.local', { cache, now: 4 });
    expect(at4.queries.every((q) => q.servedBy === 'node-local-dns cache hit')).toBe(true);
    expect(at4.queries[6].answer[0].ttl).toBe(26);
    // after 5 s the NXDOMAINs are gone, the positive answer is still cached
    const at6 = resolveName(topo, pod, 'backend.default.svc.cluster.local', { cache, now: 6 });
    expect(at6.queries.map((q) => q.servedBy)).toEqual([...Array(6).fill('node-local-dns → kube-dns'), 'node-local-dns cache hit', 'node-local-dns → kube-dns']);
    expect(resolveName(topo, pod, 'backend', { cache, now: 31 }).queries[0].servedBy).toBe('node-local-dns → kube-dns');
    expect(cache.hits).toBe(9);
  });
  it('caps the TTL of long-lived records at 30 s and honours shorter ones', () => {
    const cache = new DnsCache();
    const ans = (ttl: number) => () => ({ rcode: 'NOERROR' as const, answer: [{ name: 'x.', ttl, type: 'A' as const, data: '1.1.1.1' }], authority: [], additional: [], explain: '' });
    expect(cache.lookup(0, 'x.', 'A', ans(300)).remaining).toBe(30);
    expect(cache.lookup(0, 'y.', 'A', ans(5)).remaining).toBe(5);
    expect(cache.lookup(6, 'y.', 'A', ans(5)).hit).toBe(false);
  });
});
