import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SIZE, MIN_SIZE, defaultWindowState, loadWindowState, saveWindowState, trackWindowState } from './window-state';
import type { Bounds, TrackedWindowLike } from './window-state';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-win-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const primary = { workArea: { x: 0, y: 0, width: 1920, height: 1080 } };
const second = { workArea: { x: 1920, y: 0, width: 1280, height: 1024 } };

describe('window state', () => {
  it('defaults to a centred window on the primary display', () => {
    expect(loadWindowState(join(dir, 'none.json'), [primary])).toEqual({
      bounds: { x: (1920 - DEFAULT_SIZE.width) / 2, y: (1080 - DEFAULT_SIZE.height) / 2, width: DEFAULT_SIZE.width, height: DEFAULT_SIZE.height },
      maximized: false,
    });
    // A small screen: never larger than the work area.
    expect(defaultWindowState([{ workArea: { x: 0, y: 0, width: 1024, height: 700 } }]).bounds).toMatchObject({ width: 1024, height: 700 });
  });

  it('restores saved bounds that are visible, on any display', () => {
    const file = join(dir, 's.json');
    saveWindowState(file, { bounds: { x: 2000, y: 50, width: 1000, height: 800 }, maximized: true });
    expect(loadWindowState(file, [primary, second])).toEqual({ bounds: { x: 2000, y: 50, width: 1000, height: 800 }, maximized: true });
  });

  it('falls back to the default when the saved display is gone, keeping the maximised flag', () => {
    const file = join(dir, 's.json');
    saveWindowState(file, { bounds: { x: 2000, y: 50, width: 1000, height: 800 }, maximized: true });
    const s = loadWindowState(file, [primary]);
    expect(s.bounds).toEqual(defaultWindowState([primary]).bounds);
    expect(s.maximized).toBe(true);
  });

  it('enforces the minimum size and ignores damaged files', () => {
    const file = join(dir, 's.json');
    saveWindowState(file, { bounds: { x: 10, y: 10, width: 200, height: 100 }, maximized: false });
    expect(loadWindowState(file, [primary]).bounds).toMatchObject({ width: MIN_SIZE.width, height: MIN_SIZE.height });
    writeFileSync(file, '{"bounds": {"x": "left"}}');
    expect(loadWindowState(file, [primary])).toEqual(defaultWindowState([primary]));
    writeFileSync(file, 'not json');
    expect(loadWindowState(file, [primary])).toEqual(defaultWindowState([primary]));
  });

  it('saves shortly after moves and resizes, and at once on close', () => {
    vi.useFakeTimers();
    const listeners = new Map<string, () => void>();
    let bounds: Bounds = { x: 1, y: 2, width: 1000, height: 700 };
    const win: TrackedWindowLike = {
      getNormalBounds: () => bounds,
      isMaximized: () => false,
      isDestroyed: () => false,
      on: (ev, l) => listeners.set(ev, l),
    };
    const save = vi.fn();
    trackWindowState(win, save, 400);
    listeners.get('move')!();
    bounds = { ...bounds, x: 50 };
    listeners.get('resize')!();
    expect(save).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(save).toHaveBeenCalledExactlyOnceWith({ bounds: { x: 50, y: 2, width: 1000, height: 700 }, maximized: false });
    listeners.get('close')!();
    expect(save).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
  });
});
