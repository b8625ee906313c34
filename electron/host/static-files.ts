import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, normalize, relative, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentType(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Map a URL path onto a file inside `root`, or null when it would leave the
 * root (`..`, encoded slashes, absolute paths) or is not a plain file.
 * `/` maps to index.html.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = resolve(root, normalize(rel));
  const inside = relative(resolve(root), file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return null;
  try {
    const st = await stat(file);
    return st.isFile() ? file : null;
  } catch {
    return null;
  }
}

export async function readStaticFile(root: string, urlPath: string): Promise<{ file: string; body: Buffer; type: string } | null> {
  const file = await resolveStaticFile(root, urlPath);
  if (!file) return null;
  return { file, body: await readFile(file), type: contentType(file) };
}

export function rendererIndex(root: string): string {
  return join(root, 'index.html');
}
