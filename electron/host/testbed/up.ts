// `testbed up`: builds the topology in network namespaces, step by step.
// Order of safety: the state file names each namespace before it is made and
// each process right after it starts; on any failure everything built so far
// is removed (testbedDown) before the error is rethrown.

import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Topology } from '../../../core/model';
import { parseIpRouteJson, routePrefix } from '../../../core/parse';
import {
  BIRD_DIR,
  CNI_DIR,
  LOG_DIR,
  SERVER_DIR,
  SSH_DIR,
  birdArgv,
  birdConfig,
  birdSocket,
  dnsmasqArgv,
  dnsmasqName,
  httpScript,
  httpServerArgv,
  sshForwardArgv,
  sshdArgv,
  sshdConfig,
  udpEchoArgv,
} from './configs';
import { testbedDown } from './down';
import { TestbedError } from './errors';
import { type DaemonProcess, ipBatch, isAlive, run, sleep, spawnDaemon, tailLog, waitFor } from './exec';
import { CNI_BIN_DIR, preflight } from './preflight';
import { ETC_NETNS, NET_NS, RUN_DIR } from './names';
import { type PlanNode, type PlanPod, type PlanTunnel, type TestbedPlan, buildPlan } from './plan';
import { type KubeProxyProvider, type PolicyProvider, calicoPolicy6FromModel, calicoPolicyFromModel, kubeProxy6FromModel, kubeProxyFromModel } from './rules';
import { type RootSnapshot, checkRootUntouched, rootSnapshot } from './safety';
import { type TestbedState, loadState, newState, saveState } from './state';

export interface StepEvent {
  /** 1-based step number. */
  step: number;
  total: number;
  message: string;
}

export interface UpOptions {
  onStep?: (e: StepEvent) => void;
  /** kube-proxy rules per node (default: core/kubeproxy). */
  kubeProxy?: KubeProxyProvider;
  /** kube-proxy's IPv6 rules per node for ip6tables-restore (default: core/kubeproxy, dual-stack topologies only). */
  kubeProxy6?: KubeProxyProvider;
  /** Policy ipsets and filter rules per node (default: core/policy, Calico only). */
  policy?: PolicyProvider;
  /** IPv6 policy ipsets (family inet6) and ip6tables filter rules per node (default: core/policy, Calico only; dual-stack topologies only). */
  policy6?: PolicyProvider;
  /** First 127.0.0.1 port tried for the SSH forwards (default 22201). */
  sshBasePort?: number;
  /** BIRD kernel metric (default 32, BIRD 2's default). */
  birdKernelMetric?: number;
  /** How long to wait for BGP routes (default 30 s). */
  routeTimeoutMs?: number;
  /** Pods wired at once (default 4). */
  concurrency?: number;
}

export const UP_STEPS = [
  'Checking requirements',
  'Creating the node network and node namespaces',
  'Wiring pods with the real CNI plugins',
  'Programming routes between nodes',
  'Applying kube-proxy rules',
  'Applying network policy (iptables + ipset)',
  'Starting cluster DNS (dnsmasq)',
  'Starting servers in pods',
  'Starting sshd on each node and the 127.0.0.1 forwards',
  'Waiting for routes and services',
  'Checking the root namespace is untouched',
] as const;

/** Runs `fn` over items with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** The link-local address of every Calico host veth (EUI-64 of ee:ee:ee:ee:ee:ee): the pods' IPv6 next hop. */
export const CALICO_LINK_LOCAL = 'fe80::ecee:eeff:feee:eeee';

/**
 * IPv6 duplicate address detection off, set in each namespace right after it
 * is created (before any device exists, so every device inherits `default`;
 * the kernel takes the larger of `all` and the device's value): addresses are
 * usable at once instead of staying "tentative" for about a second, and no
 * `nodad` flag is needed on each address.
 */
const NO_DAD: Record<string, string> = { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' };

function writeFile(path: string, text: string, mode = 0o644): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
}

class Builder {
  readonly state: TestbedState;
  private step = 0;
  private stepStart = Date.now();

  constructor(
    readonly topology: Topology,
    readonly plan: TestbedPlan,
    readonly opts: UpOptions,
  ) {
    this.state = newState(plan.topology, plan.mode);
    this.state.families = plan.ipv6 ? [4, 6] : [4];
    this.state.differences = plan.differences;
    this.state.warnings = plan.warnings;
  }

  save(): void {
    saveState(this.state);
  }

  begin(index: number): void {
    if (this.step > 0) this.state.timings[UP_STEPS[this.step - 1]] = Date.now() - this.stepStart;
    this.step = index + 1;
    this.stepStart = Date.now();
    // step 1 (requirements) was announced before the plan existed
    if (index > 0) this.opts.onStep?.({ step: this.step, total: UP_STEPS.length, message: UP_STEPS[index] });
  }

  endSteps(): void {
    if (this.step > 0) this.state.timings[UP_STEPS[this.step - 1]] = Date.now() - this.stepStart;
  }

  async addNetns(name: string, ipv6 = this.plan.ipv6): Promise<void> {
    this.state.netns.push(name);
    this.save();
    await run('ip', ['netns', 'add', name], { what: `create network namespace ${name}` });
    if (ipv6) await this.sysctl(name, NO_DAD);
  }

  /** Writes /proc/sys/net/… inside the namespace (each namespace has its own net sysctls). */
  async sysctl(netns: string, values: Record<string, string>): Promise<void> {
    const args = Object.entries(values).flatMap(([k, v]) => [sysctlPath(k), v]);
    if (!args.length) return;
    await run('sh', ['-c', 'while [ $# -gt 1 ]; do printf %s "$2" > "/proc/sys/$1" || exit 1; shift 2; done', 'sysctl', ...args], { netns, what: `set sysctls in ${netns}` });
  }

  async daemon(name: string, netns: string | undefined, argv: string[], logName: string): Promise<DaemonProcess> {
    const p = await spawnDaemon({ name, netns, argv, log: `${LOG_DIR}/${logName}.log` });
    this.state.processes.push(p);
    this.save();
    return p;
  }

  /** Fails with the daemon's log when it exits within `ms`. */
  async expectAlive(p: DaemonProcess, ms = 150): Promise<void> {
    await sleep(ms);
    if (!isAlive(p.pid)) {
      throw new TestbedError('daemon-failed', `${p.name} exited right after it started`, `see ${p.log}`, tailLog(p.log));
    }
  }

  // ------------------------------------------------------------------ steps

  async nodeNetwork(): Promise<void> {
    const { plan } = this;
    await this.addNetns(NET_NS);
    const br0 = ['link set lo up', 'link add br0 type bridge', 'link set br0 up', `addr add ${plan.gateway}/${plan.nodes[0].prefixLen} dev br0`];
    if (plan.ipv6) br0.push(`addr add ${plan.gateway6}/${plan.nodes[0].prefixLen6} dev br0`);
    await ipBatch(NET_NS, br0, 'create br0 in nl-net');
    await this.sysctl(NET_NS, { 'net.ipv4.ip_forward': '0' });
    const mtu = this.topology.settings.nodeMTU;
    await pool(plan.nodes, 4, async (n) => {
      await this.addNetns(n.netns);
      await run('ip', ['-n', NET_NS, 'link', 'add', n.bridgePort, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(mtu), 'netns', n.netns], {
        what: `create ${n.name}'s eth0 (veth to br0 in nl-net)`,
      });
      await ipBatch(NET_NS, [`link set ${n.bridgePort} master br0`, `link set ${n.bridgePort} up`], `attach ${n.name} to br0`);
      const eth0 = ['link set lo up', `addr add ${n.ip}/${n.prefixLen} dev eth0`];
      if (n.ip6) eth0.push(`addr add ${n.ip6}/${n.prefixLen6} dev eth0`);
      eth0.push('link set eth0 up', `route add default via ${plan.gateway} dev eth0`);
      if (n.ip6) eth0.push(`route add ::/0 via ${plan.gateway6} dev eth0`);
      await ipBatch(n.netns, eth0, `configure ${n.name}'s eth0`);
      await this.sysctl(n.netns, n.sysctls);
      if (n.tunnel) await this.tunnel(n, n.tunnel, n.ip, 32);
      if (n.tunnel6) await this.tunnel(n, n.tunnel6, n.ip6!, 128);
      this.state.nodes.push({ name: n.name, ip: n.ip, ip6: n.ip6, netns: n.netns });
      this.save();
    });
    this.state.nodes.sort((a, b) => plan.nodes.findIndex((x) => x.name === a.name) - plan.nodes.findIndex((x) => x.name === b.name));
  }

  /**
   * A VXLAN device the CNI's daemon creates at start (before any pod, so
   * interface indexes follow a real node's); vxlan-v6.calico and flannel-v6.1
   * have the node's IPv6 address as the outer source.
   */
  private async tunnel(n: PlanNode, t: PlanTunnel, local: string, hostLen: 32 | 128): Promise<void> {
    try {
      await ipBatch(
        n.netns,
        [`link add ${t.dev} type vxlan id ${t.vni} local ${local} dev eth0 dstport ${t.port} nolearning`, `link set ${t.dev} address ${t.mac} mtu ${t.mtu}`, `link set ${t.dev} up`, `addr add ${t.ip}/${hostLen} dev ${t.dev}`],
        `create ${n.name}'s ${t.dev}`,
      );
    } catch (e) {
      if (e instanceof TestbedError && /Unknown device type|not supported/i.test(e.detail ?? '')) {
        throw new TestbedError('unsupported-mode', 'the local test-bed kernel has no VXLAN; this mode is modelled only', 'use calico-bgp or flannel-host-gw', e.detail);
      }
      throw e;
    }
  }

  private async cni(pod: PlanPod, node: PlanNode, plugin: string, config: Record<string, unknown>, ifname: string): Promise<string> {
    const r = await run(`${CNI_BIN_DIR}/${plugin}`, [], {
      netns: node.netns,
      input: JSON.stringify(config),
      env: {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: pod.containerId,
        CNI_NETNS: `/var/run/netns/${pod.netns}`,
        CNI_IFNAME: ifname,
        CNI_PATH: CNI_BIN_DIR,
        CNI_ARGS: pod.cniArgs,
      },
      check: false,
      what: `CNI ADD (${plugin}) for pod ${pod.namespace}/${pod.name}`,
    });
    if (r.code !== 0) {
      let msg = r.stdout.trim() || r.stderr.trim();
      try {
        const e = JSON.parse(r.stdout) as { code?: number; msg?: string; details?: string };
        msg = `${e.msg ?? ''}${e.details ? ` (${e.details})` : ''} [CNI error code ${e.code}]`;
      } catch {
        /* not JSON */
      }
      throw new TestbedError('cni-failed', `the ${plugin} CNI plugin failed to add pod ${pod.namespace}/${pod.name}: ${msg}`, 'netlab testbed down removes the half-wired pod; check the pod IP is inside its node\'s pod CIDR');
    }
    return r.stdout;
  }

  async pods(): Promise<void> {
    const { plan } = this;
    mkdirSync(`${CNI_DIR}/results`, { recursive: true });
    const byNode = new Map(plan.nodes.map((n) => [n.name, n]));
    const cniPods = plan.pods.filter((p) => !p.hostNetwork);
    if (cniPods.length && !existsSync(ETC_NETNS)) {
      this.state.sharedDirs.push(ETC_NETNS);
      this.save();
    }
    // nodes in parallel; the pods of one node in topology order, so host interface indexes are stable
    const groups = plan.nodes.map((n) => cniPods.filter((p) => p.node === n.name)).filter((g) => g.length);
    await pool(groups, this.opts.concurrency ?? 4, async (group) => {
      for (const pod of group) await this.wirePod(pod, byNode.get(pod.node)!);
    });
    for (const pod of plan.pods.filter((p) => p.hostNetwork)) {
      this.state.pods.push({ namespace: pod.namespace, name: pod.name, node: pod.node, ip: pod.ip, ip6: pod.ip6, netns: pod.netns, containerId: pod.containerId, servers: [] });
    }
    const order = new Map(plan.pods.map((p, i) => [`${p.namespace}/${p.name}`, i]));
    this.state.pods.sort((a, b) => order.get(`${a.namespace}/${a.name}`)! - order.get(`${b.namespace}/${b.name}`)!);
    this.save();
  }

  private async wirePod(pod: PlanPod, node: PlanNode): Promise<void> {
    await this.addNetns(pod.netns, !!pod.ip6);
    const etc = `${ETC_NETNS}/${pod.netns}`;
    this.state.files.push(etc);
    this.save();
    mkdirSync(etc, { recursive: true });
    writeFile(`${etc}/resolv.conf`, pod.resolvConf);
    writeFile(`${etc}/hosts`, pod.hostsFile);
    writeFile(`${etc}/hostname`, `${pod.name}\n`);
    await this.cni(pod, node, 'loopback', { cniVersion: '1.0.0', name: 'cni-loopback', type: 'loopback' }, 'lo');
    const out = await this.cni(pod, node, String(pod.cniConfig.type), pod.cniConfig, 'eth0');
    const resultPath = `${CNI_DIR}/results/${pod.namespace}_${pod.name}.json`;
    writeFile(resultPath, out, 0o644);
    let result: { interfaces?: { name: string; sandbox?: string }[] };
    try {
      result = JSON.parse(out);
    } catch {
      throw new TestbedError('cni-failed', `the CNI plugin printed no JSON result for pod ${pod.namespace}/${pod.name}`, `see ${resultPath}`, out.slice(0, 2000));
    }
    const hostSide = result.interfaces?.find((i) => !i.sandbox && i.name !== 'cni0');
    if (!hostSide) throw new TestbedError('cni-failed', `the CNI result for ${pod.namespace}/${pod.name} names no host interface`, `see ${resultPath}`);
    let hostVeth = hostSide.name;
    if (this.plan.plugin === 'calico') {
      hostVeth = pod.hostVeth!;
      await this.calicoify(pod, node, hostSide.name, hostVeth);
    }
    this.state.pods.push({
      namespace: pod.namespace,
      name: pod.name,
      node: pod.node,
      ip: pod.ip,
      ip6: pod.ip6,
      netns: pod.netns,
      containerId: pod.containerId,
      hostVeth,
      cniResultPath: resultPath,
      servers: [],
    });
    this.save();
  }

  /** After ptp: make the pod look like a Calico workload (see the differences kept in the state file). */
  private async calicoify(pod: PlanPod, node: PlanNode, ptpName: string, cali: string): Promise<void> {
    // host side: rename to cali…, Calico's fixed MAC, no address, /32 route scope link, proxy ARP;
    // for IPv6 a /128 route, and the link-local the kernel derives from ee:ee:ee:ee:ee:ee when
    // the link comes up (fe80::ecee:eeff:feee:eeee) is the pods' next hop
    const host = [
      `link set ${ptpName} down`,
      `link set ${ptpName} name ${cali}`,
      `link set ${cali} address ee:ee:ee:ee:ee:ee`,
      `addr flush dev ${cali}`,
      `link set ${cali} up`,
      `route replace ${pod.ip}/32 dev ${cali} scope link`,
    ];
    if (pod.ip6) host.push(`route replace ${pod.ip6}/128 dev ${cali}`);
    await ipBatch(node.netns, host, `make ${pod.namespace}/${pod.name}'s host veth look like Calico's`);
    const sys: Record<string, string> = {
      [`net.ipv4.conf.${cali}.proxy_arp`]: '1',
      [`net.ipv4.neigh.${cali}.proxy_delay`]: '0',
      [`net.ipv4.conf.${cali}.forwarding`]: '1',
      [`net.ipv4.conf.${cali}.rp_filter`]: '1',
    };
    if (pod.ip6) {
      // felix's IPv6 settings for a workload interface
      sys[`net.ipv6.conf.${cali}.proxy_ndp`] = '1';
      sys[`net.ipv6.conf.${cali}.forwarding`] = '1';
    }
    await this.sysctl(node.netns, sys);
    // pod side: /32 address, link-local next hop
    const planNode = this.plan.nodes.find((n) => n.name === pod.node)!;
    const prefix = planNode.podCIDR.split('/')[1];
    await ipBatch(
      pod.netns,
      [
        `addr del ${pod.ip}/${prefix} dev eth0`,
        `addr add ${pod.ip}/32 dev eth0`,
        'route add 169.254.1.1 dev eth0 scope link',
        'route add default via 169.254.1.1 dev eth0',
      ],
      `give ${pod.namespace}/${pod.name} Calico's /32 address and 169.254.1.1 routes`,
    );
    if (pod.ip6) {
      // ptp's IPv6 routes (via its gateway, proto boot) stay when the address goes (unlike IPv4's): remove them
      await run('ip', ['-6', '-n', pod.netns, 'route', 'flush', 'dev', 'eth0', 'proto', 'boot'], { what: `remove ptp's IPv6 routes in ${pod.netns}` });
      const prefix6 = ((pod.cniConfig.ipam as { ranges: { subnet: string }[][] }).ranges[1]?.[0]?.subnet ?? `${planNode.podCIDR6}`).split('/')[1];
      await ipBatch(
        pod.netns,
        [`addr del ${pod.ip6}/${prefix6} dev eth0`, `addr add ${pod.ip6}/128 dev eth0`, `route add ::/0 via ${CALICO_LINK_LOCAL} dev eth0`],
        `give ${pod.namespace}/${pod.name} Calico's /128 address and the default route via ${CALICO_LINK_LOCAL}`,
      );
    }
  }

  async routes(): Promise<void> {
    const { plan } = this;
    if (plan.mode === 'calico-bgp') {
      mkdirSync(BIRD_DIR, { recursive: true });
      for (const n of plan.nodes) {
        writeFile(`${BIRD_DIR}/${n.name}.conf`, birdConfig(plan, n, { kernelMetric: this.opts.birdKernelMetric }));
        const p = await this.daemon(`bird ${n.name}`, n.netns, birdArgv(n), `bird-${n.name}`);
        await this.expectAlive(p, 50);
      }
      return;
    }
    await pool(plan.nodes, 4, async (n) => {
      const lines: string[] = [];
      for (const nb of n.neighbours) lines.push(`neigh replace ${nb.ip} lladdr ${nb.mac} dev ${nb.dev} nud permanent`);
      for (const r of n.routes) {
        const parts = ['route', 'replace'];
        if (r.type) parts.push(r.type);
        parts.push(r.dst);
        if (r.via) parts.push('via', r.via);
        if (r.dev) parts.push('dev', r.dev);
        if (r.proto) parts.push('proto', r.proto);
        if (r.onlink) parts.push('onlink');
        lines.push(parts.join(' '));
      }
      await ipBatch(n.netns, lines, `program ${n.name}'s routes and VXLAN neighbours`);
      if (n.fdb.length) {
        await run('bridge', ['-n', n.netns, '-batch', '-'], {
          input: `${n.fdb.map((f) => `fdb append ${f.mac} dev ${f.dev} dst ${f.dst} self permanent`).join('\n')}\n`,
          what: `add ${n.name}'s VXLAN forwarding entries`,
        });
      }
    });
  }

  async kubeProxy(): Promise<void> {
    const provider = this.opts.kubeProxy ?? kubeProxyFromModel;
    await pool(this.plan.nodes, 3, async (n) => {
      const input = provider(this.topology, n.name);
      mkdirSync(`${RUN_DIR}/iptables`, { recursive: true });
      writeFile(`${RUN_DIR}/iptables/${n.name}.prelude`, input.prelude);
      writeFile(`${RUN_DIR}/iptables/${n.name}.restore`, input.restore);
      await run('iptables-restore', ['--noflush'], { netns: n.netns, input: input.prelude, what: `kubelet/kube-proxy chains and jumps on ${n.name}` });
      await run('iptables-restore', ['--noflush', '--counters'], { netns: n.netns, input: input.restore, what: `kube-proxy rules on ${n.name} (iptables-restore --noflush --counters)` });
      if (!this.plan.ipv6) return;
      // dual-stack: kube-proxy runs a second proxier for IPv6 and writes with ip6tables-restore
      const input6 = (this.opts.kubeProxy6 ?? kubeProxy6FromModel)(this.topology, n.name);
      writeFile(`${RUN_DIR}/iptables/${n.name}.prelude6`, input6.prelude);
      writeFile(`${RUN_DIR}/iptables/${n.name}.restore6`, input6.restore);
      await run('ip6tables-restore', ['--noflush'], { netns: n.netns, input: input6.prelude, what: `kubelet/kube-proxy IPv6 chains and jumps on ${n.name}` });
      await run('ip6tables-restore', ['--noflush', '--counters'], { netns: n.netns, input: input6.restore, what: `kube-proxy IPv6 rules on ${n.name} (ip6tables-restore --noflush --counters)` });
    });
  }

  async policy(): Promise<boolean> {
    const provider = this.opts.policy ?? calicoPolicyFromModel;
    let any = false;
    await pool(this.plan.nodes, 3, async (n) => {
      const input = provider(this.topology, n.name);
      if (!input) return;
      any = true;
      if (input.ipsetRestore) await run('ipset', ['restore'], { netns: n.netns, input: input.ipsetRestore, what: `policy ipsets on ${n.name}` });
      writeFile(`${RUN_DIR}/iptables/${n.name}.policy`, input.restore);
      await run('iptables-restore', ['--noflush'], { netns: n.netns, input: input.restore, what: `Calico policy chains on ${n.name}` });
      if (!this.plan.ipv6) return;
      // dual-stack: felix programs the same chains with ip6tables and the cali60 sets with family inet6
      const input6 = (this.opts.policy6 ?? calicoPolicy6FromModel)(this.topology, n.name);
      if (!input6) return;
      if (input6.ipsetRestore) await run('ipset', ['restore'], { netns: n.netns, input: input6.ipsetRestore, what: `IPv6 policy ipsets on ${n.name}` });
      writeFile(`${RUN_DIR}/iptables/${n.name}.policy6`, input6.restore);
      await run('ip6tables-restore', ['--noflush'], { netns: n.netns, input: input6.restore, what: `Calico IPv6 policy chains on ${n.name} (ip6tables-restore --noflush)` });
    });
    return any;
  }

  async dns(): Promise<void> {
    if (!this.plan.dns) return;
    mkdirSync(`${RUN_DIR}/dns`, { recursive: true });
    for (const dns of [this.plan.dns, ...this.plan.dnsReplicas]) {
      const p = await this.daemon(`dnsmasq ${dns.pod.namespace}/${dns.pod.name}`, dns.pod.netns, dnsmasqArgv(dns), `${dnsmasqName(dns)}-stderr`);
      await this.expectAlive(p);
      const st = this.state.pods.find((x) => x.namespace === dns.pod.namespace && x.name === dns.pod.name);
      st?.servers.push('53/UDP dns', '53/TCP dns');
      this.save();
    }
  }

  async servers(): Promise<void> {
    mkdirSync(SERVER_DIR, { recursive: true });
    const started: DaemonProcess[] = [];
    for (const pod of this.plan.pods) {
      const st = this.state.pods.find((x) => x.namespace === pod.namespace && x.name === pod.name)!;
      // pods with an IPv6 address listen on both families (one [::] socket, IPv4 mapped)
      const dual = !!pod.ip6;
      for (const s of pod.servers) {
        if (s.kind === 'dns') continue;
        const label = `${pod.namespace}/${pod.name}:${s.port}/${s.protocol}`;
        let argv: string[];
        if (s.kind === 'http') {
          const script = `${SERVER_DIR}/${pod.namespace}_${pod.name}_${s.port}.sh`;
          writeFile(script, httpScript(pod.name, pod.namespace, s.port), 0o755);
          argv = httpServerArgv(script, s.port, dual);
        } else argv = udpEchoArgv(s.port, `${SERVER_DIR}/${pod.namespace}_${pod.name}_${s.port}_udp.lock`, dual);
        started.push(await this.daemon(`${s.kind} ${label}`, pod.netns, argv, `server-${pod.namespace}_${pod.name}_${s.port}_${s.protocol}`));
        st.servers.push(`${s.port}/${s.protocol} ${s.kind}`);
      }
    }
    this.save();
    if (started.length) {
      await sleep(150);
      for (const p of started) if (!isAlive(p.pid)) throw new TestbedError('daemon-failed', `${p.name} exited right after it started`, `see ${p.log}`, tailLog(p.log));
    }
  }

  async sshd(): Promise<void> {
    const { plan } = this;
    mkdirSync(SSH_DIR, { recursive: true, mode: 0o700 });
    if (!existsSync('/run/sshd')) {
      mkdirSync('/run/sshd', { mode: 0o755 });
      this.state.sharedDirs.push('/run/sshd');
      this.save();
    }
    const clientKey = `${SSH_DIR}/client_ed25519`;
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'netlab-testbed-client', '-f', clientKey], { what: 'generate the SSH client key' });
    writeFile(`${SSH_DIR}/authorized_keys`, readFileSync(`${clientKey}.pub`, 'utf8'), 0o600);
    this.state.clientKey = clientKey;
    let port = this.opts.sshBasePort ?? 22201;
    for (const n of plan.nodes) {
      const dir = `${SSH_DIR}/${n.name}`;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const key = `${dir}/ssh_host_ed25519_key`;
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${n.name}`, '-f', key], { what: `generate ${n.name}'s host key` });
      const fp = (await run('ssh-keygen', ['-l', '-f', `${key}.pub`], { what: 'read the host key fingerprint' })).stdout.trim().split(' ')[1];
      writeFile(`${dir}/sshd_config`, sshdConfig(n), 0o600);
      const p = await this.daemon(`sshd ${n.name}`, n.netns, sshdArgv(n), `sshd-${n.name}`);
      port = await freePort(port);
      const f = await this.daemon(`ssh forward 127.0.0.1:${port} -> ${n.name}`, undefined, sshForwardArgv(n, port), `forward-${n.name}`);
      const st = this.state.nodes.find((x) => x.name === n.name)!;
      st.sshPort = port;
      st.hostKeyFingerprint = fp;
      st.hostKeyPath = `${key}.pub`;
      this.save();
      await this.expectAlive(p, 0);
      await this.expectAlive(f, 0);
      port++;
    }
  }

  async waitReady(): Promise<void> {
    const { plan } = this;
    const timeout = this.opts.routeTimeoutMs ?? 30_000;
    const checks: Promise<void>[] = [];
    if (plan.mode === 'calico-bgp') {
      for (const n of plan.nodes) {
        const want = plan.nodes.filter((p) => p !== n).flatMap((p) => [...p.blocks, ...(plan.ipv6 ? p.blocks6 : [])]);
        checks.push(
          (async () => {
            let missing = want;
            const ok = await waitFor(
              async () => {
                const fams = plan.ipv6 ? ['-4', '-6'] : ['-4'];
                const rs = await Promise.all(fams.map((f) => run('ip', [f, '-n', n.netns, '-j', 'route', 'show', 'proto', 'bird'], { check: false })));
                const have = new Set(rs.flatMap((r) => parseIpRouteJson(r.stdout).records.filter((x) => x.type === 'unicast').map((x) => routePrefix(x))));
                missing = want.filter((w) => !have.has(w));
                return missing.length === 0 ? true : null;
              },
              timeout,
              150,
            );
            if (!ok) {
              const status = await run('birdc', ['-s', birdSocket(n.name), 'show', 'protocols'], { check: false });
              throw new TestbedError(
                'timeout',
                `BGP routes did not arrive on ${n.name} within ${timeout} ms (missing ${missing.join(', ')})`,
                `check the BIRD sessions (birdc -s ${birdSocket(n.name)} show protocols all) and ${LOG_DIR}/bird-${n.name}.log`,
                `${status.stdout}${status.stderr}`,
              );
            }
          })(),
        );
      }
    }
    for (const n of this.state.nodes) {
      checks.push(
        (async () => {
          const banner = await waitFor(() => sshBanner(n.sshPort!), 10_000, 100);
          if (!banner) throw new TestbedError('timeout', `sshd on ${n.name} did not answer through 127.0.0.1:${n.sshPort}`, `see ${LOG_DIR}/sshd-${n.name}.log`, tailLog(`${LOG_DIR}/sshd-${n.name}.log`));
        })(),
      );
    }
    for (const dns of plan.dns ? [plan.dns, ...plan.dnsReplicas] : []) {
      const name = dnsmasqName(dns);
      checks.push(
        (async () => {
          const ok = await waitFor(() => (/started, version/.test(tailLog(`${LOG_DIR}/${name}.log`, 100_000)) ? true : null), 5000, 50);
          if (!ok) throw new TestbedError('timeout', `dnsmasq in ${dns.pod.namespace}/${dns.pod.name} did not start`, `see ${LOG_DIR}/${name}.log`, tailLog(`${LOG_DIR}/${name}-stderr.log`));
        })(),
      );
    }
    const results = await Promise.allSettled(checks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const p of this.state.processes) {
      if (!isAlive(p.pid)) throw new TestbedError('daemon-failed', `${p.name} is no longer running`, `see ${p.log}`, tailLog(p.log));
    }
  }
}

/**
 * `net.ipv4.conf.<iface>.<key>` → `net/ipv4/conf/<iface>/<key>`; interface names
 * may contain dots (vxlan.calico), so only the fixed parts are split.
 */
export function sysctlPath(key: string): string {
  const p = key.split('.');
  if (p.length > 4 && p[0] === 'net' && (p[2] === 'conf' || p[2] === 'neigh')) return [p[0], p[1], p[2], p.slice(3, -1).join('.'), p[p.length - 1]].join('/');
  return p.join('/');
}

/** The first port >= start that 127.0.0.1 can listen on. */
async function freePort(start: number): Promise<number> {
  for (let port = start; port < start + 200; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new TestbedError('command-failed', `no free 127.0.0.1 port in ${start}-${start + 199} for the SSH forwards`, 'pass another base port (--ssh-port)');
}

/** Connects to 127.0.0.1:port and returns the SSH banner line, or null. */
export function sshBanner(port: number, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string | null) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.startsWith('SSH-') ? buf.slice(0, nl).trim() : null);
    });
    sock.on('error', () => done(null));
    sock.on('close', () => done(null));
  });
}

/**
 * Builds the topology. Returns the final state (also in /run/netlab/state.json).
 * Throws a TestbedError (after removing everything it built) when it cannot.
 */
export async function testbedUp(t: Topology, opts: UpOptions = {}): Promise<TestbedState> {
  opts.onStep?.({ step: 1, total: UP_STEPS.length, message: UP_STEPS[0] });
  preflight(t);
  const plan = buildPlan(t);
  const existing = loadState();
  if (existing && (existing.phase === 'up' || (existing.phase === 'building' && isAlive(existing.builderPid) && existing.builderPid !== process.pid))) {
    throw new TestbedError('already-up', `a test-bed (${existing.topology}, ${existing.mode}) is already ${existing.phase === 'up' ? 'up' : 'being built'}`, 'run netlab testbed down first');
  }
  // leftovers of a crashed run (or anything else with our prefix): remove them first
  await testbedDown();
  const before: RootSnapshot = await rootSnapshot();
  const b = new Builder(t, plan, opts);
  try {
    mkdirSync(LOG_DIR, { recursive: true });
    b.save();
    b.begin(0);
    b.begin(1);
    await b.nodeNetwork();
    b.begin(2);
    await b.pods();
    b.begin(3);
    await b.routes();
    b.begin(4);
    await b.kubeProxy();
    b.begin(5);
    if (!(await b.policy())) b.state.differences.push('No network policy data plane: flannel does not enforce NetworkPolicy.');
    b.begin(6);
    await b.dns();
    b.begin(7);
    await b.servers();
    b.begin(8);
    await b.sshd();
    b.begin(9);
    await b.waitReady();
    b.begin(10);
    const after = await rootSnapshot();
    const violations = checkRootUntouched(before, after, [plan.nodeCIDR, ...t.settings.nodeCIDRs, ...t.settings.clusterCIDRs, ...t.settings.serviceCIDRs]);
    if (violations.length) {
      throw new TestbedError('safety', 'the root network namespace changed during up (the test-bed must never touch it)', 'this is a bug in netlab; everything built has been removed', violations.join('\n'));
    }
    b.endSteps();
    b.state.phase = 'up';
    b.save();
    return b.state;
  } catch (e) {
    b.endSteps();
    b.state.phase = 'failed';
    b.state.error = e instanceof Error ? e.message : String(e);
    try {
      b.save();
    } catch {
      /* keep the original error */
    }
    await testbedDown().catch(() => undefined);
    throw e;
  }
}

/** Removes /run/sshd if we created it and sshd left it empty. */
export function removeSharedDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty or gone: leave it */
  }
}
