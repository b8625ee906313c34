// View preferences that belong to the window, not to the session: the mode,
// the overlay port, whether the terminal drawer is open. Kept in
// localStorage; anything unreadable falls back to the defaults.

export type Mode = 'design' | 'simulate' | 'matrix';

export interface UiPrefs {
  mode: Mode;
  overlayPort: string;
  terminalOpen: boolean;
  layout: 'grid' | 'fcose' | 'dagre';
}

export const DEFAULT_PREFS: UiPrefs = { mode: 'design', overlayPort: '8080/TCP', terminalOpen: false, layout: 'grid' };

const KEY = 'netlab.ui.v1';

export function readPrefs(storage: Pick<Storage, 'getItem'> | null = typeof localStorage === 'undefined' ? null : localStorage): UiPrefs {
  try {
    const raw = storage?.getItem(KEY);
    if (!raw) return { ...DEFAULT_PREFS };
    const v = JSON.parse(raw) as Partial<UiPrefs>;
    return {
      mode: v.mode === 'simulate' || v.mode === 'matrix' ? v.mode : 'design',
      overlayPort: typeof v.overlayPort === 'string' && v.overlayPort.length < 20 ? v.overlayPort : DEFAULT_PREFS.overlayPort,
      terminalOpen: v.terminalOpen === true,
      layout: v.layout === 'fcose' || v.layout === 'dagre' ? v.layout : 'grid',
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function writePrefs(p: UiPrefs, storage: Pick<Storage, 'setItem'> | null = typeof localStorage === 'undefined' ? null : localStorage): void {
  try {
    storage?.setItem(KEY, JSON.stringify(p));
  } catch {
    // Private mode or full storage: preferences are not essential.
  }
}
