// xt_owner (`-m owner`): matches locally generated packets by the socket that
// sent them. The netfilter model keeps `-m owner` verbatim (an opaque match,
// so iptables-save prints it exactly as written); this reads its arguments
// and applies the kernel's semantics to a packet's socket owner.
//
// Kernel (net/netfilter/xt_owner.c, owner_mt): without a socket the match is
// true only when every tested condition is inverted ((match ^ invert) == 0);
// with a socket, --uid-owner / --gid-owner test the file owner's ids against
// a range, each optionally negated. Istio's sidecar rules use exactly
// `-m owner --uid-owner 1337` and `-m owner ! --uid-owner 1337` (and gid).

export interface OwnerPacket {
  /** Socket owner of a locally generated packet; undefined when there is no local socket. */
  uid?: number;
  gid?: number;
}

interface OwnerTest {
  what: 'uid' | 'gid' | 'socket';
  from: number;
  to: number;
  neg: boolean;
}

/** Parses the arguments of an opaque `-m owner` match; undefined when they name users/groups or use unknown options. */
export function parseOwnerArgs(args: readonly string[]): OwnerTest[] | undefined {
  const tests: OwnerTest[] = [];
  let neg = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '!') {
      neg = true;
      continue;
    }
    if (a === '--socket-exists') {
      tests.push({ what: 'socket', from: 0, to: 0, neg });
    } else if (a === '--uid-owner' || a === '--gid-owner') {
      const m = /^(\d+)(?:-(\d+))?$/.exec(args[i + 1] ?? '');
      if (!m) return undefined;
      const from = Number(m[1]);
      const to = m[2] !== undefined ? Number(m[2]) : from;
      if (from > to) return undefined;
      tests.push({ what: a === '--uid-owner' ? 'uid' : 'gid', from, to, neg });
      i++;
    } else if (a === '--suppl-groups') {
      // supplementary groups: the model's sockets have only their primary gid
    } else {
      return undefined;
    }
    neg = false;
  }
  return tests;
}

/**
 * Whether an opaque `-m owner` match (its arguments as kept by the parser)
 * holds for a packet; undefined when the arguments cannot be interpreted.
 */
export function ownerMatches(args: readonly string[], p: OwnerPacket): boolean | undefined {
  const tests = parseOwnerArgs(args);
  if (!tests) return undefined;
  if (p.uid === undefined && p.gid === undefined) return tests.every((t) => t.neg);
  for (const t of tests) {
    const v = t.what === 'uid' ? p.uid : t.what === 'gid' ? p.gid : 0;
    const hit = v !== undefined && v >= t.from && v <= t.to;
    if (hit === t.neg) return false;
  }
  return true;
}
