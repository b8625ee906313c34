import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { classifyArgv, CommandLineError, CommandRejected, prepareCommand, quoteArgv, shellLine, splitCommandLine } from './command-line';

const cls = (line: string) => classifyArgv(splitCommandLine(line)).class;

describe('splitCommandLine', () => {
  it('splits on blanks and honours quotes and escapes', () => {
    expect(splitCommandLine('ip  -j\troute show')).toEqual(['ip', '-j', 'route', 'show']);
    expect(splitCommandLine(`tcpdump -n 'tcp[13] & 2 != 0'`)).toEqual(['tcpdump', '-n', 'tcp[13] & 2 != 0']);
    expect(splitCommandLine('echo "a \\"b\\" c"')).toEqual(['echo', 'a "b" c']);
    expect(splitCommandLine('a\\ b c')).toEqual(['a b', 'c']);
    expect(splitCommandLine(`x ''`)).toEqual(['x', '']);
  });

  it.each([
    ['ip route; reboot', ';', 9],
    ['ip route && reboot', '&', 10],
    ['ip route | sh', '|', 10],
    ['ip route `id`', '`', 10],
    ['ip route $(id)', '$', 10],
    ['cat /etc/resolv.conf > /tmp/x', '>', 22],
    ['cat < /etc/shadow', '<', 5],
    ['ls /var/lib/cni/*', '*', 17],
    ['ip route\nreboot', '\\n', 9],
  ])('rejects %j naming %s at column %i', (line, ch, col) => {
    let err: unknown;
    try {
      splitCommandLine(line);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommandLineError);
    expect((err as CommandLineError).column).toBe(col);
    expect((err as CommandLineError).message).toContain(`"${ch}"`);
  });

  it('rejects expansions inside double quotes and unterminated quotes', () => {
    expect(() => splitCommandLine('echo "$(id)"')).toThrow(/inside double quotes/);
    expect(() => splitCommandLine('echo "`id`"')).toThrow(/inside double quotes/);
    expect(() => splitCommandLine("echo 'abc")).toThrow(/unterminated single quote/);
    expect(() => splitCommandLine('echo "abc')).toThrow(/unterminated double quote/);
    expect(() => splitCommandLine('   ')).toThrow(/empty command/);
  });

  it('quoting round-trips any argv through the splitter (what a POSIX shell would see)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 0, maxLength: 12 }).filter((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)), { minLength: 1, maxLength: 6 }), (argv) => {
        expect(splitCommandLine(quoteArgv(argv))).toEqual(argv);
      }),
    );
  });
});

describe('classifyArgv: read-only allow-list', () => {
  it.each([
    'ip route',
    'ip -j route show',
    'ip -j route show table all',
    'ip r',
    'ip -4 addr',
    'ip -j addr show dev eth0',
    'ip -s link',
    'ip -s -s -d link show',
    'ip neigh show',
    'ip -j neigh',
    'ip route get 10.244.2.8',
    'ip -n nl-p-default-pod-a -j route',
    'ip netns list',
    'ip -j netns list',
    'bridge fdb show',
    'bridge -j fdb',
    'iptables-save',
    'iptables-save -t nat -c',
    'ip6tables-save',
    'iptables-nft-save',
    'ipset list',
    'ipset list KUBE-CLUSTER-IP -t',
    'conntrack -L',
    'conntrack -L -p tcp --dport 80 -o extended',
    'conntrack -S',
    'timeout 10 tcpdump -n -c 20 -i any',
    "timeout 5 tcpdump -nn -l -c 100 -i eth0 'udp port 4789'",
    'timeout -k 2 10 tcpdump -n -e -c 5 host 10.244.1.5',
    'cat /etc/resolv.conf',
    'cat /var/lib/cni/results/k8s-pod-network-abc123-eth0',
    'cat /run/netlab/cni/results/default_pod-a.json',
    'ls /var/lib/cni/results',
    'ipvsadm -Ln',
    'ipvsadm -L -n --stats',
    '/usr/sbin/ip -j route',
    'ip netns exec nl-p-default-pod-a cat /etc/resolv.conf',
    'ip netns exec nl-p-default-pod-a ip -j route',
  ])('%s is read-only', (line) => {
    expect(cls(line)).toBe('read');
  });

  it.each([
    'curl -sS -m 5 -o /dev/null http://backend.default.svc.cluster.local/',
    "curl -s -m 3 -w '%{http_code}' http://10.96.5.20:80/",
    'nc -z -w 1 10.244.2.8 8080',
    'nc -z -v -n -w 1 10.244.2.8 8080',
    'getent ahosts backend',
    'ping -c 1 10.244.2.8',
    'ip netns exec nl-p-default-pod-a curl -sS -m 5 http://backend/',
  ])('%s is a probe', (line) => {
    expect(cls(line)).toBe('probe');
  });

  it.each([
    ['ip route add 10.99.0.0/24 dev lo', /verb "add"/],
    ['ip route del default', /verb "del"/],
    ['ip route flush table main', /verb "flush"/],
    ['ip link set eth0 down', /verb "set"/],
    ['ip -batch /tmp/cmds', /-batch/],
    ['ip -force route', /-force/],
    ['ip netns add x', /changes namespaces/],
    ['ip netns exec x iptables -F', /not on the read-only list/],
    ['bridge fdb add 00:11:22:33:44:55 dev vxlan0', /changes the node/],
    ['iptables -t nat -D KUBE-SEP-X 1', /not on the read-only list/],
    ['iptables-save -M /tmp/evil', /-M/],
    ['ipset flush', /changes sets/],
    ['ipset destroy KUBE-X', /changes sets/],
    ['conntrack -D -s 10.0.0.1', /-D/],
    ['conntrack -F', /-F/],
    ['conntrack -L -z', /-z/],
    ['conntrack -E', /-E/],
    ['tcpdump -n -c 10', /timeout/],
    ['timeout 10 tcpdump -n -i any', /-c N/],
    ['timeout 10 tcpdump -c 10 -i any', /needs -n/],
    ['timeout 10 tcpdump -n -c 10 -w /tmp/x.pcap', /-w/],
    ['timeout 10 tcpdump -n -c 10 -z /bin/sh', /-z/],
    ['timeout 10 tcpdump -n -c 10 -r /etc/shadow', /-r/],
    ['timeout 99999 tcpdump -n -c 10', /outside/],
    ['cat /etc/shadow', /only for/],
    ['cat /var/lib/cni/results/../../../etc/shadow', /only for/],
    ['ipvsadm -C', /not read-only/],
    ['curl -m 5 -o /tmp/x http://a/', /\/dev\/null/],
    ['curl -m 5 -d @/etc/shadow http://a/', /-d/],
    ['curl -s http://a/', /max-time/],
    ['nc -l -p 80', /-l/],
    ['nc -z 10.0.0.1 80', /-w/],
    ['rm -rf /', /not on the read-only list/],
    ['sh -c id', /not on the read-only list/],
  ])('%s needs confirmation (%s)', (line, why) => {
    const c = classifyArgv(splitCommandLine(line));
    expect(c.class).toBe('write');
    expect(c.reason).toMatch(why);
  });
});

describe('prepareCommand permissions', () => {
  it('read-only passes; probes need allowProbe; writes need allowWrite', () => {
    expect(prepareCommand('ip -j route').argv).toEqual(['ip', '-j', 'route']);
    expect(() => prepareCommand('nc -z -w 1 10.0.0.1 80')).toThrow(CommandRejected);
    expect(prepareCommand('nc -z -w 1 10.0.0.1 80', { allowProbe: true }).classification.class).toBe('probe');
    let err: CommandRejected | undefined;
    try {
      prepareCommand('ip route del default', { allowProbe: true });
    } catch (e) {
      err = e as CommandRejected;
    }
    expect(err).toBeInstanceOf(CommandRejected);
    expect(err!.message).toMatch(/verb "del"/);
    expect(err!.hint).toMatch(/--yes-modify/);
    expect(prepareCommand('ip route del default', { allowWrite: true }).argv).toEqual(['ip', 'route', 'del', 'default']);
  });

  it('a shell line with metacharacters runs only with allowWrite, as written', () => {
    expect(() => prepareCommand('iptables-save | grep KUBE')).toThrow(CommandRejected);
    const p = prepareCommand('iptables-save | grep KUBE', { allowWrite: true });
    expect(p.shell).toBe('iptables-save | grep KUBE');
    expect(shellLine(p)).toBe('iptables-save | grep KUBE');
  });

  it('argv words are quoted for the shell, so nothing in them is interpreted', () => {
    const p = prepareCommand(['timeout', '5', 'tcpdump', '-n', '-c', '1', 'tcp[13] & 2 != 0']);
    expect(shellLine(p)).toBe("timeout 5 tcpdump -n -c 1 'tcp[13] & 2 != 0'");
    expect(shellLine(prepareCommand(['curl', '-m', '5', '-w', "%{http_code} it's", 'http://a/'], { allowProbe: true }))).toBe("curl -m 5 -w '%{http_code} it'\\''s' http://a/");
  });
});
