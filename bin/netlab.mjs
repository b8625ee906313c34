#!/usr/bin/env node
// netlab CLI entry: TypeScript sources run through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/netlab.ts');
process.exitCode = await main(process.argv.slice(2));
