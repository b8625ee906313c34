import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SampleLibrary } from './samples';

const dir = mkdtempSync(join(tmpdir(), 'netlab-samples-'));
writeFileSync(join(dir, 'zeta.yaml'), '# Zeta cluster: two nodes\napiVersion: v1\n');
writeFileSync(join(dir, 'seed.yaml'), '---\n# title: The seed scenario\n# more words\nkind: Topology\n');
writeFileSync(join(dir, 'plain.yml'), 'kind: Topology\n');
writeFileSync(join(dir, 'notes.txt'), 'not a sample');
writeFileSync(join(dir, '.hidden.yaml'), 'kind: x');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SampleLibrary', () => {
  it('lists YAML files, seed first, with titles from their comments', async () => {
    expect(await new SampleLibrary(dir).list()).toEqual([
      { id: 'seed', file: 'seed.yaml', title: 'The seed scenario' },
      { id: 'plain', file: 'plain.yml', title: 'plain' },
      { id: 'zeta', file: 'zeta.yaml', title: 'Zeta cluster: two nodes' },
    ]);
  });

  it('reads a sample by id and names the known ones when asked for another', async () => {
    const lib = new SampleLibrary(dir);
    expect(await lib.read('zeta')).toEqual({ id: 'zeta', file: 'zeta.yaml', text: '# Zeta cluster: two nodes\napiVersion: v1\n' });
    await expect(lib.read('nope')).rejects.toMatchObject({ code: 'not-found', hint: 'Known samples: seed, plain, zeta.' });
  });

  it('ships the seed sample in resources/samples', async () => {
    const real = await new SampleLibrary(join(__dirname, '..', '..', 'resources', 'samples')).list();
    expect(real[0].id).toBe('seed');
  });

  it('gives an empty list for a missing folder', async () => {
    expect(await new SampleLibrary(join(dir, 'missing')).list()).toEqual([]);
  });
});
