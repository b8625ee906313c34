import { mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LabApiError } from '../../../core/api';
import type { ExportFormat, RecentSession, SessionExport, SessionPatch, SessionSnapshot, SessionState, SessionStatus } from '../../../core/api';
import { SessionDb } from './session-db';
import { exportSession, parseSessionFile, slug } from './file-format';
import { RecentList } from './recent';

export const SESSION_EXTENSION = '.netlab';

export interface SessionManagerOptions {
  /** Where new sessions are created and the recent list is kept. */
  dataDir: string;
  /** The state a new session starts with. */
  initialState: (sample?: string) => Promise<SessionState>;
  appVersion: string;
}

/**
 * The sessions of one host: the current session, creating/opening/importing,
 * and the recent list. Session files outside the data directory can only be
 * opened when the user picked them (a dialog in Electron calls allowPath) or
 * they are already in the recent list.
 */
export class SessionManager {
  readonly sessionsDir: string;
  private current: SessionDb | null = null;
  private readonly recent: RecentList;
  private readonly allowed = new Set<string>();

  constructor(private readonly opts: SessionManagerOptions) {
    this.sessionsDir = join(opts.dataDir, 'sessions');
    mkdirSync(this.sessionsDir, { recursive: true });
    this.recent = new RecentList(join(opts.dataDir, 'recent-sessions.json'));
  }

  /** Let the renderer open this path (the user chose it in a dialog). */
  allowPath(path: string): void {
    this.allowed.add(resolve(path));
  }

  async create(options: { name?: string; sample?: string } = {}): Promise<SessionSnapshot> {
    const state = await this.opts.initialState(options.sample);
    const name = options.name ?? defaultName(state);
    return this.adopt(SessionDb.create(this.newPath(name), { name, state, appVersion: this.opts.appVersion }));
  }

  open(path: string): SessionSnapshot {
    const abs = resolve(path);
    if (!isAbsolute(path)) {
      throw new LabApiError('invalid-params', `Session paths must be absolute (got ${path}).`, 'Pick the file with File › Open Session… or from the recent list.');
    }
    if (!this.mayOpen(abs)) {
      throw new LabApiError(
        'forbidden',
        `${abs} is outside the lab's sessions folder (${this.sessionsDir}).`,
        'Open it with File › Open Session… (desktop app), or export it there and use Import Session.',
      );
    }
    if (this.current && this.current.path === abs) return this.current.snapshot();
    return this.adopt(SessionDb.open(abs));
  }

  /** The current session; when none is open yet, the most recent one that still exists. */
  currentOrRestore(): SessionSnapshot | null {
    if (this.current) return this.current.snapshot();
    for (const r of this.recent.list()) {
      if (!r.exists) continue;
      try {
        return this.adopt(SessionDb.open(r.path));
      } catch {
        /* try the next one */
      }
    }
    return null;
  }

  list(): RecentSession[] {
    return this.recent.list();
  }

  save(patch: SessionPatch, label?: string): SessionStatus {
    return this.need().apply(patch, label);
  }

  undo(): SessionSnapshot {
    return this.need().undo();
  }

  redo(): SessionSnapshot {
    return this.need().redo();
  }

  export(format: ExportFormat): SessionExport {
    const s = this.need();
    return exportSession(s.info(), s.state(), format, `kubernetes-network-lab ${this.opts.appVersion}`);
  }

  import(text: string, name?: string): SessionSnapshot {
    const file = parseSessionFile(text);
    const sessionName = name ?? (file.name ? `${file.name} (imported)` : 'Imported session');
    return this.adopt(SessionDb.create(this.newPath(sessionName), { name: sessionName, state: file.state, appVersion: this.opts.appVersion }));
  }

  close(): void {
    this.current?.close();
    this.current = null;
  }

  /** The current session file (null when none is open), for modules that keep tables in it. */
  currentDb(): SessionDb | null {
    return this.current;
  }

  private adopt(db: SessionDb): SessionSnapshot {
    if (this.current && this.current !== db) this.current.close();
    this.current = db;
    this.allowed.add(db.path);
    this.recent.touch(db.path, db.info().name);
    return db.snapshot();
  }

  private need(): SessionDb {
    if (!this.current) throw new LabApiError('no-session', 'No session is open.', 'Start a new session (File › New Session) or open a recent one.');
    return this.current;
  }

  private mayOpen(abs: string): boolean {
    if (this.allowed.has(abs) || this.recent.has(abs)) return true;
    let real = abs;
    try {
      real = realpathSync(abs);
    } catch {
      /* does not exist: checked by open() */
    }
    const rel = relative(realpathSync(this.sessionsDir), real);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  }

  private newPath(name: string): string {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    return join(this.sessionsDir, `${slug(name) || 'session'}-${stamp}-${randomBytes(3).toString('hex')}${SESSION_EXTENSION}`);
  }
}

function defaultName(state: SessionState): string {
  return state.sample ? `Lab on ${state.sample}` : 'Untitled lab';
}
