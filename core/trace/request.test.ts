import { describe, expect, it } from 'vitest';
import { parseRequest, TraceInputError } from './request';
import { dnsQueryLength, dnsResponseLength, initialWindow, wireNameLength } from './packet';

describe('parseRequest', () => {
  it('reads the forms the walk accepts', () => {
    expect(parseRequest('curl http://backend.default.svc.cluster.local')).toMatchObject({ kind: 'http', host: 'backend.default.svc.cluster.local', hostIsIP: false, port: 80, method: 'GET', path: '/' });
    expect(parseRequest('http://backend:8080/healthz')).toMatchObject({ kind: 'http', host: 'backend', port: 8080, path: '/healthz' });
    expect(parseRequest('curl -sS https://api.example.com')).toMatchObject({ kind: 'http', port: 443 });
    expect(parseRequest('tcp://10.96.5.20:80')).toMatchObject({ kind: 'tcp', host: '10.96.5.20', hostIsIP: true, port: 80 });
    expect(parseRequest('udp://[fd00:10:96::a]:53')).toMatchObject({ kind: 'udp', host: 'fd00:10:96::a', hostIsIP: true, port: 53 });
    expect(parseRequest('ping 10.244.2.8')).toMatchObject({ kind: 'ping', host: '10.244.2.8', hostIsIP: true });
    expect(parseRequest('dns backend')).toMatchObject({ kind: 'dns', host: 'backend' });
    expect(parseRequest('10.96.5.20:80')).toMatchObject({ kind: 'tcp', port: 80 });
    expect(parseRequest('backend.default.svc.cluster.local.:80')).toMatchObject({ kind: 'tcp', host: 'backend.default.svc.cluster.local.' });
  });

  it('rejects bad input with a hint', () => {
    for (const bad of ['', 'tcp://10.96.5.20', 'udp://x:99999', 'ping', 'dns 10.0.0.1', 'ftp://x', 'curl', 'http://fd00::1/', 'hello world']) {
      let err: unknown;
      try {
        parseRequest(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(TraceInputError);
      expect((err as TraceInputError).hint.length).toBeGreaterThan(5);
    }
  });
});

describe('packet sizes', () => {
  it('DNS names in wire format: one length byte per label and the root', () => {
    expect(wireNameLength('.')).toBe(1);
    expect(wireNameLength('backend.default.svc.cluster.local.')).toBe(35);
    // 12-byte header + name + QTYPE + QCLASS
    expect(dnsQueryLength('backend.default.svc.cluster.local.')).toBe(51);
    expect(dnsQueryLength('backend.default.svc.cluster.local.default.svc.cluster.local.')).toBe(77);
  });

  it('CoreDNS answers, uncompressed: an A record, and NXDOMAIN with the zone SOA', () => {
    const q = 'backend.default.svc.cluster.local.';
    const a = { answer: [{ name: q, ttl: 30, type: 'A' as const, data: '10.96.5.20' }], authority: [], additional: [] };
    expect(dnsResponseLength(q, a)).toBe(51 + 35 + 10 + 4);
    const soa = { name: 'cluster.local.', ttl: 30, type: 'SOA' as const, data: 'ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30' };
    // owner 15 + 10 + (mname 22 + rname 26 + 5×4)
    expect(dnsResponseLength(q, { answer: [], authority: [soa], additional: [] })).toBe(51 + 15 + 10 + 22 + 26 + 20);
  });

  it("Linux's initial windows: 64240 for MSS 1460 on a SYN, 65160 on the SYN-ACK (timestamps)", () => {
    expect(initialWindow(1460, false)).toBe(64240);
    expect(initialWindow(1460, true)).toBe(65160);
  });
});

describe('curl options', () => {
  it('-H headers (quoted, names lower-cased) and -X method reach the request; option values are not taken for the URL', () => {
    const r = parseRequest(`curl -s -o /dev/null -X post -H 'Authorization: Bearer abc' -H "x-user: a b" http://api-service.production/api/v1/users`);
    expect(r).toMatchObject({ kind: 'http', host: 'api-service.production', port: 80, method: 'POST', path: '/api/v1/users', headers: { authorization: 'Bearer abc', 'x-user': 'a b' } });
    expect(parseRequest('curl http://backend').headers).toBeUndefined();
  });

  it('bad curl lines say what is wrong', () => {
    expect(() => parseRequest(`curl -H 'a: b http://a/`)).toThrow(/unclosed single quote/);
    expect(() => parseRequest('curl -H nocolon http://a/')).toThrow(/needs "Name: value"/);
    expect(() => parseRequest('curl -X http://a/')).toThrow(/needs a method|needs a URL/);
  });
});
