import { SECURITY_HEADERS } from './csp';
import { readStaticFile } from './static-files';

/** The privileged scheme the Electron window loads the UI from (instead of file://). */
export const APP_SCHEME = 'netlab';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Is this URL the lab's own UI (or the electron-vite dev server in development)? */
export function isAppUrl(url: string, devServerUrl?: string): boolean {
  if (url.startsWith(`${APP_ORIGIN}/`)) return true;
  if (devServerUrl) {
    try {
      return new URL(url).origin === new URL(devServerUrl).origin;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Answer a request on netlab://app/… from the built renderer folder, with the
 * CSP and the other security headers. Used by protocol.handle in main.ts.
 */
export async function handleAppRequest(rendererDir: string, requestUrl: string): Promise<Response> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return new Response('Bad request', { status: 400 });
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== 'app') return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
  const file = await readStaticFile(rendererDir, url.pathname);
  if (!file) return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
  return new Response(new Uint8Array(file.body), { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': file.type, 'Cache-Control': 'no-cache' } });
}
