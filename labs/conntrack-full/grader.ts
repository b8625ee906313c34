// Graders of the conntrack-full lab: a client without keep-alive opening one
// TCP connection per request, run through nf_conntrack (core/dataplane's
// ConntrackTable with the cluster's nf_conntrack_max), second by second.
// Pure: no Node imports.

import { CONNTRACK_TIMEOUTS, ConntrackTable } from '../../core/dataplane';
import { LabError, type GraderFn, type LabWorld } from '../../core/labs';

export interface TcpLoad {
  pod: string;
  /** The external API (address:port). */
  to: string;
  requestsPerSecond: number;
  seconds: number;
}

export interface SimResult {
  entries: number;
  drops: number;
  inserted: number;
  max: number;
  /** When the first packet was dropped (seconds into the run), if any. */
  firstDropAt?: number;
  kernelLog: string[];
  /** Entries by TCP state at the end. */
  states: Record<string, number>;
}

function load(args: Record<string, unknown>): TcpLoad {
  const l = { pod: String(args.pod ?? 'default/pod-a'), to: String(args.to ?? '52.45.67.10:443'), requestsPerSecond: Number(args.requestsPerSecond ?? 50), seconds: Number(args.seconds ?? 180) };
  if (!Number.isInteger(l.requestsPerSecond) || l.requestsPerSecond <= 0 || l.requestsPerSecond > 5000 || !Number.isInteger(l.seconds) || l.seconds <= 0 || l.seconds > 900) throw new LabError('conntrack-full grader: bad load arguments (requestsPerSecond 1..5000, seconds 1..900)');
  if (!/^[\d.]+:\d+$/.test(l.to)) throw new LabError(`conntrack-full grader: "to" must be IPv4:PORT, not ${l.to}`);
  return l;
}

/**
 * Every request is a new TCP connection from a new ephemeral port: SYN,
 * SYN-ACK, ACK (ASSURED), a short exchange, then the client closes first
 * (FIN, ACK, FIN, ACK), which leaves the entry in TIME_WAIT for
 * nf_conntrack_tcp_timeout_time_wait (120 s). ASSURED entries cannot be
 * evicted by early_drop, so once they fill the table new SYNs are dropped.
 */
export function simulate(w: LabWorld, l: TcpLoad, maxOverride?: number): SimResult {
  const pod = w.pod(l.pod);
  const [dst, dportText] = l.to.split(':');
  const dport = Number(dportText);
  const ct = new ConntrackTable({ max: maxOverride ?? w.topology.settings.conntrack.max });
  const src = pod.ips[0];
  let port = 32767;
  let drops = 0;
  let firstDropAt: number | undefined;
  const o = (sport: number, flags: string[]) => ({ family: 4 as const, proto: 'tcp', src, dst, sport, dport, tcpFlags: flags });
  const r = (sport: number, flags: string[]) => ({ family: 4 as const, proto: 'tcp', src: dst, dst: src, sport: dport, dport: sport, tcpFlags: flags });
  for (let s = 0; s < l.seconds; s++) {
    for (let i = 0; i < l.requestsPerSecond; i++) {
      port = port >= 60999 ? 32768 : port + 1;
      const syn = ct.track(o(port, ['SYN']));
      if (syn.verdict === 'drop') {
        drops++;
        firstDropAt ??= s;
        continue;
      }
      ct.track(r(port, ['SYN', 'ACK']));
      ct.track(o(port, ['ACK']));
      ct.track(o(port, ['FIN', 'ACK']));
      ct.track(r(port, ['ACK']));
      ct.track(r(port, ['FIN', 'ACK']));
      ct.track(o(port, ['ACK']));
    }
    ct.tick(1);
  }
  const states: Record<string, number> = {};
  for (const e of ct.list()) states[e.state ?? 'NONE'] = (states[e.state ?? 'NONE'] ?? 0) + 1;
  return { entries: ct.size, drops, inserted: ct.stats.inserted, max: ct.max, firstDropAt, kernelLog: [...new Set(ct.kernelLog)], states };
}

/** Runs on the lab's own states (start, reference) are the same for every student: keep them. */
const cache = new WeakMap<LabWorld, Map<string, SimResult>>();
function simulateCached(w: LabWorld, l: TcpLoad, maxOverride?: number): SimResult {
  let m = cache.get(w);
  if (!m) cache.set(w, (m = new Map()));
  const key = JSON.stringify([l, maxOverride]);
  let r = m.get(key);
  if (!r) m.set(key, (r = simulate(w, l, maxOverride)));
  return r;
}

function field(answer: unknown, key: string): unknown {
  return answer && typeof answer === 'object' && !Array.isArray(answer) ? (answer as Record<string, unknown>)[key] : answer;
}

/** The entries the load keeps once it runs longer than TIME_WAIT, with no limit. */
const steadyState: GraderFn = (ctx) => {
  const l = load(ctx.args);
  const need = simulateCached(ctx.start, { ...l, seconds: CONNTRACK_TIMEOUTS.tcp.TIME_WAIT + 10 }, 1e9).entries;
  const got = Number(String(field(ctx.answer, 'entries') ?? '').replace(/[, _]/g, ''));
  if (!Number.isFinite(got) || String(field(ctx.answer, 'entries') ?? '') === '') return { score: 0, message: 'no answer given' };
  const ok = Math.abs(got - need) <= need * 0.02;
  return ok ? { score: 1, message: 'correct' } : { score: 0, message: 'your number of entries is not right (within 2%)', diffs: [{ field: 'entries', got: String(got), expected: String(need) }] };
};

/** The dmesg line the starting state produces. */
const kernelMessage: GraderFn = (ctx) => {
  const l = load(ctx.args);
  const r = simulateCached(ctx.start, l);
  if (!r.kernelLog.length) throw new LabError('conntrack-full: the starting state never fills the table (lab error)');
  const got = field(ctx.answer, 'dmesg');
  if (got === undefined || got === '') return { score: 0, message: 'no answer given' };
  const norm = (s: string) => s.trim().replace(/^\[[\d. ]+\]\s*/, '').replace(/\s+/g, ' ').toLowerCase();
  const ok = norm(String(got)) === norm(r.kernelLog[0]);
  return ok ? { score: 1, message: 'correct' } : { score: 0, message: 'that is not the line the kernel logs', diffs: [{ field: 'dmesg line', got: String(got), expected: r.kernelLog[0] }] };
};

/** No SYN dropped over the run, with a sane nf_conntrack_max. */
const noDrops: GraderFn = (ctx) => {
  const l = load(ctx.args);
  const cap = Number(ctx.args.maxConntrack ?? 1048576);
  const max = ctx.world.topology.settings.conntrack.max;
  if (max > cap) return { score: 0.5, message: `nf_conntrack_max ${max} costs too much kernel memory (about ${Math.round((max * 320) / 1048576)} MiB at ~320 bytes per entry); stay at or below ${cap}` };
  const r = simulate(ctx.world, l);
  const node = ctx.world.pod(l.pod).nodeName;
  if (r.drops === 0) return { score: 1, message: `no drops on ${node}: ${r.entries} entries of ${r.max} after ${l.seconds} s` };
  // Partial credit for fewer drops than the starting state, never full marks.
  const before = simulateCached(ctx.start, l).drops;
  const total = r.inserted + r.drops;
  return { score: before > 0 ? Math.max(0, Math.min(0.9, 1 - r.drops / before)) : 0, message: `${node} still drops new connections: ${r.drops} of ${total} SYNs found the table full (from second ${r.firstDropAt})` };
};

export const graders: Record<string, GraderFn> = { steadyState, kernelMessage, noDrops };
