// The verb registry: one import and one array entry per verb.

import type { Command } from '../types';
import { validate } from './validate';
import { ipam } from './ipam';

export const commands: Command[] = [
  validate,
  ipam,
];
