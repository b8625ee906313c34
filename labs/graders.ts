// TypeScript graders of the built-in labs, by lab id. Each labs/<id>/grader.ts
// exports `graders: Record<string, GraderFn>`; register it here with one
// import and one entry. Graders are pure (core only): they run in the CLI,
// the host and the renderer alike. Lab packs never carry graders.

import type { GraderFn } from '../core/labs';
import { graders as conntrackFull } from './conntrack-full/grader';
import { graders as ipamPlanning } from './ipam-planning/grader';

export const LAB_GRADERS: Record<string, Record<string, GraderFn>> = {
  'conntrack-full': conntrackFull,
  'ipam-planning': ipamPlanning,
};

export function gradersFor(labId: string): Record<string, GraderFn> {
  return LAB_GRADERS[labId] ?? {};
}

export function graderNames(labId: string): string[] {
  return Object.keys(gradersFor(labId));
}
