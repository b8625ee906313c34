// The renderer registry: named functions that turn a topology into what a
// real tool would print (`ip route`, `iptables-save`, the CNI result…).
// `netlab render <name>` and the UI look renderers up here.

import type { Topology } from '../model/types';

/** Options a renderer may read; the CLI passes `--key value` pairs through (flags as `true`). */
export type RenderOptions = Record<string, string | boolean | undefined>;

export type RendererFn = (topology: Topology, opts: RenderOptions) => string;

export interface RendererInfo {
  name: string;
  /** One line for `netlab render --list`. */
  summary: string;
  /** Options the renderer understands, e.g. `--node NODE | --pod NS/NAME [--table all]`. */
  options: string;
  render: RendererFn;
}

const renderers = new Map<string, RendererInfo>();

export class RenderError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'RenderError';
    this.hint = hint;
  }
}

/** Registers (or replaces) a renderer under `name`. */
export function registerRenderer(name: string, fn: RendererFn, info: { summary?: string; options?: string } = {}): void {
  renderers.set(name, { name, summary: info.summary ?? '', options: info.options ?? '', render: fn });
}

export function getRenderer(name: string): RendererInfo | undefined {
  return renderers.get(name);
}

export function listRenderers(): RendererInfo[] {
  return [...renderers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Runs a renderer by name; unknown names throw RenderError listing the known ones. */
export function render(name: string, topology: Topology, opts: RenderOptions = {}): string {
  const r = renderers.get(name);
  if (!r) throw new RenderError(`unknown renderer "${name}"`, `use one of: ${listRenderers().map((x) => x.name).join(', ')}`);
  return r.render(topology, opts);
}
