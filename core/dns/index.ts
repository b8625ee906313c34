// core/dns: pod resolv.conf, glibc search-list expansion, CoreDNS answers,
// NodeLocal DNSCache, dig-style rendering, and notes where the seed is wrong.

export * from './resolv';
export * from './coredns';
export * from './cache';
export * from './resolve';
export * from './notes';
