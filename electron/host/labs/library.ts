// Reading lab folders and samples from disk for the CLI and the Electron
// host: labs/<id>/ (lab.yaml and the files it references) and
// resources/samples/<id>.yaml. Pure grading lives in core/labs.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab, type LabBundle, type LoadedLab, type SampleResolver } from '../../../core/labs';
import type { Diagnostic } from '../../../core/model';
import { graderNames } from '../../../labs/graders';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's labs/ and resources/samples/ (overridable with NETLAB_LABS_DIR / NETLAB_SAMPLES_DIR). */
export const LABS_DIR = process.env.NETLAB_LABS_DIR ?? resolve(here, '../../../labs');
export const SAMPLES_DIR = process.env.NETLAB_SAMPLES_DIR ?? resolve(here, '../../../resources/samples');

const MAX_FILE = 8 * 1024 * 1024;

function walk(dir: string, root: string, out: Record<string, string>): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, root, out);
    else if (st.isFile() && !name.endsWith('.test.ts') && st.size <= MAX_FILE) out[relative(root, p).split('\\').join('/')] = readFileSync(p, 'utf8');
  }
}

/** A lab folder as a bundle (every file but tests, paths relative to the folder). */
export function readLabBundle(dir: string): LabBundle {
  const files: Record<string, string> = {};
  walk(dir, dir, files);
  return { id: dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? dir, files };
}

/** Every folder of `root` that holds a lab.yaml, sorted by id. */
export function readLabsDir(root: string = LABS_DIR): LabBundle[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => existsSync(join(root, n, 'lab.yaml')))
    .sort()
    .map((n) => readLabBundle(join(root, n)));
}

/** Resolves sample ids to resources/samples/<id>.yaml (read once). */
export function sampleResolver(dir: string = SAMPLES_DIR): SampleResolver {
  const cache = new Map<string, string | undefined>();
  return (id) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) return undefined;
    if (!cache.has(id)) {
      const p = [join(dir, `${id}.yaml`), join(dir, `${id}.yml`)].find((x) => existsSync(x));
      cache.set(id, p ? readFileSync(p, 'utf8') : undefined);
    }
    return cache.get(id);
  };
}

export interface LibraryEntry {
  bundle: LabBundle;
  lab: LoadedLab | null;
  diagnostics: Diagnostic[];
}

/** Loads every lab of `root` (validated; a lab with errors has lab: null). */
export function loadLibrary(root: string = LABS_DIR, samples: SampleResolver = sampleResolver()): LibraryEntry[] {
  return readLabsDir(root).map((bundle) => {
    const r = loadLab(bundle, samples, { graders: graderNames(bundle.id) });
    return { bundle, lab: r.lab, diagnostics: r.diagnostics };
  });
}
