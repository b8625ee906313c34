import { z } from 'zod';
import type { CheckName, LabApi, LabApiMethod, SessionState } from './types';
import type { CheckSpec, FaultSpec, HintSpec, TaskAnswer } from '../labs/types';

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
      node: z
        .string()
        .max(63)
        .regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/, 'a remote node name is letters, digits, "-", "_" and "."')
        .optional(),
      host: shortString('host', 253).regex(/^[A-Za-z0-9_:]([A-Za-z0-9.:_-]*)$/, 'a host is a name or an address').optional(),
      port: z.number().int().min(1).max(65535).optional(),
      user: z.string().max(64).regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'a user name is letters, digits, "_" or "-"').optional(),
    })
    .strict()
    .refine((s) => (s.node !== undefined) !== (s.host !== undefined), { message: 'give either node (a registered remote node) or host, not both', path: ['node'] }),
]);

export const terminalOpenOptionsSchema = z.object({ cols: terminalSizeSchema.optional(), rows: terminalSizeSchema.optional() }).strict();

// ---- test-bed and remote nodes

const noNul = (what: string) => (v: string) => !v.includes('\0') || `${what} must not contain NUL characters`;
const setOverrideSchema = z
  .string()
  .max(1000, 'a --set value is longer than 1000 characters')
  .regex(/^[A-Za-z][A-Za-z0-9.]*=[^\0\n]*$/, 'a --set override is key=value, e.g. cni=calico-vxlan');

export const testbedUpArgsSchema = z
  .object({
    topologyText: z.string().min(1, 'the topology is empty').max(MAX_TEXT, 'the topology is larger than 8 MiB'),
    file: shortString('file', 500).optional(),
    set: z.array(setOverrideSchema).max(50).optional(),
  })
  .strict();

/** `node-1` or `namespace/pod`. */
export const testbedTargetSchema = z
  .string()
  .max(317)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$/, 'a target is a node name or namespace/pod (lowercase letters, digits, "-" and ".")');

const argvSchema = z
  .array(z.string().max(4096, 'an argument is longer than 4096 characters').refine((v) => !v.includes('\0'), 'an argument must not contain NUL characters'))
  .min(1, 'give a command, e.g. ["ip", "-j", "route"]')
  .max(256, 'at most 256 arguments');

const commandTimeoutSchema = z.number().int().min(100).max(600_000, 'at most 600000 ms (10 minutes)');

export const testbedExecArgsSchema = z
  .object({ target: testbedTargetSchema, argv: argvSchema, confirm: z.boolean().optional(), timeoutMs: commandTimeoutSchema.optional() })
  .strict();

export const remoteNameSchema = z
  .string()
  .min(1, 'a node name must not be empty')
  .max(63, 'a node name is at most 63 characters')
  .regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/, 'a node name is letters, digits, "-", "_" and "." (e.g. kind-worker)');

const hostSchema = z
  .string()
  .min(1, 'the host must not be empty')
  .max(253, 'the host is longer than 253 characters')
  .regex(/^([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, 'the host is a DNS name, an IPv4 address or an IPv6 address (without brackets)');

const userSchema = z
  .string()
  .min(1, 'the user must not be empty')
  .max(64)
  .regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'a user name is letters, digits, "_", "." or "-"');

const keyFileSchema = z
  .string()
  .min(1, 'the key file must not be empty')
  .max(4096)
  .refine(noNul('the key file'))
  .refine((p) => p.startsWith('/') || p.startsWith('~/') || /^[A-Za-z]:[\\/]/.test(p), 'the key file is an absolute path (or ~/…), e.g. ~/.ssh/id_ed25519');

export const remoteNodeSpecSchema = z
  .object({
    name: remoteNameSchema,
    host: hostSchema,
    port: z.number().int().min(1).max(65535),
    user: userSchema,
    keyFile: keyFileSchema.optional(),
    agent: z.boolean().optional(),
  })
  .strict()
  .refine((s) => (s.keyFile !== undefined) !== (s.agent === true), { message: 'give either a key file (keyFile) or agent: true, not both and not neither', path: ['keyFile'] });

const passphraseSchema = z.string().max(1024);
const fingerprintSchema = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint looks like SHA256: followed by 43 base64 characters (as ssh-keygen -lf prints it)');

export const remoteConnectOptionsSchema = z.object({ passphrase: passphraseSchema.optional() }).strict();
export const remoteAcceptArgsSchema = z.object({ name: remoteNameSchema, fingerprint: fingerprintSchema, passphrase: passphraseSchema.optional() }).strict();
export const remoteRunArgsSchema = z
  .object({
    name: remoteNameSchema,
    command: z.string().min(1, 'give a command, e.g. ip -j route').max(8192, 'the command is longer than 8192 characters').refine(noNul('the command')),
    confirm: z.boolean().optional(),
    timeoutMs: commandTimeoutSchema.optional(),
  })
  .strict();

export const CHECK_NAME_VALUES = ['routes', 'rules', 'iptables', 'conntrack', 'tcpdump', 'dns', 'policy', 'cni'] as const;
// The list matches core/compare's CheckName both ways.
const _checksMatch: [CheckName] extends [(typeof CHECK_NAME_VALUES)[number]] ? ((typeof CHECK_NAME_VALUES)[number] extends CheckName ? true : false) : false = true;
void _checksMatch;

export const compareNodeArgsSchema = z
  .object({
    topologyText: z.string().min(1, 'the topology is empty').max(MAX_TEXT, 'the topology is larger than 8 MiB'),
    file: shortString('file', 500).optional(),
    set: z.array(setOverrideSchema).max(50).optional(),
    node: z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a node name is lowercase letters, digits, "-" and "."'),
    via: z.union([z.literal('testbed'), z.string().regex(/^remote:[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/, 'via is testbed or remote:NAME (a remote node of the Nodes panel)')]),
    checks: z.array(z.enum(CHECK_NAME_VALUES)).min(1, 'give at least one check').max(CHECK_NAME_VALUES.length).optional(),
    allowProbe: z.boolean().optional(),
  })
  .strict();

export const labIdSchema = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a lab id is lowercase letters, digits and "-" (no paths)');
const taskIdSchema = z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,99})?$/, 'a task id is letters, digits, "-", "_" and "."');
const seedSchema = z.number().int().min(0).max(2 ** 32 - 1);
const taskAnswerSchema: z.ZodType<TaskAnswer> = z.lazy(() =>
  z.union([z.string().max(MAX_TEXT), z.number().finite(), z.boolean(), z.array(z.union([z.string().max(100_000), z.number().finite()])).max(10_000), z.record(z.string().max(200), taskAnswerSchema.optional())]),
);
const commandsSchema = z.record(z.string().max(300), z.array(z.string().max(4096)).max(500));

export const labSubmissionSchema = z
  .object({
    topology: z.array(z.object({ file: shortString('topology file', 500), text: z.string().max(MAX_TEXT, 'the topology is larger than 8 MiB') }).strict()).max(50).optional(),
    commands: commandsSchema.optional(),
    answers: z.record(taskIdSchema, taskAnswerSchema).optional(),
  })
  .strict();

export const packMetaSchema = z
  .object({ name: shortString('pack name', 200), author: z.string().max(200).optional(), createdAt: z.string().max(64).optional(), description: z.string().max(10_000).optional() })
  .strict();

// Checks and faults are validated in full by the lab loader (with file/field diagnostics); here only their shape.
const checkSpecSchema = z.looseObject({ type: z.enum(['property', 'matrix', 'unchanged', 'fault-symptoms', 'predict', 'path', 'live', 'grader']) }).transform((c) => c as unknown as CheckSpec);
const faultSpecSchema = z.looseObject({ type: shortString('fault type', 100) }).transform((f) => f as FaultSpec);
const hintSpecSchema: z.ZodType<HintSpec> = z.object({ text: shortString('hint', 10_000), cost: z.number().min(0).max(1000) }).strict();

export const authorInputSchema = z
  .object({
    id: labIdSchema,
    title: shortString('title', 200),
    summary: z.string().max(10_000),
    level: z.enum(['beginner', 'intermediate', 'advanced']),
    estimatedMinutes: z.number().int().min(1).max(1000),
    objectives: z.array(z.string().max(1000)).max(50),
    tags: z.array(z.string().max(100)).max(50).optional(),
    startYaml: z.string().min(1, 'the starting topology is empty').max(MAX_TEXT),
    answerYaml: z.string().max(MAX_TEXT).optional(),
    faults: z.array(faultSpecSchema).max(50).optional(),
    tasks: z
      .array(
        z
          .object({
            id: taskIdSchema,
            title: shortString('task title', 200),
            kind: z.enum(['build', 'fix', 'predict', 'trace', 'live']),
            prompt: z.string().max(100_000),
            points: z.number().min(0).max(1000),
            hints: z.array(hintSpecSchema).max(20).optional(),
            checks: z.array(checkSpecSchema).min(1, 'a task needs at least one check').max(100),
            answerFormat: z.string().max(1000).optional(),
          })
          .strict(),
      )
      .min(1, 'a lab needs at least one task')
      .max(50),
    answerValues: z.record(taskIdSchema, taskAnswerSchema).optional(),
    exam: z.boolean().optional(),
  })
  .strict();

/** Host events, checked by the UI before it acts on them. */
export const LAB_EVENT_SCHEMAS = {
  terminal: z.object({ id: terminalIdSchema, data: z.string().max(4 * 1024 * 1024) }).strict(),
  'terminal-exit': z.object({ id: terminalIdSchema, exitCode: z.number().int(), signal: z.number().int().optional() }).strict(),
  'testbed-step': z.object({ step: z.number().int().min(1), total: z.number().int().min(1), message: z.string().max(1000) }).strict(),
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
  testbedUp: z.tuple([testbedUpArgsSchema]),
  testbedDown: z.tuple([]),
  testbedStatus: z.tuple([]),
  testbedExec: z.tuple([testbedExecArgsSchema]),
  remoteList: z.tuple([]),
  remoteAdd: z.tuple([remoteNodeSpecSchema]),
  remoteRemove: z.tuple([remoteNameSchema]),
  remoteConnect: z.tuple([remoteNameSchema, remoteConnectOptionsSchema.optional()]),
  remoteAcceptHostKey: z.tuple([remoteAcceptArgsSchema]),
  remoteRun: z.tuple([remoteRunArgsSchema]),
  remoteDisconnect: z.tuple([remoteNameSchema]),
  compareNode: z.tuple([compareNodeArgsSchema]),
  labList: z.tuple([]),
  labStart: z.tuple([labIdSchema, z.object({ seed: seedSchema.optional() }).strict().optional()]),
  labView: z.tuple([labIdSchema]),
  labStartState: z.tuple([labIdSchema]),
  labCheck: z.tuple([labIdSchema, taskIdSchema, labSubmissionSchema]),
  labHint: z.tuple([labIdSchema, taskIdSchema]),
  labReset: z.tuple([labIdSchema, z.object({ newSeed: seedSchema.optional() }).strict().optional()]),
  labReport: z.tuple([labIdSchema]),
  labExportPack: z.tuple([z.array(labIdSchema).min(1, 'choose at least one lab').max(200), packMetaSchema, exportFormatSchema.optional()]),
  labImportPack: z.tuple([z.string().max(MAX_TEXT * 2, 'the pack is larger than 16 MiB'), shortString('file name', 500)]),
  labSuggestChecks: z.tuple([z.string().max(MAX_TEXT), z.string().max(MAX_TEXT)]),
  labAuthor: z.tuple([authorInputSchema]),
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
