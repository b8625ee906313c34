// FNV-1a, 32 bit: the cheap, well-spread hash the model uses where a real
// component picks something at random or by its own hash (template hashes of
// pod names, tunnel source ports, Cilium identities, NAT ports), so that a
// topology always expands to the same values.

/** FNV-1a over the UTF-16 code units of `text`, as an unsigned 32-bit number. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * FNV-1 (multiply, then xor) over the UTF-8 bytes of `text`: Go's hash/fnv
 * New32, which felix uses for endpoint marks.
 */
export function fnv1_32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = (Math.imul(h, 0x01000193) ^ b) >>> 0;
  return h;
}
