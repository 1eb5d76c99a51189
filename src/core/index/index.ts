/**
 * Workspace index entry points. The core stays pure: hosts read files, own the
 * cache storage (see `FactsCache`; the Node host is src/node/cache.ts) and call
 * `factsFor` per file (in any thread), then `buildWorkspaceIndex` once over all
 * facts. An edit re-extracts only the changed file's facts; the merge is redone
 * over the cached facts of the others (it is linear and takes a fraction of the
 * extraction time).
 */
import type { CParser } from '../parse/parser';
import { extractFileFacts, FACTS_VERSION, type FileFacts } from './facts';

/** Per-file facts storage keyed by file content (implementations hash the text with FACTS_VERSION). */
export interface FactsCache {
  /** Cached facts for exactly this text, or undefined (missing, stale, corrupt: never throws). */
  load(file: string, text: string): FileFacts | undefined;
  /** Store facts for this text (best effort, atomic: never leaves a partial entry, never throws). */
  store(file: string, text: string, facts: FileFacts): void;
}

export interface FactsResult {
  facts: FileFacts;
  /** The facts came from the cache. */
  cached: boolean;
}

/** Facts for one file: from the cache when its content is unchanged, else extracted (one parse) and stored. */
export function factsFor(parser: CParser, text: string, file: string, cache?: FactsCache): FactsResult {
  const hit = cache?.load(file, text);
  if (hit && hit.version === FACTS_VERSION && hit.file === file) return { facts: hit, cached: true };
  const facts = extractFileFacts(parser, text, file);
  cache?.store(file, text, facts);
  return { facts, cached: false };
}

/** In-memory cache keyed by file and text (editor sessions; tests). */
export class MemoryFactsCache implements FactsCache {
  private readonly entries = new Map<string, { text: string; facts: FileFacts }>();
  load(file: string, text: string): FileFacts | undefined {
    const e = this.entries.get(file);
    return e && e.text === text ? e.facts : undefined;
  }
  store(file: string, text: string, facts: FileFacts): void {
    this.entries.set(file, { text, facts });
  }
}

export { extractFileFacts, extractFactsFromParsed, FACTS_VERSION } from './facts';
export type { FileFacts, FunctionFact, CallFact, StructFact, FieldFact, GlobalFact, TypeRef, ParamFact, PrototypeFact, StoreFact } from './facts';
export {
  buildWorkspaceIndex, learnedWrappers, summaryOf, resolveCallee, resolveKey, keyClass, normType, fieldOf,
} from './workspace';
export type {
  WorkspaceIndex, StructDef, FunctionDef, RefcountedType, LookupStructure, Site, ReleaseInfo, IndexStats, LearnedWrappers, KeyInfo,
} from './workspace';
export type { RefSummary, ParamSummary, ParamEffect, ReturnsRef } from './wrappers';
