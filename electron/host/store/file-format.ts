import { parseDocument, stringify } from 'yaml';
import { LabApiError, SESSION_FILE_KIND, SESSION_FILE_VERSION, describeZodError, sessionFileSchema } from '../../../core/api';
import type { ExportFormat, SessionExport, SessionInfo, SessionState } from '../../../core/api';
import type { SessionFile } from '../../../core/api';

/** Serialise a session for export: one self-contained YAML or JSON document. */
export function exportSession(info: SessionInfo, state: SessionState, format: ExportFormat, app: string): SessionExport {
  const doc: SessionFile = {
    kind: SESSION_FILE_KIND,
    version: SESSION_FILE_VERSION,
    name: info.name,
    createdAt: info.createdAt,
    exportedAt: new Date().toISOString(),
    app,
    state,
  };
  const base = slug(info.name) || 'session';
  if (format === 'json') {
    return { filename: `${base}.netlab.json`, mediaType: 'application/json', text: `${JSON.stringify(doc, null, 2)}\n` };
  }
  // Block scalars keep the topology YAML readable inside the export.
  const text = stringify(doc, { blockQuote: 'literal', lineWidth: 0 });
  return { filename: `${base}.netlab.yaml`, mediaType: 'application/yaml', text };
}

/** Parse an exported session (YAML or JSON — YAML 1.2 reads both), with positions in errors. */
export function parseSessionFile(text: string, file = 'import'): SessionFile {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
    throw new LabApiError('invalid-file', `${where}: ${e.message.split('\n')[0]}`, 'Import a file written by Export Session (YAML or JSON).');
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new LabApiError('invalid-file', `${file}: expected a mapping with kind: ${SESSION_FILE_KIND}.`, 'Import a file written by Export Session (YAML or JSON).');
  }
  const obj = value as Record<string, unknown>;
  if (obj.kind !== SESSION_FILE_KIND) {
    throw new LabApiError(
      'invalid-file',
      `${file}: kind is ${JSON.stringify(obj.kind ?? null)}, expected ${SESSION_FILE_KIND}.`,
      'To load a topology or Kubernetes manifests, open them in the designer instead; Import Session takes files written by Export Session.',
    );
  }
  if (typeof obj.version === 'number' && obj.version > SESSION_FILE_VERSION) {
    throw new LabApiError('invalid-file', `${file}: exported by a newer version of the lab (format ${obj.version}; this version reads up to ${SESSION_FILE_VERSION}).`, 'Update the lab to import it.');
  }
  const parsed = sessionFileSchema.safeParse(obj);
  if (!parsed.success) {
    throw new LabApiError('invalid-file', `${file}: ${describeZodError(parsed.error, '')}`, 'Fix the field named, or export the session again.');
  }
  return parsed.data;
}

export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}
