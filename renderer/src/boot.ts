// The first requests of the window, sent before the shell's code has loaded:
// connect to the host, ask for the app info, the samples and the current
// session, and start loading the session's topology (a large one in a worker,
// see lib/topology-parse.ts) while the shell is still being evaluated and
// mounted. App.svelte picks the results up.
import type { AppInfo, SampleInfo, SessionSnapshot } from '../../core/api/types';
import { connectHost, type Lab } from './lib/connect';
import { parseTopologyAsync, parsesInWorker, warmUpParser } from './lib/topology-parse';

export interface Boot {
  /** Its events are not checked yet (see validatingEvents in lib/lab.ts). */
  lab: Lab;
  info: AppInfo;
  samples: SampleInfo[];
  /** The current session when the host answered (null: none open yet). */
  current: SessionSnapshot | null;
  /** A session event that arrived after that answer (newer than it), if any. */
  newer(): SessionSnapshot | null;
}

export async function boot(): Promise<Boot> {
  warmUpParser();
  const lab = await connectHost();
  const { api, events } = lab;
  let answered = false;
  let newer: SessionSnapshot | null = null;
  // Messages arrive in order: an event before the answer is older than it.
  const off = events.on('session', (s) => {
    if (answered) newer = s;
  });
  const current = api.sessionCurrent().then((cur) => {
    answered = true;
    if (cur && parsesInWorker(cur.state.topology)) void parseTopologyAsync(cur.state.topology);
    return cur;
  });
  let info: AppInfo, samples: SampleInfo[], cur: SessionSnapshot | null;
  try {
    [info, samples, cur] = await Promise.all([api.appInfo(), api.listSamples(), current]);
  } catch (err) {
    off();
    throw new Error(`The lab could not start: ${(err as Error).message}`, { cause: err });
  }
  return {
    lab,
    info,
    samples,
    current: cur,
    newer: () => {
      off();
      return newer;
    },
  };
}
