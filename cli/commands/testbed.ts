// netlab testbed up|down|status|exec: the local test-bed in network namespaces.

import { fileURLToPath } from 'node:url';
import {
  TestbedError,
  testbedDown,
  testbedExecInteractive,
  testbedStatus,
  testbedUp,
  type TestbedStatus,
} from '../../electron/host/testbed';
import { parseVerbArgs } from '../args';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type CliIO, type Command } from '../types';
import { table } from './ipam';

export const SEED_SAMPLE = fileURLToPath(new URL('../../resources/samples/seed.yaml', import.meta.url));

function printError(e: unknown, io: CliIO): number {
  if (e instanceof TestbedError) {
    io.err(`netlab testbed: error [${e.code}] ${e.message}\n  hint: ${e.hint}\n`);
    if (e.detail) io.err(`${e.detail.replace(/^/gm, '  | ')}\n`);
    return EXIT.ERRORS;
  }
  throw e;
}

export function formatStatus(s: TestbedStatus): string {
  if (!s.phase) return 'test-bed: down (nothing built)\n';
  const lines: string[] = [];
  lines.push(`test-bed: ${s.phase}${s.up ? '' : s.error ? ` (${s.error})` : ''} — topology ${s.topology}, ${s.mode}, since ${s.createdAt}`);
  lines.push('');
  lines.push(
    table(
      ['NODE', 'IP', 'NAMESPACE', 'SSH', 'HOST KEY'],
      s.nodes.map((n) => [n.name, n.ip6 ? `${n.ip} ${n.ip6}` : n.ip, `${n.netns}${n.present ? '' : ' (missing)'}`, n.ssh ?? '-', n.hostKeyFingerprint ?? '-']),
    ).trimEnd(),
  );
  lines.push('');
  lines.push(
    table(
      ['POD', 'NODE', 'IP', 'NAMESPACE', 'SERVERS'],
      s.pods.map((p) => [p.pod, p.node, p.ip6 ? `${p.ip} ${p.ip6}` : p.ip, `${p.netns}${p.present ? '' : ' (missing)'}`, p.servers.join(', ') || '-']),
    ).trimEnd(),
  );
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  const down = s.processes.filter((p) => !p.running);
  lines.push('');
  lines.push(`processes: ${s.processes.length - down.length} of ${s.processes.length} running${down.length ? ` (stopped: ${down.map((p) => p.name).join(', ')})` : ''}`);
  if (s.clientKey) {
    const n = s.nodes.find((x) => x.ssh);
    if (n) lines.push(`ssh: ssh -i ${s.clientKey} -p ${n.ssh!.split(':')[1]} root@127.0.0.1   (host key ${n.hostKeyFingerprint})`);
  }
  return `${lines.join('\n')}\n`;
}

export const testbed: Command = {
  name: 'testbed',
  summary: 'build the topology as Linux network namespaces (real CNI plugins, BIRD/VXLAN, iptables, dnsmasq, sshd); up|down|status|exec',
  usage: `usage: netlab testbed up [--ssh-port N] [--set key=value]… [FILE…]
       netlab testbed down
       netlab testbed status [--json]
       netlab testbed exec NODE|NAMESPACE/POD -- COMMAND [ARG…]

up      builds the topology (default: the seed sample) on this machine, as root:
        one network namespace per node (nl-n-NODE) and per pod (nl-p-NS-POD), the
        node network on a bridge in nl-net, pods wired by the real CNI plugins
        (/usr/lib/cni), routes by BIRD 2 (calico-bgp) or VXLAN (calico-vxlan,
        flannel-vxlan), kube-proxy iptables rules, Calico-style policy, dnsmasq
        as cluster DNS, small servers on the pods' ports, and sshd on each node
        reachable only through 127.0.0.1 (see status for the ports).
        Modes: calico-bgp, calico-vxlan, calico-vxlan-crosssubnet, flannel-vxlan,
        flannel-host-gw (choose with --set cni=…). Dual-stack topologies are built
        with both families (IPv6 node addresses, pods with both addresses,
        vxlan-v6.calico / flannel-v6.1 or BIRD IPv6 sessions, ip6tables rules).
        Nothing is ever added to the root namespace except the 127.0.0.1 SSH
        forwards.
down    removes everything the test-bed created (namespaces, processes, files,
        rules), also after a crash; safe to run any time.
status  lists nodes, SSH endpoints and host-key fingerprints, pods, processes.
exec    runs a command inside a node's or a pod's namespace, e.g.
        netlab testbed exec default/pod-a -- curl -s http://backend.default.svc.cluster.local`,
  async run({ argv, set, json, io }) {
    const sub = argv[0];
    const rest = argv.slice(1);
    switch (sub) {
      case 'up': {
        const { values, positionals } = parseVerbArgs(rest, { 'ssh-port': { type: 'string' } });
        const files = positionals.length ? positionals : [SEED_SAMPLE];
        const r = await loadFromFiles(files, set, io);
        const counts = countDiagnostics(r.diagnostics);
        if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err, { summary: counts.errors > 0 });
        if (!r.topology || counts.errors) return EXIT.ERRORS;
        const sshBasePort = values['ssh-port'] !== undefined ? Number(values['ssh-port']) : undefined;
        if (sshBasePort !== undefined && !(Number.isInteger(sshBasePort) && sshBasePort > 1023 && sshBasePort < 65000)) throw new UsageError('--ssh-port takes a port number between 1024 and 64999');
        const t0 = Date.now();
        try {
          await testbedUp(r.topology, {
            sshBasePort,
            onStep: (e) => io.out(`[${e.step}/${e.total}] ${e.message}\n`),
          });
        } catch (e) {
          return printError(e, io);
        }
        io.out(`test-bed up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n\n`);
        io.out(formatStatus(testbedStatus()));
        return EXIT.OK;
      }
      case 'down': {
        if (rest.length) throw new UsageError('down takes no arguments');
        try {
          const t0 = Date.now();
          const r = await testbedDown();
          if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
          else if (r.namespaces.length || r.killed.length || r.files.length) {
            io.out(`removed ${r.namespaces.length} namespaces, stopped ${r.killed.length} processes, removed ${r.files.length} files/directories in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
          } else io.out('nothing to remove: the test-bed is down\n');
          if (r.leftovers.length) {
            io.err(`netlab testbed: could not remove:\n${r.leftovers.map((l) => `  ${l}`).join('\n')}\n`);
            return EXIT.ERRORS;
          }
          return EXIT.OK;
        } catch (e) {
          return printError(e, io);
        }
      }
      case 'status': {
        if (rest.length) throw new UsageError('status takes no arguments');
        const s = testbedStatus();
        io.out(json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
        return EXIT.OK;
      }
      case 'exec': {
        const target = rest[0];
        const cmd = rest.slice(1);
        if (!target || cmd.length === 0) throw new UsageError('exec needs a target and a command: netlab testbed exec default/pod-a -- curl -s http://backend');
        try {
          return await testbedExecInteractive(target, cmd);
        } catch (e) {
          return printError(e, io);
        }
      }
      case undefined:
        throw new UsageError('give a subcommand: up, down, status or exec');
      default:
        throw new UsageError(`unknown subcommand "${sub}" (use up, down, status or exec)`);
    }
  },
};
