import { z } from 'zod';
import type { LabApi, LabApiMethod, SessionState } from './types';

// Argument schemas for every LabApi method. Both transports (Electron IPC and
// the browser WebSocket) validate with these same schemas before a call
// reaches the host, so a bad call is refused the same way everywhere.

const MAX_TEXT = 8 * 1024 * 1024;
const MAX_NOTES = 1024 * 1024;

const shortString = (what: string, max = 256) =>
  z.string().min(1, `${what} must not be empty`).max(max, `${what} is longer than ${max} characters`);

export const sampleIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a sample id is letters, digits, ".", "_" or "-" (no paths)');

export const pathSchema = z
  .string()
  .min(1, 'the path must not be empty')
  .max(4096, 'the path is too long')
  .refine((p) => !p.includes('\0'), 'the path must not contain NUL characters');

export const jsonValueSchema = z.json();

export const canvasPositionSchema = z.object({ x: z.number().finite(), y: z.number().finite() }).strict();

export const savedRecordSchema = z
  .object({
    id: shortString('id', 200),
    kind: shortString('kind', 100),
    title: z.string().max(500),
    createdAt: z.string().max(64),
    data: jsonValueSchema,
  })
  .strict();

export const sessionStateSchema = z
  .object({
    topology: z.object({ file: shortString('topology.file', 500), text: z.string().max(MAX_TEXT, 'the topology is larger than 8 MiB') }).strict(),
    sample: z.string().max(100).nullable(),
    positions: z.record(z.string().max(500), canvasPositionSchema).refine((p) => Object.keys(p).length <= 20000, 'more than 20000 positions'),
    traces: z.array(savedRecordSchema).max(1000),
    comparisons: z.array(savedRecordSchema).max(1000),
    notes: z.string().max(MAX_NOTES, 'notes are longer than 1 MiB'),
  })
  .strict();

export const sessionPatchSchema = sessionStateSchema
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'a patch must change at least one field');

export const exportFormatSchema = z.enum(['yaml', 'json']);

export const sessionNewOptionsSchema = z
  .object({ name: shortString('name', 200).optional(), sample: sampleIdSchema.optional() })
  .strict();

export const changeLabelSchema = z.string().max(200);

/** The file format of an exported session (`netlab session export`). */
export const SESSION_FILE_KIND = 'NetlabSession';
export const SESSION_FILE_VERSION = 1;

export const sessionFileSchema = z
  .object({
    kind: z.literal(SESSION_FILE_KIND),
    version: z.number().int().min(1),
    name: z.string().max(200).optional(),
    createdAt: z.string().max(64).optional(),
    exportedAt: z.string().max(64).optional(),
    app: z.string().max(100).optional(),
    state: sessionStateSchema,
  })
  .strict();

export type SessionFile = z.infer<typeof sessionFileSchema>;

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const terminalIdSchema = z.string().regex(/^term-[0-9a-f]{4,32}$/, 'a terminal id looks like term-<hex>');
const terminalSizeSchema = z.number().int().min(1).max(1000);

export const terminalSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local-testbed'), node: z.string().max(63).regex(NODE_NAME, 'a node name is lowercase letters, digits and "-"') }).strict(),
  z
    .object({
      kind: z.literal('ssh'),
      host: shortString('host', 253).regex(/^[A-Za-z0-9.:_-]+$/, 'a host is a name or an address'),
      port: z.number().int().min(1).max(65535).optional(),
      user: z.string().max(64).regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'a user name is letters, digits, "_" or "-"').optional(),
    })
    .strict(),
]);

export const terminalOpenOptionsSchema = z.object({ cols: terminalSizeSchema.optional(), rows: terminalSizeSchema.optional() }).strict();

/** Host events, checked by the UI before it acts on them. */
export const LAB_EVENT_SCHEMAS = {
  terminal: z.object({ id: terminalIdSchema, data: z.string().max(4 * 1024 * 1024) }).strict(),
  'terminal-exit': z.object({ id: terminalIdSchema, exitCode: z.number().int(), signal: z.number().int().optional() }).strict(),
} as const;

/** Argument tuples, one per method. */
export const LAB_API_PARAMS = {
  appInfo: z.tuple([]),
  listSamples: z.tuple([]),
  readSample: z.tuple([sampleIdSchema]),
  sessionNew: z.tuple([sessionNewOptionsSchema.optional()]),
  sessionOpen: z.tuple([pathSchema]),
  sessionCurrent: z.tuple([]),
  sessionList: z.tuple([]),
  sessionSave: z.tuple([sessionPatchSchema, changeLabelSchema.optional()]),
  sessionUndo: z.tuple([]),
  sessionRedo: z.tuple([]),
  sessionExport: z.tuple([exportFormatSchema]),
  sessionImport: z.tuple([z.string().max(MAX_TEXT * 2, 'the file is larger than 16 MiB'), shortString('name', 200).optional()]),
  terminalOpen: z.tuple([terminalSpecSchema, terminalOpenOptionsSchema.optional()]),
  terminalWrite: z.tuple([terminalIdSchema, z.string().max(1024 * 1024, 'at most 1 MiB per write')]),
  terminalResize: z.tuple([terminalIdSchema, terminalSizeSchema, terminalSizeSchema]),
  terminalClose: z.tuple([terminalIdSchema]),
} as const satisfies { [M in LabApiMethod]: z.ZodType };

// Compile-time check: each schema's output is assignable to the method's parameters.
type SchemaArgs = { [M in LabApiMethod]: z.infer<(typeof LAB_API_PARAMS)[M]> };
type ArgsMismatch = { [M in LabApiMethod]: SchemaArgs[M] extends Parameters<LabApi[M]> ? never : M }[LabApiMethod];
const _argsMatch: [ArgsMismatch] extends [never] ? true : ArgsMismatch = true;
void _argsMatch;
// And the state schema matches the SessionState type both ways.
const _stateMatch: z.infer<typeof sessionStateSchema> extends SessionState ? (SessionState extends z.infer<typeof sessionStateSchema> ? true : false) : false = true;
void _stateMatch;

/** A readable one-line summary of a zod failure: `[0].positions.pod/a.x: expected number`. */
export function describeZodError(err: z.ZodError, prefix = 'params'): string {
  return err.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      const where = (prefix + path).replace(/^\./, '') || '(top level)';
      return `${where}: ${i.message}`;
    })
    .join('; ');
}
