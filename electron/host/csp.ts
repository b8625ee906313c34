/**
 * The Content Security Policy of the lab's UI, sent as a response header by
 * both transports (the Electron app protocol and the browser server) and
 * repeated in renderer/index.html as a meta tag. `frame-ancestors` only works
 * as a header, so the meta tag leaves it out. Styles allow 'unsafe-inline'
 * because Svelte style attributes and Cytoscape set inline styles; scripts
 * never run inline.
 */
export const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'self'",
  "script-src 'self'",
  // The topology parser's Web Worker (renderer/src/lib/topology-worker.ts), a script of the app's own.
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

export const CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.join('; ');

/** The policy as a <meta http-equiv> tag can carry it (no frame-ancestors). */
export const CONTENT_SECURITY_POLICY_META = CSP_DIRECTIVES.filter((d) => !d.startsWith('frame-ancestors')).join('; ');

/** Headers every UI response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};
