import { loadTopology } from '../../../core/model';
import type { Diagnostic, Topology } from '../../../core/model/types';

export interface LoadedTopology {
  topology: Topology | null;
  diagnostics: Diagnostic[];
}

/** Run the core loader on a session's topology text; a loader bug becomes a diagnostic, not a blank screen. */
export function parseTopology(source: { file: string; text: string }): LoadedTopology {
  try {
    return loadTopology({ file: source.file, text: source.text }, {});
  } catch (err) {
    return {
      topology: null,
      diagnostics: [
        {
          severity: 'error',
          code: 'loader-crashed',
          message: `The topology loader failed: ${err instanceof Error ? err.message : String(err)}`,
          file: source.file,
          hint: 'This is a bug in the lab; please report it with the file.',
        },
      ],
    };
  }
}
