import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'kubernetes-network-lab';

/**
 * Where the lab keeps sessions when not told otherwise (--data-dir or
 * NETLAB_DATA_DIR): the platform's per-user application data folder. Electron
 * uses app.getPath('userData') instead.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform, home: string = homedir()): string {
  if (env.NETLAB_DATA_DIR) return env.NETLAB_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), APP_DIR_NAME);
}
