export { SessionDb, emptySessionState, MAX_UNDO_CHANGES, SESSION_KEYS } from './session-db';
export { SessionManager, SESSION_EXTENSION } from './manager';
export type { SessionManagerOptions } from './manager';
export { SCHEMA_VERSION, MIGRATIONS, migrate, readSchemaVersion } from './migrations';
export { exportSession, parseSessionFile } from './file-format';
export { RecentList } from './recent';
