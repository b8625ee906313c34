// The verb registry: one import and one array entry per verb.

import type { Command } from '../types';
import { validate } from './validate';
import { ipam } from './ipam';
import { reach } from './reach';
import { policy } from './policy';
import { renderCmd } from './render';
import { traceCmd } from './trace';
import { testbed } from './testbed';
import { compare } from './compare';
import { lab } from './lab';

export const commands: Command[] = [
  validate,
  ipam,
  reach,
  policy,
  renderCmd,
  traceCmd,
  testbed,
  compare,
  lab,
];
