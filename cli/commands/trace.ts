// netlab trace TOPOLOGY… --from NS/POD --to URL|IP:PORT: the packet walk.

import { formatUs, trace, TraceInputError, type TraceEvent, type TraceOptions, type TraceOutput } from '../../core/trace';
import { parseVerbArgs } from '../args';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type Command } from '../types';

function intOpt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) throw new UsageError(`--${name} ${s}: expected an integer ${min}..${max}`);
  return Number(s);
}

function eventLines(e: TraceEvent): string[] {
  const where = e.at.iface ? `${e.at.element} ${e.at.iface}` : e.at.element;
  const head = `${String(e.seq).padStart(3)}. [${e.phase}] ${where}: ${e.action}  (${e.verdict}, ${formatUs(e.latencyUs)})`;
  const out = [head];
  const rules = e.rules ?? (e.rule ? [e.rule] : []);
  for (const r of rules) for (const l of r.split('\n')) out.push(`       ${l}`);
  if (e.conntrack) out.push(`       conntrack: ${e.conntrack}`);
  if (e.changed.length) out.push(`       changed: ${e.changed.join(', ')}`);
  if (e.hubble) out.push(`       hubble: ${e.hubble}`);
  if (e.drop) out.push(`       DROP (${e.drop.reason}): ${e.drop.text}`);
  return out;
}

export function formatTrace(r: TraceOutput, verbose: boolean): string {
  const lines: string[] = [];
  lines.push(`${r.source.ref} (${r.source.ip} on ${r.source.node}) → ${r.request.text}`);
  lines.push(`CNI ${r.cni.plugin}-${r.cni.mode} (encapsulation: ${r.cni.encapsulation}), kube-proxy ${r.kubeProxy}, IPv${r.family}`);
  lines.push('');
  for (const e of r.events) {
    lines.push(...eventLines(e));
    if (verbose) lines.push(`       ${e.detail}`);
  }
  lines.push('');
  for (const s of r.services) {
    lines.push(`Service ${s.service} (${s.mode}): ${s.outcomes.map((o) => `${o.endpoint} p=${Number(o.probability.toFixed(4))}${o.endpoint === s.chosen ? ' ←' : ''}`).join(', ')}`);
  }
  lines.push(r.ok ? 'Result: answered.' : r.dropped ? `Result: dropped at step ${r.dropped.seq} (${r.dropped.reason}): ${r.dropped.text}` : 'Result: no answer (the walk left the cluster).');
  lines.push('');
  lines.push(r.latency.table);
  lines.push('');
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

export const traceCmd: Command = {
  name: 'trace',
  summary: 'walk a request through the cluster: DNS, Service NAT, routing, netfilter, policy, encapsulation, the reply',
  usage: `usage: netlab trace [--set key=value]… TOPOLOGY… --from NS/POD|node:NAME --to REQUEST [options]

REQUEST: curl http://NAME[:PORT][/PATH], http://NAME, tcp://HOST:PORT,
         udp://HOST:PORT, ping HOST, dns NAME, or IP:PORT (TCP)

Prints every step of the walk — the DNS queries of the glibc search list,
the pod's route, the veth, each netfilter hook with the rules that matched,
the Service choice with its probabilities, DNAT and the conntrack entry,
encapsulation, the wire, policy verdicts, the reply with its reverse NAT —
then the latency breakdown. --json prints the full event list.

Options:
  --seed N          seed for random choices (endpoint, DNS IDs, ISNs); default 1
  --endpoint EP     force the Service endpoint: IP, IP:PORT or outcome index
  --dns-endpoint EP force the kube-dns endpoint the same way
  --sport PORT      the connection's ephemeral port (default 52345)
  --dns-port PORT   the first DNS socket's port (default 53241)
  --size BYTES      UDP/ICMP payload; for TCP the first data segment (MTU checks)
  --no-df           clear the Don't Fragment bit
  --icmp-blocked    ICMP errors are filtered (a PMTU black hole)
  --family 4|6      connect over IPv4 or IPv6 only (curl -4 / -6: A or AAAA queries only); default: glibc's choice, IPv6 first when the pod and the name have both
  --verbose         print each step's explanation`,
  async run({ argv, set, json, io }) {
    const { values, positionals } = parseVerbArgs(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      seed: { type: 'string' },
      endpoint: { type: 'string' },
      'dns-endpoint': { type: 'string' },
      sport: { type: 'string' },
      'dns-port': { type: 'string' },
      size: { type: 'string' },
      'no-df': { type: 'boolean' },
      'icmp-blocked': { type: 'boolean' },
      family: { type: 'string' },
      verbose: { type: 'boolean' },
    });
    if (!positionals.length) throw new UsageError('give at least one TOPOLOGY file');
    if (typeof values.from !== 'string') throw new UsageError('give --from NAMESPACE/POD (or node:NAME)');
    if (typeof values.to !== 'string') throw new UsageError('give --to REQUEST, e.g. --to http://backend.default.svc.cluster.local');
    const opts: TraceOptions = {
      seed: intOpt(values.seed, 'seed', 0, 2 ** 31),
      srcPort: intOpt(values.sport, 'sport', 1, 65535),
      dnsPort: intOpt(values['dns-port'], 'dns-port', 1, 65535),
      size: intOpt(values.size, 'size', 0, 65507),
      df: values['no-df'] ? false : undefined,
      icmpBlocked: values['icmp-blocked'] === true,
    };
    const fam = values.family;
    if (fam !== undefined) {
      if (fam !== '4' && fam !== '6') throw new UsageError(`--family ${String(fam)}: use 4 or 6`);
      opts.family = Number(fam) as 4 | 6;
    }
    for (const [k, key] of [
      ['endpoint', 'endpoint'],
      ['dns-endpoint', 'dnsEndpoint'],
    ] as const) {
      const v = values[k];
      if (typeof v === 'string') opts[key] = /^\d+$/.test(v) ? Number(v) : v;
    }
    const r = await loadFromFiles(positionals, set, io);
    if (r.diagnostics.length) printDiagnostics(r.diagnostics, io.err);
    if (!r.topology || countDiagnostics(r.diagnostics).errors) return EXIT.ERRORS;
    let out: TraceOutput;
    try {
      out = trace(r.topology, values.from, values.to, opts);
    } catch (e) {
      if (e instanceof TraceInputError) {
        io.err(`netlab trace: ${e.message}\n  hint: ${e.hint}\n`);
        return EXIT.ERRORS;
      }
      throw e;
    }
    if (json) {
      const { captures: _c, packets: _p, ...rest } = out;
      void _c;
      void _p;
      io.out(`${JSON.stringify(rest, null, 2)}\n`);
    } else io.out(formatTrace(out, values.verbose === true));
    return EXIT.OK;
  },
};
