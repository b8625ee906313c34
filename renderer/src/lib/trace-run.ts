// Runs the packet walk (core/trace) for the stepper. The walk's context is
// cached per loaded topology by core/trace itself (traceContext), so stepping
// through edits re-walks cheaply.
import type { Topology } from '../../../core/model/types';
import { trace, type TraceResult } from '../../../core/trace';

/** Walk `request` from the pod `source` (`ns/name`). Throws TraceInputError (with a hint) on bad input. */
export function runTrace(topology: Topology, source: string, request: string): TraceResult {
  return trace(topology, source, request);
}
