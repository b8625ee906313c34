import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { RecentSession } from '../../../core/api';

const MAX_RECENT = 20;

const recentFileSchema = z.object({
  version: z.literal(1),
  sessions: z.array(z.object({ path: z.string(), name: z.string(), openedAt: z.string() })),
});

/** The recently opened sessions list, kept as a small JSON file written atomically. */
export class RecentList {
  constructor(private readonly file: string) {}

  list(): RecentSession[] {
    return this.read().map((r) => ({ ...r, exists: existsSync(r.path) }));
  }

  touch(path: string, name: string): void {
    const rest = this.read().filter((r) => r.path !== path);
    this.write([{ path, name, openedAt: new Date().toISOString() }, ...rest].slice(0, MAX_RECENT));
  }

  has(path: string): boolean {
    return this.read().some((r) => r.path === path);
  }

  private read(): { path: string; name: string; openedAt: string }[] {
    if (!existsSync(this.file)) return [];
    try {
      const parsed = recentFileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data.sessions : [];
    } catch {
      // A damaged list is not worth stopping for: it only remembers paths.
      return [];
    }
  }

  private write(sessions: { path: string; name: string; openedAt: string }[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, sessions }, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}
