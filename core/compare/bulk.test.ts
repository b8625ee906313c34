// The fast whole-table paths agree with the record-by-record ones: the
// conntrack scanner (hashed keys) with diffConntrackTables over parsed
// records, and the text-first iptables comparison with compareRulesets over
// fully parsed rule sets — on real test-bed output and random changes to it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../dataplane';
import { parseConntrack } from '../parse';
import { diffConntrackText } from './bulk';
import { diffConntrackTables } from './conntrack';
import { compareIptablesText, compareRulesets } from './iptables';

const FIX = join(__dirname, '..', 'parse', 'fixtures');
const ct = readFileSync(join(FIX, 'calico-vxlan', 'conntrack-L.txt'), 'utf8');
const ipt = readFileSync(join(FIX, 'calico-vxlan', 'iptables-save-node-1.txt'), 'utf8');

const lines = (t: string) => t.split('\n').filter((l) => l && !l.startsWith('conntrack v'));
const counts = (notes?: string[]) => /^(\d+) missing, (\d+) extra, (\d+) changed/.exec(notes?.[0] ?? '')!.slice(1).map(Number);

describe('diffConntrackText', () => {
  it('a table against itself (other source ports, timeouts, ids) has no difference', () => {
    const shifted = ct.replace(/sport=(\d+) dport=(\d+) src=(\S+) dst=(\S+) sport=(\d+) dport=\1/g, (_m, sp, dp, s2, d2, sp2) => `sport=${Number(sp) + 1} dport=${dp} src=${s2} dst=${d2} sport=${sp2} dport=${Number(sp) + 1}`).replace(/ (\d+) (TIME_WAIT|ESTABLISHED)/g, ' 7 $2');
    const r = diffConntrackText(ct, shifted);
    expect(r.status).toBe('match');
    expect(r.compared).toBe(lines(ct).length);
  });

  it('finds a missing, an extra and a changed entry, the state change explained as timing', () => {
    const l = lines(ct);
    const tcp = l.findIndex((x) => x.includes('TIME_WAIT') && x.includes('10.96.5.20'));
    const real = [...l];
    real[tcp] = real[tcp].replace('TIME_WAIT', 'ESTABLISHED');
    real.splice(1, 1);
    real.push('tcp      6 100 ESTABLISHED src=10.99.0.1 dst=10.96.7.7 sport=50000 dport=443 src=10.244.9.1 dst=10.99.0.1 sport=443 dport=50000 [ASSURED] mark=0 use=1');
    const r = diffConntrackText(`${l.join('\n')}\n`, `${real.join('\n')}\n`);
    expect(counts(r.notes)).toEqual([1, 1, 1]);
    expect(r.items.find((i) => i.kind === 'changed')).toMatchObject({ explained: true });
    expect(r.items.find((i) => i.kind === 'extra')?.real).toContain('dst=10.96.7.7');
    expect(r.status).toBe('different');
  });

  it('pairs same-key entries by state first', () => {
    const a = 'tcp      6 1 TIME_WAIT src=1.1.1.1 dst=2.2.2.2 sport=1 dport=80 src=3.3.3.3 dst=1.1.1.1 sport=80 dport=1 [ASSURED] mark=0 use=1\ntcp      6 1 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=2 dport=80 src=3.3.3.3 dst=1.1.1.1 sport=80 dport=2 [ASSURED] mark=0 use=1\n';
    const b = a.split('\n').reverse().join('\n').replace(/sport=(\d) dport=80/g, 'sport=9$1 dport=80');
    expect(diffConntrackText(a, b).status).toBe('match');
  });

  it('reads lines in other formats with the full parser (and says so), and pairs them', () => {
    const ext = 'ipv4     2 tcp      6 10 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=1 dport=80 src=2.2.2.2 dst=1.1.1.1 sport=80 dport=1 [ASSURED] mark=0 use=1\n';
    const r = diffConntrackText(ct, ct + ext);
    expect(r.notes?.join(' ')).toMatch(/1 line\(s\) in another conntrack format/);
    expect(counts(r.notes)).toEqual([0, 1, 0]);
    // the whole table as /proc/net/nf_conntrack prints it (ipv4 2 first) against conntrack -L: no difference
    const proc = lines(ct).map((l) => `ipv4     2 ${l}`).join('\n');
    const same = diffConntrackText(ct, proc);
    expect(same.status).toBe('match');
    expect(same.compared).toBe(lines(ct).length);
  });

  it('agrees with the record-based diff on random changes (counts and status)', () => {
    const base = lines(ct);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.constantFrom('drop', 'state', 'dup', 'dst')), { maxLength: 6 }), (changes) => {
        const real = [...base];
        for (const [i, what] of changes) {
          if (i >= real.length) continue;
          if (what === 'drop') real.splice(i, 1);
          else if (what === 'dup') real.push(real[i]);
          else if (what === 'state') real[i] = real[i].replace(/ (TIME_WAIT|ESTABLISHED) /, ' CLOSE ');
          else real[i] = real[i].replace(/ dst=10\.(\d+)/, ' dst=11.$1');
        }
        const text = `${real.join('\n')}\n`;
        const fast = diffConntrackText(ct, text);
        const slow = diffConntrackTables(parseConntrack(ct).records, parseConntrack(text).records);
        expect(counts(fast.notes)).toEqual(counts(slow.notes));
        expect(fast.status).toBe(slow.status);
      }),
      { numRuns: 200 },
    );
  });

  // The counterexample an unseeded run of the property above found: line 20
  // listed twice, and its first listing now in CLOSE. The record path used to
  // pair the CLOSE line with the model's entry (1 changed, 1 extra) where the
  // text path paired the unchanged copy (1 extra): the record path popped
  // same-key entries in reverse table order and did not try the same state
  // first, so its answer depended on the order conntrack -L lists them in.
  it('regression: a duplicated entry whose first listing changed state is one extra on both paths', () => {
    const changes: [number, string][] = [[20, 'dup'], [0, 'drop'], [19, 'state']];
    const real = [...lines(ct)];
    for (const [i, what] of changes) {
      if (what === 'drop') real.splice(i, 1);
      else if (what === 'dup') real.push(real[i]);
      else real[i] = real[i].replace(/ (TIME_WAIT|ESTABLISHED) /, ' CLOSE ');
    }
    expect(real[19]).toContain(' CLOSE ');
    const text = `${real.join('\n')}\n`;
    const fast = diffConntrackText(ct, text);
    const slow = diffConntrackTables(parseConntrack(ct).records, parseConntrack(text).records);
    expect(counts(fast.notes)).toEqual([1, 1, 0]);
    expect(counts(slow.notes)).toEqual([1, 1, 0]);
    expect(slow.items.map((i) => i.kind).sort()).toEqual(['extra', 'missing']);
  });

  it('regression: the record path compares a table with itself as equal (same-key entries in two states)', () => {
    const a = 'tcp      6 1 TIME_WAIT src=1.1.1.1 dst=2.2.2.2 sport=1 dport=80 src=3.3.3.3 dst=1.1.1.1 sport=80 dport=1 [ASSURED] mark=0 use=1\ntcp      6 1 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=2 dport=80 src=3.3.3.3 dst=1.1.1.1 sport=80 dport=2 [ASSURED] mark=0 use=1\n';
    const recs = parseConntrack(a).records;
    expect(diffConntrackTables(recs, recs).status).toBe('match');
    expect(diffConntrackTables(recs, [...recs].reverse()).status).toBe('match');
  });

  it('SCTP states pair on the text path like TCP ones, and ICMP code is part of the key on both paths', () => {
    const sctp = (st: string) => `sctp     132 3 ${st} src=10.0.0.1 dst=10.0.0.2 sport=1 dport=9 src=10.0.0.2 dst=10.0.0.1 sport=9 dport=1 [ASSURED] mark=0 use=1\n`;
    const r = diffConntrackText(sctp('ESTABLISHED'), sctp('COOKIE_WAIT'));
    expect(counts(r.notes)).toEqual([0, 0, 1]);
    expect(r.notes?.join(' ')).not.toMatch(/another conntrack format/);
    expect(counts(diffConntrackTables(parseConntrack(sctp('ESTABLISHED')).records, parseConntrack(sctp('COOKIE_WAIT')).records).notes)).toEqual([0, 0, 1]);
    const icmp = (code: number, id: number) => `icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=${code} id=${id} src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=${id} mark=0 use=1\n`;
    expect(diffConntrackText(icmp(0, 7), icmp(0, 8)).status).toBe('match');
    expect(counts(diffConntrackText(icmp(0, 7), icmp(1, 7)).notes)).toEqual([1, 1, 0]);
    expect(counts(diffConntrackTables(parseConntrack(icmp(0, 7)).records, parseConntrack(icmp(1, 7)).records).notes)).toEqual([1, 1, 0]);
  });

  it('says so when more state words than fit in its byte of meta leave entries uncompared', () => {
    const words = Array.from({ length: 40 }, (_, i) => `X${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`);
    const t = `${words.map((w, i) => `tcp      6 100 ${w} src=10.0.0.1 dst=10.96.0.10 sport=${30000 + i} dport=80 src=10.244.0.5 dst=10.0.0.1 sport=8080 dport=${30000 + i} mark=0 use=1`).join('\n')}\n`;
    const r = diffConntrackText(t, t);
    // 35 free codes: the first 35 words pair, the last 5 entries of each side are not compared
    expect(counts(r.notes)).toEqual([0, 0, 0]);
    expect(r.compared).toBe(35);
    expect(r.notes?.join(' ')).toMatch(/10 entries were not compared: more than 35 unknown state words/);
  });

  it('many connections of one key (a TIME_WAIT pile-up of one client to one Service): both paths pair them alike', () => {
    const line = (st: string, sp: number) => `tcp      6 100 ${st} src=10.0.0.1 dst=10.96.0.10 sport=${sp} dport=80 src=10.244.0.5 dst=10.0.0.1 sport=8080 dport=${sp} [ASSURED] mark=0 use=1`;
    const n = 3000;
    const model = Array.from({ length: n }, (_, i) => line(i < n / 2 ? 'TIME_WAIT' : 'ESTABLISHED', 30000 + i));
    // the node: another order, a third in TIME_WAIT, 10 fewer entries
    const real = Array.from({ length: n - 10 }, (_, i) => line(i % 3 === 0 ? 'TIME_WAIT' : 'ESTABLISHED', 40000 + ((i * 7919) % n)));
    const mt = `${model.join('\n')}\n`;
    const rt = `${real.join('\n')}\n`;
    const fast = diffConntrackText(mt, rt, { maxItems: n });
    const slow = diffConntrackTables(parseConntrack(mt).records, parseConntrack(rt).records, { maxItems: n });
    // 997 TIME_WAIT and 1993 ESTABLISHED on the node: 997 + 1500 pair as they are, 493 changed, 10 missing
    expect(counts(fast.notes)).toEqual([10, 0, 493]);
    expect(counts(slow.notes)).toEqual([10, 0, 493]);
    const items = (r: typeof fast) => r.items.map((i) => `${i.kind} ${i.explained} ${i.model ?? ''} | ${i.real ?? ''}`).sort();
    expect(items(fast)).toEqual(items(slow));
  });

  // Random tables with few keys (so that several connections share one) in
  // random states and flags; the node's table is a shuffled, edited copy. Both
  // paths must list the same differences, and a shuffled copy has none.
  const entryLine = fc
    .record({
      proto: fc.constantFrom('tcp', 'udp', 'icmp', 'sctp'),
      src: fc.integer({ min: 1, max: 2 }),
      dst: fc.integer({ min: 1, max: 2 }),
      port: fc.constantFrom(53, 80),
      sport: fc.integer({ min: 30000, max: 30100 }),
      state: fc.constantFrom('ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'CLOSE', 'FIN_WAIT', 'COOKIE_WAIT'),
      unreplied: fc.boolean(),
      assured: fc.boolean(),
    })
    .map(({ proto, src, dst, port, sport, state, unreplied, assured }) => {
      const s = `10.0.0.${src}`;
      const d = `10.96.0.${dst}`;
      const b = `10.244.0.${dst}`;
      const u = unreplied ? ' [UNREPLIED]' : '';
      const a = assured ? ' [ASSURED]' : '';
      if (proto === 'icmp') return `icmp     1 29 src=${s} dst=${d} type=8 code=0 id=${sport}${u} src=${b} dst=${s} type=0 code=0 id=${sport}${a} mark=0 use=1`;
      const num = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 132;
      const st = proto === 'udp' || (proto === 'tcp' && state === 'COOKIE_WAIT') ? '' : ` ${state}`;
      return `${proto.padEnd(8)} ${num} 100${st} src=${s} dst=${d} sport=${sport} dport=${port}${u} src=${b} dst=${s} sport=${port} dport=${sport}${a} mark=0 use=1`;
    });
  const table = fc.array(entryLine, { minLength: 1, maxLength: 12 });
  const norm = (r: ReturnType<typeof diffConntrackText>) => r.items.map((i) => `${i.kind} ${i.explained} ${i.model ?? ''} | ${i.real ?? ''}`).sort();

  it('agrees with the record-based diff on random tables with shared keys (every item)', () => {
    fc.assert(
      fc.property(table, fc.array(fc.tuple(fc.nat(20), fc.constantFrom('drop', 'dup', 'restate', 'new')), { maxLength: 5 }), fc.infiniteStream(fc.nat()), entryLine, fc.infiniteStream(fc.nat(5)), (model, edits, order, fresh, fmt) => {
        const real = [...model];
        for (const [k, what] of edits) {
          const i = k % real.length;
          if (real.length === 0) break;
          if (what === 'drop') real.splice(i, 1);
          else if (what === 'dup') real.push(real[i]);
          else if (what === 'new') real.push(fresh);
          else real[i] = real[i].replace(/ (ESTABLISHED|TIME_WAIT|SYN_SENT|CLOSE|FIN_WAIT|COOKIE_WAIT) /, ' LAST_ACK ');
        }
        const it = order[Symbol.iterator]();
        const shuffled = real.map((l) => [it.next().value as number, l] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
        // one line in six in /proc/net/nf_conntrack's format (layer 3 first): read by the full parser, paired alike
        const f = fmt[Symbol.iterator]();
        let extended = 0;
        const render = (ls: string[]) => `${ls.map((l) => (f.next().value === 0 ? (extended++, `ipv4     2 ${l}`) : l)).join('\n')}\n`;
        const mt = render(model);
        const rt = render(shuffled);
        const fast = diffConntrackText(mt, rt);
        const slow = diffConntrackTables(parseConntrack(mt).records, parseConntrack(rt).records);
        expect(counts(fast.notes)).toEqual(counts(slow.notes));
        expect(norm(fast)).toEqual(norm(slow));
        expect(fast.status).toBe(slow.status);
        expect(fast.compared).toBe(slow.compared);
        expect(fast.notes?.some((n) => n.startsWith(`${extended} line(s) in another conntrack format`)) ?? false).toBe(extended > 0);
      }),
      { numRuns: 300 },
    );
  });

  it('a table against a shuffled copy of itself has no difference, on both paths', () => {
    fc.assert(
      fc.property(table, fc.infiniteStream(fc.nat()), (model, order) => {
        const it = order[Symbol.iterator]();
        const shuffled = model.map((l) => [it.next().value as number, l] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
        const mt = `${model.join('\n')}\n`;
        const rt = `${shuffled.join('\n')}\n`;
        expect(diffConntrackText(mt, rt).status).toBe('match');
        expect(diffConntrackTables(parseConntrack(mt).records, parseConntrack(rt).records).status).toBe('match');
      }),
      { numRuns: 200 },
    );
  });
});

describe('compareIptablesText', () => {
  const family = 4;
  it('agrees with compareRulesets over fully parsed rule sets on random changes', () => {
    const base = ipt.split('\n');
    const ruleIdx = base.map((l, i) => (l.startsWith('-A ') ? i : -1)).filter((i) => i >= 0);
    // The table each line belongs to: a swap must stay inside one table, or the
    // result is not an iptables-save document at all.
    let table = '';
    const tableOf = base.map((l) => (l.startsWith('*') ? (table = l) : table));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(ruleIdx.length - 1), fc.constantFrom('drop', 'swap', 'counter', 'respell', 'comment')), { maxLength: 5 }), (changes) => {
        const real = [...base];
        for (const [k, what] of changes) {
          const i = ruleIdx[k];
          if (what === 'drop') real[i] = '';
          else if (what === 'swap' && k + 1 < ruleIdx.length && tableOf[i] === tableOf[ruleIdx[k + 1]]) [real[i], real[ruleIdx[k + 1]]] = [real[ruleIdx[k + 1]], real[i]];
          else if (what === 'counter' && real[i].startsWith('-A ')) real[i] = `[5:300] ${real[i]}`;
          else if (what === 'respell') real[i] = real[i].replace('--set-xmark 0x4000/0x4000', '--or-mark 0x4000').replace(/ -d (\S+)\/32 /, ' -d $1 ');
          else if (what === 'comment') real[i] = real[i].replace(/--comment "cali:(\S+)"/, '--comment cali:$1-x');
        }
        const text = real.filter((l) => l !== '').join('\n');
        const fast = compareIptablesText(ipt, text, { family });
        const slow = compareRulesets(parseIptablesSave(ipt), parseIptablesSave(text));
        const norm = (r: typeof fast) => r.items.map((i) => `${i.kind} ${i.where} ${i.model ?? ''} ${i.real ?? ''}`).sort();
        expect(norm(fast)).toEqual(norm(slow));
        expect(fast.status).toBe(slow.status);
      }),
      { numRuns: 150 },
    );
  });

  it('respelled rules (MARK --or-mark, a /32 left out, counters) are equal', () => {
    const respelled = ipt.replace('-j MARK --set-xmark 0x4000/0x4000', '-j MARK --or-mark 0x4000').replace(/^(-A .*)$/gm, '[1:2] $1');
    expect(respelled).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000');
    expect(compareIptablesText(ipt, respelled).status).toBe('match');
  });
});
