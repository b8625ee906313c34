import { LAB_EVENT_SCHEMAS } from '../../../core/api';
import type { LabEventMap, LabEventName, LabEvents } from '../../../core/api';
import { connectHost, type Lab } from './connect';

export type { Lab } from './connect';

/**
 * Host events with a schema (terminal output and exits) are checked before a
 * listener sees them; a malformed one is dropped with a console warning.
 */
export function validatingEvents(events: LabEvents): LabEvents {
  return {
    on<E extends LabEventName>(event: E, listener: (data: LabEventMap[E]) => void) {
      const schema = (LAB_EVENT_SCHEMAS as Partial<Record<LabEventName, { safeParse(v: unknown): { success: boolean } }>>)[event];
      if (!schema) return events.on(event, listener);
      return events.on(event, (data) => {
        if (schema.safeParse(data).success) listener(data);
        else console.warn(`netlab: dropped a malformed "${event}" event from the host`);
      });
    },
  };
}

/** Connect to the host (see connect.ts), with host events checked as above. */
export async function connectLab(): Promise<Lab> {
  const lab = await connectHost();
  return { ...lab, events: validatingEvents(lab.events) };
}
