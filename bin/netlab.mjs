#!/usr/bin/env node
// netlab CLI entry: TypeScript sources run through tsx.
import { register } from 'tsx/esm/api';

register();
// `netlab … | head`: the reader went away. Stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../cli/netlab.ts');
process.exitCode = await main(process.argv.slice(2));
