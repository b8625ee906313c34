// Where the seed's DNS walk-through differs from real Kubernetes / glibc /
// CoreDNS, as explanations the UI can show next to the seed's text.

export const SEED_NOTES = {
  resolverAttempts:
    'The seed says the resolver appends a search domain to "backend" and then queries "backend.default.svc.cluster.local". ' +
    'glibc works differently under "options ndots:5": a name with fewer than 5 dots is tried with each search domain first and as written last. ' +
    '"backend" (0 dots) is queried as backend.default.svc.cluster.local. straight away (A and AAAA together) and succeeds on the first try. ' +
    'But the seed\'s app asks for "backend.default.svc.cluster.local" (4 dots, still fewer than 5), so glibc first sends ' +
    'backend.default.svc.cluster.local.default.svc.cluster.local. (NXDOMAIN), then …svc.cluster.local.svc.cluster.local. (NXDOMAIN), ' +
    'then …cluster.local.cluster.local. (NXDOMAIN), and only then backend.default.svc.cluster.local. (10.96.5.20): four A+AAAA pairs, ' +
    'eight queries. Writing the name with a trailing dot ("backend.default.svc.cluster.local.") sends only the last pair.',
  ttl:
    'The seed says the answer is cached for 30 s. The CoreDNS kubernetes plugin defaults to a 5 s TTL; kubeadm\'s stock Corefile sets ' +
    '"ttl 30" in the kubernetes block (and "cache 30"), which is where 30 s comes from. glibc itself does not cache: a pod re-asks on ' +
    'every lookup unless the application, nscd, or NodeLocal DNSCache caches.',
  nodeLocalForward:
    'The seed\'s NodeLocal DNSCache Corefile forwards cluster.local to 10.96.0.10. In iptables mode node-local-dns also binds 10.96.0.10 ' +
    'itself, so the real manifest forwards to a separate "kube-dns-upstream" Service ClusterIP (__PILLAR__CLUSTER__DNS__) to avoid ' +
    'querying itself; pods keep nameserver 10.96.0.10 and need 169.254.20.10 only when kubelet --cluster-dns is changed (required in IPVS mode).',
  nodeLocalCache:
    'NodeLocal DNSCache caches positive answers for at most 30 s and negative ones (NXDOMAIN/NODATA) for at most 5 s ' +
    '("success 9984 30", "denial 9984 5"), so the search-list NXDOMAINs above are also cached, but only briefly.',
} as const;
