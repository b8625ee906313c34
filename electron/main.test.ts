// main.ts with the electron module mocked: checks the window's security
// settings, the CSP header, the IPC handlers and navigation rules, which
// cannot be exercised here with a real Electron.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY } from './host/csp';
import { LAB_API_METHODS } from '../core/api';

type Listener = (...args: unknown[]) => unknown;

const h = vi.hoisted(() => {
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => (resolveReady = r));
  return {
    ready,
    resolveReady: () => resolveReady(),
    userData: '',
    handlers: new Map<string, Listener>(),
    windows: [] as { opts: Record<string, unknown>; webContents: { listeners: Map<string, Listener>; openHandler?: Listener; send: Listener }; loadURL: ReturnType<typeof vi.fn> }[],
    appEvents: new Map<string, Listener>(),
    headersListener: null as Listener | null,
    permissionHandler: null as Listener | null,
    protocolHandler: null as Listener | null,
    menus: [] as unknown[],
    calls: [] as string[],
  };
});

vi.mock('electron', () => {
  class BrowserWindow {
    opts: Record<string, unknown>;
    webContents: { listeners: Map<string, Listener>; openHandler?: Listener; send: Listener; on: (ev: string, l: Listener) => void; setWindowOpenHandler: (l: Listener) => void };
    loadURL = vi.fn(async () => {});
    constructor(opts: Record<string, unknown>) {
      this.opts = opts;
      const listeners = new Map<string, Listener>();
      this.webContents = {
        listeners,
        send: vi.fn(),
        on: (ev, l) => listeners.set(ev, l),
        setWindowOpenHandler: (l) => (this.webContents.openHandler = l),
      };
      h.windows.push(this);
    }
    once() {}
    on() {}
    maximize() {}
    isMaximized() {
      return false;
    }
    isDestroyed() {
      return false;
    }
    getNormalBounds() {
      return { x: 0, y: 0, width: 1200, height: 800 };
    }
    static getAllWindows() {
      return h.windows;
    }
  }
  return {
    app: {
      isPackaged: false,
      enableSandbox: () => h.calls.push('enableSandbox'),
      setName: () => {},
      whenReady: () => h.ready,
      on: (ev: string, l: Listener) => h.appEvents.set(ev, l),
      getPath: () => h.userData,
      getAppPath: () => join(__dirname, '..'),
      getVersion: () => '0.1.0-test',
      quit: () => {},
    },
    BrowserWindow,
    Menu: { buildFromTemplate: (t: unknown) => ({ template: t }), setApplicationMenu: (m: unknown) => h.menus.push(m) },
    dialog: {},
    ipcMain: { handle: (c: string, l: Listener) => h.handlers.set(c, l), removeHandler: (c: string) => h.handlers.delete(c) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: { scheme: string; privileges: Record<string, boolean> }[]) => h.calls.push(`privileged:${JSON.stringify(schemes)}`),
      handle: (scheme: string, l: Listener) => {
        h.calls.push(`handle:${scheme}`);
        h.protocolHandler = l;
      },
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (l: Listener) => (h.headersListener = l) },
        setPermissionRequestHandler: (l: Listener) => (h.permissionHandler = l),
        setPermissionCheckHandler: () => {},
      },
    },
    shell: { openExternal: vi.fn(async () => {}), openPath: vi.fn(async () => '') },
  };
});

const dataDir = mkdtempSync(join(tmpdir(), 'netlab-main-'));

beforeAll(async () => {
  h.userData = dataDir;
  process.env.NETLAB_DATA_DIR = dataDir;
  delete process.env.ELECTRON_RENDERER_URL;
  await import('./main');
  expect(h.calls.some((c) => c.startsWith('privileged:'))).toBe(true);
  expect(h.windows).toHaveLength(0); // nothing before ready
  h.resolveReady();
  await vi.waitFor(() => expect(h.windows).toHaveLength(1));
});
afterAll(() => {
  h.appEvents.get('before-quit')?.();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('electron/main.ts', () => {
  it('registers the netlab:// scheme as privileged before ready and turns the sandbox on for all renderers', () => {
    const reg = h.calls.find((c) => c.startsWith('privileged:'))!;
    expect(JSON.parse(reg.slice('privileged:'.length))).toEqual([{ scheme: 'netlab', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(h.calls).toContain('enableSandbox');
    expect(h.calls).toContain('handle:netlab');
  });

  it('creates the window with context isolation, the sandbox, no Node and web security, loading the app protocol', () => {
    const win = h.windows[0];
    expect(win.opts.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String((win.opts.webPreferences as { preload: string }).preload)).toMatch(/preload[/\\]preload\.cjs$/);
    expect(win.loadURL).toHaveBeenCalledWith('netlab://app/index.html');
  });

  it('serves the UI through the app protocol with the CSP, and adds the CSP header to app responses', async () => {
    const res = (await h.protocolHandler!({ url: 'netlab://app/index.html' })) as Response;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const cb = vi.fn();
    h.headersListener!({ url: 'netlab://app/assets/x.js', responseHeaders: { A: ['1'] } }, cb);
    expect(cb).toHaveBeenCalledWith({ responseHeaders: { A: ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    const other = vi.fn();
    h.headersListener!({ url: 'https://example.com/', responseHeaders: {} }, other);
    expect(other).toHaveBeenCalledWith({ responseHeaders: {} });
  });

  it('denies every permission request', () => {
    const cb = vi.fn();
    h.permissionHandler!({}, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
  });

  it('keeps the window on the lab: no navigation elsewhere, no new windows', () => {
    const wc = h.windows[0].webContents;
    const ev = { preventDefault: vi.fn() };
    wc.listeners.get('will-navigate')!(ev, 'https://evil.example/');
    expect(ev.preventDefault).toHaveBeenCalled();
    const ok = { preventDefault: vi.fn() };
    wc.listeners.get('will-navigate')!(ok, 'netlab://app/index.html');
    expect(ok.preventDefault).not.toHaveBeenCalled();
    expect(wc.openHandler!({ url: 'https://kubernetes.io/docs/' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
  });

  it('handles every LabApi method over IPC, validating arguments and the sender', async () => {
    expect([...h.handlers.keys()].sort()).toEqual(LAB_API_METHODS.map((m) => `labapi:${m}`).sort());
    const trusted = { senderFrame: { url: 'netlab://app/index.html' } };
    const info = (await h.handlers.get('labapi:appInfo')!(trusted)) as { ok: boolean; result: Record<string, unknown> };
    expect(info).toMatchObject({ ok: true, result: { transport: 'ipc', electron: true, version: '0.1.0-test', dataDir } });
    expect(await h.handlers.get('labapi:readSample')!(trusted, '../../etc/passwd')).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await h.handlers.get('labapi:appInfo')!({ senderFrame: { url: 'https://evil.example/' } })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const created = (await h.handlers.get('labapi:sessionNew')!(trusted)) as { ok: boolean; result: { state: { sample: string } } };
    expect(created).toMatchObject({ ok: true, result: { state: { sample: 'seed' } } });
  });

  it('installs the File/Edit/View/Lab/Help menu', () => {
    const last = h.menus[h.menus.length - 1] as { template: { label: string }[] };
    expect(last.template.map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Lab', '&Help']);
  });
});
