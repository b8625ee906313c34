import type { LabelSelector } from './types';

/**
 * Kubernetes label selector semantics (metav1.LabelSelectorAsSelector):
 * every matchLabels pair and every expression must hold; an empty selector
 * matches everything. Callers that need "null selects nothing" check for
 * undefined themselves.
 */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  if (sel.matchLabels) {
    for (const k in sel.matchLabels) {
      if (labels[k] !== sel.matchLabels[k]) return false;
    }
  }
  if (sel.matchExpressions) {
    for (const e of sel.matchExpressions) {
      const has = Object.prototype.hasOwnProperty.call(labels, e.key);
      switch (e.operator) {
        case 'In':
          if (!has || !(e.values ?? []).includes(labels[e.key])) return false;
          break;
        case 'NotIn':
          if (has && (e.values ?? []).includes(labels[e.key])) return false;
          break;
        case 'Exists':
          if (!has) return false;
          break;
        case 'DoesNotExist':
          if (has) return false;
          break;
      }
    }
  }
  return true;
}

/** Service selectors are plain maps: every pair must match; an empty map selects nothing. */
export function mapSelectorMatches(sel: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!sel || Object.keys(sel).length === 0) return false;
  for (const k in sel) if (labels[k] !== sel[k]) return false;
  return true;
}

export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** kubectl-style text of a selector, e.g. `app=web,tier in (a,b)`; `<all>` when empty. */
export function formatSelector(sel: LabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.length ? parts.join(',') : '<all>';
}
