import type { MenuAction, RecentSession, SampleInfo } from '../../core/api';

export type MenuRole =
  | 'appMenu'
  | 'about'
  | 'services'
  | 'hide'
  | 'hideOthers'
  | 'unhide'
  | 'quit'
  | 'cut'
  | 'copy'
  | 'paste'
  | 'selectAll'
  | 'reload'
  | 'forceReload'
  | 'toggleDevTools'
  | 'togglefullscreen'
  | 'minimize'
  | 'close'
  | 'windowMenu';

/** Electron's MenuItemConstructorOptions, as far as the lab uses them (structural, for tests). */
export interface MenuItemTemplate {
  id?: string;
  label?: string;
  role?: MenuRole;
  type?: 'normal' | 'separator' | 'submenu';
  accelerator?: string;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemTemplate[];
}

export interface MenuHandlers {
  /** Forward an action to the renderer (undo, zoom…). */
  send(action: MenuAction, arg?: string): void;
  openSession(): void;
  openRecent(path: string): void;
  exportSession(format: 'yaml' | 'json'): void;
  importSession(): void;
  openDataFolder(): void;
  showAbout(): void;
}

export interface MenuOptions {
  platform: string;
  appName: string;
  recent: RecentSession[];
  samples: SampleInfo[];
  handlers: MenuHandlers;
}

const sep: MenuItemTemplate = { type: 'separator' };

/**
 * The application menu: File / Edit / View / Lab / Help (plus the app menu on
 * macOS). Undo and Redo go to the renderer, which undoes text edits in a
 * focused field and session changes elsewhere.
 */
export function buildMenuTemplate(o: MenuOptions): MenuItemTemplate[] {
  const mac = o.platform === 'darwin';
  const h = o.handlers;
  const recent = o.recent.filter((r) => r.exists).slice(0, 10);

  const file: MenuItemTemplate = {
    label: '&File',
    submenu: [
      { id: 'session-new', label: 'New Session', accelerator: 'CmdOrCtrl+N', click: () => h.send('session-new') },
      { id: 'session-open', label: 'Open Session…', accelerator: 'CmdOrCtrl+O', click: () => h.openSession() },
      {
        id: 'session-recent',
        label: 'Open Recent',
        enabled: recent.length > 0,
        submenu: recent.length > 0 ? recent.map((r) => ({ label: r.name, click: () => h.openRecent(r.path) })) : [{ label: 'No recent sessions', enabled: false }],
      },
      sep,
      { id: 'session-import', label: 'Import Session…', accelerator: 'CmdOrCtrl+I', click: () => h.importSession() },
      { id: 'session-export-yaml', label: 'Export Session as YAML…', accelerator: 'CmdOrCtrl+E', click: () => h.exportSession('yaml') },
      { id: 'session-export-json', label: 'Export Session as JSON…', accelerator: 'CmdOrCtrl+Shift+E', click: () => h.exportSession('json') },
      sep,
      { id: 'data-folder', label: 'Show Data Folder', click: () => h.openDataFolder() },
      ...(mac ? [] : [sep, { role: 'quit' as const, label: 'Quit', accelerator: 'Ctrl+Q' }]),
    ],
  };

  const edit: MenuItemTemplate = {
    label: '&Edit',
    submenu: [
      { id: 'undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', click: () => h.send('undo') },
      { id: 'redo', label: 'Redo', accelerator: mac ? 'Cmd+Shift+Z' : 'Ctrl+Y', click: () => h.send('redo') },
      sep,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };

  const view: MenuItemTemplate = {
    label: '&View',
    submenu: [
      { id: 'fit', label: 'Fit Graph', accelerator: 'CmdOrCtrl+0', click: () => h.send('fit') },
      { id: 'zoom-in', label: 'Zoom In', accelerator: 'CmdOrCtrl+=', click: () => h.send('zoom-in') },
      { id: 'zoom-out', label: 'Zoom Out', accelerator: 'CmdOrCtrl+-', click: () => h.send('zoom-out') },
      { id: 'toggle-panel', label: 'Toggle Side Panel', accelerator: 'CmdOrCtrl+\\', click: () => h.send('toggle-panel') },
      sep,
      { role: 'reload' },
      { role: 'toggleDevTools' },
      { role: 'togglefullscreen' },
    ],
  };

  const lab: MenuItemTemplate = {
    label: '&Lab',
    submenu: [
      {
        id: 'load-sample',
        label: 'Load Sample',
        enabled: o.samples.length > 0,
        submenu: o.samples.length > 0 ? o.samples.map((s) => ({ label: s.title, click: () => h.send('load-sample', s.id) })) : [{ label: 'No samples', enabled: false }],
      },
    ],
  };

  const help: MenuItemTemplate = {
    label: '&Help',
    submenu: [{ id: 'about', label: `About ${o.appName}`, click: () => h.showAbout() }],
  };

  const menus = [file, edit, view, lab, help];
  if (mac) {
    menus.unshift({
      label: o.appName,
      submenu: [{ role: 'about' }, sep, { role: 'services' }, sep, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, sep, { role: 'quit' }],
    });
    menus.splice(menus.length - 1, 0, { role: 'windowMenu' });
  }
  return menus;
}

/** Every accelerator in a template, for conflict checks. */
export function collectAccelerators(items: MenuItemTemplate[]): string[] {
  const out: string[] = [];
  for (const i of items) {
    if (i.accelerator) out.push(i.accelerator);
    if (i.submenu) out.push(...collectAccelerators(i.submenu));
  }
  return out;
}
