// The topology loader off the UI thread: parsing and validating the YAML of a
// large topology (thousands of pods) takes the better part of a second, which
// the window spends loading and drawing instead. One request at a time, in
// order; each answer carries its request's id.
import { parseTopology } from './topology';
import type { ParseRequest, ParseResponse } from './topology-parse';

const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (e: MessageEvent<ParseRequest>) => void): void;
  postMessage(message: ParseResponse): void;
};

scope.addEventListener('message', (e) => {
  const { id, file, text } = e.data;
  scope.postMessage({ id, result: parseTopology({ file, text }) });
});
