import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Three builds, all under out/:
//   out/main/main.js        Electron main process (ESM; dependencies stay external
//                            and are packaged from node_modules, native ones unpacked)
//   out/preload/preload.cjs the preload, CommonJS and self-contained because the
//                            window runs with sandbox: true
//   out/renderer/           the Svelte UI (also served by electron/serve.ts)
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: { input: { main: resolve('electron/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Sandboxed preloads cannot require() node_modules: bundle everything.
      externalizeDeps: false,
      rolldownOptions: {
        input: { preload: resolve('electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [svelte()],
    build: {
      outDir: resolve('out/renderer'),
      emptyOutDir: true,
      // Cytoscape alone is ~400 kB minified; the lab is loaded from disk, not a network.
      chunkSizeWarningLimit: 2048,
      rolldownOptions: { input: { index: resolve('renderer/index.html') } },
    },
  },
});
