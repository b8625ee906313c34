import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LabApiError } from '../../core/api';
import type { SampleInfo, SampleText } from '../../core/api';

const SAMPLE_FILE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,99})\.ya?ml$/;

/** Sample topologies shipped in resources/samples (one YAML file each). */
export class SampleLibrary {
  constructor(private readonly dir: string) {}

  async list(): Promise<SampleInfo[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: SampleInfo[] = [];
    for (const file of files.sort()) {
      const m = SAMPLE_FILE.exec(file);
      if (!m) continue;
      const text = await readFile(join(this.dir, file), 'utf8');
      out.push({ id: m[1], file, title: titleOf(text) ?? m[1] });
    }
    // The seed sample first: it is the one the lab opens with.
    return out.sort((a, b) => (a.id === 'seed' ? -1 : b.id === 'seed' ? 1 : a.id.localeCompare(b.id)));
  }

  async read(id: string): Promise<SampleText> {
    const found = (await this.list()).find((s) => s.id === id);
    if (!found) {
      const known = (await this.list()).map((s) => s.id).join(', ') || 'none';
      throw new LabApiError('not-found', `No sample named "${id}".`, `Known samples: ${known}.`);
    }
    return { id, file: found.file, text: await readFile(join(this.dir, found.file), 'utf8') };
  }
}

/** A `# title: …` line near the top, else the first comment line (without a trailing colon). */
function titleOf(text: string): string | undefined {
  const lines = text.split('\n', 20);
  for (const line of lines) {
    const m = /^#\s*title:\s*(.+)$/i.exec(line.trim());
    if (m) return m[1].trim().slice(0, 200);
  }
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t === '---') continue;
    if (t.startsWith('#')) {
      const title = t.replace(/^#+\s*/, '').replace(/:$/, '').trim();
      if (title) return title.slice(0, 200);
      continue;
    }
    return undefined;
  }
  return undefined;
}
