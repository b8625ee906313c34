// Runs the packet walk (core/trace) for the stepper.
import type { Topology } from '../../../core/model/types';
import type { TraceResult } from '../../../core/trace/types';

export function runTrace(_topology: Topology, _source: string, _request: string): TraceResult {
  throw Object.assign(new Error('The packet walk (core/trace) is not in this build yet.'), { hint: 'TEMPORARY' });
}
