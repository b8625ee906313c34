// Explanation strings the UI shows next to verdicts. Each says what the
// reference or the implementation does, and where the seed is wrong.

export const IPBLOCK_POD_IP_NOTE =
  'ipBlock matched a cluster address. The NetworkPolicy API reference defines ipBlock as "a particular CIDR ' +
  '(Ex. "192.168.1.0/24","2001:db8::/64") that is allowed to the pods matched by a NetworkPolicySpec\'s podSelector", ' +
  'with except listing "CIDRs that should not be included within this rule"; the concepts page adds that ipBlock ' +
  'should name cluster-external IPs because pod IPs are ephemeral and unpredictable. Whether an ipBlock also matches ' +
  'pod or node IPs is left to the implementation: Calico matches the packet address (so pod IPs inside the CIDR match, ' +
  'as modelled here), Cilium does not (pods and nodes are matched by identity only, CIDR rules select world), and ' +
  'traffic that was SNATed or DNATed is matched on whatever address the packet carries when policy runs.';

export const CILIUM_IPBLOCK_NOTE =
  'Cilium applies CIDR (ipBlock, toCIDR, fromCIDR) rules only to peers that are not cluster endpoints: a pod or ' +
  'node address inside the CIDR is matched by its security identity, never by the CIDR (Cilium policy language: ' +
  '"CIDR based: ... if the remote peer is not an endpoint"). Run with ipBlockClusterIPs: "ignore" to see Cilium\'s verdicts.';

export const HOST_LOCAL_NOTE =
  "traffic from the pod's own node is allowed (kubelet probes; Calico and Cilium default)";

export const HOST_LOCAL_DETAIL =
  'The NetworkPolicy reference says nothing normative about traffic from the node itself. Calico does not police ' +
  'host-to-local-workload traffic (cali-OUTPUT returns for packets to cali+ interfaces) and Cilium allows the ' +
  'reserved:host identity into local endpoints by default (allow-localhost=auto), so kubelet probes and hostNetwork ' +
  'pods on the same node always reach local pods. From other nodes the packet arrives with the node IP as source and ' +
  'only an ipBlock containing that IP can allow it.';

export const LOOPBACK_NOTE =
  'A pod reaching its own IP never leaves its network namespace (loopback), so NetworkPolicy does not apply.';

export const POLICY_TYPES_DEFAULT_NOTE =
  'policyTypes left out (or empty): the API server defaults it to ["Ingress"], adding "Egress" only when the egress ' +
  'list is non-empty (SetDefaults_NetworkPolicy: len(spec.egress) != 0). An "egress: []" section therefore does NOT ' +
  'make the policy affect egress, contrary to a literal reading of "policies that contain an egress section".';

export const SEED_POLICY_TYPES_NOTE =
  'The seed says leaving Egress out of policyTypes means "egress = allow all". That is true only for pods that no ' +
  'other policy isolates for egress: isolation is the union over all policies selecting the pod.';

export const DNS_TCP_NOTE =
  'DNS answers larger than the UDP payload limit come back truncated (TC bit) and the resolver retries over TCP/53; ' +
  'the seed\'s DNS rules allow only UDP 53, so such lookups fail. Allow both UDP and TCP 53 to kube-dns.';

export const SEED_NAMESPACE_LABEL_NOTE =
  'The seed selects namespaces with "name: kube-system", a label no namespace carries unless someone adds it. The API ' +
  'server sets kubernetes.io/metadata.name on every namespace (since 1.21); select on that label instead.';

export const CILIUM_HEADER_NOTE =
  'Cilium "headers" entries are "Name: value" strings matched by exact value (Envoy exact_match after splitting at ' +
  'the first space), not regular expressions. The seed\'s "Authorization: Bearer .*" therefore requires the literal ' +
  'value "Bearer .*": any real bearer token is denied with 403. Use headerMatches or drop the value to test presence only.';

export const CILIUM_L7_DENY_NOTE =
  'A request that matches no HTTP rule on an L7-enabled port is answered by Cilium\'s Envoy proxy with ' +
  '"403 Access denied"; the TCP connection itself was allowed (the seed\'s "packet dropped, no response" is wrong for L7).';

export const CILIUM_FQDN_NOTE =
  'toFQDNs works only for names the endpoint resolved through Cilium\'s DNS proxy: the policy needs an egress rule ' +
  'to kube-dns with rules.dns (matchPattern/matchName) so the proxy sees the answers and learns the IPs. Without it ' +
  'the FQDN selector holds no IPs and matches nothing.';

export const CALICO_IPVS_NOTE =
  'With kube-proxy in IPVS mode a ClusterIP is a local address (kube-ipvs0), so a pod\'s packet to a Service meets ' +
  'felix in cali-INPUT, not cali-FORWARD, and felix (KubeIPVSSupportEnabled, on when kube-ipvs0 exists) does not police ' +
  'it there: cali-forward-check sees a destination outside cali40this-host (or a NodePort on one of the host\'s ' +
  'addresses), cali-set-endpoint-mark stamps the incoming interface\'s endpoint mark (cali-sm-<iface>, a value in ' +
  '0xfff00000; 0x100000 for a non-Calico interface) and cali-INPUT returns. IPVS translates the packet at LOCAL_IN and ' +
  'sends it through LOCAL_OUT: cali-OUTPUT sees the mark and goes to cali-forward-endpoint-mark, which runs the ' +
  'client\'s egress chain (cali-from-endpoint-mark → cali-fw-<iface>) and a local backend\'s ingress chain ' +
  '(cali-to-wl-dispatch → cali-tw-<iface>), clears the endpoint mark and accepts on the accept bit 0x10000.';

export const CALICO_WIREGUARD_NOTE =
  'With WireGuard on, felix takes the mark bit 0x100000 for it (the fwmark of wireguard.cali\'s own UDP packets, which ' +
  'an `ip rule not fwmark 0x100000/0x100000` keeps out of the WireGuard routing table; the IPVS endpoint-mark field ' +
  'shrinks to 0xffe00000), and accepts UDP 51820 (51821 for wg-v6.cali) to and from the host\'s own addresses in ' +
  'cali-INPUT / cali-OUTPUT so that host endpoint policy cannot cut the tunnel. There is no drop rule: WireGuard ' +
  'accepts only its configured peers. The raw table\'s cali-wireguard-incoming-mark exists only with host-traffic ' +
  'encryption (WireguardHostEncryptionEnabled, off by default).';
