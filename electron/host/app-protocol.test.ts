import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, handleAppRequest, isAppUrl } from './app-protocol';
import { CONTENT_SECURITY_POLICY } from './csp';

const root = mkdtempSync(join(tmpdir(), 'netlab-proto-'));
const rendererDir = join(root, 'renderer');
mkdirSync(join(rendererDir, 'assets'), { recursive: true });
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>lab</title>');
writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(root, 'secret.txt'), 'outside');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('netlab:// app protocol', () => {
  it('serves the built renderer with the CSP and a content type', async () => {
    const res = await handleAppRequest(rendererDir, APP_ENTRY_URL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('<title>lab</title>');
    const js = await handleAppRequest(rendererDir, 'netlab://app/assets/app.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await handleAppRequest(rendererDir, 'netlab://app/')).status).toBe(200);
  });

  it('never leaves the renderer folder', async () => {
    for (const url of ['netlab://app/../secret.txt', 'netlab://app/%2e%2e/secret.txt', 'netlab://app/assets/..%2f..%2fsecret.txt', 'netlab://app/%2e%2e%5csecret.txt', 'netlab://other/index.html', 'netlab://app/assets']) {
      const res = await handleAppRequest(rendererDir, url);
      expect([400, 404], url).toContain(res.status);
    }
  });

  it('knows which URLs are the lab itself', () => {
    expect(isAppUrl('netlab://app/index.html')).toBe(true);
    expect(isAppUrl('netlab://apps/index.html')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/x', 'http://localhost:5173')).toBe(false);
  });
});
