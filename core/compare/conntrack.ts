// conntrack: the entries the model expects after a real request (see
// probe.ts) against the node's `conntrack -L`. Entries are paired by
// protocol, original destination and port and the reply source (the
// endpoint kube-proxy picked, one of the model's alternatives); ephemeral
// source ports may differ, timeouts, use counts and ids are ignored. States
// are compared with the TCP lifecycle in mind: a connection listed a moment
// earlier or later is in a neighbouring state, which is explained; an entry
// that never saw a reply is not.

import { parseConntrack, type ConntrackEntry } from '../parse/conntrack';
import type { ExpectedFlow, ExpectedProbe } from './probe';
import { checkResult, failedCheck, type CheckResult, type DiffItem } from './types';

const TCP_ORDER = ['SYN_SENT', 'SYN_SENT2', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'];

function tupleText(t: ConntrackEntry['original']): string {
  return `src=${t.src} dst=${t.dst}${t.sport !== undefined ? ` sport=${t.sport} dport=${t.dport}` : ''}`;
}

export function entryText(e: ConntrackEntry): string {
  const parts = [`${e.l4.name.padEnd(8)} ${e.l4.num}`];
  if (e.state) parts.push(e.state);
  parts.push(tupleText(e.original));
  if (e.unreplied) parts.push('[UNREPLIED]');
  parts.push(tupleText(e.reply));
  if (e.assured) parts.push('[ASSURED]');
  if (e.mark !== undefined) parts.push(`mark=${e.mark}`);
  return parts.join(' ');
}

function modelText(f: ExpectedFlow): string {
  const alts = f.alternatives.length ? f.alternatives.map((a) => `src=${a.replySrc} dst=${a.replyDst} sport=${a.replySport} dport=*`).join(' | ') : '(no reply)';
  return `${f.proto} ${f.final.state ?? ''} src=${f.src} dst=${f.dst} sport=* dport=${f.dport}${f.final.unreplied ? ' [UNREPLIED]' : ''} ${alts}${f.final.assured ? ' [ASSURED]' : ''}`.replace(/\s+/g, ' ');
}

function stateDiff(f: ExpectedFlow, e: ConntrackEntry): { explanation: string; explained: boolean } | null {
  const want = f.final.state;
  if (f.proto !== 'tcp' || !want || !e.state || want === e.state) return null;
  const wi = TCP_ORDER.indexOf(want);
  const ri = TCP_ORDER.indexOf(e.state);
  if (e.state === 'SYN_SENT' || e.state === 'SYN_SENT2') {
    return { explanation: `state ${e.state} on the node, ${want} in the model: the handshake never completed (no SYN-ACK came back)`, explained: false };
  }
  if (e.state === 'CLOSE') {
    return { explanation: `state CLOSE on the node, ${want} in the model: the connection ended with a RST rather than the FIN exchange the model plays (some servers reset after answering); CLOSE entries live 10 s`, explained: true };
  }
  if (ri >= 0 && wi >= 0 && ri < wi) {
    return { explanation: `state ${e.state} on the node, ${want} in the model: the model plays the whole request (handshake, data, both FINs); listed earlier, the connection had not closed yet`, explained: true };
  }
  return { explanation: `state ${e.state} on the node, ${want} in the model: the connection went further than the model's request (listed later, or reused)`, explained: true };
}

/** Compares the model's expected flows with the node's parsed conntrack entries. */
export function compareConntrackEntries(expected: ExpectedProbe, entries: readonly ConntrackEntry[]): CheckResult {
  const items: DiffItem[] = [];
  const client = expected.clientIP;
  // a dual-stack client sends the request from its IPv6 address when the target is IPv6
  const fromClient = entries.filter((e) => e.original.src === client || (!!expected.clientIP6 && e.original.src === expected.clientIP6));
  const used = new Set<ConntrackEntry>();
  // flows with the same 5-tuple-without-sport share entries (one per source port the client used)
  const groups = new Map<string, ExpectedFlow[]>();
  for (const f of expected.flows) {
    const k = `${f.proto}|${f.dst}|${f.dport}`;
    const l = groups.get(k) ?? [];
    l.push(f);
    groups.set(k, l);
  }
  let compared = 0;
  for (const [k, flows] of groups) {
    const f = flows[0];
    const where = `${f.proto} ${f.src} → ${f.dst}:${f.dport}`;
    const real = fromClient.filter((e) => `${e.l4.name}|${e.original.dst}|${e.original.dport}` === k);
    compared += real.length || 1;
    if (real.length === 0) {
      items.push({
        kind: 'missing',
        where,
        model: modelText(f),
        explanation: `no conntrack entry for ${f.description}: the request did not pass this node's connection tracking (it was not sent, took another path, or the entry already expired)`,
        explained: false,
      });
      continue;
    }
    for (const e of real) {
      used.add(e);
      const alt = f.alternatives.find((a) => a.replySrc === e.reply.src && a.replySport === e.reply.sport);
      const changes: { explanation: string; explained: boolean }[] = [];
      if (!alt) {
        const allowed = f.alternatives.map((a) => `${a.replySrc}:${a.replySport}${a.endpointPod ? ` (${a.endpointPod})` : ''}`).join(', ') || 'none';
        changes.push({
          explanation: `the node sent it to ${e.reply.src}:${e.reply.sport}, which is not one of the model's endpoints (${allowed})${e.reply.src === f.dst ? ': the destination was not translated (no DNAT)' : ''}`,
          explained: false,
        });
      } else {
        if (e.reply.dst !== alt.replyDst) {
          changes.push({ explanation: `replies go to ${e.reply.dst} on the node, to ${alt.replyDst} in the model: ${e.reply.dst !== f.src ? 'the node source-NATs (masquerades) this flow' : 'the model masquerades this flow, the node does not'}`, explained: false });
        }
        if (e.original.sport !== undefined && e.reply.dport !== undefined && e.reply.dport !== e.original.sport && alt.replyDst === f.src) {
          changes.push({ explanation: `the source port was rewritten (${e.original.sport} → ${e.reply.dport}) although the model does no SNAT`, explained: false });
        }
      }
      if (e.unreplied && !f.final.unreplied) {
        changes.push({ explanation: '[UNREPLIED] on the node: no answer came back, the model expects one', explained: false });
      } else if (!e.unreplied && f.final.unreplied) {
        changes.push({ explanation: 'the node saw a reply where the model expects none', explained: false });
      }
      const sd = stateDiff(f, e);
      if (sd) changes.push(sd);
      if (f.proto === 'tcp' && f.final.assured !== e.assured && !(sd && sd.explained)) {
        changes.push({ explanation: `[ASSURED] ${e.assured ? 'set' : 'not set'} on the node, ${f.final.assured ? 'set' : 'not set'} in the model (set once the handshake completes)`, explained: false });
      }
      if (f.proto === 'udp' && e.assured && !f.final.assured) {
        changes.push({ explanation: '[ASSURED] on the node: the kernel marks a UDP flow assured once it sees traffic more than 2 s after the first reply (a retransmission or reuse); the model sends one query and one reply', explained: true });
      }
      if (e.mark !== undefined && e.mark !== 0) {
        changes.push({ explanation: `connection mark ${e.mark} on the node; the model sets none`, explained: false });
      }
      if (changes.length) {
        items.push({
          kind: 'changed',
          where,
          model: modelText(f),
          real: entryText(e),
          explanation: changes.map((c) => c.explanation).join('; '),
          explained: changes.every((c) => c.explained),
        });
      }
    }
    if (f.purpose === 'dns' && real.length !== flows.length) {
      items.push({
        kind: 'changed',
        where,
        model: `${flows.length} queries (${flows.map((x) => `${x.query?.qtype} ${x.query?.qname}`).join(', ')})`,
        real: `${real.length} entr${real.length === 1 ? 'y' : 'ies'} (source ports ${real.map((e) => e.original.sport).join(', ')})`,
        explanation: 'the number of DNS entries depends on how many source ports the resolver used: glibc sends A and AAAA of one name from one socket and may reuse or reopen it per name; entries from earlier requests may also still be listed (UDP entries live 30 s)',
        explained: true,
      });
    }
  }
  for (const e of fromClient) {
    if (used.has(e)) continue;
    items.push({
      kind: 'extra',
      where: `${e.l4.name} ${e.original.src} → ${e.original.dst}${e.original.dport !== undefined ? `:${e.original.dport}` : ''}`,
      real: entryText(e),
      explanation: `a connection of the client ${client} that this request does not make (earlier requests or other traffic of the pod); not compared`,
      explained: true,
    });
  }
  const notes = [
    `entries paired by protocol, original destination and port, and reply source; source ports, timeouts, use counts and ids ignored; ${entries.length - fromClient.length} entries not from the client ${client} were not compared`,
  ];
  return checkResult('conntrack', items, compared, `conntrack entries of ${client} on ${expected.node} after: ${expected.flows.map((f) => f.purpose).filter((p, i, a) => a.indexOf(p) === i).join(' + ')}`, notes);
}

function tableKey(e: ConntrackEntry): string {
  const o = e.original;
  const r = e.reply;
  // source ports are ephemeral: left out; ICMP ids likewise (type and code are the ICMP message: kept)
  const port = o.dport ?? (o.type !== undefined ? `${o.type}/${o.code ?? ''}` : '');
  return `${e.l4.name}|${o.src}|${o.dst}|${port}|${r.src}|${r.sport ?? ''}|${r.dst}`;
}

/** The key with state and [UNREPLIED]/[ASSURED], what a paired entry is compared on. */
function exactKey(key: string, e: ConntrackEntry): string {
  return `${key}|${e.state ?? ''}|${e.unreplied ? 'U' : ''}${e.assured ? 'A' : ''}`;
}

/** Model entries of one pairing key, in table order; `first` skips those already paired (they stay paired). */
interface KeyGroup {
  idx: number[];
  first: number;
}

/**
 * Whole-table diff (e.g. a model's `conntrack -L` for many flows against a
 * node's): entries paired by protocol, original source, destination and
 * port, and reply source and port — not by source port, which is ephemeral.
 * Several connections may share that key (one client, one Service, several
 * source ports); they are interchangeable, and `conntrack -L` lists them in
 * hash-bucket order, so pairing must not depend on the order: entries of a
 * key with the same state and flags pair first, then the rest in table
 * order. A table compared with itself, in any order, has no difference.
 * Paired entries compare state and [UNREPLIED]/[ASSURED]; timeouts, use and
 * id are ignored. `maxItems` bounds the listed differences (the counts stay exact).
 */
export function diffConntrackTables(model: readonly ConntrackEntry[], real: readonly ConntrackEntry[], opts: { maxItems?: number } = {}): CheckResult {
  const max = opts.maxItems ?? 200;
  const byKey = new Map<string, KeyGroup>();
  const exact = new Map<string, KeyGroup>();
  const group = (groups: Map<string, KeyGroup>, k: string, i: number) => {
    const g = groups.get(k);
    if (g) g.idx.push(i);
    else groups.set(k, { idx: [i], first: 0 });
  };
  for (let i = 0; i < model.length; i++) {
    const k = tableKey(model[i]);
    group(byKey, k, i);
    group(exact, exactKey(k, model[i]), i);
  }
  const used = new Uint8Array(model.length);
  /** The first unpaired model entry of the group (table order), or -1. */
  const take = (g: KeyGroup | undefined): number => {
    if (!g) return -1;
    while (g.first < g.idx.length && used[g.idx[g.first]]) g.first++;
    if (g.first === g.idx.length) return -1;
    const i = g.idx[g.first++];
    used[i] = 1;
    return i;
  };
  // first the entries that pair with one of the same state and flags
  const pending: { e: ConntrackEntry; g: KeyGroup | undefined }[] = [];
  for (const e of real) {
    const k = tableKey(e);
    if (take(exact.get(exactKey(k, e))) < 0) pending.push({ e, g: byKey.get(k) });
  }
  const items: DiffItem[] = [];
  let missing = 0;
  let extra = 0;
  let changed = 0;
  let unexplainedCount = 0;
  const push = (it: DiffItem) => {
    if (!it.explained) unexplainedCount++;
    if (items.length < max) items.push(it);
  };
  // then the rest of each key, in table order: the same connection in another state
  for (const { e, g } of pending) {
    const i = take(g);
    if (i < 0) {
      extra++;
      push({ kind: 'extra', where: `${e.l4.name} → ${e.original.dst}`, real: entryText(e), explanation: 'an entry on the node the model does not have', explained: false });
      continue;
    }
    const m = model[i];
    changed++;
    const wi = TCP_ORDER.indexOf(m.state ?? '');
    const ri = TCP_ORDER.indexOf(e.state ?? '');
    const timing = m.unreplied === e.unreplied && wi >= 0 && ri >= 0 && e.state !== 'SYN_SENT';
    push({
      kind: 'changed',
      where: `${e.l4.name} → ${e.original.dst}`,
      model: entryText(m),
      real: entryText(e),
      explanation: timing ? `state ${e.state} on the node, ${m.state} in the model: the same connection listed at another moment of its lifecycle` : 'the entry differs in state or in whether a reply was seen',
      explained: timing,
    });
  }
  for (let i = 0; i < model.length; i++) {
    if (used[i]) continue;
    const m = model[i];
    missing++;
    push({ kind: 'missing', where: `${m.l4.name} → ${m.original.dst}`, model: entryText(m), explanation: 'the model has this connection, the node does not track it', explained: false });
  }
  const notes = [`${missing} missing, ${extra} extra, ${changed} changed${items.length < missing + extra + changed ? ` (first ${items.length} listed)` : ''}; source ports, timeouts, use and ids ignored`];
  const res = checkResult('conntrack', items, Math.max(model.length, real.length), `${model.length} model entries vs ${real.length} node entries`, notes);
  // the status counts every difference, also those past maxItems
  if (unexplainedCount > 0) res.status = 'different';
  return res;
}

/** Parses `conntrack -L` output and compares. */
export function compareConntrack(expected: ExpectedProbe, realText: string): CheckResult {
  const r = parseConntrack(realText);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (r.records.length === 0 && errors.length) return failedCheck('conntrack', 'the node\'s conntrack -L could not be read', errors.map((d) => `line ${d.line}: ${d.message}`).slice(0, 3).join('; '));
  const res = compareConntrackEntries(expected, r.records);
  if (errors.length) (res.notes ??= []).push(`${errors.length} line(s) of conntrack -L could not be read: ${errors[0].message}`);
  return res;
}
