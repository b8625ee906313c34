import type { SessionPatch, SessionStatus } from '../../../core/api';

export type SaveState = 'saved' | 'pending' | 'saving' | 'error' | 'read-only';

export interface Autosave {
  /** Queue a change; changes within the delay are merged into one save (later fields win). */
  queue(patch: SessionPatch, label: string): void;
  /** Save whatever is queued now; resolves when the host has committed it. */
  flush(): Promise<void>;
  readonly state: SaveState;
}

/**
 * Debounced autosave: a burst of edits (dragging a pod, typing notes) becomes
 * one undoable change, sent `delayMs` after the last edit. Saves run one at a
 * time, in order.
 */
export function createAutosave(
  save: (patch: SessionPatch, label: string) => Promise<SessionStatus>,
  options: { delayMs?: number; onState?: (s: SaveState, detail?: string) => void; onSaved?: (status: SessionStatus) => void } = {},
): Autosave {
  const delay = options.delayMs ?? 300;
  let queued: SessionPatch | null = null;
  let label = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  let chain: Promise<void> = Promise.resolve();
  let state: SaveState = 'saved';
  const set = (s: SaveState, detail?: string) => {
    state = s;
    options.onState?.(s, detail);
  };

  const run = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!queued) return chain;
    const patch = queued;
    const l = label;
    queued = null;
    chain = chain.then(async () => {
      set('saving');
      try {
        const status = await save(patch, l);
        options.onSaved?.(status);
        set(queued ? 'pending' : 'saved');
      } catch (err) {
        const e = err as { code?: string; message?: string };
        set(e.code === 'read-only' ? 'read-only' : 'error', e.message ?? String(err));
      }
    });
    return chain;
  };

  return {
    queue(patch, l) {
      queued = { ...(queued ?? {}), ...patch };
      label = l;
      set('pending');
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void run(), delay);
    },
    flush: run,
    get state() {
      return state;
    },
  };
}
