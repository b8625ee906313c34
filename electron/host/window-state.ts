import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Bounds;
  maximized: boolean;
}

export interface DisplayLike {
  workArea: Bounds;
}

/** The slice of BrowserWindow that window-state tracking needs. */
export interface TrackedWindowLike {
  getNormalBounds(): Bounds;
  isMaximized(): boolean;
  isDestroyed(): boolean;
  on(event: 'resize' | 'move' | 'maximize' | 'unmaximize' | 'close', listener: () => void): unknown;
}

export const DEFAULT_SIZE = { width: 1360, height: 860 };
export const MIN_SIZE = { width: 900, height: 600 };
/** A restored window must show at least this much of itself on some display. */
const MIN_VISIBLE = { width: 160, height: 80 };

const stateSchema = z.object({
  bounds: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().positive(), height: z.number().int().positive() }),
  maximized: z.boolean(),
});

function overlap(a: Bounds, b: Bounds): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

/** A default window centred on the first (primary) display. */
export function defaultWindowState(displays: DisplayLike[]): WindowState {
  const area = displays[0]?.workArea ?? { x: 0, y: 0, width: DEFAULT_SIZE.width, height: DEFAULT_SIZE.height };
  const width = Math.min(DEFAULT_SIZE.width, area.width);
  const height = Math.min(DEFAULT_SIZE.height, area.height);
  return { bounds: { x: Math.round(area.x + (area.width - width) / 2), y: Math.round(area.y + (area.height - height) / 2), width, height }, maximized: false };
}

/**
 * Restore the saved window state, but only where it is still visible (a
 * monitor may have been unplugged since): otherwise the default. A missing or
 * unreadable file also gives the default.
 */
export function loadWindowState(file: string, displays: DisplayLike[]): WindowState {
  let saved: WindowState;
  try {
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) return defaultWindowState(displays);
    saved = parsed.data;
  } catch {
    return defaultWindowState(displays);
  }
  const b = {
    ...saved.bounds,
    width: Math.max(MIN_SIZE.width, saved.bounds.width),
    height: Math.max(MIN_SIZE.height, saved.bounds.height),
  };
  const visible = displays.some((d) => {
    const o = overlap(b, d.workArea);
    return o.width >= MIN_VISIBLE.width && o.height >= MIN_VISIBLE.height;
  });
  if (!visible) return { ...defaultWindowState(displays), maximized: saved.maximized };
  return { bounds: b, maximized: saved.maximized };
}

export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`);
  renameSync(tmp, file);
}

/** Save the window's normal bounds and maximised flag shortly after it moves or resizes, and on close. */
export function trackWindowState(win: TrackedWindowLike, save: (s: WindowState) => void, delayMs = 400): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const capture = () => {
    if (win.isDestroyed()) return;
    save({ bounds: win.getNormalBounds(), maximized: win.isMaximized() });
  };
  const later = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(capture, delayMs);
  };
  for (const ev of ['resize', 'move', 'maximize', 'unmaximize'] as const) win.on(ev, later);
  win.on('close', () => {
    if (timer) clearTimeout(timer);
    timer = null;
    capture();
  });
  return () => {
    if (timer) clearTimeout(timer);
  };
}
