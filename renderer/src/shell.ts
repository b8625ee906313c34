// The shell, loaded by main.ts once the first requests are on their way.
import { mount } from 'svelte';
import App from './App.svelte';
import type { Boot } from './boot';

export function startShell(target: HTMLElement, booting: Promise<Boot>): void {
  mount(App, { target, props: { booting } });
}
