import type { LabApiMethod, LabEventName, MenuAction } from './types';

/**
 * Every LabApi method, as a runtime list (the preload, the IPC handlers and the
 * WebSocket server are generated from it). Kept free of imports other than
 * types so the sandboxed preload bundle stays tiny.
 */
export const LAB_API_METHODS = [
  'appInfo',
  'listSamples',
  'readSample',
  'sessionNew',
  'sessionOpen',
  'sessionCurrent',
  'sessionList',
  'sessionSave',
  'sessionUndo',
  'sessionRedo',
  'sessionExport',
  'sessionImport',
  'terminalOpen',
  'terminalWrite',
  'terminalResize',
  'terminalClose',
  'testbedUp',
  'testbedDown',
  'testbedStatus',
  'testbedExec',
  'remoteList',
  'remoteAdd',
  'remoteRemove',
  'remoteConnect',
  'remoteAcceptHostKey',
  'remoteRun',
  'remoteDisconnect',
  'compareNode',
  'labList',
  'labStart',
  'labView',
  'labStartState',
  'labCheck',
  'labHint',
  'labReset',
  'labReport',
  'labExportPack',
  'labImportPack',
  'labSuggestChecks',
  'labAuthor',
] as const satisfies readonly LabApiMethod[];

// Compile-time check that the list is complete.
type Missing = Exclude<LabApiMethod, (typeof LAB_API_METHODS)[number]>;
const _complete: Missing extends never ? true : Missing = true;
void _complete;

export function isLabApiMethod(name: unknown): name is LabApiMethod {
  return typeof name === 'string' && (LAB_API_METHODS as readonly string[]).includes(name);
}

/** IPC channel for a method. */
export function ipcChannel(method: LabApiMethod): string {
  return `labapi:${method}`;
}

/** The one IPC channel host events travel on. */
export const LAB_EVENT_CHANNEL = 'labapi-event';

export const LAB_EVENT_NAMES = ['menu', 'session', 'notice', 'terminal', 'terminal-exit', 'testbed-step'] as const satisfies readonly LabEventName[];

export const MENU_ACTIONS = [
  'session-new',
  'session-export-yaml',
  'session-export-json',
  'session-import',
  'undo',
  'redo',
  'fit',
  'zoom-in',
  'zoom-out',
  'toggle-panel',
  'load-sample',
  'about',
] as const satisfies readonly MenuAction[];
