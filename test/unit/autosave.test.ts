import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LabApiError } from '../../core/api';
import type { SessionPatch, SessionStatus } from '../../core/api';
import { createAutosave } from '../../renderer/src/lib/autosave';
import type { SaveState } from '../../renderer/src/lib/autosave';

const status = (revision: number): SessionStatus => ({
  info: { path: '/s.netlab', name: 's', createdAt: '', updatedAt: '' },
  revision,
  canUndo: true,
  canRedo: false,
  readOnly: false,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('createAutosave', () => {
  it('merges a burst of edits into one save after the delay (later fields win)', async () => {
    const saves: [SessionPatch, string][] = [];
    const a = createAutosave(async (p, l) => {
      saves.push([p, l]);
      return status(saves.length);
    });
    a.queue({ notes: 'a' }, 'Edit notes');
    a.queue({ positions: { p: { x: 1, y: 1 } } }, 'Move p');
    a.queue({ notes: 'ab' }, 'Edit notes');
    expect(a.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(299);
    expect(saves).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saves).toEqual([[{ notes: 'ab', positions: { p: { x: 1, y: 1 } } }, 'Edit notes']]);
    expect(a.state).toBe('saved');
  });

  it('flush saves at once and resolves after the host committed; saves run in order', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const a = createAutosave(async (p) => {
      order.push(`start ${p.notes}`);
      if (p.notes === '1') await new Promise<void>((r) => (release = r));
      order.push(`end ${p.notes}`);
      return status(1);
    });
    a.queue({ notes: '1' }, 'x');
    const first = a.flush();
    a.queue({ notes: '2' }, 'x');
    const second = a.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['start 1']);
    release();
    await first;
    await second;
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('reports errors and read-only sessions', async () => {
    const states: [SaveState, string | undefined][] = [];
    const a = createAutosave(
      async (p) => {
        if (p.notes === 'ro') throw new LabApiError('read-only', 'The session is read-only.');
        throw new Error('disk full');
      },
      { onState: (s, d) => states.push([s, d]) },
    );
    a.queue({ notes: 'ro' }, 'x');
    await a.flush();
    expect(a.state).toBe('read-only');
    a.queue({ notes: 'other' }, 'x');
    await a.flush();
    expect(a.state).toBe('error');
    expect(states.at(-1)).toEqual(['error', 'disk full']);
  });
});
