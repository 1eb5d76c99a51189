/** Run the check workers over a shared queue and collect one outcome per file. */
import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../core/catalog/index';
import type { FileFacts } from '../core/index/facts';
import { buildWorkspaceIndex, functionsInFile, learnedWrappers, type WorkspaceIndex } from '../core/index/workspace';
import { packFunctions } from '../core/index/lazy';
import type { Finding, IncompleteFunction, LockOrderEdge } from '../core/types';
import type { InputFile } from './files';
import type { IndexSummary } from './format/shared';
import { planCrossFile } from './crossfile';
import type { FileOutcome, HeadersMessage, HeaderTask, Pass1Extras, Pass2LockMessage, Pass2RefcountMessage, ShippedIndex, ShippedTables, WorkerInput, WorkerMessage } from './protocol';

/** The bundle (dist/cli.js) is its own worker entry; from sources (tsx) use the built bundle. */
export function workerScript(): string {
  if (process.env.REFSCOPE_WORKER) return resolve(process.env.REFSCOPE_WORKER);
  if (/\bcli\.js$/.test(__filename)) return __filename;
  const built = resolve(__dirname, '..', '..', 'dist', 'cli.js');
  if (existsSync(built)) return built;
  return join(__dirname, 'cli.js');
}

/**
 * Start `n` workers on `script` and wait for all of them. Each message goes to
 * `onMessage` (with every thread, for broadcasts), which returns 'done' when
 * that worker has finished or an Error to fail the run. A worker that errors or
 * exits before finishing fails the run too; on failure every worker is terminated.
 */
export async function runWorkers<M>(
  script: string,
  workerData: unknown,
  n: number,
  onMessage: (m: M, threads: readonly Worker[]) => 'done' | Error | void,
): Promise<void> {
  const threads: Worker[] = [];
  const runs = Array.from({ length: n }, () => new Promise<void>((resolveDone, reject) => {
    const w = new Worker(script, { workerData });
    threads.push(w);
    let finished = false;
    w.on('message', (m: M) => {
      const r = onMessage(m, threads);
      if (r === 'done') finished = true;
      else if (r instanceof Error) {
        finished = true;
        reject(r);
      }
    });
    w.on('error', (e) => reject(new Error(`worker failed: ${e.message}`)));
    w.on('exit', (code) => (finished ? resolveDone() : reject(new Error(`worker exited with code ${code} before finishing`))));
  }));
  try {
    await Promise.all(runs);
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate()));
    throw e;
  }
}

export interface PoolResult {
  outcomes: FileOutcome[];
  headersSummarized: number;
  crossFile: { summaries: number; ambiguous: number; reanalysed: number; pass2Ms: number };
  /** Findings of the refcount/RCU rules per file (pass 2; parallel to outcomes). */
  refcountFindings: Finding[][];
  /** Functions some refcount rule's walk stopped early on, per file (parallel to outcomes). */
  refcountIncomplete: IncompleteFunction[][];
  /** Lock-order edges of every file (pass 2's when the file was analysed again). */
  lockOrder: LockOrderEdge[];
  index: IndexSummary;
  phasesMs: { pass1: number; headers: number; index: number; pass2: number };
}

export interface PoolOptions {
  jobs: number;
  catalog: Catalog;
  root: string;
  cwd: string;
  cacheDir: string | null;
  /** Build the workspace index and run the refcount/RCU rules (default true). */
  refcount: boolean;
}

/** Facts sent as JSON text by a worker (null: none, or text that does not parse: the index goes on without it). */
function parseFacts(json: string | null): FileFacts | null {
  if (json === null) return null;
  try {
    return JSON.parse(json) as FileFacts;
  } catch {
    return null;
  }
}

/** Queue order: big first, so that no worker is left with a large file at the end. */
function bigFirst<T extends { size: number }>(items: readonly T[]): number[] {
  return items.map((f, i) => ({ s: f.size, i })).sort((a, b) => b.s - a.s || a.i - b.i).map((o) => o.i);
}

/** The index for the workers: the tables serialised once, the function facts packed from their JSON; both in shared memory. */
function shipIndex(index: WorkspaceIndex, factsJson: ReadonlyMap<string, string>): ShippedIndex {
  const tables: Partial<WorkspaceIndex> = { ...index };
  delete tables.cat;
  delete tables.rc;
  delete tables.functions;
  const bytes = serialize(tables as ShippedTables);
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  const functions = packFunctions(index.files, (f) => factsJson.get(f), (f) => functionsInFile(index, f).map((d) => d.fact.name),
    (n) => new Uint8Array(new SharedArrayBuffer(n)));
  return { tables: shared, functions };
}

export async function runPool(files: InputFile[], opts: PoolOptions): Promise<PoolResult> {
  const order = bigFirst(files);
  const queue = order.map((i) => files[i]!);
  const outcomes: (FileOutcome | undefined)[] = new Array(files.length);
  const extras: (Pass1Extras | undefined)[] = new Array(files.length);
  /** Facts of the PATH files, parsed from the JSON the workers send (parallel to files). */
  const pathFacts: (FileFacts | null)[] = new Array(files.length).fill(null);
  /** The JSON of every file's facts by file label: the function facts go to pass 2 packed from it. */
  const factsJson = new Map<string, string>();
  const keepFacts = (json: string | null): FileFacts | null => {
    const f = parseFacts(json);
    if (f && json) factsJson.set(f.file, json);
    return f;
  };
  const refcountFindings: Finding[][] = files.map(() => []);
  const refcountIncomplete: IncompleteFunction[][] = files.map(() => []);
  const input: WorkerInput = {
    kind: 'refscope-check-worker', files: queue, next: new SharedArrayBuffer(4), catalog: opts.catalog, root: opts.root, cwd: opts.cwd, cacheDir: opts.cacheDir, refcount: opts.refcount,
  };
  const n = Math.max(1, Math.min(opts.jobs, files.length));
  let headersSummarized = 0;
  const crossFile = { summaries: 0, ambiguous: 0, reanalysed: 0, pass2Ms: 0 };
  const summary: IndexSummary = {
    files: 0, headers: 0, cachedFacts: 0, structs: 0, functions: 0, refcountedTypes: 0, lookupStructures: 0, releaseCallbacks: 0,
    learnedWrappers: { get: 0, put: 0, returnsRef: 0, getNames: [], putNames: [], returnsRefNames: [] }, buildMs: 0, refcountFiles: 0, refcountMs: 0,
  };
  const inPaths = new Set(files.map((f) => f.abs));
  // Headers outside the PATHs, discovered from the includes (rounds until closed).
  const headerTasks: HeaderTask[] = [];
  const headerFacts: (FileFacts | null)[] = [];
  const headerSeen = new Set<string>();
  let pendingHeaders: HeaderTask[] = [];
  const knowledgeLabel = (abs: string): string => {
    const rel = relative(opts.cwd, abs);
    return (rel && !rel.startsWith('..') ? rel : abs).split(sep).join('/');
  };
  const wantHeaders = (includes: readonly string[]): void => {
    for (const h of includes) {
      if (inPaths.has(h) || headerSeen.has(h)) continue;
      headerSeen.add(h);
      pendingHeaders.push({ abs: h, label: knowledgeLabel(h) });
    }
  };
  let phaseDone = 0;
  let headerBase = 0;
  const t0 = performance.now();
  const phasesMs = { pass1: 0, headers: 0, index: 0, pass2: 0 };
  let phaseStart = t0;
  let inHeaders = false;
  const endPhase = (name: keyof typeof phasesMs): void => {
    const now = performance.now();
    phasesMs[name] += Math.round(now - phaseStart);
    phaseStart = now;
  };

  /**
   * Pass 2. The lock re-analysis needs only the merged cross-file summaries, so
   * it is posted first and the workers run it while this thread merges the facts
   * into the workspace index; the refcount tasks follow with the index,
   * serialised once into shared memory.
   */
  const startPass2 = (threads: readonly Worker[]): void => {
    endPhase(inHeaders ? 'headers' : 'pass1');
    const offers = outcomes.map((o) => (o && o.kind === 'ok' ? o.crossFile : undefined));
    const plan = planCrossFile(offers, files.map((f) => f.abs.endsWith('.c')));
    for (const o of outcomes) if (o && o.kind === 'ok') delete o.crossFile;
    crossFile.summaries = plan.knowledge.length;
    crossFile.ambiguous = plan.ambiguous;
    crossFile.reanalysed = plan.reanalyse.length;
    const queueAt = new Map(order.map((fileIndex, q) => [fileIndex, q]));
    const lockTasks = plan.reanalyse.map((i) => queueAt.get(i)!).sort((a, b) => a - b);
    const lockMsg: Pass2LockMessage = { kind: 'pass2-lock', tasks: lockTasks, knowledge: plan.knowledge, next: new SharedArrayBuffer(4) };
    for (const t of threads) t.postMessage(lockMsg);

    const refcountTasks: number[] = [];
    for (const q of order.keys()) {
      const o = outcomes[order[q]!];
      if (opts.refcount && o && o.kind === 'ok' && !o.directivesOnly && o.functions > 0) refcountTasks.push(q);
    }
    let shipped: ShippedIndex | null = null;
    if (opts.refcount) {
      const t0 = performance.now();
      const all: FileFacts[] = [];
      for (const f of pathFacts) if (f) all.push(f);
      for (const f of headerFacts) if (f) all.push(f);
      const index = buildWorkspaceIndex(all);
      const lw = learnedWrappers(index);
      summary.files = all.length;
      summary.headers = headerFacts.filter((f) => f).length;
      summary.structs = index.stats.structs;
      summary.functions = index.stats.functions;
      summary.refcountedTypes = index.stats.refcountedTypes;
      summary.lookupStructures = index.stats.lookupStructures;
      summary.releaseCallbacks = index.stats.releaseCallbacks;
      summary.learnedWrappers = { get: lw.gets.length, put: lw.puts.length, returnsRef: lw.returnsRef.length, getNames: lw.gets, putNames: lw.puts, returnsRefNames: lw.returnsRef };
      summary.buildMs = Math.round(performance.now() - t0);
      if (refcountTasks.length) shipped = shipIndex(index, factsJson);
    }
    pathFacts.fill(null); // the index holds what it needs
    headerFacts.fill(null);
    factsJson.clear();
    const refcountMsg: Pass2RefcountMessage = { kind: 'pass2-refcount', tasks: shipped ? refcountTasks : [], index: shipped, next: new SharedArrayBuffer(4) };
    for (const t of threads) t.postMessage(refcountMsg);
    endPhase('index');
  };
  const startHeaders = (threads: readonly Worker[]): boolean => {
    if (!opts.refcount || pendingHeaders.length === 0) return false;
    const round = pendingHeaders;
    pendingHeaders = [];
    endPhase(inHeaders ? 'headers' : 'pass1');
    inHeaders = true;
    headerBase = headerTasks.length;
    headerTasks.push(...round);
    headerFacts.length = headerTasks.length;
    const msg: HeadersMessage = { kind: 'headers', tasks: round, next: new SharedArrayBuffer(4) };
    for (const t of threads) t.postMessage(msg);
    return true;
  };

  await runWorkers<WorkerMessage>(workerScript(), input, n, (m, threads) => {
    switch (m.kind) {
      case 'result': {
        const at = order[m.index]!;
        outcomes[at] = m.outcome;
        if (m.extras) {
          extras[at] = m.extras;
          if (m.extras.factsCached) summary.cachedFacts++;
          pathFacts[at] = keepFacts(m.extras.facts);
          m.extras.facts = null;
          if (opts.refcount) wantHeaders(m.extras.includes);
        }
        return undefined;
      }
      case 'header-facts': {
        headerFacts[headerBase + m.index] = keepFacts(m.facts);
        if (m.cached) summary.cachedFacts++;
        wantHeaders(m.includes);
        return undefined;
      }
      case 'lock2': {
        const at = order[m.index]!;
        const prev = outcomes[at];
        if (prev && prev.kind === 'ok' && m.lock.kind === 'ok') {
          crossFile.pass2Ms += m.lock.ms;
          m.lock.ms += prev.ms;
        }
        outcomes[at] = m.lock;
        return undefined;
      }
      case 'refcount': {
        const at = order[m.index]!;
        refcountFindings[at] = m.refcount;
        refcountIncomplete[at] = m.incomplete;
        summary.refcountMs += m.refcountMs;
        if (m.ran) summary.refcountFiles++;
        return undefined;
      }
      case 'phase-done':
        if (++phaseDone === n) {
          phaseDone = 0;
          if (!startHeaders(threads)) startPass2(threads);
        }
        return undefined;
      case 'done':
        headersSummarized += m.headersSummarized;
        return 'done';
      default:
        return new Error(`worker failed: ${m.message}`);
    }
  });
  for (let i = 0; i < outcomes.length; i++) {
    // A worker that died mid-file (e.g. out of memory) leaves a hole: report it as skipped.
    outcomes[i] ??= { kind: 'skipped', reason: 'no result from the worker' };
  }
  endPhase('pass2');
  crossFile.pass2Ms = Math.round(crossFile.pass2Ms);
  summary.refcountMs = Math.round(summary.refcountMs);
  const lockOrder: LockOrderEdge[] = [];
  for (const o of outcomes) if (o && o.kind === 'ok') lockOrder.push(...o.lockOrder);
  return { outcomes: outcomes as FileOutcome[], headersSummarized, crossFile, refcountFindings, refcountIncomplete, lockOrder, index: summary, phasesMs };
}
