// The test-bed's plan and generated configuration, without root: names,
// addresses, routes the CNI daemon would program, DNS records, daemon configs,
// requirement checks and the root-namespace safety check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../../core/model';
import { CoreDns } from '../../../core/dns';
import { TestbedError } from './errors';
import { birdConfig, dnsmasqArgv, httpScript, httpServerArgv, sshForwardArgv, sshdArgv, sshdConfig, udpEchoArgv, withHostname } from './configs';
import { MAX_NETNS_NAME, nodeNetns, podNetns } from './names';
import { buildPlan, dnsRecordArgs, kubeletHostsFile } from './plan';
import { preflight, requirements } from './preflight';
import { checkRootUntouched, type RootSnapshot } from './safety';
import { sysctlPath } from './up';
import { calicoPolicy6FromModel, calicoPolicyFromModel, kubeProxyFromModel } from './rules';

const SEED = readFileSync(join(__dirname, '..', '..', '..', 'resources', 'samples', 'seed.yaml'), 'utf8');

function seed(...set: string[]): Topology {
  const r = loadTopology([{ file: 'seed.yaml', text: SEED }], { set });
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.topology;
}

describe('names', () => {
  it('prefixes node and pod namespaces', () => {
    expect(nodeNetns('node-1')).toBe('nl-n-node-1');
    expect(podNetns('default', 'pod-a')).toBe('nl-p-default-pod-a');
  });
  it('shortens long names with a stable hash, keeping the prefix', () => {
    const long = podNetns('kube-system', 'a-very-long-deployment-name-7db6d8ff4d-x5wq2-with-more-words');
    expect(long.length).toBeLessThanOrEqual(MAX_NETNS_NAME);
    expect(long).toMatch(/^nl-p-kube-system-a-very-long-[a-z0-9.-]*-[0-9a-f]{8}$/);
    expect(podNetns('kube-system', 'a-very-long-deployment-name-7db6d8ff4d-x5wq2-with-more-words')).toBe(long);
    expect(podNetns('kube-system', 'a-very-long-deployment-name-7db6d8ff4d-x5wq2-with-more-wordz')).not.toBe(long);
  });
});

describe('buildPlan (seed, calico-bgp)', () => {
  const plan = buildPlan(seed());
  it('places the three nodes on the node network with their pod CIDRs and Calico blocks', () => {
    expect(plan.mode).toBe('calico-bgp');
    expect(plan.gateway).toBe('10.0.0.1');
    expect(plan.nodes.map((n) => [n.name, n.ip, n.prefixLen, n.netns, n.bridgePort, n.podCIDR, n.blocks])).toEqual([
      ['node-1', '10.0.1.5', 16, 'nl-n-node-1', 'n1', '10.244.1.0/24', ['10.244.1.0/26']],
      ['node-2', '10.0.1.6', 16, 'nl-n-node-2', 'n2', '10.244.2.0/24', ['10.244.2.0/26']],
      ['node-3', '10.0.1.7', 16, 'nl-n-node-3', 'n3', '10.244.3.0/24', ['10.244.3.0/26']],
    ]);
    // BGP: BIRD installs the routes, the plan programs none itself
    expect(plan.nodes.every((n) => n.routes.length === 0 && !n.tunnel)).toBe(true);
  });
  it('wires pods with ptp + host-local, requesting the fixed IP through CNI_ARGS', () => {
    const a = plan.pods.find((p) => p.name === 'pod-a')!;
    expect(a).toMatchObject({ node: 'node-1', ip: '10.244.1.5', netns: 'nl-p-default-pod-a', hostVeth: 'cali5e1c4d6c68c' });
    expect(a.cniConfig).toMatchObject({ type: 'ptp', mtu: 1500, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]] } });
    expect(a.cniArgs).toMatch(/(^|;)IP=10\.244\.1\.5($|;)/);
    expect(a.cniArgs).toMatch(/K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-a/);
    expect(a.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(a.resolvConf).toBe('search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    expect(a.hostsFile).toContain('10.244.1.5\tpod-a\n');
  });
  it('starts servers on the pods\' container ports and puts dnsmasq in the kube-dns endpoint pod', () => {
    expect(plan.pods.find((p) => p.name === 'backend-1')!.servers).toEqual([{ port: 8080, protocol: 'TCP', kind: 'http' }]);
    const dnsPod = plan.pods.find((p) => p.namespace === 'kube-system')!;
    expect(dnsPod.servers).toEqual([
      { port: 53, protocol: 'UDP', kind: 'dns' },
      { port: 9153, protocol: 'TCP', kind: 'http' },
    ]);
    expect(plan.dns).toMatchObject({ listen: '10.244.2.15', clusterIP: '10.96.0.10' });
    expect(plan.warnings).toEqual([]);
  });
  it('records where the test-bed differs from real Calico', () => {
    expect(plan.differences.join('\n')).toMatch(/ptp CNI plugin/);
    expect(plan.differences.join('\n')).toMatch(/metric 32/);
  });
});

describe('buildPlan (calico-vxlan, flannel)', () => {
  it('calico-vxlan: vxlan.calico with the model\'s VTEP address, routes via remote VTEPs onlink, ARP and FDB entries', () => {
    const plan = buildPlan(seed('cni=calico-vxlan'));
    const n1 = plan.nodes[0];
    expect(n1.tunnel).toMatchObject({ dev: 'vxlan.calico', vni: 4096, port: 4789, mtu: 1450, ip: '10.244.1.0' });
    expect(n1.tunnel!.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(n1.routes).toEqual([
      { dst: '10.244.1.0/26', type: 'blackhole', proto: '80' },
      { dst: '10.244.2.0/26', via: '10.244.2.0', dev: 'vxlan.calico', onlink: true },
      { dst: '10.244.3.0/26', via: '10.244.3.0', dev: 'vxlan.calico', onlink: true },
    ]);
    expect(n1.neighbours).toEqual([
      { ip: '10.244.2.0', mac: plan.nodes[1].tunnel!.mac, dev: 'vxlan.calico' },
      { ip: '10.244.3.0', mac: plan.nodes[2].tunnel!.mac, dev: 'vxlan.calico' },
    ]);
    expect(n1.fdb.map((f) => f.dst)).toEqual(['10.0.1.6', '10.0.1.7']);
    expect(plan.podMtu).toBe(1450);
    expect(plan.pods[0].cniConfig).toMatchObject({ mtu: 1450 });
  });
  it('flannel-vxlan: flannel.1 (VNI 1, 8472), bridge plugin on cni0 with the cluster route', () => {
    const plan = buildPlan(seed('cni=flannel-vxlan'));
    expect(plan.nodes[0].tunnel).toMatchObject({ dev: 'flannel.1', vni: 1, port: 8472, ip: '10.244.1.0' });
    expect(plan.nodes[0].routes[0]).toEqual({ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flannel.1', onlink: true });
    expect(plan.pods[0].cniConfig).toMatchObject({ type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, ipam: { routes: [{ dst: '10.244.0.0/16' }] } });
    expect(plan.pods[0].hostVeth).toBeUndefined();
  });
  it('flannel-host-gw: routes via the peer node on eth0', () => {
    const plan = buildPlan(seed('cni=flannel-host-gw'));
    expect(plan.nodes[0].tunnel).toBeUndefined();
    expect(plan.nodes[0].routes).toEqual([
      { dst: '10.244.2.0/24', via: '10.0.1.6', dev: 'eth0' },
      { dst: '10.244.3.0/24', via: '10.0.1.7', dev: 'eth0' },
    ]);
  });
  it('refuses a node outside the node network and a node on the gateway address', () => {
    const bad = seed();
    bad.nodes[0].ips = ['192.168.9.9'];
    expect(() => buildPlan(bad)).toThrow(/192\.168\.9\.9 is outside .*10\.0\.0\.0\/16/);
    const gw = seed();
    gw.nodes[0].ips = ['10.0.0.1'];
    expect(() => buildPlan(gw)).toThrow(/the node network's gateway address/);
  });
});

describe('dnsRecordArgs', () => {
  const t = seed();
  const args = dnsRecordArgs(t);
  it('serves the Services, SRV for named ports and pod A records of the zone', () => {
    expect(args).toContain('--local=/cluster.local/');
    expect(args).toContain(`--local-ttl=${t.settings.dns.ttl}`);
    expect(args).toContain('--host-record=backend.default.svc.cluster.local,10.96.5.20');
    expect(args).toContain('--host-record=kube-dns.kube-system.svc.cluster.local,10.96.0.10');
    expect(args).toContain('--host-record=10-244-1-5.default.pod.cluster.local,10.244.1.5');
    expect(args.some((a) => a.startsWith('--srv-host=_http._tcp.backend.default.svc.cluster.local,backend.default.svc.cluster.local,80,'))).toBe(true);
  });
  it('agrees with the CoreDNS model for every Service A record', () => {
    const dns = new CoreDns(t);
    for (const s of t.services) {
      const a = dns.answer(`${s.name}.${s.namespace}.svc.cluster.local`, 'A').answer.map((r) => r.data);
      const rec = args.find((x) => x.startsWith(`--host-record=${s.name}.${s.namespace}.svc.cluster.local,`));
      expect(rec?.split(',').slice(1)).toEqual(a);
    }
  });
});

describe('daemon configs', () => {
  const plan = buildPlan(seed());
  const n1 = plan.nodes[0];
  it('BIRD: router id, direct on eth0, kernel metric, blackholed blocks, an iBGP session per peer', () => {
    const c = birdConfig(plan, n1);
    expect(c).toContain('router id 10.0.1.5;');
    expect(c).toMatch(/protocol direct \{\n {2}ipv4;\n {2}interface "eth0";\n\}/);
    expect(c).toContain('  metric 32;');
    expect(c).toContain('  route 10.244.1.0/26 blackhole;');
    expect(c).toContain(`local 10.0.1.5 as 64512;`);
    expect(c).toContain('protocol bgp Mesh_10_0_1_6 from bgp_template {\n  neighbor 10.0.1.6 as 64512;');
    expect(c).toContain('protocol bgp Mesh_10_0_1_7 from bgp_template {');
    expect(c).not.toContain('neighbor 10.0.1.5 ');
    expect(birdConfig(plan, n1, { kernelMetric: 0 })).toContain('  metric 0;');
  });
  it('sshd: listens on the node IP only, keys only, no PAM', () => {
    const c = sshdConfig(n1);
    expect(c).toContain('ListenAddress 10.0.1.5\n');
    expect(c).toContain('PermitRootLogin prohibit-password\n');
    expect(c).toContain('PasswordAuthentication no\n');
    expect(c).toContain('UsePAM no\n');
    expect(c).toContain('AuthorizedKeysFile /run/netlab/ssh/authorized_keys\n');
    expect(sshdArgv(n1)).toEqual(withHostname('node-1', ['/usr/sbin/sshd', '-D', '-e', '-f', '/run/netlab/ssh/node-1/sshd_config']));
  });
  it('the SSH forward listens on 127.0.0.1 only and connects from inside the node namespace', () => {
    expect(sshForwardArgv(n1, 22201)).toEqual(['socat', 'TCP-LISTEN:22201,bind=127.0.0.1,fork,reuseaddr', 'EXEC:ip netns exec nl-n-node-1 socat STDIO TCP\\:10.0.1.5\\:22']);
  });
  it('dnsmasq binds the DNS pod\'s address only and never reads the host resolver', () => {
    const a = dnsmasqArgv(plan.dns!);
    expect(a).toEqual(expect.arrayContaining(['--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=10.244.2.15', '--keep-in-foreground']));
  });
  it('the HTTP responder answers with the pod name', () => {
    const s = httpScript('backend-1', 'default', 8080);
    expect(s).toContain("Content-Length: 10\\r\\n");
    expect(s).toContain('X-Netlab-Pod: default/backend-1');
  });
  it('the hosts file is kubelet\'s', () => {
    expect(kubeletHostsFile('10.244.1.5', 'pod-a').split('\n')[0]).toBe('# Kubernetes-managed hosts file.');
  });
});

describe('rules from the models', () => {
  const t = seed();
  it('kube-proxy: the prelude holds the jumps and kubelet chains, the restore document kube-proxy\'s own chains', () => {
    const k = kubeProxyFromModel(t, 'node-1');
    expect(k.prelude).toMatch(/^\*nat$/m);
    expect(k.prelude).toMatch(/^-A PREROUTING .*-j KUBE-SERVICES$/m);
    expect(k.prelude).not.toMatch(/^-A KUBE-SERVICES /m);
    expect(k.restore).toMatch(/^-A KUBE-SERVICES .*10\.96\.5\.20/m);
    expect(k.restore).toMatch(/^COMMIT$/m);
  });
  it('Calico policy: jumps inserted at the top of the built-in chains', () => {
    const p = calicoPolicyFromModel(t, 'node-1')!;
    expect(p.restore).toMatch(/^-I FORWARD 1 .*-j cali-FORWARD$/m);
    expect(p.restore).toMatch(/^-I INPUT 1 .*-j cali-INPUT$/m);
    // Only what felix appends stays -A: FORWARD's accept of policy-marked packets and its MARK, below kube-proxy's rules.
    expect(p.restore.match(/^-A (INPUT|FORWARD|OUTPUT) .*$/gm)).toEqual([
      '-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
      '-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000',
    ]);
    // felix's raw, mangle and nat tables too, each table's jumps counted from 1 (PREROUTING exists in all three).
    const tables = p.restore.split(/^(?=\*)/m).map((b) => [/^\*(\w+)/.exec(b)?.[1], b] as const);
    expect(tables.map(([n]) => n)).toEqual(['mangle', 'raw', 'filter', 'nat']);
    for (const [name, body] of tables) if (name !== 'filter') expect(body).toMatch(/^-I PREROUTING 1 .*-j cali-PREROUTING$/m);
    expect(tables.find(([n]) => n === 'nat')![1]).toMatch(/^-I POSTROUTING 1 .*-j cali-POSTROUTING$/m);
    expect(calicoPolicyFromModel(seed('cni=flannel-vxlan'), 'node-1')).toBeNull();
  });
});

describe('preflight', () => {
  const all = () => true;
  it('passes as root with everything installed', () => {
    expect(preflight(seed(), { uid: 0, exists: all })).toBe('calico-bgp');
  });
  it('refuses without root before anything else', () => {
    expect(() => preflight(seed(), { uid: 1000, exists: all })).toThrow(/needs root/);
  });
  it('names each missing binary with the Debian package that provides it', () => {
    try {
      preflight(seed(), { uid: 0, exists: (b) => b !== 'bird' && !b.endsWith('/ptp') });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TestbedError);
      const err = e as TestbedError;
      expect(err.code).toBe('missing-binary');
      expect(err.message).toContain('bird (Debian package bird2');
      expect(err.message).toContain('/usr/lib/cni/ptp (Debian package containernetworking-plugins');
      expect(err.hint).toBe('install them with: apt-get install containernetworking-plugins bird2');
    }
  });
  it('needs BIRD only in BGP mode and the bridge plugin only for flannel', () => {
    expect(requirements('calico-vxlan').map((r) => r.binary)).not.toContain('bird');
    expect(requirements('flannel-vxlan').map((r) => r.binary)).toContain('/usr/lib/cni/bridge');
  });
  it.each([
    ['cni=calico-ipip', /no IPIP; this mode \(calico-ipip\) is modelled only/],
    ['cni=cilium-geneve', /no Geneve\/eBPF \(Cilium\); this mode \(cilium-geneve\) is modelled only/],
    ['cni=weave-fastdp', /no Open vSwitch datapath/],
    ['kubeProxy=ipvs', /no IPVS; kube-proxy mode ipvs is modelled only/],
    ['cni.encryption=true', /no WireGuard; encryption is modelled only/],
  ])('refuses %s', (set, msg) => {
    expect(() => preflight(seed(set), { uid: 0, exists: all })).toThrow(msg);
  });
});

describe('pod addresses host-local cannot hand out', () => {
  it('refuses a pod on its range\'s network address up front, naming the pod, the range and the fix', () => {
    const t = seed();
    const pod = t.pods.find((p) => p.namespace === 'default' && p.name === 'pod-b')!;
    pod.ips = ['10.244.1.0'];
    expect(() => buildPlan(t)).toThrow(/pod default\/pod-b has 10\.244\.1\.0, the network address of 10\.244\.1\.0\/24/);
    try {
      buildPlan(t);
    } catch (e) {
      expect((e as { hint?: string }).hint).toMatch(/podIPOffset=2/);
    }
  });
  it('builds the same topology once the pod has a host address', () => {
    const t = seed();
    expect(buildPlan(t).pods.find((p) => p.name === 'pod-b')!.ip).toBe('10.244.1.6');
  });
});

describe('sysctlPath', () => {
  it('maps sysctl names to /proc/sys paths, keeping dotted interface names whole', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.cali5e1c4d6c68c.proxy_arp')).toBe('net/ipv4/conf/cali5e1c4d6c68c/proxy_arp');
    expect(sysctlPath('net.ipv4.conf.vxlan.calico.rp_filter')).toBe('net/ipv4/conf/vxlan.calico/rp_filter');
    expect(sysctlPath('net.ipv4.neigh.cali1.proxy_delay')).toBe('net/ipv4/neigh/cali1/proxy_delay');
  });
});

describe('checkRootUntouched', () => {
  const before: RootSnapshot = { addresses: ['eth0 192.0.2.2/24'], routes: ['main 0.0.0.0/0 unicast 192.0.2.1 eth0'], links: ['lo', 'eth0'] };
  const ranges = ['10.0.0.0/16', '10.244.0.0/16', '10.96.0.0/12'];
  it('accepts an unchanged namespace and changes unrelated to the test-bed', () => {
    expect(checkRootUntouched(before, before, ranges)).toEqual([]);
    expect(checkRootUntouched(before, { ...before, routes: [...before.routes, 'main 172.17.0.0/16 unicast - docker0'], links: [...before.links, 'docker0'] }, ranges)).toEqual([]);
  });
  it('flags addresses, routes and interfaces of the test-bed', () => {
    const after: RootSnapshot = {
      addresses: [...before.addresses, 'br0 10.0.0.1/16'],
      routes: [...before.routes, 'main 10.244.2.0/26 unicast 10.0.1.6 eth0', 'main 172.16.0.0/12 unicast 10.0.1.9 eth0'],
      links: [...before.links, 'nl-veth0', 'cali123'],
    };
    expect(checkRootUntouched(before, after, ranges)).toEqual([
      'new address in the root namespace: br0 10.0.0.1/16',
      'new route in the root namespace: main 10.244.2.0/26 unicast 10.0.1.6 eth0',
      'new route in the root namespace: main 172.16.0.0/12 unicast 10.0.1.9 eth0',
      'new interface in the root namespace: nl-veth0',
      'new interface in the root namespace: cali123',
    ]);
  });
});

describe('dual-stack (resources/samples/dual-stack.yaml): the IPv6 half', () => {
  const DUAL = readFileSync(join(__dirname, '..', '..', '..', 'resources', 'samples', 'dual-stack.yaml'), 'utf8');
  function dual(...set: string[]): Topology {
    const r = loadTopology([{ file: 'dual-stack.yaml', text: DUAL }], { set: ['podIPOffset=2', ...set] });
    if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
    return r.topology;
  }
  it('calico-vxlan: IPv6 node addresses and gateway, vxlan-v6.calico over the nodes\' IPv6 addresses, /122 blocks blackholed and routed via the peer VTEP', () => {
    const plan = buildPlan(dual());
    expect(plan.ipv6).toBe(true);
    expect(plan.warnings.filter((w) => /IPv6|dual-stack/.test(w))).toEqual([]);
    expect([plan.nodeCIDR6, plan.gateway6]).toEqual(['fd00:10::/64', 'fd00:10::1']);
    const [n1, n2] = plan.nodes;
    expect([n1.ip6, n1.prefixLen6, n1.podCIDR6, n1.blocks6]).toEqual(['fd00:10::1:5', 64, 'fd00:10:244:1::/64', ['fd00:10:244:1::/122']]);
    expect(n1.tunnel).toMatchObject({ dev: 'vxlan.calico', ip: '10.244.1.0' });
    expect(n1.tunnel6).toMatchObject({ dev: 'vxlan-v6.calico', vni: 4096, port: 4789, mtu: 1430, ip: 'fd00:10:244:1::' });
    expect(n1.routes).toEqual([
      { dst: '10.244.1.0/26', type: 'blackhole', proto: '80' },
      { dst: '10.244.2.0/26', via: '10.244.2.0', dev: 'vxlan.calico', onlink: true },
      { dst: 'fd00:10:244:1::/122', type: 'blackhole', proto: '80' },
      { dst: 'fd00:10:244:2::/122', via: 'fd00:10:244:2::', dev: 'vxlan-v6.calico', onlink: true },
    ]);
    expect(n1.neighbours[1]).toEqual({ ip: 'fd00:10:244:2::', mac: n2.tunnel6!.mac, dev: 'vxlan-v6.calico' });
    expect(n1.fdb.map((f) => `${f.dev} ${f.dst}`)).toEqual(['vxlan.calico 10.0.1.6', 'vxlan-v6.calico fd00:10::1:6']);
    expect(n1.sysctls).toEqual({ 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' });
  });
  it('pods: one ptp ADD with two host-local range sets and both fixed addresses in args.cni.ips; kubelet\'s hosts file has both', () => {
    const plan = buildPlan(dual());
    const pod = plan.pods.find((p) => p.node === 'node-1')!;
    expect([pod.ip, pod.ip6]).toEqual(['10.244.1.2', 'fd00:10:244:1::2']);
    expect(pod.cniConfig).toMatchObject({
      type: 'ptp',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }], [{ subnet: 'fd00:10:244:1::/64' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] },
      args: { cni: { ips: ['10.244.1.2', 'fd00:10:244:1::2'] } },
    });
    expect(pod.cniArgs).not.toMatch(/IP=/);
    expect(pod.hostsFile).toContain('10.244.1.2\tweb-66cd5dbf-wvq2c\nfd00:10:244:1::2\tweb-66cd5dbf-wvq2c\n');
    expect(plan.dns).toMatchObject({ listen6: expect.stringMatching(/^fd00:10:244:/), clusterIP6: 'fd00:10:96::a' });
    expect(dnsmasqArgv(plan.dns!)).toContain(`--listen-address=${plan.dns!.listen6}`);
    expect(plan.dns!.recordArgs).toContain('--host-record=web-v6.default.svc.cluster.local,fd00:10:96::c');
    expect(plan.differences.join('\n')).toMatch(/fe80::ecee:eeff:feee:eeee/);
    expect(plan.differences.join('\n')).toMatch(/accept_dad=0/);
  });
  it('Calico policy for IPv6: an ip6tables-restore document with the jumps inserted at the top and the cali60 sets created with family inet6', () => {
    const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-in, namespace: default }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }, { ipBlock: { cidr: "fd00:10:244:2::3/128" } }]
      ports: [{ port: 8080 }]
`;
    const r = loadTopology([{ file: 'dual-stack.yaml', text: DUAL }, { file: 'policy.yaml', text: POLICY }], { set: ['podIPOffset=2'] });
    const t = r.topology!;
    const p6 = calicoPolicy6FromModel(t, 'node-1')!;
    const p4 = calicoPolicyFromModel(t, 'node-1')!;
    expect(p6.restore).toMatch(/^\*filter$/m);
    expect(p6.restore).toMatch(/^-I FORWARD 1 .*-j cali-FORWARD$/m);
    expect(p6.restore).toMatch(/^-I INPUT 1 .*-j cali-INPUT$/m);
    expect(p6.restore.match(/^-A (INPUT|FORWARD|OUTPUT) .*$/gm)?.map((l) => /cali:(\S{16})/.exec(l)?.[1])).toEqual(['S93hcgKJrXEqnTfs', 'mp77cMpurHhyjLrM']);
    // dual-stack VXLAN: felix's IPv6 tunnel rules in ip6tables, with the nodes' IPv6 addresses in cali60all-vxlan-net
    expect(p6.restore).toMatch(/^-A cali-INPUT -p udp .*"Allow IPv6 VXLAN packets from allowed hosts" -m multiport --dports 4789 -m set --match-set cali60all-vxlan-net src -m addrtype --dst-type LOCAL -j ACCEPT$/m);
    expect(p6.ipsetRestore).toMatch(/^create cali60all-vxlan-net hash:net family inet6 /m);
    expect(p6.restore).toMatch(/^-A cali-pi-\S+ -s fd00:10:244:2::3\/128 -p tcp .*--dports 8080 -j MARK --set-xmark 0x10000\/0x10000$/m);
    expect(p6.restore).toMatch(/^-A cali-wl-to-host -p ipv6-icmp .* -m icmp6 --icmpv6-type 135 -j ACCEPT$/m);
    expect(p4.restore).not.toMatch(/fd00|icmp6/);
    const webs6 = t.pods.filter((p) => p.labels.app === 'web').map((p) => p.ips[1]);
    const set6 = /^create (cali60s:\S+) hash:net family inet6 hashsize 1024 maxelem 1048576$/m.exec(p6.ipsetRestore)?.[1];
    expect(set6).toHaveLength(31);
    expect(p6.ipsetRestore.split('\n').filter((l) => l.startsWith(`add ${set6} `)).sort()).toEqual(webs6.map((ip) => `add ${set6} ${ip}`).sort());
    expect(p6.restore).toContain(`-m set --match-set ${set6} src`);
    expect(p4.ipsetRestore).toMatch(/^create cali40s:\S+ hash:net family inet hashsize/m);
    expect(p4.ipsetRestore).not.toMatch(/inet6|fd00/);
    expect(calicoPolicy6FromModel(dual('cni=flannel-vxlan'), 'node-1')).toBeNull();
    expect(buildPlan(t).differences.join('\n')).toMatch(/Calico policy is programmed for IPv6 as felix does it/);
  });
  it('pods with both families listen on [::] with ipv6only=0; IPv4-only pods as before', () => {
    expect(httpServerArgv('/x.sh', 8080, true)[1]).toBe('TCP6-LISTEN:8080,ipv6only=0,fork,reuseaddr');
    expect(httpServerArgv('/x.sh', 8080)[1]).toBe('TCP-LISTEN:8080,fork,reuseaddr');
    expect(udpEchoArgv(53, '/l', true)).toContain('UDP6-RECVFROM:53,ipv6only=0,fork,reuseaddr');
  });
  it('calico-bgp: BIRD carries IPv6 over IPv6 sessions (as bird6), with ipv6 channels in direct, kernel and static', () => {
    const plan = buildPlan(dual('cni=calico-bgp'));
    expect(plan.nodes[0].routes).toEqual([]);
    const c = birdConfig(plan, plan.nodes[0]);
    expect(c).toMatch(/protocol direct \{\n {2}ipv4;\n {2}ipv6;\n {2}interface "eth0";\n\}/);
    expect(c).toMatch(/protocol kernel kernel6 \{\n {2}metric 32;\n {2}ipv6 \{/);
    expect(c).toContain('protocol static calico_blocks_v6 {\n  ipv6;\n  route fd00:10:244:1::/122 blackhole;\n}');
    expect(c).toContain('local fd00:10::1:5 as 64512;');
    expect(c).toContain('protocol bgp Mesh_fd00_10__1_6 from bgp_template_v6 {\n  neighbor fd00:10::1:6 as 64512;');
    expect(c).toContain('protocol bgp Mesh_10_0_1_6 from bgp_template {');
    expect(plan.differences.join('\n')).toMatch(/bird6/);
  });
  it('flannel-vxlan: flannel-v6.1 and the IPv6 cluster route through the bridge plugin', () => {
    const plan = buildPlan(dual('cni=flannel-vxlan'));
    const n1 = plan.nodes[0];
    expect(n1.tunnel6).toMatchObject({ dev: 'flannel-v6.1', ip: 'fd00:10:244:1::' });
    expect(n1.routes).toContainEqual({ dst: 'fd00:10:244:2::/64', via: 'fd00:10:244:2::', dev: 'flannel-v6.1', onlink: true });
    expect(plan.pods[0].cniConfig).toMatchObject({ type: 'bridge', ipam: { routes: [{ dst: '10.244.0.0/16' }, { dst: 'fd00:10:244::/56' }] } });
  });
  it('flannel-host-gw and calico-vxlan-crosssubnet: IPv6 routes via the peer\'s IPv6 address on eth0', () => {
    expect(buildPlan(dual('cni=flannel-host-gw')).nodes[0].routes).toContainEqual({ dst: 'fd00:10:244:2::/64', via: 'fd00:10::1:6', dev: 'eth0' });
    expect(buildPlan(dual('cni=calico-vxlan-crosssubnet')).nodes[0].routes).toContainEqual({ dst: 'fd00:10:244:2::/122', via: 'fd00:10::1:6', dev: 'eth0', proto: '80', onlink: true });
  });
  it('refuses up front a pod on the address host-local keeps as its gateway (the first host address)', () => {
    const r = loadTopology([{ file: 'dual-stack.yaml', text: DUAL }], {});
    expect(() => buildPlan(r.topology!)).toThrow(/10\.244\.1\.1, the first host address of 10\.244\.1\.0\/24, which host-local reserves as the range's gateway/);
  });
  it('builds only the IPv4 half, saying why, when a node has no IPv6 address', () => {
    const t = dual();
    t.nodes[1].ips = t.nodes[1].ips.filter((ip) => !ip.includes(':'));
    const plan = buildPlan(t);
    expect(plan.ipv6).toBe(false);
    expect(plan.warnings.join('\n')).toMatch(/builds its IPv4 part only: node node-2 has no IPv6 address/);
    expect(plan.nodes.every((n) => !n.ip6 && !n.tunnel6 && n.routes.every((r) => !r.dst.includes(':')))).toBe(true);
    expect(plan.pods.every((p) => !p.ip6 && !('args' in p.cniConfig))).toBe(true);
  });
  it('the root-namespace check covers IPv6 addresses, routes and the IPv6 tunnel devices', () => {
    const before: RootSnapshot = { addresses: ['eth0 fd00::2/64'], routes: ['main fd00::/64 unicast - eth0'], links: ['lo', 'eth0'] };
    const after: RootSnapshot = {
      addresses: [...before.addresses, 'br0 fd00:10::1/64'],
      routes: [...before.routes, 'main fd00:10:244:2::/122 unicast fd00:10::1:6 eth0', 'main 2001:db8::/32 unicast fd00:10::1:6 eth0', 'main 2001:db9::/32 unicast fe80::1 eth0'],
      links: [...before.links, 'vxlan-v6.calico', 'flannel-v6.1'],
    };
    expect(checkRootUntouched(before, after, ['fd00:10::/64', 'fd00:10:244::/56', 'fd00:10:96::/112'])).toEqual([
      'new address in the root namespace: br0 fd00:10::1/64',
      'new route in the root namespace: main fd00:10:244:2::/122 unicast fd00:10::1:6 eth0',
      'new route in the root namespace: main 2001:db8::/32 unicast fd00:10::1:6 eth0',
      'new interface in the root namespace: vxlan-v6.calico',
      'new interface in the root namespace: flannel-v6.1',
    ]);
  });
});
