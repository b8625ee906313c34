// Electron main process: the window, menus, dialogs and the IPC transport.
// Everything testable lives in electron/host/ (no electron imports there);
// this file only wires Electron objects to it.
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, screen, session, shell } from 'electron';
import type { MenuItemConstructorOptions } from 'electron';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_EVENT_CHANNEL } from '../core/api';
import type { LabEventMap, LabEventName, MenuAction } from '../core/api';
import { createHostApi } from './host/api';
import type { HostApi } from './host/api';
import { APP_ENTRY_URL, APP_SCHEME, handleAppRequest, isAppUrl } from './host/app-protocol';
import { CONTENT_SECURITY_POLICY } from './host/csp';
import { createDispatcher } from './host/dispatch';
import { registerLabApiIpc } from './host/ipc';
import { buildMenuTemplate } from './host/menu';
import { MIN_SIZE, loadWindowState, saveWindowState, trackWindowState } from './host/window-state';

const here = dirname(fileURLToPath(import.meta.url));
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const APP_NAME = 'Kubernetes Network Lab';

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();
app.setName(APP_NAME);

let api: HostApi | null = null;
let mainWindow: BrowserWindow | null = null;

function emit<E extends LabEventName>(event: E, data: LabEventMap[E]): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(LAB_EVENT_CHANNEL, { event, data });
}

function notifyError(err: unknown): void {
  emit('notice', { level: 'error', message: err instanceof Error ? err.message : String(err) });
}

async function refreshMenu(): Promise<void> {
  if (!api) return;
  const host = api;
  const [recent, samples] = await Promise.all([host.sessionList(), host.listSamples()]);
  const template = buildMenuTemplate({
    platform: process.platform,
    appName: APP_NAME,
    recent,
    samples,
    handlers: {
      send: (action: MenuAction, arg?: string) => emit('menu', arg === undefined ? { action } : { action, arg }),
      openSession: () => void openSessionDialog(),
      openRecent: (path) => void openSessionPath(path),
      exportSession: (format) => void exportDialog(format),
      importSession: () => void importDialog(),
      openDataFolder: () => void host.appInfo().then((i) => shell.openPath(i.dataDir)),
      showAbout: () => void showAbout(),
    },
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template as MenuItemConstructorOptions[]));
}

async function openSessionPath(path: string): Promise<void> {
  if (!api) return;
  try {
    api.allowPath(path);
    emit('session', await api.sessionOpen(path));
    await refreshMenu();
  } catch (err) {
    notifyError(err);
  }
}

async function openSessionDialog(): Promise<void> {
  if (!mainWindow) return;
  const res = await dialog.showOpenDialog(mainWindow, {
    title: 'Open Session',
    properties: ['openFile'],
    filters: [{ name: 'Lab sessions', extensions: ['netlab'] }, { name: 'All files', extensions: ['*'] }],
  });
  if (!res.canceled && res.filePaths[0]) await openSessionPath(res.filePaths[0]);
}

async function exportDialog(format: 'yaml' | 'json'): Promise<void> {
  if (!mainWindow || !api) return;
  try {
    const out = await api.sessionExport(format);
    const res = await dialog.showSaveDialog(mainWindow, {
      title: `Export Session as ${format.toUpperCase()}`,
      defaultPath: out.filename,
      filters: [{ name: format === 'yaml' ? 'YAML' : 'JSON', extensions: format === 'yaml' ? ['yaml', 'yml'] : ['json'] }],
    });
    if (!res.canceled && res.filePath) await writeFile(res.filePath, out.text, 'utf8');
  } catch (err) {
    notifyError(err);
  }
}

async function importDialog(): Promise<void> {
  if (!mainWindow || !api) return;
  const res = await dialog.showOpenDialog(mainWindow, {
    title: 'Import Session',
    properties: ['openFile'],
    filters: [{ name: 'Exported sessions', extensions: ['yaml', 'yml', 'json'] }],
  });
  if (res.canceled || !res.filePaths[0]) return;
  try {
    emit('session', await api.sessionImport(await readFile(res.filePaths[0], 'utf8')));
    await refreshMenu();
  } catch (err) {
    notifyError(err);
  }
}

async function showAbout(): Promise<void> {
  if (!mainWindow || !api) return;
  const info = await api.appInfo();
  await dialog.showMessageBox(mainWindow, {
    type: 'info',
    title: `About ${APP_NAME}`,
    message: `${APP_NAME} ${info.version}`,
    detail: `Electron ${info.electronVersion ?? '?'} · Node ${info.nodeVersion} · ${info.platform}\nSessions: ${info.dataDir}`,
  });
}

function createWindow(): BrowserWindow {
  const stateFile = join(app.getPath('userData'), 'window-state.json');
  const state = loadWindowState(stateFile, screen.getAllDisplays());
  const win = new BrowserWindow({
    ...state.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: APP_NAME,
    backgroundColor: '#f8fafc',
    webPreferences: {
      preload: join(here, '../preload/preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  if (state.maximized) win.maximize();
  trackWindowState(win, (s) => saveWindowState(stateFile, s));
  win.once('ready-to-show', () => win.show());

  // The window never navigates away from the lab, and never opens other windows.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, devServerUrl)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(devServerUrl ?? APP_ENTRY_URL);
  return win;
}

app.whenReady().then(async () => {
  const dataDir = process.env.NETLAB_DATA_DIR || app.getPath('userData');
  api = createHostApi({
    transport: 'ipc',
    electron: true,
    electronVersion: process.versions.electron,
    version: app.getVersion(),
    resourcesDir: join(app.getAppPath(), 'resources'),
    dataDir,
  });
  api.setEventSink(emit);
  const rendererDir = join(here, '../renderer');
  protocol.handle(APP_SCHEME, (request) => handleAppRequest(rendererDir, request.url));

  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    if (isAppUrl(details.url, devServerUrl)) headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
    callback({ responseHeaders: headers });
  });
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);

  const dispatch = createDispatcher(api, { onInternalError: (method, err) => console.error(`[netlab] ${method}:`, err) });
  registerLabApiIpc(
    ipcMain,
    async (method, params) => {
      const outcome = await dispatch(method, params);
      if (outcome.ok && (method === 'sessionNew' || method === 'sessionOpen' || method === 'sessionImport')) void refreshMenu();
      return outcome;
    },
    (url) => isAppUrl(url, devServerUrl),
  );

  await refreshMenu();
  mainWindow = createWindow();
  mainWindow.on('closed', () => (mainWindow = null));
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => {
  api?.close();
});
