// Every CNI model walks the seed's three-node cluster: the request is
// answered, the encapsulation seen on the wire is the one the CNI model says
// it uses between those nodes, and each plugin's own data plane shows up
// (Calico's veth + netfilter, Cilium's eBPF programs, Flannel's and Weave's
// bridges, Antrea's OVS pipeline). kube-proxy modes: iptables, IPVS, eBPF.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CNI_MODES, type CniPlugin } from '../model/types';
import { traceContext } from './context';
import { trace, TraceState } from './index';
import { renderHubble } from './tcpdump';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const ALL = (Object.keys(CNI_MODES) as CniPlugin[]).flatMap((p) => CNI_MODES[p].map((m) => `${p}-${m}`));
const CURL = 'curl http://backend.default.svc.cluster.local';
const hasKubeChains = (rules: string[] | undefined) => (rules ?? []).some((l) => /KUBE-(SVC|SEP)-/.test(l));

describe.each(ALL)('%s', (cni) => {
  for (const kp of ['iptables', 'ipvs', 'ebpf'] as const) {
    it(`kube-proxy ${kp}: the cross-node request is answered with the right encapsulation`, () => {
      const t = loadText(SEED, [`cni=${cni}`, `kubeProxy=${kp}`]);
      const ctx = traceContext(t);
      const r = trace(t, 'default/pod-a', CURL, { endpoint: '10.244.2.8' });
      expect(r.ok, r.dropped?.text).toBe(true);
      expect(r.events.find((e) => e.phase === 'request' && e.kind === 'deliver')?.at.element).toBe('pod/default/backend-1');
      const expected = ctx.encapsulationBetween('node-1', 'node-2');
      const seen = new Set(r.events.filter((e) => e.phase === 'request' && e.kind === 'encap').map((e) => e.headers.outer!.kind));
      expect([...seen]).toEqual(expected === 'none' ? [] : [expected]);
      // The reply reaches pod-a, which sees the Service address.
      const got = r.events.find((e) => e.phase === 'reply' && e.kind === 'deliver')!;
      expect(got.at.element).toBe('pod/default/pod-a');
      const seenByApp = r.events.some((e) => e.phase === 'reply' && e.kind === 'reverse-nat' && e.action.includes('10.96.5.20:80'));
      expect(seenByApp).toBe(true);
      // Which component translates the Service.
      const svc = r.services.find((s) => s.service === 'default/backend:80')!;
      const plugin = cni.split('-')[0];
      const mode = plugin === 'antrea' ? 'antrea-proxy' : kp === 'ebpf' ? 'cilium-socket-lb' : plugin === 'cilium' ? 'cilium-bpf-lxc' : kp;
      expect(svc.mode).toBe(mode);
      const kube = r.events.some((e) => hasKubeChains(e.rules));
      expect(kube).toBe(mode === 'iptables');
      const ipvsSets = r.events.some((e) => e.rules?.some((l) => l.includes('--match-set KUBE-CLUSTER-IP')));
      expect(ipvsSets).toBe(mode === 'ipvs');
    });
  }
});

describe('plugin data planes on the path', () => {
  const kinds = (cni: string, kp = 'iptables') => {
    const r = trace(loadText(SEED, [`cni=${cni}`, `kubeProxy=${kp}`]), 'default/pod-a', 'tcp://10.96.5.20:80', { endpoint: '10.244.2.8' });
    return { r, kinds: new Set(r.events.map((e) => e.kind)) };
  };

  it('Cilium with kube-proxy replacement: socket-LB at connect(), eBPF programs, no netfilter KUBE chains, hubble lines', () => {
    const { r } = kinds('cilium-vxlan', 'ebpf');
    expect(r.events.some((e) => hasKubeChains(e.rules))).toBe(false);
    expect(r.events.some((e) => e.kind === 'netfilter')).toBe(false);
    const lb = r.events.find((e) => e.kind === 'service')!;
    expect(lb.action).toContain('bpf_sock (cgroup/connect4) socket-LB');
    // The packet on the pod's own eth0 already carries the backend address.
    const onVeth = r.events.find((e) => e.kind === 'veth' && e.phase === 'request')!;
    expect(onVeth.headers.ip.dst).toBe('10.244.2.8');
    const hub = renderHubble(r).trimEnd().split('\n');
    expect(hub.length).toBeGreaterThanOrEqual(6);
    for (const l of hub) expect(l).toMatch(/^Jan {2}1 \d\d:\d\d:\d\d\.\d{3}: \S+ \((ID:\d+|host|world|remote-node)\) (->|<-) \S+ \((ID:\d+|host|world|remote-node)\) (from-endpoint|to-overlay|to-endpoint|to-stack) FORWARDED \(TCP Flags: (SYN|SYN, ACK)\)$/);
    expect(hub[0]).toContain('default/pod-a:52345');
    expect(hub[0]).toContain('-> default/backend-1:8080');
  });

  it('Cilium without kube-proxy replacement: bpf_lxc translates ClusterIPs per packet, and reverses it for the reply', () => {
    const { r } = kinds('cilium-native');
    expect(r.events.find((e) => e.kind === 'dnat')!.action).toMatch(/^bpf_lxc DNAT 10\.96\.5\.20:80 → 10\.244\.2\.8:8080$/);
    expect(r.events.find((e) => e.kind === 'reverse-nat')!.action).toMatch(/^BPF reverse NAT 10\.244\.2\.8:8080 → 10\.96\.5\.20:80$/);
  });

  it('Cilium native routing: without kube-proxy replacement the backend node\'s host stack forwards the request (netfilter, conntrack) both ways; with it, BPF redirects', () => {
    const legacy = trace(loadText(SEED, ['cni=cilium-native', 'kubeProxy=iptables']), 'default/pod-a', CURL, { endpoint: '10.244.2.8' });
    expect(legacy.ok, legacy.dropped?.text).toBe(true);
    const onNode2 = (r: typeof legacy, phase: string) => r.events.filter((e) => e.phase === phase && e.at.node === 'node-2').map((e) => e.kind);
    // Request and reply both pass node-2's FORWARD chain, so conntrack sees the connection from its first packet.
    expect(onNode2(legacy, 'request')).toEqual(expect.arrayContaining(['bpf', 'netfilter', 'route', 'conntrack']));
    expect(legacy.events.find((e) => e.phase === 'request' && e.at.node === 'node-2' && e.kind === 'bpf')!.detail).toContain('legacy host routing');
    expect(legacy.conntrack['node-2'].some((l) => l.includes('dport=8080') && l.includes('[ASSURED]'))).toBe(true);
    const kpr = trace(loadText(SEED, ['cni=cilium-native', 'kubeProxy=ebpf']), 'default/pod-a', CURL, { endpoint: '10.244.2.8' });
    expect(kpr.ok, kpr.dropped?.text).toBe(true);
    expect(onNode2(kpr, 'request')).not.toContain('netfilter');
  });

  it('core/cni and the walk agree on who translates ClusterIPs for Cilium, with and without kube-proxy replacement', () => {
    for (const kp of ['iptables', 'ipvs', 'ebpf'] as const) {
      const t = loadText(SEED, ['cni=cilium-native', `kubeProxy=${kp}`]);
      const ctx = traceContext(t);
      const notes = ctx.nodeDp('node-1').notes.join(' ');
      const r = trace(t, 'default/pod-a', CURL, { endpoint: '10.244.2.8' });
      const mode = r.services.find((s) => s.service === 'default/backend:80')!.mode;
      if (kp === 'ebpf') {
        expect(mode).toBe('cilium-socket-lb');
        expect(notes).toContain('no KUBE-* iptables chains');
      } else {
        // The node's description says bpf_lxc translates pod ClusterIP traffic, and the walk does exactly that.
        expect(mode).toBe('cilium-bpf-lxc');
        expect(notes).toContain('translated per packet by bpf_lxc');
        expect(notes).not.toMatch(/translated by iptables\/IPVS before Cilium/);
        expect(r.events.some((e) => hasKubeChains(e.rules))).toBe(false);
      }
    }
  });

  it('Flannel: the cni0 bridge on both ends, flannel.1 VXLAN with VNI 1 on UDP 8472', () => {
    const { r, kinds: k } = kinds('flannel-vxlan');
    expect(k.has('bridge')).toBe(true);
    const enc = r.events.find((e) => e.kind === 'encap')!;
    expect(enc.at.iface).toBe('flannel.1');
    expect(enc.headers.outer).toMatchObject({ udp: { dport: 8472 }, vxlan: { vni: 1 } });
  });

  it('Flannel, two pods on one node: the frame is bridged on cni0 with its own MACs and TTL (br_netfilter still runs FORWARD)', () => {
    const t = loadText(SEED, ['cni=flannel-vxlan']);
    const r = trace(t, 'default/pod-a', 'tcp://10.244.1.6:8080');
    expect(r.ok, r.dropped?.text).toBe(true);
    const syn = r.events.filter((e) => e.phase === 'request');
    const leftPod = syn.find((e) => e.kind === 'veth' && e.at.element === 'pod/default/pod-a')!;
    const arrived = syn.find((e) => e.kind === 'veth' && e.at.element === 'pod/default/pod-b')!;
    expect(arrived.headers.eth).toEqual(leftPod.headers.eth); // no MAC rewrite anywhere on the bridge
    expect(arrived.headers.ip.ttl).toBe(64);
    expect(syn.some((e) => e.hook === 'FORWARD' && e.action.includes('bridged frame'))).toBe(true);
    expect(syn.filter((e) => e.kind === 'bridge').flatMap((e) => e.changed)).toEqual([]);
  });

  it("Flannel, a Service endpoint behind the same bridge: br_netfilter's bridged DNAT (no TTL decrement, only the destination MAC rewritten); a hairpin is masqueraded to cni0's address", () => {
    const t = loadText(SEED, ['cni=flannel-vxlan']);
    // backend-1 and CoreDNS are both on node-2's cni0
    const dns = trace(t, 'default/backend-1', 'dns backend');
    const q = dns.events.filter((e) => e.phase === 'dns' && e.packet.startsWith('DNS query 1 '));
    const left = q.find((e) => e.kind === 'veth' && e.at.element === 'pod/default/backend-1')!;
    const bridged = q.find((e) => e.kind === 'bridge' && e.action.startsWith('cni0: bridged DNAT'))!;
    expect(bridged.changed).toEqual(['eth.dst']);
    const reached = q.find((e) => e.kind === 'deliver')!;
    expect(reached.headers.ip.ttl).toBe(64);
    expect(reached.headers.eth?.src).toBe(left.headers.eth?.src);
    expect(q.some((e) => e.kind === 'route' && e.at.element === 'node/node-2')).toBe(false); // not routed by the node
    // backend-2 → the backend Service → itself: hairpin, masqueraded to node-3's cni0 address (as the test-bed kernel does)
    const hp = trace(t, 'default/backend-2', 'tcp://10.96.5.20:80', { endpoint: '10.244.3.9:8080' });
    expect(hp.events.find((e) => e.kind === 'bridge' && e.action.startsWith('cni0: bridged DNAT'))?.detail).toContain('hairpin');
    expect(hp.events.find((e) => e.kind === 'snat')?.action).toMatch(/^MASQUERADE 10\.244\.3\.9:\d+ → 10\.244\.3\.1:\d+$/);
    expect(hp.events.find((e) => e.phase === 'request' && e.kind === 'deliver')?.headers.ip.ttl).toBe(64);
  });

  it('Calico IPIP: protocol 4, no UDP header', () => {
    const { r } = kinds('calico-ipip');
    const enc = r.events.find((e) => e.kind === 'encap')!;
    expect(enc.headers.outer).toMatchObject({ kind: 'ipip', ip: { protocol: 4 } });
    expect(enc.headers.outer!.udp).toBeUndefined();
    expect(enc.headers.outer!.ip.length).toBe(enc.headers.ip.length + 20);
  });

  it('Antrea: the OVS pipeline with AntreaProxy and Geneve on UDP 6081; conntrack zone 65520', () => {
    const { r, kinds: k } = kinds('antrea-geneve');
    expect(k.has('ovs')).toBe(true);
    expect(r.events.find((e) => e.kind === 'service')!.action).toContain('AntreaProxy');
    expect(r.events.find((e) => e.kind === 'encap')!.headers.outer).toMatchObject({ kind: 'geneve', udp: { dport: 6081 } });
    expect(r.conntrack['node-1'].some((l) => l.includes('zone=65520'))).toBe(true);
  });

  it('Weave fastdp: VXLAN on UDP 6784 between peers; pod-to-pod traffic is bridged (no routing, TTL unchanged)', () => {
    const t = loadText(SEED, ['cni=weave-fastdp']);
    const r = trace(t, 'default/pod-a', 'tcp://10.244.2.8:8080');
    expect(r.ok).toBe(true);
    expect(r.events.find((e) => e.kind === 'encap')!.headers.outer).toMatchObject({ udp: { dport: 6784 } });
    const delivered = r.events.find((e) => e.phase === 'request' && e.kind === 'deliver')!;
    expect(delivered.headers.ip.ttl).toBe(64);
  });

  it('IPVS: the ClusterIP is local (kube-ipvs0), IPVS schedules at INPUT, no KUBE-SVC chains', () => {
    const { r } = kinds('calico-bgp', 'ipvs');
    expect(r.events.some((e) => e.kind === 'route' && e.rule?.includes('dev kube-ipvs0'))).toBe(true);
    expect(r.events.find((e) => e.kind === 'service')!.action).toContain('IPVS TCP 10.96.5.20:80 rr');
    expect(r.events.some((e) => e.rules?.some((l) => l.includes('KUBE-CLUSTER-IP')))).toBe(true);
  });
});

describe('other sources and destinations', () => {
  const t = loadText(SEED);

  it('same node, pod → pod IP: one node, no wire', () => {
    const r = trace(t, 'default/pod-a', 'ping 10.244.1.6');
    expect(r.ok).toBe(true);
    expect(r.events.some((e) => e.kind === 'wire')).toBe(false);
    expect(r.events.find((e) => e.phase === 'request' && e.kind === 'deliver')!.headers.icmp).toMatchObject({ type: 8, text: expect.stringMatching(/^echo request, id \d+, seq 1$/) });
    expect(r.events.find((e) => e.phase === 'reply' && e.kind === 'deliver')!.headers.icmp!.type).toBe(0);
  });

  it('the node itself (host network) → Service: nat OUTPUT chains, then routing again after DNAT', () => {
    const r = trace(t, 'node:node-3', 'tcp://10.96.5.20:80', { endpoint: '10.244.3.9' });
    expect(r.ok).toBe(true);
    const out = r.events.find((e) => e.kind === 'netfilter' && e.hook === 'OUTPUT')!;
    expect(out.rules!.some((l) => l.startsWith('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'))).toBe(true);
    expect(r.events.some((e) => e.kind === 'route' && e.action.startsWith('re-route after DNAT'))).toBe(true);
    expect(r.source.hostNetwork).toBe(true);
  });

  it('IPv6 on the dual-stack sample: the walk is family-aware and says where the CNI model stops', () => {
    const ds = loadText(readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8'));
    const pod = ds.pods.find((p) => p.namespace === 'default' && p.name.startsWith('web'))!;
    const r = trace(ds, `default/${pod.name}`, 'tcp://[fd00:10:96::b]:80');
    expect(r.family).toBe(6);
    expect(r.events[0].headers.ip.version).toBe(6);
    const v6routes = traceContext(ds).podDp(pod).routes.some((x) => x.family === 6 && x.table === 'main' && !x.dst.startsWith('fe80:'));
    if (v6routes) expect(r.ok, r.dropped?.text).toBe(true);
    else expect(r.dropped?.text).toContain('IPv6 data planes are not modelled yet');
    // IPv4 on the same cluster works.
    expect(trace(ds, `default/${pod.name}`, 'curl http://web').ok).toBe(true);
  });

  it('a pod that does not exist, or a request that cannot be read, is a TraceInputError with a hint', () => {
    expect(() => trace(t, 'default/nope', CURL)).toThrow(/no pod "default\/nope"/);
    expect(() => trace(t, 'default/pod-a', 'gopher://x')).toThrow(/unknown scheme/);
  });
});

describe('state between walks', () => {
  it('ClientIP affinity: with a shared TraceState every connection from pod-a sticks to the first endpoint (xt_recent)', () => {
    const t = loadText(`${SEED}
---
apiVersion: v1
kind: Service
metadata: { name: sticky, namespace: default }
spec:
  clusterIP: 10.96.7.7
  selector: { app: backend }
  sessionAffinity: ClientIP
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`);
    const state = new TraceState();
    const picks = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      picks.add(trace(t, 'default/pod-a', 'tcp://10.96.7.7:80', { seed, state, srcPort: 40000 + seed }).services[0].chosen!);
      state.advance(1);
    }
    expect(picks.size).toBe(1);
    const fresh = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) fresh.add(trace(t, 'default/pod-a', 'tcp://10.96.7.7:80', { seed }).services[0].chosen!);
    expect(fresh.size).toBe(2);
  });

  it('IPVS rr: consecutive connections rotate over the real servers', () => {
    const t = loadText(SEED, ['kubeProxy=ipvs']);
    const state = new TraceState();
    const picks = [1, 2, 3, 4].map((i) => trace(t, 'default/pod-a', 'tcp://10.96.5.20:80', { state, srcPort: 40000 + i }).services[0].chosen);
    expect(picks).toEqual(['10.244.2.8:8080', '10.244.3.9:8080', '10.244.2.8:8080', '10.244.3.9:8080']);
  });

  it('IPVS: the translated packet leaves the client node through LOCAL_OUT (filter OUTPUT), never FORWARD; the next node forwards it as usual', () => {
    for (const cni of ['calico-bgp', 'flannel-vxlan']) {
      const r = trace(loadText(SEED, ['kubeProxy=ipvs', `cni=${cni}`]), 'default/pod-a', 'tcp://10.96.5.20:80', { endpoint: '10.244.2.8:8080' });
      expect(r.ok, r.dropped?.text).toBe(true);
      const syn = r.events.filter((e) => e.phase === 'request');
      const n1 = syn.filter((e) => e.at.node === 'node-1' && e.kind === 'netfilter').map((e) => e.hook);
      expect(n1, cni).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
      expect(syn.find((e) => e.at.node === 'node-1' && e.hook === 'OUTPUT')?.action).toContain('LOCAL_OUT');
      // IPVS takes it at LOCAL_IN, after filter INPUT
      const order = syn.filter((e) => e.at.node === 'node-1').map((e) => (e.hook === 'INPUT' ? 'INPUT' : e.action.startsWith('IPVS NAT') ? 'IPVS' : e.hook === 'OUTPUT' ? 'OUTPUT' : '')).filter(Boolean);
      expect(order).toEqual(['INPUT', 'IPVS', 'OUTPUT']);
      expect(syn.some((e) => e.at.node === 'node-2' && e.hook === 'FORWARD')).toBe(true);
      // The reply: IPVS's own connection entry rewrites the source back to the VIP at FORWARD (not nf_nat at POSTROUTING).
      const back = r.events.find((e) => e.phase === 'reply' && e.kind === 'reverse-nat' && e.at.node === 'node-1')!;
      expect(back.action).toBe('IPVS reverse NAT: 10.244.2.8:8080 → 10.96.5.20:80');
      expect(back.detail).toContain('ip_vs_reply4');
    }
    // iptables mode keeps conntrack's reverse NAT
    const ipt = trace(loadText(SEED), 'default/pod-a', 'tcp://10.96.5.20:80', { endpoint: '10.244.2.8:8080' });
    expect(ipt.events.find((e) => e.phase === 'reply' && e.kind === 'reverse-nat')?.action).toBe('reverse NAT (un-DNAT): 10.244.2.8:8080 → 10.96.5.20:80');
  });
});

describe('Calico WireGuard policy routing in the walk', () => {
  it("the pod packet takes felix's rule 99 into table 1 (wireguard.cali); the encrypted packet's fwmark sends it past table 1 to main (eth0)", () => {
    const r = trace(loadText(SEED, ['encryption=true']), 'default/pod-a', 'tcp://10.244.2.8:8080');
    expect(r.ok, r.dropped?.text).toBe(true);
    const syn = r.events.filter((e) => e.phase === 'request');
    const route = syn.find((e) => e.kind === 'route' && e.at.netns === 'node/node-1')!;
    expect(route.rule).toBe('10.244.2.0/26 dev wireguard.cali table 1 scope link');
    expect(route.detail).toContain('policy rule "99: not from all fwmark 0x100000/0x100000 lookup 1" → table 1');
    const encap = syn.find((e) => e.kind === 'encap')!;
    expect(encap.detail).toContain('fwmark 0x100000');
    expect(encap.detail).toContain('rule "32766: from all lookup main" → 10.0.0.0/16 dev eth0');
    // node-2 throws its own block back to main: the local pod route
    const arrive = syn.find((e) => e.kind === 'route' && e.at.netns === 'node/node-2')!;
    expect(arrive.detail).toContain('policy rule "32766: from all lookup main"');
    expect(arrive.rule).toMatch(/^10\.244\.2\.8 dev cali\w+ scope link$/);
  });
});
