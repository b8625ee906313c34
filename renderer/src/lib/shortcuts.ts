// Keyboard shortcuts of the lab: one table drives both the key handler and
// the help overlay, so what the overlay lists is what the keys do.

export type ShortcutAction =
  | 'new-pod'
  | 'new-node'
  | 'new-namespace'
  | 'new-service'
  | 'new-policy'
  | 'delete'
  | 'undo'
  | 'redo'
  | 'search'
  | 'fit'
  | 'help'
  | 'escape'
  | 'mode-design'
  | 'mode-simulate'
  | 'mode-matrix'
  | 'mode-compare'
  | 'step-forward'
  | 'step-back'
  | 'play'
  | 'reset'
  | 'terminal'
  | 'overlay'
  | 'layout-fcose'
  | 'layout-dagre'
  | 'layout-grid'
  | 'export-png';

export interface Shortcut {
  action: ShortcutAction;
  /** Keys as shown in the help overlay. */
  keys: string[];
  description: string;
  group: 'Design' | 'Canvas' | 'Packet stepper' | 'Views' | 'General';
  /** Matches a key event. */
  match: (e: KeyLike) => boolean;
}

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

const plain = (key: string) => (e: KeyLike) => !e.ctrlKey && !e.metaKey && !e.altKey && e.key === key;
const mod = (e: KeyLike) => (e.ctrlKey || e.metaKey) && !e.altKey;

export const SHORTCUTS: Shortcut[] = [
  { action: 'new-pod', keys: ['N'], description: 'New pod (on the selected node)', group: 'Design', match: (e) => plain('n')(e) },
  { action: 'new-node', keys: ['Shift', 'N'], description: 'New node', group: 'Design', match: (e) => plain('N')(e) && e.shiftKey },
  { action: 'new-namespace', keys: ['Shift', 'M'], description: 'New namespace', group: 'Design', match: (e) => plain('M')(e) && e.shiftKey },
  { action: 'new-service', keys: ['S'], description: 'New Service (selecting the selected pod)', group: 'Design', match: plain('s') },
  { action: 'new-policy', keys: ['P'], description: 'New NetworkPolicy (for the selected pod)', group: 'Design', match: plain('p') },
  { action: 'delete', keys: ['Delete'], description: 'Delete the selected element', group: 'Design', match: (e) => !mod(e) && (e.key === 'Delete' || e.key === 'Backspace') },
  { action: 'undo', keys: ['Ctrl', 'Z'], description: 'Undo (the session keeps every change)', group: 'Design', match: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z' },
  { action: 'redo', keys: ['Ctrl', 'Shift', 'Z'], description: 'Redo (also Ctrl+Y)', group: 'Design', match: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || (!e.shiftKey && e.key.toLowerCase() === 'y')) },
  { action: 'search', keys: ['/'], description: 'Search pods, Services and nodes', group: 'Canvas', match: plain('/') },
  { action: 'fit', keys: ['F'], description: 'Fit the graph to the window', group: 'Canvas', match: plain('f') },
  { action: 'overlay', keys: ['O'], description: 'Policy overlay on/off', group: 'Canvas', match: plain('o') },
  { action: 'layout-fcose', keys: ['L', 'then', '1'], description: 'Layout: force-directed (fcose)', group: 'Canvas', match: () => false },
  { action: 'layout-dagre', keys: ['L', 'then', '2'], description: 'Layout: layered (dagre)', group: 'Canvas', match: () => false },
  { action: 'layout-grid', keys: ['L', 'then', '3'], description: 'Layout: grid by node', group: 'Canvas', match: () => false },
  { action: 'export-png', keys: ['Ctrl', 'Shift', 'E'], description: 'Export the canvas as PNG', group: 'Canvas', match: (e) => mod(e) && e.shiftKey && e.key.toLowerCase() === 'e' },
  { action: 'mode-design', keys: ['1'], description: 'Design view', group: 'Views', match: plain('1') },
  { action: 'mode-simulate', keys: ['2'], description: 'Simulation (packet stepper)', group: 'Views', match: plain('2') },
  { action: 'mode-matrix', keys: ['3'], description: 'Reachability matrix', group: 'Views', match: plain('3') },
  { action: 'terminal', keys: ['T'], description: 'Terminal drawer on/off', group: 'Views', match: plain('t') },
  { action: 'step-forward', keys: ['→'], description: 'Next hop', group: 'Packet stepper', match: plain('ArrowRight') },
  { action: 'step-back', keys: ['←'], description: 'Previous hop', group: 'Packet stepper', match: plain('ArrowLeft') },
  { action: 'play', keys: ['Space'], description: 'Play / pause', group: 'Packet stepper', match: plain(' ') },
  { action: 'reset', keys: ['Home'], description: 'Back to the first hop', group: 'Packet stepper', match: plain('Home') },
  { action: 'help', keys: ['?'], description: 'This help', group: 'General', match: (e) => !e.ctrlKey && !e.metaKey && e.key === '?' },
  { action: 'escape', keys: ['Esc'], description: 'Close menus and dialogs, clear the selection', group: 'General', match: plain('Escape') },
];

/** The layout chord: `L` then a digit. */
export const LAYOUT_CHORD: Record<string, ShortcutAction> = { '1': 'layout-fcose', '2': 'layout-dagre', '3': 'layout-grid' };

/** The action a key event triggers, or null. */
export function matchShortcut(e: KeyLike): ShortcutAction | null {
  for (const s of SHORTCUTS) if (s.match(e)) return s.action;
  return null;
}

/** Whether key events should go to a text field instead of the shortcuts. */
export function isTypingTarget(el: { tagName?: string; isContentEditable?: boolean; type?: string; closest?: (s: string) => unknown } | null): boolean {
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag === 'INPUT') return !['button', 'checkbox', 'radio', 'range', 'file', 'submit', 'reset'].includes(String(el.type ?? 'text'));
  // xterm.js keeps its own hidden textarea, covered above; its container too.
  return !!el.closest?.('.xterm');
}

export function groups(): { group: Shortcut['group']; items: Shortcut[] }[] {
  const order: Shortcut['group'][] = ['Design', 'Canvas', 'Views', 'Packet stepper', 'General'];
  return order.map((group) => ({ group, items: SHORTCUTS.filter((s) => s.group === group) }));
}
