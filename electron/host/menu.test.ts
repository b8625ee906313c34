import { describe, expect, it, vi } from 'vitest';
import { MENU_ACTIONS } from '../../core/api';
import { buildMenuTemplate, collectAccelerators } from './menu';
import type { MenuHandlers, MenuItemTemplate } from './menu';

function handlers(): MenuHandlers {
  return { send: vi.fn(), openSession: vi.fn(), openRecent: vi.fn(), exportSession: vi.fn(), importSession: vi.fn(), openDataFolder: vi.fn(), showAbout: vi.fn() };
}

function find(items: MenuItemTemplate[], id: string): MenuItemTemplate | undefined {
  for (const i of items) {
    if (i.id === id) return i;
    const sub = i.submenu && find(i.submenu, id);
    if (sub) return sub;
  }
  return undefined;
}

const recent = [
  { path: '/d/sessions/a.netlab', name: 'Lab A', openedAt: '2025-01-02T00:00:00Z', exists: true },
  { path: '/gone.netlab', name: 'Gone', openedAt: '2025-01-01T00:00:00Z', exists: false },
];
const samples = [
  { id: 'seed', file: 'seed.yaml', title: 'Seed' },
  { id: 'three-tier', file: 'three-tier.yaml', title: 'Three tier' },
];

describe('buildMenuTemplate', () => {
  it('has File, Edit, View, Lab and Help on Linux and Windows, with unique accelerators', () => {
    for (const platform of ['linux', 'win32']) {
      const t = buildMenuTemplate({ platform, appName: 'Kubernetes Network Lab', recent, samples, handlers: handlers() });
      expect(t.map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Lab', '&Help']);
      const acc = collectAccelerators(t);
      expect(new Set(acc).size).toBe(acc.length);
      expect(acc).toEqual(expect.arrayContaining(['CmdOrCtrl+N', 'CmdOrCtrl+O', 'CmdOrCtrl+Z', 'Ctrl+Y', 'CmdOrCtrl+E', 'CmdOrCtrl+0', 'Ctrl+Q']));
    }
  });

  it('adds the app and Window menus on macOS and uses Cmd+Shift+Z for redo', () => {
    const t = buildMenuTemplate({ platform: 'darwin', appName: 'Kubernetes Network Lab', recent, samples, handlers: handlers() });
    expect(t[0].label).toBe('Kubernetes Network Lab');
    expect(t.some((m) => m.role === 'windowMenu')).toBe(true);
    expect(find(t, 'redo')?.accelerator).toBe('Cmd+Shift+Z');
    expect(collectAccelerators(t)).not.toContain('Ctrl+Q');
  });

  it('wires every item to its handler; undo/redo and view actions go to the renderer', () => {
    const h = handlers();
    const t = buildMenuTemplate({ platform: 'linux', appName: 'Lab', recent, samples, handlers: h });
    find(t, 'undo')!.click!();
    find(t, 'redo')!.click!();
    find(t, 'fit')!.click!();
    find(t, 'session-new')!.click!();
    expect(h.send).toHaveBeenNthCalledWith(1, 'undo');
    expect(h.send).toHaveBeenNthCalledWith(2, 'redo');
    expect(h.send).toHaveBeenNthCalledWith(3, 'fit');
    expect(h.send).toHaveBeenNthCalledWith(4, 'session-new');
    find(t, 'session-open')!.click!();
    expect(h.openSession).toHaveBeenCalled();
    find(t, 'session-export-json')!.click!();
    expect(h.exportSession).toHaveBeenCalledWith('json');
    find(t, 'session-import')!.click!();
    expect(h.importSession).toHaveBeenCalled();
    // Recent sessions: only those that still exist.
    const rec = find(t, 'session-recent')!;
    expect(rec.submenu!.map((i) => i.label)).toEqual(['Lab A']);
    rec.submenu![0].click!();
    expect(h.openRecent).toHaveBeenCalledWith('/d/sessions/a.netlab');
    // Samples.
    const load = find(t, 'load-sample')!;
    expect(load.submenu!.map((i) => i.label)).toEqual(['Seed', 'Three tier']);
    load.submenu![1].click!();
    expect(h.send).toHaveBeenLastCalledWith('load-sample', 'three-tier');
    // Every action the renderer may receive from send() is a known MenuAction.
    for (const [action] of vi.mocked(h.send).mock.calls) expect(MENU_ACTIONS).toContain(action);
  });

  it('disables Open Recent when nothing can be reopened', () => {
    const t = buildMenuTemplate({ platform: 'linux', appName: 'Lab', recent: [recent[1]], samples: [], handlers: handlers() });
    expect(find(t, 'session-recent')!.enabled).toBe(false);
    expect(find(t, 'load-sample')!.enabled).toBe(false);
  });
});
