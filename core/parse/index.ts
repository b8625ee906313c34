// Parsers for what real Linux nodes print: iproute2 (route, rule, addr, link,
// neigh, bridge fdb), ipset, conntrack, tcpdump. Pure TypeScript; each parser
// returns typed records plus diagnostics naming the line, and never throws.
// (iptables-save is parsed by core/dataplane/iptables-parse.)

export * from './common';
export * from './route';
export * from './rule';
export * from './link';
export * from './neigh';
export * from './ipset';
export * from './conntrack';
export * from './tcpdump';
