import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Diagnostic, type Topology } from '.';
import { nodeReservedAddresses } from '../ipam';

const sample = (name: string) => ({ file: `resources/samples/${name}`, text: readFileSync(new URL(`../../resources/samples/${name}`, import.meta.url), 'utf8') });
const fixture = (name: string) => ({ file: `testdata/${name}`, text: readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8') });

function ok(r: { topology: Topology | null; diagnostics: Diagnostic[] }): Topology {
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  expect(errors).toEqual([]);
  expect(r.topology).not.toBeNull();
  return r.topology!;
}

const pod = (t: Topology, ns: string, name: string) => t.pods.find((p) => p.namespace === ns && p.name === name)!;
const svc = (t: Topology, ns: string, name: string) => t.services.find((s) => s.namespace === ns && s.name === name)!;
const node = (t: Topology, name: string) => t.nodes.find((n) => n.name === name)!;

describe('the seed sample', () => {
  const r = loadTopology(sample('seed.yaml'));
  const t = ok(r);

  it('loads without diagnostics', () => {
    expect(r.diagnostics).toEqual([]);
    expect(t.settings.name).toBe('seed');
    expect(t.settings.cni).toMatchObject({ plugin: 'calico', mode: 'bgp' });
    expect(t.settings.clusterCIDRs).toEqual(['10.244.0.0/16']);
    expect(t.settings.serviceCIDRs).toEqual(['10.96.0.0/12']);
    expect(t.settings.nodeCIDRs).toEqual(['10.0.0.0/16']);
  });

  it('has the seed IPAM: nodes, per-node pod CIDRs, Calico blocks', () => {
    expect(t.nodes.map((n) => [n.name, n.ips, n.podCIDRs, n.blocks, n.zone])).toEqual([
      ['node-1', ['10.0.1.5'], ['10.244.1.0/24'], ['10.244.1.0/26'], 'zone-a'],
      ['node-2', ['10.0.1.6'], ['10.244.2.0/24'], ['10.244.2.0/26'], 'zone-b'],
      ['node-3', ['10.0.1.7'], ['10.244.3.0/24'], ['10.244.3.0/26'], 'zone-c'],
    ]);
  });

  it('has the seed pods and service addresses', () => {
    expect(t.pods.map((p) => [p.namespace, p.name, p.nodeName, p.ips])).toEqual([
      ['default', 'pod-a', 'node-1', ['10.244.1.5']],
      ['default', 'pod-b', 'node-1', ['10.244.1.6']],
      ['default', 'pod-c', 'node-1', ['10.244.1.7']],
      ['default', 'backend-1', 'node-2', ['10.244.2.8']],
      ['default', 'backend-2', 'node-3', ['10.244.3.9']],
      ['kube-system', 'coredns-7db6d8ff4d-x5wq2', 'node-2', ['10.244.2.15']],
    ]);
    expect(pod(t, 'default', 'pod-a').labels).toEqual({ app: 'client' });
    expect(pod(t, 'default', 'backend-1').ports).toEqual([{ container: 'backend', name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(t.services.map((s) => [s.namespace, s.name, s.clusterIPs])).toEqual([
      ['default', 'kubernetes', ['10.96.0.1']],
      ['default', 'backend', ['10.96.5.20']],
      ['kube-system', 'kube-dns', ['10.96.0.10']],
    ]);
    expect(svc(t, 'default', 'backend').ports).toEqual([{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }]);
    expect(svc(t, 'kube-system', 'kube-dns').ports.map((p) => `${p.name}:${p.port}/${p.protocol}`)).toEqual(['dns:53/UDP', 'dns-tcp:53/TCP', 'metrics:9153/TCP']);
  });

  it('adds the kubernetes Service with the API server endpoint on the first node', () => {
    const k = svc(t, 'default', 'kubernetes');
    expect(k).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], labels: { component: 'apiserver', provider: 'kubernetes' } });
    expect(k.selector).toBeUndefined();
    const slice = t.endpointSlices.find((s) => s.serviceName === 'kubernetes')!;
    expect(slice).toMatchObject({ name: 'kubernetes', namespace: 'default', addressType: 'IPv4', ports: [{ name: 'https', port: 6443, protocol: 'TCP' }], derived: true });
    expect(slice.endpoints).toEqual([{ addresses: ['10.0.1.5'], conditions: { ready: true } }]);
  });

  it('derives the backend EndpointSlice: 10.244.2.8:8080 and 10.244.3.9:8080', () => {
    const slices = t.endpointSlices.filter((s) => s.serviceName === 'backend');
    expect(slices).toHaveLength(1);
    const s = slices[0];
    expect(s.name).toMatch(/^backend-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(s.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(s.endpoints).toEqual([
      { addresses: ['10.244.2.8'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-2', zone: 'zone-b', targetRef: { kind: 'Pod', namespace: 'default', name: 'backend-1' } },
      { addresses: ['10.244.3.9'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-3', zone: 'zone-c', targetRef: { kind: 'Pod', namespace: 'default', name: 'backend-2' } },
    ]);
    const dns = t.endpointSlices.find((x) => x.serviceName === 'kube-dns')!;
    expect(dns.endpoints.map((e) => e.addresses[0])).toEqual(['10.244.2.15']);
    expect(dns.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`)).toEqual(['dns:53/UDP', 'dns-tcp:53/TCP', 'metrics:9153/TCP']);
  });

  it('creates the namespaces with kubernetes.io/metadata.name', () => {
    expect(t.namespaces).toEqual([
      { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } },
      { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
    ]);
  });

  it('records where each object came from', () => {
    expect(pod(t, 'default', 'pod-a').origin).toEqual({ file: 'resources/samples/seed.yaml', line: 34, column: 1 });
    expect(node(t, 'node-2').origin).toMatchObject({ line: 31, column: 5, path: 'nodes[1]' });
  });
});

describe('the seed allocated from scratch (no fixed addresses)', () => {
  // The same pods without status.podIP: podIPOffset 5 puts node-1's pods at .5, .6, .7.
  const text = `
apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata: { name: seed-allocated }
cluster:
  cni: calico-bgp
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  nodeCIDR: 10.0.0.0/16
  podIPOffset: 5
nodes:
  - { name: node-1 }
  - { name: node-2 }
  - { name: node-3 }
manifests:
  - { apiVersion: v1, kind: Pod, metadata: { name: pod-a, labels: { app: client } }, spec: { nodeName: node-1, containers: [{ name: c }] } }
  - { apiVersion: v1, kind: Pod, metadata: { name: pod-b }, spec: { nodeName: node-1, containers: [{ name: c }] } }
  - { apiVersion: v1, kind: Pod, metadata: { name: pod-c }, spec: { nodeName: node-1, containers: [{ name: c }] } }
  - apiVersion: v1
    kind: Pod
    metadata: { name: coredns, namespace: kube-system, labels: { k8s-app: kube-dns } }
    spec: { nodeName: node-2, containers: [{ name: coredns, ports: [{ name: dns, containerPort: 53, protocol: UDP }] }] }
  - { apiVersion: v1, kind: Service, metadata: { name: backend }, spec: { selector: { app: backend }, ports: [{ port: 80, targetPort: 8080 }] } }
  - { apiVersion: v1, kind: Service, metadata: { name: kube-dns, namespace: kube-system }, spec: { selector: { k8s-app: kube-dns }, ports: [{ name: dns, port: 53, protocol: UDP }] } }
`;
  const r = loadTopology({ file: 'alloc.yaml', text });
  const t = ok(r);

  it('reproduces node IPs 10.0.1.5-7, pod CIDRs 10.244.1-3.0/24 and pod-a/b/c = 10.244.1.5-7', () => {
    expect(t.nodes.map((n) => [n.name, n.ips[0], n.podCIDRs[0]])).toEqual([
      ['node-1', '10.0.1.5', '10.244.1.0/24'],
      ['node-2', '10.0.1.6', '10.244.2.0/24'],
      ['node-3', '10.0.1.7', '10.244.3.0/24'],
    ]);
    expect(['pod-a', 'pod-b', 'pod-c'].map((n) => pod(t, 'default', n).ips)).toEqual([['10.244.1.5'], ['10.244.1.6'], ['10.244.1.7']]);
    expect(pod(t, 'kube-system', 'coredns').ips).toEqual(['10.244.2.5']);
  });

  it('gives kubernetes .1, kube-dns .10 and other Services .11 onwards', () => {
    expect(svc(t, 'default', 'kubernetes').clusterIPs).toEqual(['10.96.0.1']);
    expect(svc(t, 'kube-system', 'kube-dns').clusterIPs).toEqual(['10.96.0.10']);
    expect(svc(t, 'default', 'backend').clusterIPs).toEqual(['10.96.0.11']);
  });

  it('warns that the backend selector matches nothing', () => {
    expect(r.diagnostics.map((d) => d.code)).toEqual(['selector-matches-nothing']);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', file: 'alloc.yaml', line: 23, path: 'manifests[4].spec.selector' });
  });
});

describe('CNI-specific pod ranges', () => {
  const base = (cni: string, extra = '') => `
apiVersion: netlab.dev/v1alpha1
kind: Topology
cluster: { cni: ${cni}${extra} }
nodes: [{ name: node-1 }, { name: node-2 }]
manifests:
  - { apiVersion: v1, kind: Pod, metadata: { name: a }, spec: { nodeName: node-1, containers: [{ name: c }] } }
  - { apiVersion: v1, kind: Pod, metadata: { name: b }, spec: { nodeName: node-1, containers: [{ name: c }] } }
  - { apiVersion: v1, kind: Pod, metadata: { name: h }, spec: { nodeName: node-2, hostNetwork: true, containers: [{ name: c }] } }
`;
  const ips = (t: Topology) => t.pods.map((p) => `${p.name}=${p.ips.join(',')}`);

  it('Calico BGP hands out from the block start', () => {
    const t = ok(loadTopology({ file: 'x', text: base('calico-bgp') }));
    expect(ips(t)).toEqual(['a=10.244.1.0', 'b=10.244.1.1', 'h=10.0.1.6']);
    expect(nodeReservedAddresses(t.settings, node(t, 'node-1'))).toEqual([]);
  });

  it('Calico VXLAN / IPIP: the tunnel device takes the first address', () => {
    const t = ok(loadTopology({ file: 'x', text: base('calico-vxlan') }));
    expect(ips(t)).toEqual(['a=10.244.1.1', 'b=10.244.1.2', 'h=10.0.1.6']);
    expect(nodeReservedAddresses(t.settings, node(t, 'node-1'))).toEqual([{ role: 'tunnel', device: 'vxlan.calico', ip: '10.244.1.0', family: 4 }]);
    expect(node(t, 'node-2').blocks).toEqual(['10.244.2.0/26']); // the tunnel address needs a block even without pods
    const ipip = ok(loadTopology({ file: 'x', text: base('calico-ipip') }));
    expect(nodeReservedAddresses(ipip.settings, node(ipip, 'node-1'))[0]).toMatchObject({ device: 'tunl0', ip: '10.244.1.0' });
  });

  it('host-local (Flannel): cni0 gets .1, pods start at .2', () => {
    const t = ok(loadTopology({ file: 'x', text: base('flannel-vxlan') }));
    expect(t.settings.podIPOffset).toBe(2);
    expect(ips(t)).toEqual(['a=10.244.1.2', 'b=10.244.1.3', 'h=10.0.1.6']);
    expect(nodeReservedAddresses(t.settings, node(t, 'node-1'))).toEqual([{ role: 'gateway', device: 'cni0', ip: '10.244.1.1', family: 4 }]);
    expect(node(t, 'node-1').blocks).toBeUndefined();
  });

  it('Cilium: cilium_host takes .1', () => {
    const t = ok(loadTopology({ file: 'x', text: base('cilium-vxlan') }));
    expect(ips(t)).toEqual(['a=10.244.1.2', 'b=10.244.1.3', 'h=10.0.1.6']);
    expect(nodeReservedAddresses(t.settings, node(t, 'node-1'))[0]).toMatchObject({ role: 'router', device: 'cilium_host', ip: '10.244.1.1' });
  });

  it('--set cni=calico-vxlan on the seed keeps the fixed pod IPs and adds the tunnel address', () => {
    const t = ok(loadTopology(sample('seed.yaml'), { set: ['cni=calico-vxlan'] }));
    expect(t.settings.cni).toMatchObject({ plugin: 'calico', mode: 'vxlan' });
    expect(t.settings.podIPOffset).toBe(1);
    expect(pod(t, 'default', 'pod-a').ips).toEqual(['10.244.1.5']);
    expect(nodeReservedAddresses(t.settings, node(t, 'node-1'))[0].ip).toBe('10.244.1.0');
  });

  it('an explicit podIPOffset survives a CNI change by --set', () => {
    const t = ok(loadTopology({ file: 'x', text: base('calico-bgp', ', podIPOffset: 5') }), );
    expect(t.settings.podIPOffset).toBe(5);
    const v = ok(loadTopology({ file: 'x', text: base('calico-bgp', ', podIPOffset: 5') }, { set: ['cni=flannel-vxlan'] }));
    expect(v.settings.podIPOffset).toBe(5);
    expect(ips(v)).toEqual(['a=10.244.1.5', 'b=10.244.1.6', 'h=10.0.1.6']);
  });

  it('more pods than a block: the node gets a second Calico block', () => {
    const pods = Array.from({ length: 70 }, (_, i) => `  - { apiVersion: v1, kind: Pod, metadata: { name: p${i} }, spec: { nodeName: node-1, containers: [{ name: c }] } }`).join('\n');
    const t = ok(loadTopology({ file: 'x', text: `apiVersion: netlab.dev/v1alpha1\nkind: Topology\ncluster: { cni: calico-bgp }\nnodes: [{ name: node-1 }]\nmanifests:\n${pods}\n` }));
    expect(node(t, 'node-1').blocks).toEqual(['10.244.1.0/26', '10.244.1.64/26']);
    expect(pod(t, 'default', 'p69').ips).toEqual(['10.244.1.69']);
  });
});

describe('dual-stack sample', () => {
  const t = ok(loadTopology(sample('dual-stack.yaml')));

  it('gives every node and pod one address per family, IPv4 first', () => {
    expect(node(t, 'node-1').podCIDRs).toEqual(['10.244.1.0/24', 'fd00:10:244:1::/64']);
    expect(node(t, 'node-2').podCIDRs).toEqual(['10.244.2.0/24', 'fd00:10:244:2::/64']);
    expect(node(t, 'node-1').blocks).toEqual(['10.244.1.0/26', 'fd00:10:244:1::/122']);
    for (const p of t.pods) {
      expect(p.ips).toHaveLength(2);
      expect(p.ips[0]).toMatch(/^10\.244\./);
      expect(p.ips[1]).toMatch(/^fd00:10:244:/);
    }
    const web = t.pods.filter((p) => p.owner?.name === 'web');
    expect(web.map((p) => [p.nodeName, p.ips])).toEqual([
      ['node-1', ['10.244.1.1', 'fd00:10:244:1::1']],
      ['node-2', ['10.244.2.1', 'fd00:10:244:2::1']],
      ['node-1', ['10.244.1.2', 'fd00:10:244:1::2']],
    ]);
  });

  it('allocates Service IPs per ipFamilies / ipFamilyPolicy', () => {
    expect(svc(t, 'default', 'kubernetes')).toMatchObject({ clusterIPs: ['10.96.0.1'], ipFamilies: ['IPv4'] });
    expect(svc(t, 'kube-system', 'kube-dns')).toMatchObject({ clusterIPs: ['10.96.0.10', 'fd00:10:96::a'], ipFamilies: ['IPv4', 'IPv6'] });
    expect(svc(t, 'default', 'web')).toMatchObject({ clusterIPs: ['10.96.0.11', 'fd00:10:96::b'], ipFamilies: ['IPv4', 'IPv6'] });
    expect(svc(t, 'default', 'web-v4')).toMatchObject({ clusterIPs: ['10.96.0.12'], ipFamilies: ['IPv4'] });
    expect(svc(t, 'default', 'web-v6')).toMatchObject({ clusterIPs: ['fd00:10:96::c'], ipFamilies: ['IPv6'] });
  });

  it('derives one EndpointSlice per family', () => {
    const web = t.endpointSlices.filter((s) => s.serviceName === 'web');
    expect(web.map((s) => s.addressType)).toEqual(['IPv4', 'IPv6']);
    expect(web[1].endpoints.map((e) => e.addresses[0])).toEqual(['fd00:10:244:1::1', 'fd00:10:244:2::1', 'fd00:10:244:1::2']);
    expect(t.endpointSlices.filter((s) => s.serviceName === 'web-v6').map((s) => s.addressType)).toEqual(['IPv6']);
  });

  it('RequireDualStack on a single-stack cluster is an error', () => {
    const r = loadTopology(sample('dual-stack.yaml'), { set: ['clusterCIDR=10.244.0.0/16', 'serviceCIDR=10.96.0.0/12', 'nodeCIDR=10.0.0.0/16'] });
    const e = r.diagnostics.filter((d) => d.severity === 'error');
    expect(e.map((d) => d.code)).toContain('family-not-configured');
    const d = e.find((x) => x.message.includes('RequireDualStack'))!;
    expect(d).toMatchObject({ file: 'resources/samples/dual-stack.yaml', path: 'spec.ipFamilyPolicy' });
    expect(d.hint).toContain('Add an IPv6 serviceCIDR');
  });

  it('an IPv6-only cluster and IPv6-only nodes are errors naming the place (not modelled), not a crash later', () => {
    const text = sample('dual-stack.yaml').text.replace('ips: [10.0.1.6, "fd00:10::1:6"]', 'ips: ["fd00:10::1:6"]');
    const r = loadTopology({ file: 'v6.yaml', text }, { set: ['clusterCIDR=fd00:10:244::/56', 'serviceCIDR=fd00:10:96::/112', 'nodeCIDR=fd00:10::/64'] });
    const e = r.diagnostics.filter((d) => d.severity === 'error');
    expect(e.find((d) => d.code === 'ipv6-only-cluster')?.message).toContain('IPv6-only clusters are not modelled');
    const node = e.find((d) => d.code === 'ipv6-only-node')!;
    expect(node).toMatchObject({ file: 'v6.yaml', path: 'nodes[1].ips[0]' });
    expect(node.message).toContain('node node-2 has no IPv4 address');
    expect(e.filter((d) => d.code === 'ipv6-only-node')).toHaveLength(1); // node-1 still has both families
    expect(e.find((d) => d.message.includes('RequireDualStack'))?.hint).toContain('Add an IPv4 serviceCIDR');
  });
});

describe('kubectl get -A -o yaml (kind: List)', () => {
  const r = loadTopology(fixture('kubectl-kind.yaml'), { set: ['nodeCIDR=172.18.0.0/16', 'cni=flannel-host-gw'] });
  const t = ok(r);

  it('loads without any diagnostic (ReplicaSet skipped, Endpoints superseded by slices)', () => {
    expect(r.diagnostics).toEqual([]);
  });

  it('reads nodes: InternalIP, spec.podCIDRs, zone label', () => {
    expect(t.nodes.map((n) => [n.name, n.ips, n.podCIDRs, n.zone])).toEqual([
      ['kind-control-plane', ['172.18.0.2'], ['10.244.0.0/24'], undefined],
      ['kind-worker', ['172.18.0.3'], ['10.244.1.0/24'], 'zone-a'],
    ]);
    expect(node(t, 'kind-control-plane').labels['node-role.kubernetes.io/control-plane']).toBe('');
  });

  it('reads pods: status.podIPs, spec.nodeName, hostNetwork, readiness; drops the finished Job pod', () => {
    expect(t.pods.map((p) => [p.namespace, p.name, p.nodeName, p.ips.join(','), p.hostNetwork, p.ready])).toEqual([
      ['kube-system', 'coredns-6f6b679f8f-7xq2m', 'kind-control-plane', '10.244.0.2', false, undefined],
      ['kube-system', 'coredns-6f6b679f8f-rn5tk', 'kind-control-plane', '10.244.0.3', false, undefined],
      ['kube-system', 'etcd-kind-control-plane', 'kind-control-plane', '172.18.0.2', true, undefined],
      ['kube-system', 'kube-apiserver-kind-control-plane', 'kind-control-plane', '172.18.0.2', true, undefined],
      ['kube-system', 'kube-proxy-9vh4x', 'kind-control-plane', '172.18.0.2', true, undefined],
      ['kube-system', 'kube-proxy-t2lbn', 'kind-worker', '172.18.0.3', true, undefined],
      ['shop', 'web-7d9c8b6f54-5wz8q', 'kind-worker', '10.244.1.2', false, undefined],
      ['shop', 'web-7d9c8b6f54-k4hjd', 'kind-worker', '10.244.1.3', false, false],
    ]);
    expect(pod(t, 'kube-system', 'coredns-6f6b679f8f-7xq2m').serviceAccountName).toBe('coredns');
    expect(t.pods.some((p) => p.owner)).toBe(false); // the Deployment and DaemonSet are not expanded again
  });

  it('keeps the Deployment, the DaemonSet and the ConfigMap; ignores the ReplicaSet', () => {
    expect(t.deployments.map((d) => [d.namespace, d.name, d.replicas, d.template.labels])).toEqual([['shop', 'web', 2, { app: 'web' }]]);
    expect(t.extra.map((x) => `${x.kind} ${x.namespace}/${x.name}`)).toEqual(['DaemonSet kube-system/kube-proxy', 'ConfigMap shop/kube-root-ca.crt']);
  });

  it('reads Services and EndpointSlices as given', () => {
    expect(t.services.map((s) => [s.namespace, s.name, s.type, s.clusterIPs.join(','), s.ports.map((p) => `${p.port}:${p.nodePort ?? ''}:${p.targetPort}`).join(' ')])).toEqual([
      ['default', 'kubernetes', 'ClusterIP', '10.96.0.1', '443::6443'],
      ['kube-system', 'kube-dns', 'ClusterIP', '10.96.0.10', '53::53 53::53 9153::9153'],
      ['shop', 'web', 'NodePort', '10.96.120.45', '80:31080:http'],
    ]);
    expect(t.endpointSlices.every((s) => !s.derived)).toBe(true);
    const web = t.endpointSlices.find((s) => s.serviceName === 'web')!;
    expect(web.name).toBe('web-wt9fz');
    expect(web.endpoints.map((e) => [e.addresses[0], e.conditions.ready, e.zone])).toEqual([
      ['10.244.1.2', true, 'zone-a'],
      ['10.244.1.3', false, 'zone-a'],
    ]);
    expect(t.endpointSlices.find((s) => s.serviceName === 'kubernetes')!.endpoints[0].addresses).toEqual(['172.18.0.2']);
  });

  it('reads the namespaces with their labels', () => {
    expect(t.namespaces.map((n) => [n.name, n.labels])).toEqual([
      ['default', { 'kubernetes.io/metadata.name': 'default' }],
      ['kube-system', { 'kubernetes.io/metadata.name': 'kube-system' }],
      ['shop', { 'kubernetes.io/metadata.name': 'shop', team: 'shop' }],
    ]);
  });

  it('without --set nodeCIDR, the kind node addresses are outside the default node CIDR', () => {
    const bad = loadTopology(fixture('kubectl-kind.yaml'));
    expect(bad.diagnostics.map((d) => [d.code, d.line, d.column, d.path])).toEqual([
      ['ip-outside-cidr', 78, 16, 'items[3].status.addresses[0].address'],
      ['ip-outside-cidr', 139, 16, 'items[4].status.addresses[0].address'],
    ]);
    expect(bad.diagnostics[0].hint).toContain('--set nodeCIDR=172.18.0.0/16');
  });

  it('converts v1 Endpoints when no EndpointSlice describes the Service', () => {
    const text = `
apiVersion: v1
kind: List
items:
- { apiVersion: v1, kind: Service, metadata: { name: db, namespace: shop }, spec: { clusterIP: 10.96.7.7, ports: [{ name: pg, port: 5432 }] } }
- apiVersion: v1
  kind: Endpoints
  metadata: { name: db, namespace: shop }
  subsets:
  - addresses: [{ ip: 10.0.1.50 }]
    notReadyAddresses: [{ ip: 10.0.1.51 }]
    ports: [{ name: pg, port: 5432, protocol: TCP }]
`;
    const rr = loadTopology({ file: 'ep.yaml', text });
    const s = rr.topology!.endpointSlices.find((x) => x.serviceName === 'db')!;
    expect(s).toMatchObject({ namespace: 'shop', addressType: 'IPv4', derived: false, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
    expect(s.endpoints).toEqual([
      { addresses: ['10.0.1.50'], conditions: { ready: true } },
      { addresses: ['10.0.1.51'], conditions: { ready: false } },
    ]);
    expect(rr.diagnostics.find((d) => d.code === 'endpoints-converted')).toMatchObject({ severity: 'warning', line: 7 });
  });
});

describe('workload expansion', () => {
  const text = `
apiVersion: netlab.dev/v1alpha1
kind: Topology
cluster: { cni: flannel-vxlan }
nodes:
  - { name: node-1, labels: { disk: ssd } }
  - { name: node-2 }
  - { name: node-3, labels: { disk: ssd } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 4
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { note: x } }
    spec:
      serviceAccountName: web
      containers: [{ name: nginx, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: pinned, annotations: { netlab.dev/nodes: "node-2,node-3" } }
spec:
  replicas: 3
  selector: { matchLabels: { app: pinned } }
  template:
    metadata: { labels: { app: pinned } }
    spec: { containers: [{ name: c }] }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: kube-system }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      nodeSelector: { disk: ssd }
      hostNetwork: true
      containers: [{ name: agent }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  replicas: 2
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: pg, ports: [{ containerPort: 5432 }] }] }
`;
  const r = loadTopology({ file: 'w.yaml', text });
  const t = ok(r);

  it('expands a Deployment into replicas named <deploy>-<template hash>-<suffix>, spread round-robin', () => {
    const web = t.pods.filter((p) => p.owner?.kind === 'Deployment' && p.owner.name === 'web');
    expect(web).toHaveLength(4);
    const hash = web[0].labels['pod-template-hash'];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    for (const p of web) {
      expect(p.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p).toMatchObject({ namespace: 'shop', labels: { app: 'web', 'pod-template-hash': hash }, annotations: { note: 'x' }, serviceAccountName: 'web' });
      expect(p.ports).toEqual([{ container: 'nginx', name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    }
    expect(new Set(web.map((p) => p.name)).size).toBe(4);
    expect(web.map((p) => p.nodeName)).toEqual(['node-1', 'node-2', 'node-3', 'node-1']);
    expect(web.map((p) => p.ips[0])).toEqual(['10.244.1.2', '10.244.2.2', '10.244.3.2', '10.244.1.3']);
    // Deterministic: loading again gives the same names.
    expect(ok(loadTopology({ file: 'w.yaml', text })).pods.map((p) => p.name)).toEqual(t.pods.map((p) => p.name));
  });

  it('honours the netlab.dev/nodes placement annotation', () => {
    expect(t.pods.filter((p) => p.owner?.name === 'pinned').map((p) => p.nodeName)).toEqual(['node-2', 'node-3', 'node-2']);
    expect(t.deployments.find((d) => d.name === 'pinned')!.nodes).toEqual(['node-2', 'node-3']);
  });

  it('DaemonSet: one pod per matching node; StatefulSet: <name>-0..n-1', () => {
    const agents = t.pods.filter((p) => p.owner?.kind === 'DaemonSet');
    expect(agents.map((p) => [p.nodeName, p.hostNetwork, p.ips])).toEqual([
      ['node-1', true, ['10.0.1.5']],
      ['node-3', true, ['10.0.1.7']],
    ]);
    expect(t.pods.filter((p) => p.owner?.kind === 'StatefulSet').map((p) => [p.name, p.labels['statefulset.kubernetes.io/pod-name']])).toEqual([
      ['db-0', 'db-0'],
      ['db-1', 'db-1'],
    ]);
    expect(t.extra.map((x) => x.kind)).toEqual(['DaemonSet', 'StatefulSet']);
  });

  it('implies the namespaces of its objects', () => {
    expect(t.namespaces.map((n) => n.name)).toEqual(['shop', 'default', 'kube-system']);
    expect(t.namespaces[0].labels).toEqual({ 'kubernetes.io/metadata.name': 'shop' });
  });
});

describe('cluster section forms', () => {
  const text = `apiVersion: netlab.dev/v1alpha1
kind: Topology
cluster:
  cni: { plugin: cilium, mode: vxlan, mtu: 1450, natOutgoing: false }
  clusterCIDR: [fd00:10:244::/56, 10.244.0.0/16]
  serviceCIDR: [fd00:10:96::/112, 10.96.0.0/12]
  nodeCIDR: [10.0.0.0/16, fd00:10::/64]
  kubeProxy: { mode: ebpf, masqueradeAll: true }
  nodeCIDRMaskSize: { v4: 25, v6: 72 }
  clusterDomain: lab.local
  ndots: 2
  nodeLocalDNS: true
  mesh: true
nodes: [{ name: a }, { name: b, podCIDR: 10.244.0.1/24 }]
manifests:
  - { apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { containers: [{ name: c }] } }
  - { apiVersion: v1, kind: Service, metadata: { name: s }, spec: { ipFamilyPolicy: PreferDualStack, ports: [{ port: 80 }] } }
`;
  const r = loadTopology({ file: 'forms.yaml', text });
  const t = r.topology!;

  it('reads object forms of cni, kubeProxy and the mask sizes', () => {
    expect(t.settings.cni).toEqual({ plugin: 'cilium', mode: 'vxlan', mtu: 1450, natOutgoing: false, encryption: false });
    expect(t.settings.kubeProxy).toEqual({ mode: 'ebpf', ipvsScheduler: 'rr', masqueradeAll: true, masqueradeBit: 14 });
    expect(t.settings.nodeCIDRMaskSize).toEqual({ v4: 25, v6: 72 });
    expect(t.settings.dns).toMatchObject({ clusterDomain: 'lab.local', ndots: 2, nodeLocalDNS: true });
    expect(t.settings.mesh.enabled).toBe(true);
  });

  it('IPv6-primary: the cluster CIDR order decides the primary family', () => {
    expect(node(t, 'a')).toMatchObject({ ips: ['10.0.1.5', 'fd00:10::1:5'], podCIDRs: ['fd00:10:244:0:100::/72', '10.244.1.0/25'] });
    expect(pod(t, 'default', 'p').ips).toEqual(['fd00:10:244:0:100::2', '10.244.1.2']);
    expect(svc(t, 'default', 'kubernetes').clusterIPs).toEqual(['fd00:10:96::1']);
    expect(svc(t, 'default', 's')).toMatchObject({ clusterIPs: ['fd00:10:96::b', '10.96.0.11'], ipFamilies: ['IPv6', 'IPv4'] });
  });

  it('warns about a node pod CIDR with host bits, and uses the network', () => {
    expect(r.diagnostics.map((d) => [d.code, d.line, d.column, d.path])).toEqual([
      ['cidr-host-bits', 14, 42, 'nodes[1].podCIDR'],
      ['no-cluster-dns', 1, 1, undefined],
    ]);
    expect(node(t, 'b').podCIDRs).toEqual(['fd00:10:244:0:200::/72', '10.244.0.0/24']);
  });
});
