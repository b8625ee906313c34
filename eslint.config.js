import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const nodeOnly = ['electron', 'fs', 'path', 'os', 'net', 'child_process', 'better-sqlite3', 'ssh2', 'node-pty', 'ws'];
const layerRule = (what) => [
  'error',
  {
    paths: nodeOnly.map((name) => ({ name, message: `${what} must not import Node or Electron modules (see shared DESIGN.md layers).` })),
    patterns: [{ group: ['node:*', 'fs/*', 'electron/*'], message: `${what} must not import Node or Electron modules.` }],
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'test-results/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  { files: ['core/**/*.ts'], ignores: ['core/**/*.test.ts'], rules: { 'no-restricted-imports': layerRule('core/') } },
  { files: ['renderer/**/*.ts', 'renderer/**/*.svelte'], rules: { 'no-restricted-imports': layerRule('renderer/') } },
  {
    // Only main.ts and preload.ts may import electron.
    files: ['electron/**/*.ts', 'cli/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*'],
    ignores: ['electron/main.ts', 'electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only electron/main.ts and electron/preload.ts import electron.' }] }],
    },
  },
);
