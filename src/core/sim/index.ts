/**
 * Public API of the lifecycle simulator.
 *
 * - `parseScenario(parser, text, file)` (core/scenarios/format) compiles a `.rsim`
 *   file to a `SimModel`; `ModelCompiler` (./compile) compiles kernel-C function
 *   bodies to thread programs over the same op vocabulary (for lifecycle
 *   extraction from real code).
 * - `explore(model, options)` decides it: `safe` (with the number of states),
 *   `violation` (one shortest trace per kind) or `incomplete` (bounded/cancelled).
 * - `replayTrace(model, trace)` re-executes a trace step by step.
 */
export { explore, replayTrace, startState, buildTrace, type ReplayResult } from './explore';
export { ModelCompiler, CompileError, type CompileUnit } from './compile';
export { viewState } from './state';
export * from './types';
