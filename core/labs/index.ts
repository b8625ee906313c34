// core/labs: graded lab exercises. A lab is data (labs/<id>/lab.yaml plus
// files), graded by pure code: a property language over the models, matrix
// and "nothing else broke" checks, predict comparators tolerant of harmless
// differences, path checks over the packet walk, live checks through an
// injected runner, and TypeScript graders per lab. Faults are injected from
// code with a seed; packs bundle labs into one file; instructor mode authors
// labs from a topology.

export * from './types';
export { loadLab, DEFAULT_SEED, type LoadedLab, type LabInstance, type LoadLabOptions } from './lab';
export { parseLabYaml, LabSchema, TaskSchema, CheckSchema, type ParsedLab } from './schema';
export { gradeLab, gradeTask, buildReport, studentState, type GradeOptions, type GraderContext, type GraderFn, type GraderOutcome } from './grade';
export { LabRun, MemoryProgressStore, startLab, checkTask, useHint, resetLab, report, type LabRunOptions, type LabView, type TaskView, type HintView } from './session';
export { FAULTS, injectFaults, injectRandomFaults, seededRng, symptomsBetween, type FaultType, type FaultOutcome, type InjectResult } from './faults';
export { parseCommand, parseCommands, patchDataplane, applyChange, describeChange, normalizeTarget } from './netchange';
export { parseProperty, evaluate, checkProperty, PropertySyntaxError, FUNCTIONS, type EvalResult, type PropertyEnv, type Value } from './property';
export { compareValue, compareRoute, compareRoutes, compareConntrack, compareDnsQueries, compareChains, compareIptablesRule, compareResolvConf, parseConntrackLine, parseRouteLine, shellWords, type Comparison } from './compare';
export { PROBES, runProbe, type ProbeInfo, type ProbeValue } from './probes';
export { observeMatrix, diffMatrices, diffObservables, defaultPorts, describeCell } from './observe';
export { matchPath, parseHop, hopMatches, type Tracer, type PathEvent, type PathQuery, type PathTrace } from './trace-check';
export { modelTracer, pathEvent } from './tracer';
export { parseSubmissionFile, submissionFor, formatSubmission, SubmissionSchema, type SubmissionFile, type ParsedSubmission } from './submission';
export { exportPack, importPack, PACK_FORMAT_VERSION, PackSchema, type PackMeta, type ImportedPack } from './pack';
export { authorLab, authorAndValidate, suggestChecks, type AuthorInput, type AuthorTask, type SuggestedChecks } from './author';
export { assembleTopology, removeDocuments, reloadTopology } from './assemble';
export { LabWorld, stablePodKey, parsePort, portText, type EndpointRef, type PortProto } from './world';
