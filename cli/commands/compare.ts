// netlab compare: the model against a real node — the local test-bed, a
// node over SSH, or a kind node through docker exec — check by check, every
// difference explained. Exits 1 when a difference is not explained.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { CHECK_NAMES, formatReport, hasUnexplained, type CheckName, type NodeReport } from '../../core/compare';
import { compareNode, connectSsh, DockerRunner, NetnsRunner, parseVia, RemoteError, viaText, type NodeRunner, type Via } from '../../electron/host/remote';
import { defaultDataDir } from '../../electron/host/data-dir';
import { loadState, nodeNetns, type TestbedState } from '../../electron/host/testbed';
import { parseVerbArgs } from '../args';
import { countDiagnostics, loadFromFiles, printDiagnostics } from '../load';
import { EXIT, UsageError, type CliIO, type Command } from '../types';

const USAGE = `usage: netlab compare FILE… --node NAME|all --via testbed|ssh://USER@HOST:PORT|docker://CONTAINER|netns://NAME
                      [--check routes,rules,iptables,conntrack,tcpdump,dns,policy,cni] [--json]
                      [--accept-host-key[=SHA256:…]] [--identity KEYFILE] [--known-hosts FILE]
                      [--probe] [--yes-modify] [--client NS/POD] [--target HOST:PORT]
                      [--policy-pairs node|all] [--timeout SECONDS] [--brief] [--save-raw DIR]

Compares what the model says a node has with what the node really has, and
explains every difference. Checks (default: all):
  routes     ip -j route of the node (and of its pods' namespaces) against the CNI model:
             matched on type, destination, gateway, device; proto/scope/src/metric shown
  rules      ip -j rule (and ip -6 -j rule on dual-stack) against the model's policy rules
             (kernel defaults, Calico WireGuard's 99, Cilium's 9 and local rule at 100):
             matched on priority, selectors and table; rules the model cannot express named
  iptables   iptables-save: KUBE-* (kube-proxy) and cali-* (policy) chains, chain by chain,
             counters/quoting/probability decimals/MARK spellings normalised
  conntrack  conntrack -L after a real request (curl from a pod on the node to a Service)
  tcpdump    tcpdump -n -i any during that request: DNS questions in search order, the SYN
             to the ClusterIP, the SYN after DNAT, VXLAN outer headers and VNI
  dns        the client pod's resolv.conf, and the questions/answers of the request
  policy     nc -z between pod namespaces on the policy ports against the policy verdicts
  cni        the CNI ADD results the plugins returned against the model's

--via testbed               the local test-bed (netlab testbed up); needs root
--via ssh://root@HOST:PORT  SSH with host-key checking against the lab's known_hosts
                            (${join('<data dir>', 'known_hosts')}); on first contact the key's
                            fingerprint is shown and the connection stops unless you accept it
                            (--accept-host-key, or --accept-host-key=SHA256:… to accept only
                            that key); a changed key is always refused
--via docker://CONTAINER    docker exec into a kind node
--identity KEYFILE          private key (default: ssh-agent, else ~/.ssh/id_ed25519, id_ecdsa,
                            id_rsa; the test-bed's own key for test-bed nodes). A passphrase is
                            asked on the terminal and kept in memory only
--probe                     allow test requests (curl, nc -z) from pod namespaces: they change
                            no configuration but leave conntrack entries. On by default for the
                            local test-bed; needed for conntrack, tcpdump, policy elsewhere
--yes-modify                allow commands that may change the node (implies --probe)
--client NS/POD, --target HOST:PORT   the request the probe checks make (default: a pod on
                            the node, and the first ClusterIP Service with endpoints)
--policy-pairs node|all     policy attempts from pods on this node (default) or between all pods
--node all                  every node of the topology (test-bed only)
--brief                     list only unexplained differences
--save-raw DIR              keep what the node printed (DIR/NODE/iptables-save.txt, tcpdump-any.txt…)

Commands sent to nodes are read-only unless --yes-modify is given.
Exit codes: 0 no unexplained difference, 1 unexplained differences or errors, 2 usage.`;

function printRemoteError(e: RemoteError, io: CliIO): number {
  io.err(`netlab compare: error [${e.code}] ${e.message}\n  hint: ${e.hint}\n`);
  return EXIT.ERRORS;
}

function parseChecks(s: string | undefined): CheckName[] | undefined {
  if (s === undefined) return undefined;
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const c of list) if (!(CHECK_NAMES as readonly string[]).includes(c)) throw new UsageError(`--check ${c}: unknown check (use ${CHECK_NAMES.join(', ')})`);
  return list as CheckName[];
}

function parseTarget(s: string | undefined): { host?: string; port?: number } {
  if (!s) return {};
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(s);
  if (!m) throw new UsageError(`--target ${s}: expected HOST[:PORT]`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : undefined };
}

/** Reads a line from the terminal without echo (for key passphrases); undefined without a terminal. */
function askHidden(prompt: string, io: CliIO): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(undefined);
  io.err(prompt);
  return new Promise((resolve) => {
    let buf = '';
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          io.err('\n');
          resolve(buf);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          io.err('\n');
          resolve(undefined);
          return;
        }
        if (ch === '\u007f') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function askYesNo(prompt: string, io: CliIO): Promise<boolean> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(false);
  io.err(prompt);
  return new Promise((resolve) => {
    stdin.resume();
    stdin.once('data', (d: Buffer) => {
      stdin.pause();
      resolve(/^y(es)?$/i.test(d.toString('utf8').trim()));
    });
  });
}

/** --save-raw DIR: what the node printed, one file per command (DIR/NODE/NAME). */
function writeRaw(dir: string, node: string, name: string, text: string): void {
  const d = join(dir, node);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, name), text);
}

function defaultKey(): string | undefined {
  for (const k of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = join(homedir(), '.ssh', k);
    if (existsSync(p)) return p;
  }
  return undefined;
}

interface Opened {
  runner: NodeRunner;
  testbed: TestbedState | null;
  node: string;
}

async function openRunner(via: Via, node: string | undefined, t: { nodes: { name: string }[] }, o: { identity?: string; knownHosts: string; accept?: boolean | string; probe: boolean; write: boolean; timeoutMs: number }, io: CliIO): Promise<Opened | number> {
  const perms = (ours: boolean) => ({ allowProbe: o.probe || o.write || ours, allowWrite: o.write });
  if (via.kind === 'testbed') {
    const st = loadState();
    if (!st || st.phase !== 'up') throw new RemoteError('netns-missing', 'the local test-bed is not up', 'start it: netlab testbed up FILE');
    if (!node) throw new UsageError('--node NAME is required');
    if (!st.nodes.some((n) => n.name === node)) throw new RemoteError('bad-target', `the test-bed has no node ${node}`, `its nodes: ${st.nodes.map((n) => n.name).join(', ')}`);
    return { runner: new NetnsRunner(nodeNetns(node), { defaults: perms(true) }), testbed: st, node };
  }
  if (via.kind === 'netns') {
    if (!node) throw new UsageError('--node NAME is required');
    const st = loadState();
    const ours = st?.phase === 'up' && st.nodes.find((n) => n.netns === via.namespace);
    return { runner: new NetnsRunner(via.namespace, { defaults: perms(!!ours) }), testbed: ours ? st : null, node };
  }
  if (via.kind === 'docker') {
    if (!node) throw new UsageError('--node NAME is required (the topology node the container plays)');
    return { runner: new DockerRunner(via.container, { defaults: perms(false) }), testbed: null, node };
  }
  // ssh: a test-bed node when the address is one of the test-bed's forwards
  const st = loadState();
  const tbNode = st?.phase === 'up' && (via.host === '127.0.0.1' || via.host === 'localhost') ? st.nodes.find((n) => n.sshPort === via.port) : undefined;
  if (tbNode && node && node !== tbNode.name) throw new UsageError(`127.0.0.1:${via.port} is the test-bed's node ${tbNode.name}, not ${node}`);
  const name = node ?? tbNode?.name;
  if (!name) throw new UsageError('--node NAME is required');
  if (!t.nodes.some((n) => n.name === name)) throw new UsageError(`the topology has no node ${name}`);
  const identity = o.identity ?? (tbNode ? st?.clientKey : undefined) ?? (process.env.SSH_AUTH_SOCK ? undefined : defaultKey());
  const base = {
    host: via.host,
    port: via.port,
    user: via.user,
    knownHostsPath: o.knownHosts,
    privateKeyPath: identity,
    askPassphrase: (p: string) => askHidden(`Enter passphrase for key '${p}': `, io),
    acceptHostKey: o.accept,
    connectTimeoutMs: o.timeoutMs,
    defaults: perms(!!tbNode),
  };
  let r = await connectSsh(base);
  if (r.status === 'host-key-unknown' && o.accept === undefined && process.stdin.isTTY) {
    io.err(`${r.message}\n`);
    if (await askYesNo('Are you sure you want to continue connecting (yes/no)? ', io)) r = await connectSsh({ ...base, acceptHostKey: r.hostKey.fingerprint });
    else {
      io.err('netlab compare: host key not accepted; nothing was run\n');
      return EXIT.ERRORS;
    }
  }
  if (r.status === 'host-key-unknown') {
    io.err(`${r.message}\nnetlab compare: error [host-key-unknown] the host key of ${r.hostKey.name} is not known; nothing was run\n  hint: if the fingerprint is right, run again with --accept-host-key=${r.hostKey.fingerprint}\n`);
    return EXIT.ERRORS;
  }
  if (r.status === 'host-key-changed' || r.status === 'host-key-revoked') {
    io.err(`${r.message}\nnetlab compare: error [${r.status}] nothing was run\n`);
    return EXIT.ERRORS;
  }
  if (r.added) io.err(`Permanently added ${r.hostKey.name} (${r.hostKey.keyType} ${r.hostKey.fingerprint}) to ${o.knownHosts}\n`);
  return { runner: r.runner, testbed: tbNode ? st! : null, node: name };
}

export const compare: Command = {
  name: 'compare',
  summary: 'compare the model with a real node (test-bed, SSH, docker exec): routes, ip rules, iptables, conntrack, tcpdump, DNS, policy, CNI results',
  usage: USAGE,
  async run({ argv: rawArgv, set, json, io }) {
    // `--accept-host-key` may stand alone (accept the key shown) or carry a fingerprint
    const argv: string[] = [];
    for (let i = 0; i < rawArgv.length; i++) {
      const a = rawArgv[i];
      if (a === '--accept-host-key') argv.push(rawArgv[i + 1]?.startsWith('SHA256:') ? `--accept-host-key=${rawArgv[++i]}` : '--accept-host-key=yes');
      else argv.push(a);
    }
    const { values, positionals } = parseVerbArgs(argv, {
      node: { type: 'string' },
      via: { type: 'string' },
      check: { type: 'string' },
      'accept-host-key': { type: 'string' },
      identity: { type: 'string' },
      'known-hosts': { type: 'string' },
      probe: { type: 'boolean' },
      'yes-modify': { type: 'boolean' },
      client: { type: 'string' },
      target: { type: 'string' },
      'policy-pairs': { type: 'string' },
      timeout: { type: 'string' },
      brief: { type: 'boolean' },
      'save-raw': { type: 'string' },
    });
    let accept: boolean | string | undefined;
    const ahk = values['accept-host-key'] as string | undefined;
    if (ahk !== undefined) accept = ahk === 'yes' ? true : ahk;
    if (positionals.length === 0) throw new UsageError('give the topology file(s)');
    if (!values.via) throw new UsageError('--via is required (testbed, ssh://user@host:port, docker://container)');
    if (typeof accept === 'string' && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(accept)) throw new UsageError(`--accept-host-key=${accept}: expected SHA256:… as ssh-keygen -lf prints it`);
    const checks = parseChecks(values.check as string | undefined);
    const probe = parseTarget(values.target as string | undefined);
    const pairs = (values['policy-pairs'] as string | undefined) ?? 'node';
    if (pairs !== 'node' && pairs !== 'all') throw new UsageError('--policy-pairs node|all');
    const timeoutSec = values.timeout !== undefined ? Number(values.timeout) : 20;
    if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw new UsageError(`--timeout ${String(values.timeout)}: expected seconds`);
    const loaded = await loadFromFiles(positionals, set, io);
    const counts = countDiagnostics(loaded.diagnostics);
    if (!loaded.topology || counts.errors) {
      printDiagnostics(loaded.diagnostics, io.err);
      return EXIT.ERRORS;
    }
    const t = loaded.topology;
    let via: Via;
    try {
      via = parseVia(values.via as string);
    } catch (e) {
      if (e instanceof RemoteError) throw new UsageError(`${e.message} (${e.hint})`);
      throw e;
    }
    const nodeArg = values.node as string | undefined;
    const nodes = nodeArg === 'all' ? t.nodes.map((n) => n.name) : nodeArg ? [nodeArg] : [undefined];
    if (nodeArg === 'all' && via.kind !== 'testbed') throw new UsageError('--node all works with --via testbed only (one SSH or docker target is one node)');
    for (const n of nodes) if (n && !t.nodes.some((x) => x.name === n)) throw new UsageError(`the topology has no node ${n} (nodes: ${t.nodes.map((x) => x.name).join(', ')})`);
    const saveRaw = values['save-raw'] as string | undefined;
    const reports: NodeReport[] = [];
    try {
      for (const n of nodes) {
        const opened = await openRunner(
          via,
          n,
          t,
          {
            identity: values.identity as string | undefined,
            knownHosts: (values['known-hosts'] as string | undefined) ?? join(defaultDataDir(), 'known_hosts'),
            accept,
            probe: values.probe === true,
            write: values['yes-modify'] === true,
            timeoutMs: timeoutSec * 1000,
          },
          io,
        );
        if (typeof opened === 'number') return opened;
        try {
          if (opened.testbed && (opened.testbed.mode !== `${t.settings.cni.plugin}-${t.settings.cni.mode}` || opened.testbed.topology !== t.settings.name)) {
            io.err(`netlab compare: warning: the test-bed runs ${opened.testbed.topology} (${opened.testbed.mode}), the topology given is ${t.settings.name} (${t.settings.cni.plugin}-${t.settings.cni.mode}); differences are expected\n`);
          }
          const report = await compareNode({
            topology: t,
            node: opened.node,
            runner: opened.runner,
            via: via.kind === 'testbed' ? 'testbed' : viaText(via),
            checks,
            testbed: opened.testbed,
            probe: { client: values.client as string | undefined, host: probe.host, port: probe.port },
            policyPairs: pairs === 'all' ? 'all' : 'from-node',
            timeoutMs: timeoutSec * 1000,
            onProgress: json ? undefined : (m) => io.err(`… ${m}\n`),
            onRaw: saveRaw ? (name, text) => writeRaw(saveRaw, opened.node, name, text) : undefined,
          });
          reports.push(report);
          if (!json) io.out(formatReport(report, { showExplained: values.brief !== true }));
        } finally {
          await opened.runner.close();
        }
      }
    } catch (e) {
      if (e instanceof RemoteError) return printRemoteError(e, io);
      throw e;
    }
    if (json) io.out(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
    const bad = hasUnexplained(reports);
    if (!json) io.out(bad ? 'result: unexplained differences (exit 1)\n' : 'result: no unexplained difference\n');
    return bad ? EXIT.ERRORS : EXIT.OK;
  },
};
