import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applySetOverrides, defaultSettings, loadTopology, type Diagnostic } from '.';

const fixture = (name: string) => ({ file: name, text: readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8') });

/** [severity, code, line, column, path] of every diagnostic, in order. */
const where = (ds: Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.line, d.column, d.path]);
const byCode = (ds: Diagnostic[], code: string) => ds.filter((d) => d.code === code);

describe('bad manifests (testdata/bad-manifests.yaml)', () => {
  const r = loadTopology(fixture('bad-manifests.yaml'));

  it('reports every problem with its line, column and field path', () => {
    expect(where(r.diagnostics)).toEqual([
      ['error', 'yaml-syntax', 50, 1, undefined],
      ['error', 'wrong-type', 10, 13, 'spec.ports[0].port'],
      ['error', 'missing-field', 12, 7, 'spec.ports[1].port'],
      ['error', 'wrong-type', 21, 14, 'metadata.labels.version'],
      ['error', 'invalid-value', 26, 26, 'spec.containers[0].ports[0].containerPort'],
      ['error', 'invalid-value', 27, 21, 'spec.containers[0].ports[0].protocol'],
      ['error', 'missing-field', 33, 7, 'spec.containers'],
      ['warning', 'unknown-kind', 36, 7, 'kind'],
      ['error', 'wrong-api-version', 40, 13, 'apiVersion'],
      ['warning', 'no-nodes', 1, 1, undefined],
      ['warning', 'no-cluster-dns', undefined, undefined, undefined],
    ]);
    expect(r.diagnostics.every((d) => d.code === 'no-cluster-dns' || d.file === 'bad-manifests.yaml')).toBe(true);
  });

  it('says what is wrong in words a user can act on', () => {
    const [syntax, port, missing, label, range, proto, containers, kind, api] = r.diagnostics;
    expect(syntax.message).toMatch(/^YAML syntax error: Flow map in block collection must be sufficiently indented and end with a \}/);
    expect(port.message).toBe('Service default/web: spec.ports[0].port must be a number, not the string "eighty"');
    expect(missing.message).toBe('Service default/web: required field spec.ports[1].port is missing');
    expect(label.message).toContain('must be a string; quote 2 in YAML');
    expect(range.message).toContain('must be a port number between 1 and 65535');
    expect(proto.message).toContain('must be TCP, UDP or SCTP (upper case), not "tcp"');
    expect(containers.message).toBe('Pod default/web-2: required field spec.containers is missing');
    expect(kind).toMatchObject({ severity: 'warning', message: 'Widget w: kind Widget (example.com/v1) is not modelled; it is kept as written' });
    expect(api.hint).toBe('Write apiVersion: apps/v1.');
  });

  it('accepts a named targetPort, keeps unknown kinds in extra, and still builds the topology', () => {
    expect(r.diagnostics.some((d) => d.path?.endsWith('targetPort'))).toBe(false);
    expect(r.topology).not.toBeNull();
    expect(r.topology!.extra.map((x) => `${x.apiVersion} ${x.kind} ${x.name}`)).toEqual(['example.com/v1 Widget w']);
  });
});

describe('bad cluster settings (testdata/bad-settings.yaml)', () => {
  const r = loadTopology(fixture('bad-settings.yaml'));

  it('reports unknown and invalid settings, overlapping CIDRs, unknown node fields', () => {
    expect(where(r.diagnostics)).toEqual([
      ['error', 'unknown-setting', 10, 15, 'cluster.podIPOfset'],
      ['error', 'invalid-setting', 11, 14, 'cluster.kubeProxy'],
      ['error', 'cidr-overlap', 8, 16, 'cluster.serviceCIDR'],
      ['error', 'unknown-field', 15, 41, 'nodes[2].zoen'],
      ['error', 'cidr-overlap', 14, 44, 'nodes[1].podCIDR'],
      ['warning', 'no-cluster-dns', 1, 1, undefined],
    ]);
    const [unknown, proxy, overlap, field, nodeOverlap] = r.diagnostics;
    expect(unknown.hint).toContain('podIPOffset');
    expect(proxy.message).toBe('cluster.kubeProxy: expected one of iptables, ipvs, ebpf');
    expect(overlap.message).toBe('service CIDR 10.96.0.0/12 overlaps cluster CIDR 10.96.0.0/16');
    expect(field.hint).toBe('Known fields: name, ip, ips, zone, labels, podCIDR, podCIDRs.');
    expect(nodeOverlap.message).toBe("node node-2: pod CIDR 10.96.1.0/25 overlaps node node-1's pod CIDR 10.96.1.0/24");
  });

  it('returns no topology when the settings are unusable', () => {
    expect(r.topology).toBeNull();
  });
});

describe('bad addresses (testdata/bad-addresses.yaml)', () => {
  const r = loadTopology(fixture('bad-addresses.yaml'));

  it('reports duplicates, unknown nodes, addresses outside their CIDR, selectors and port names', () => {
    expect(where(r.diagnostics)).toEqual([
      ['error', 'duplicate-name', 54, 9, 'metadata.name'],
      ['error', 'duplicate-name', 12, 13, 'nodes[2].name'],
      ['error', 'unknown-node', 62, 13, 'spec.nodeName'],
      ['error', 'cidr-overlap', 11, 44, 'nodes[1].podCIDR'],
      ['error', 'ip-outside-cidr', 21, 10, 'status.podIP'],
      ['warning', 'pod-ip-outside-node-cidr', 41, 11, 'status.podIPs[0].ip'],
      ['error', 'duplicate-ip', 41, 11, 'status.podIPs[0].ip'],
      ['error', 'ip-outside-cidr', 47, 14, 'spec.clusterIP'],
      ['warning', 'selector-matches-nothing', 48, 13, 'spec.selector'],
      ['warning', 'target-port-unresolved', 78, 43, 'spec.ports[0].targetPort'],
      ['warning', 'no-cluster-dns', 1, 1, undefined],
    ]);
  });

  it('names both places or both ranges', () => {
    expect(byCode(r.diagnostics, 'duplicate-name').map((d) => d.message)).toEqual([
      'Service default/a is defined twice: here and at bad-addresses.yaml:43:1',
      'node node-1 is defined twice: here and at bad-addresses.yaml:10:5',
    ]);
    expect(byCode(r.diagnostics, 'duplicate-ip')[0].message).toBe('10.244.1.9 is used twice: by pod default/b and by pod default/c');
    expect(byCode(r.diagnostics, 'cidr-overlap')[0].message).toBe("node node-2: pod CIDR 10.244.1.128/25 overlaps node node-1's pod CIDR 10.244.1.0/24");
    expect(byCode(r.diagnostics, 'ip-outside-cidr').map((d) => d.message)).toEqual([
      'pod default/a: address 10.1.2.3 is outside the cluster CIDR 10.244.0.0/16',
      'Service default/a: clusterIP 10.200.0.5 is outside the service CIDR 10.96.0.0/12',
    ]);
    expect(byCode(r.diagnostics, 'target-port-unresolved')[0].message).toBe('Service default/e: targetPort "http" (TCP) is not a container port name of any selected pod');
    expect(byCode(r.diagnostics, 'unknown-node')[0].hint).toBe('Known nodes: node-1, node-2.');
  });
});

describe('exhausted ranges (testdata/bad-exhausted.yaml)', () => {
  const r = loadTopology(fixture('bad-exhausted.yaml'));

  it('names the range and the counts', () => {
    expect(where(r.diagnostics)).toEqual([
      ['error', 'cidr-exhausted', 13, 5, 'nodes[3]'],
      ['error', 'cidr-exhausted', 19, 13, 'spec.replicas'],
      ['error', 'cidr-exhausted', 57, 1, undefined],
      ['warning', 'no-cluster-dns', 1, 1, undefined],
    ]);
    const [nodes, pods, services] = r.diagnostics;
    expect(nodes.message).toBe('cluster CIDR 10.244.0.0/22 holds 3 /24 node pod CIDRs from index 1, but 4 nodes need one: no pod CIDR left for node node-4');
    expect(pods.message).toBe(
      'node node-1: pod CIDR 10.244.1.0/24 has room for 253 pod addresses from offset 2 (10.244.1.2-10.244.1.254), but 600 pods are placed on node-1; 347 got no IPv4 address',
    );
    expect(services.message).toBe('service CIDR 10.96.0.0/29 holds 6 cluster IPs (10.96.0.1-10.96.0.6), but 7 Services need an IPv4 address: none left for Service default/s6');
  });

  it('drops the pods that got no address', () => {
    expect(r.topology!.pods).toHaveLength(253);
  });
});

describe('bad NetworkPolicy (testdata/bad-networkpolicy.yaml)', () => {
  const r = loadTopology(fixture('bad-networkpolicy.yaml'));

  it('validates selectors, policyTypes, peers, ipBlocks and ports, all at once', () => {
    expect(where(r.diagnostics.filter((d) => d.code !== 'no-nodes' && d.code !== 'no-cluster-dns'))).toEqual([
      ['error', 'invalid-value', 9, 9, 'spec.podSelector.matchExpressions[0]'],
      ['error', 'invalid-value', 10, 47, 'spec.podSelector.matchExpressions[1].values'],
      ['error', 'invalid-value', 11, 29, 'spec.podSelector.matchExpressions[2].operator'],
      ['error', 'invalid-value', 12, 26, 'spec.policyTypes[1]'],
      ['error', 'invalid-cidr', 16, 19, 'spec.ingress[0].from[0].ipBlock.cidr'],
      ['error', 'except-outside-cidr', 19, 22, 'spec.ingress[0].from[1].ipBlock.except[0]'],
      ['error', 'except-outside-cidr', 19, 34, 'spec.ingress[0].from[1].ipBlock.except[1]'],
      ['error', 'invalid-cidr', 19, 63, 'spec.ingress[0].from[1].ipBlock.except[3]'],
      ['error', 'invalid-value', 20, 11, 'spec.ingress[0].from[2]'],
      ['warning', 'cidr-host-bits', 21, 28, 'spec.ingress[0].from[3].ipBlock.cidr'],
      ['error', 'invalid-value', 21, 20, 'spec.ingress[0].from[3].ipBlock'],
      ['error', 'invalid-value', 24, 23, 'spec.ingress[0].ports[0].protocol'],
      ['error', 'invalid-value', 25, 19, 'spec.ingress[0].ports[1].port'],
      ['error', 'invalid-value', 26, 19, 'spec.ingress[0].ports[2].port'],
      ['error', 'invalid-value', 27, 34, 'spec.ingress[0].ports[3].endPort'],
      ['error', 'invalid-value', 28, 34, 'spec.ingress[0].ports[4].endPort'],
      ['error', 'invalid-value', 29, 19, 'spec.ingress[0].ports[5].port'],
    ]);
    const msg = (path: string) => r.diagnostics.find((d) => d.path === path)!.message;
    expect(msg('spec.ingress[0].from[1].ipBlock.except[0]')).toContain('10.0.0.0/8 is not a strict subset of cidr 10.0.0.0/8');
    expect(msg('spec.ingress[0].ports[3].endPort')).toContain('endPort 8000 is lower than port 8080');
    expect(msg('spec.ingress[0].ports[4].endPort')).toContain('endPort needs a numeric port (port is the name "http")');
    expect(msg('spec.ingress[0].ports[5].port')).toContain('must be a number, not the string "80": write it without quotes');
    expect(msg('spec.ingress[0].from[2]')).toContain('a peer must set podSelector, namespaceSelector or ipBlock');
  });

  it('a policy with only warnings is kept, absent and empty lists preserved', () => {
    const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: ok, namespace: prod }
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock: { cidr: 10.1.0.1/16, except: [10.1.2.0/24] }
      ports: [{ port: 1000, endPort: 2000 }]
    - {}
  egress: []
`;
    const rr = loadTopology({ file: 'np.yaml', text });
    expect(byCode(rr.diagnostics, 'cidr-host-bits')).toHaveLength(1);
    const np = rr.topology!.networkPolicies[0];
    expect(np).toMatchObject({
      namespace: 'prod',
      name: 'ok',
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: '10.1.0.1/16', except: ['10.1.2.0/24'] } }], ports: [{ port: 1000, endPort: 2000 }] }, {}],
      egress: [],
    });
    expect(np.policyTypes).toBeUndefined();
    expect('from' in np.ingress![1]).toBe(false);
  });
});

describe('all inputs at once', () => {
  it('collects the diagnostics of every file, not just the first', () => {
    const r = loadTopology([fixture('bad-manifests.yaml'), fixture('bad-networkpolicy.yaml')]);
    const files = new Set(r.diagnostics.map((d) => d.file).filter(Boolean));
    expect(files).toEqual(new Set(['bad-manifests.yaml', 'bad-networkpolicy.yaml']));
    expect(r.diagnostics.filter((d) => d.severity === 'error').length).toBe(8 + 16);
  });

  it('a second Topology document is an error naming the first', () => {
    const t = 'apiVersion: netlab.dev/v1alpha1\nkind: Topology\n';
    const r = loadTopology([
      { file: 'a.yaml', text: t },
      { file: 'b.yaml', text: t },
    ]);
    expect(r.diagnostics[0]).toMatchObject({ code: 'duplicate-topology', file: 'b.yaml', line: 2, column: 7, message: 'a second Topology document; the first is at a.yaml:1:1' });
  });

  it('a scalar document and an item that is not an object', () => {
    const r = loadTopology({ file: 's.yaml', text: 'just text\n---\napiVersion: v1\nkind: List\nitems:\n- 42\n' });
    expect(where(r.diagnostics.filter((d) => d.code === 'not-a-manifest'))).toEqual([
      ['error', 'not-a-manifest', 1, 1, undefined],
      ['error', 'not-a-manifest', 6, 3, 'items[0]'],
    ]);
  });

  it('empty input gives no topology', () => {
    const r = loadTopology({ file: 'e.yaml', text: '' });
    expect(r.topology).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['empty-input']);
  });
});

describe('--set overrides', () => {
  it('applies known keys', () => {
    const s = defaultSettings();
    expect(applySetOverrides(s, ['cni=calico-vxlan', 'kubeProxy=ipvs', 'kubeProxy.scheduler=lc', 'clusterCIDR=10.244.0.0/16,fd00:10:244::/56', 'nodeCIDRMaskSize.v6=80', 'ndots=2', 'nodeLocalDNS=true', 'mtu=1450'])).toEqual([]);
    expect(s.cni).toMatchObject({ plugin: 'calico', mode: 'vxlan', mtu: 1450 });
    expect(s.podIPOffset).toBe(1); // followed the CNI: it had the old CNI's default
    expect(s.kubeProxy).toMatchObject({ mode: 'ipvs', ipvsScheduler: 'lc' });
    expect(s.clusterCIDRs).toEqual(['10.244.0.0/16', 'fd00:10:244::/56']);
    expect(s.nodeCIDRMaskSize).toEqual({ v4: 24, v6: 80 });
    expect(s.dns).toMatchObject({ ndots: 2, nodeLocalDNS: true });
  });

  it('rejects unknown keys with the list of valid keys, and bad values with what is expected', () => {
    const s = defaultSettings();
    const d = applySetOverrides(s, ['cnii=calico', 'cni=calico-foo', 'ndots=many', 'clusterCIDR=10.244.0.1/16', 'kubeProxy', 'mesh=maybe']);
    expect(d.map((x) => [x.code, x.path])).toEqual([
      ['set-unknown-key', 'cnii'],
      ['set-invalid-value', 'cni'],
      ['set-invalid-value', 'ndots'],
      ['set-invalid-value', 'clusterCIDR'],
      ['set-syntax', 'kubeProxy'],
      ['set-invalid-value', 'mesh'],
    ]);
    expect(d[0].hint).toMatch(/^Valid keys: name, cni, cni.plugin, /);
    expect(d[1].message).toBe('--set cni=calico-foo: unknown calico mode "foo"; valid: calico-bgp, calico-vxlan, calico-ipip, calico-ipip-crosssubnet, calico-vxlan-crosssubnet');
    expect(d[2].message).toBe('--set ndots=many: expected an integer between 0 and 15');
    expect(d[3].message).toBe('--set clusterCIDR=10.244.0.1/16: "10.244.0.1/16" has host bits set; did you mean 10.244.0.0/16?');
    expect(d[5].message).toBe('--set mesh=maybe: expected true or false');
    expect(s).toEqual(defaultSettings());
  });

  it('--set errors through loadTopology leave the topology null', () => {
    const r = loadTopology({ file: 'x.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n' }, { set: ['kubeproxy=ipvs'] });
    expect(r.topology).toBeNull();
    expect(r.diagnostics[0]).toMatchObject({ code: 'set-unknown-key', path: 'kubeproxy' });
    expect(r.diagnostics[0].file).toBeUndefined();
  });
});

describe('robustness', () => {
  it('never throws on mangled input (random line edits of every sample and fixture)', async () => {
    const fc = (await import('fast-check')).default;
    const texts = ['seed.yaml', 'three-tier.yaml', 'dual-stack.yaml'].map((f) => readFileSync(new URL(`../../resources/samples/${f}`, import.meta.url), 'utf8'));
    texts.push(fixture('kubectl-kind.yaml').text, fixture('bad-networkpolicy.yaml').text);
    const junk = fc.constantFrom('', 'null', '[]', '{}', '- x', '42', '"80"', 'x: [', '---', 'kind: List', 'items: 3', '  ports: null', 'spec: []', '- {}', '~', 'true', '10.0.0.0/33', 'metadata: 5');
    fc.assert(
      fc.property(fc.nat(texts.length - 1), fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'replace', 'insert', 'value'), junk), { minLength: 1, maxLength: 4 }), (which, edits) => {
        const lines = texts[which].split('\n');
        for (const [at, op, s] of edits) {
          const i = at % lines.length;
          if (op === 'delete') lines.splice(i, 1);
          else if (op === 'replace') lines[i] = s;
          else if (op === 'insert') lines.splice(i, 0, s);
          else lines[i] = lines[i].replace(/:\s.*$/, `: ${s}`);
        }
        const r = loadTopology({ file: 'm.yaml', text: lines.join('\n') }, { set: which % 2 ? ['nodeCIDR=172.18.0.0/16'] : [] });
        for (const d of r.diagnostics) {
          expect(typeof d.message).toBe('string');
          if (d.line !== undefined) expect(d.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
