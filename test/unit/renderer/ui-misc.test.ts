import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../../core/model';
import { deletionSet, definingRef, newErrors } from '../../../renderer/src/lib/designer';
import { SHORTCUTS, isTypingTarget, matchShortcut } from '../../../renderer/src/lib/shortcuts';
import { escapeXml, sceneToSvg, type SvgScene } from '../../../renderer/src/lib/svg-export';
import { DEFAULT_PREFS, readPrefs, writePrefs } from '../../../renderer/src/lib/ui-prefs';
import { addManifest } from '../../../renderer/src/lib/topology-edit';

const key = (k: string, m: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...m });

describe('keyboard shortcuts', () => {
  it('maps keys to actions, with Ctrl/Cmd variants', () => {
    expect(matchShortcut(key('n'))).toBe('new-pod');
    expect(matchShortcut(key('N', { shiftKey: true }))).toBe('new-node');
    expect(matchShortcut(key('Delete'))).toBe('delete');
    expect(matchShortcut(key('z', { ctrlKey: true }))).toBe('undo');
    expect(matchShortcut(key('Z', { ctrlKey: true, shiftKey: true }))).toBe('redo');
    expect(matchShortcut(key('y', { metaKey: true }))).toBe('redo');
    expect(matchShortcut(key('/'))).toBe('search');
    expect(matchShortcut(key('?', { shiftKey: true }))).toBe('help');
    expect(matchShortcut(key('n', { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(key('ArrowRight'))).toBe('step-forward');
    expect(new Set(SHORTCUTS.map((s) => s.action)).size).toBe(SHORTCUTS.length);
  });

  it('leaves keys to text fields', () => {
    expect(isTypingTarget({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTypingTarget({ tagName: 'INPUT', type: 'text' })).toBe(true);
    expect(isTypingTarget({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(isTypingTarget({ tagName: 'DIV', closest: (s: string) => (s === '.xterm' ? {} : null) })).toBe(true);
    expect(isTypingTarget({ tagName: 'BUTTON', closest: () => null })).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

describe('SVG export', () => {
  it('writes boxes, lines with arrow markers and escaped text', () => {
    const scene: SvgScene = {
      x: 0,
      y: 0,
      w: 400,
      h: 200,
      title: 'lab <seed>',
      boxes: [
        { id: 'node/n1', kind: 'node', x: 0, y: 20, w: 200, h: 100, shape: 'round', fill: '#f1f5f9', fillOpacity: 1, stroke: '#94a3b8', strokeWidth: 1.5, dashed: false, label: ['n1  10.0.1.5'], labelAt: 'top', fontSize: 13, fontFamily: 'monospace', fontWeight: '600', color: '#1e293b', labelBackground: '#cbd5e1' },
        { id: 'pod/a/b', kind: 'pod', x: 10, y: 40, w: 176, h: 50, shape: 'round', fill: '#fff', fillOpacity: 1, stroke: '#2563eb', strokeWidth: 2, dashed: true, label: ['b', '10.244.1.5'], labelAt: 'center', fontSize: 12, fontFamily: '"JetBrains Mono"', fontWeight: 'normal', color: '#0f172a' },
        { id: 'svc/a/s', kind: 'service', x: 250, y: 150, w: 120, h: 40, shape: 'tag', fill: '#2563eb', fillOpacity: 0.12, stroke: '#2563eb', strokeWidth: 2, dashed: false, label: ['a/s & co'], labelAt: 'center', fontSize: 12, fontFamily: 'mono', fontWeight: 'normal', color: '#000' },
      ],
      lines: [{ id: 'edge/svc/a/s->pod/a/b', x1: 300, y1: 150, x2: 100, y2: 90, color: '#16a34a', width: 2, opacity: 1, dashed: false, arrow: true, label: '8080/TCP ✓' }],
    };
    const svg = sceneToSvg(scene);
    expect(svg).toMatch(/^<\?xml version="1.0"/);
    expect(svg).toContain('viewBox="-24 -24 448 248"');
    expect(svg).toContain('<title>lab &lt;seed&gt;</title>');
    expect(svg).toContain('>a/s &amp; co<');
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain('marker-end="url(#arrow-0)"');
    expect(svg).toContain('<tspan x="98" y="');
    expect(svg).toContain('>10.244.1.5</tspan>');
    // The node panel comes first, then edges, then pods and Services on top.
    expect(svg.indexOf('data-id="node/n1"')).toBeLessThan(svg.indexOf('data-id="edge/'));
    expect(svg.indexOf('data-id="edge/')).toBeLessThan(svg.indexOf('data-id="pod/a/b"'));
    expect(escapeXml(`"'`)).toBe('&quot;&apos;');
  });
});

describe('designer helpers', () => {
  const seed = readFileSync(join(__dirname, '../../../resources/samples/seed.yaml'), 'utf8');
  const topo = loadTopology({ file: 's', text: seed }).topology!;

  it('deleting a node takes its bare pods; a namespace takes its objects', () => {
    const n = deletionSet(seed, topo, { kind: 'node', name: 'node-1' });
    expect(n.refs.map((r) => r.name)).toEqual(['node-1', 'pod-a', 'pod-b', 'pod-c']);
    expect(n.summary).toBe('Delete node node-1 and its 3 pods');
    const ns = deletionSet(seed, topo, { kind: 'namespace', name: 'kube-system' });
    expect(ns.summary).toBe('Delete namespace kube-system and its 1 pod, 1 Service');
    expect(deletionSet(seed, topo, { kind: 'pod', namespace: 'default', name: 'pod-a' }).summary).toBe('Delete pod default/pod-a');
  });

  it('pods of a Deployment are edited through it', () => {
    const text = addManifest(seed, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web' }] } } } });
    const t = loadTopology({ file: 's', text }).topology!;
    const pod = t.pods.find((p) => p.owner?.name === 'web')!;
    expect(definingRef(t, { kind: 'pod', namespace: 'default', name: pod.name })).toEqual({ kind: 'deployment', namespace: 'default', name: 'web' });
    expect(deletionSet(text, t, { kind: 'pod', namespace: 'default', name: pod.name }).summary).toBe('Delete Deployment default/web');
  });

  it('counts only the errors an edit introduces', () => {
    const a = { severity: 'error' as const, code: 'x', message: 'm' };
    expect(newErrors([a], [a])).toEqual([]);
    expect(newErrors([a], [a, a])).toEqual([a]);
    expect(newErrors([], [{ ...a, severity: 'warning' as const }])).toEqual([]);
  });
});

describe('UI preferences', () => {
  it('round-trips and falls back on bad data', () => {
    const store = new Map<string, string>();
    const s = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(readPrefs(s)).toEqual(DEFAULT_PREFS);
    writePrefs({ mode: 'simulate', overlayPort: '53/UDP', terminalOpen: true, layout: 'fcose' }, s);
    expect(readPrefs(s)).toEqual({ mode: 'simulate', overlayPort: '53/UDP', terminalOpen: true, layout: 'fcose' });
    store.set('netlab.ui.v1', '{"mode":"evil","layout":7}');
    expect(readPrefs(s)).toEqual(DEFAULT_PREFS);
    store.set('netlab.ui.v1', 'not json');
    expect(readPrefs(s)).toEqual(DEFAULT_PREFS);
  });
});
