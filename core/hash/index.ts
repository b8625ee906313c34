// Pure digests and their encodings, shared by the modules that name things
// after a hash the way the real components do (kube-proxy chains, Calico,
// Cilium and Antrea interfaces, felix rule ids, ipset names).
export { sha1, sha1Hex, sha224, sha256, sha256Hex } from './sha';
export { base32, base64RawUrl, concatBytes, hex } from './encode';
export { fnv1_32, fnv1a32 } from './fnv';
