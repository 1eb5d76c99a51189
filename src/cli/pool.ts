/** Run the check workers over a shared queue and collect one outcome per file. */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../core/catalog/index';
import type { FileFacts } from '../core/index/facts';
import { buildPackedIndex, definitionScanFlags, learnedWrappers, type WorkspaceIndex } from '../core/index/workspace';
import { CallerIds, FunctionPacker, LazyFunctions, LazyTable, packTable, type PackedTable } from '../core/index/lazy';
import type { Finding, IncompleteFunction, LockOrderEdge } from '../core/types';
import type { InputFile } from './files';
import type { IndexSummary } from './format/shared';
import { planCrossFile } from './crossfile';
import { archOfFile } from './knowledge';
import { collectGarbage, HeapBudget } from '../node/gc';
import { enableTiming, timed, timings } from '../core/util/timing';
import { affectedByChanges, sha256, shardOf, type BlobRef, type IndexedFile, type IndexedHeader, type IndexManifest, type IndexReader, type IndexWriter } from './index-file';
import type { FileOutcome, HeadersMessage, HeaderTask, Pass2LockMessage, Pass2RefcountMessage, ShippedIndex, ShippedTables, WorkerInput, WorkerMessage } from './protocol';

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
  /** Per file (parallel to the input): in the shard this run reports (all true when not sharded). */
  reported: boolean[];
  artifact?: ArtifactStats;
}

export interface PoolOptions {
  jobs: number;
  catalog: Catalog;
  root: string;
  cwd: string;
  cacheDir: string | null;
  /** Build the workspace index and run the refcount/RCU rules (default true). */
  refcount: boolean;
  /** An index artifact to reuse and/or to write (`check --index`, `refscope index`); needs `refcount`. */
  artifact?: ArtifactOptions;
  /**
   * Parse the headers of each round last first. Two runs over the same headers at
   * once (the two ends of a review) then meet in the middle, each finding the
   * other's half in the facts cache. Results do not depend on it.
   */
  reverseHeaders?: boolean;
}

export interface ArtifactOptions {
  /** The index read at the start (null: none, or unusable: a cold run). */
  read: IndexReader | null;
  /** Where the updated index goes (null: read only, e.g. a shard). */
  write: IndexWriter | null;
  /** Analyse and report only the files of shard K of N (the others feed knowledge only). */
  shard: { k: number; n: number } | null;
  /** configIdentity() of this run, for the manifest and the pass-2 fingerprint. */
  identity: Pick<IndexManifest, 'format' | 'tool' | 'factsVersion' | 'catalog'>;
}

/** What the index artifact did in a run (JSON stats `indexFile`). */
export interface ArtifactStats {
  /** PATH files whose pass-1 results came from the index (not parsed in pass 1). */
  reusedFiles: number;
  /** PATH files analysed in pass 1 (new, changed, or a header they read changed). */
  analysedFiles: number;
  /** Headers outside the PATHs whose facts came from the index / were read again. */
  reusedHeaders: number;
  analysedHeaders: number;
  /** Every file and header unchanged: pass 2's results came from the index too. */
  pass2Reused: boolean;
  /** Main-thread time to hash the files and check them against the index. */
  hashMs: number;
  /** Bytes of the index written (0: nothing changed, or read only). */
  writtenBytes: number;
}

/** One file's results after pass 2 as the index stores them. */
interface StoredFinal {
  outcome: FileOutcome;
  refcount: Finding[];
  incomplete: IncompleteFunction[];
  refcountMs: number;
  ran: boolean;
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

/**
 * Packed bytes of definitions the index build on this thread keeps decoded at
 * once (the rest are decoded again when asked for; $REFSCOPE_BUILD_DECODED_MB
 * overrides it). Whole tree, 2026-12-03: with the facts packed as they arrive,
 * the main heap at the end of pass 1 is 0.55 GB (was 1.91 GB of objects), plus
 * 576 MB packed; with 128 MB the build decodes the 680k definitions once and
 * 76k of them again, and its heap peaked at 1.52 GB. With 48 MB and collections
 * at a quarter of the live size: 90k again, 12 collections instead of 6, peak
 * 1.15 GB, the build 3 s slower (49.6 s).
 */
const BUILD_DECODED_BYTES = Number(process.env.REFSCOPE_BUILD_DECODED_MB ?? 48) * 1048576;
/** The index build collects garbage when the heap has grown by this much since the last time ... */
const BUILD_HEAP_SLACK = 128 * 1048576;
/**
 * ... or by this share of its live size, if more. 2026-12-08: with the refcount
 * pass's collections tightened the whole tree's process peak was the build again
 * (2.77 GB sampled, main heap 744-846 MB at a quarter): an eighth.
 */
const BUILD_HEAP_SHARE = 0.125;

/** The index for the workers: the tables serialised once into shared memory; the function facts (already packed there) and the callers as slots. */
function shipIndex(index: WorkspaceIndex): ShippedIndex {
  const tables: Partial<WorkspaceIndex> = { ...index };
  delete tables.cat;
  delete tables.rc;
  delete tables.functions;
  delete tables.callers; // sent as definition slots
  delete tables.structs; // these three packed per entry
  delete tables.globals;
  delete tables.prototypes;
  const bytes = serialize(tables as ShippedTables);
  if (process.env.REFSCOPE_DEBUG_MEM) {
    const sizes = Object.entries(tables).map(([k, v]) => `${k} ${(serialize(v).length / 1048576).toFixed(1)}`).join(', ');
    process.stderr.write(`refscope mem shipped tables ${(bytes.length / 1048576).toFixed(1)} MB: ${sizes}\n`);
  }
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  if (!(index.functions instanceof LazyFunctions) || !(index.callers instanceof CallerIds)) throw new Error('shipIndex: the index was not built from packed facts');
  const functions = index.functions.packedFacts;
  if (process.env.REFSCOPE_DEBUG_MEM) {
    const mb = functions.chunks.reduce((n, c) => n + c.length, 0) / 1048576;
    process.stderr.write(`refscope mem shipped function facts ${mb.toFixed(1)} MB in ${functions.chunks.length} chunks: ${functions.lines.length} definitions in ${functions.files.length} files\n`);
  }
  // Packed by the build already (buildPackedIndex) where the packer allocates shared memory.
  const alloc = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));
  const packed = <V>(t: ReadonlyMap<string, V>): PackedTable => (t instanceof LazyTable && t.packedTable.bytes.buffer instanceof SharedArrayBuffer ? t.packedTable : packTable(t, alloc));
  const structs = packed(index.structs);
  const globals = packed(index.globals);
  const prototypes = packed(index.prototypes);
  if (process.env.REFSCOPE_DEBUG_MEM) {
    const mb = (t: PackedTable): string => (t.bytes.length / 1048576).toFixed(1);
    process.stderr.write(`refscope mem shipped packed tables: structs ${mb(structs)} MB, globals ${mb(globals)} MB, prototypes ${mb(prototypes)} MB\n`);
  }
  return { tables: shared, functions, callers: index.callers.packedCallers, structs, globals, prototypes };
}

/** Current sha256 of a file's bytes (undefined: missing or unreadable). */
function hashFile(abs: string): string | undefined {
  try {
    return sha256(readFileSync(abs));
  } catch {
    return undefined;
  }
}

/**
 * REFSCOPE_DEBUG_MEM=1: one stderr line per phase end (and every 10 s) with the
 * process RSS (all threads) and this thread's heap, for finding where memory goes.
 */
function memoryTracer(): ((what: string) => void) | undefined {
  if (!process.env.REFSCOPE_DEBUG_MEM) return undefined;
  const t0 = performance.now();
  const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MB`;
  return (what) => {
    const m = process.memoryUsage();
    process.stderr.write(`refscope mem ${((performance.now() - t0) / 1000).toFixed(1)} s ${what}: rss ${mb(m.rss)}, main heap ${mb(m.heapUsed)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})\n`);
  };
}
let memTrace: ((what: string) => void) | undefined;

export async function runPool(files: InputFile[], opts: PoolOptions): Promise<PoolResult> {
  enableTiming(!!process.env.REFSCOPE_DEBUG_TIME);
  memTrace = memoryTracer();
  const memTimer = memTrace ? setInterval(() => memTrace?.('sample'), 10000) : undefined;
  try {
    return await runPoolImpl(files, opts);
  } finally {
    if (memTimer) clearInterval(memTimer);
  }
}

async function runPoolImpl(files: InputFile[], opts: PoolOptions): Promise<PoolResult> {
  const order = bigFirst(files);
  const queue = order.map((i) => files[i]!);
  const outcomes: (FileOutcome | undefined)[] = new Array(files.length);
  /** Facts of the PATH files but their functions, parsed from the JSON the workers send (parallel to files). */
  const pathFacts: (FileFacts | null)[] = new Array(files.length).fill(null);
  /** The function facts of every file and header, packed as they arrive (in shared memory, for the workers' pass 2). */
  const packer = new FunctionPacker((n) => new Uint8Array(new SharedArrayBuffer(n)), undefined, definitionScanFlags());
  /** A file's facts for the index: its functions go into the packer, the rest is kept. */
  const keepFacts = (ff: FileFacts | null): FileFacts | null => {
    if (!ff) return null;
    packer.add(ff.file, ff.functions);
    ff.functions = [];
    return ff;
  };
  const refcountFindings: Finding[][] = files.map(() => []);
  const refcountIncomplete: IncompleteFunction[][] = files.map(() => []);
  /** Pass 2's refcount timing per file (for the index written). */
  const refcountRan: ({ ms: number; ran: boolean } | undefined)[] = new Array(files.length);
  const art = opts.refcount ? opts.artifact : undefined;
  const reader = art?.read ?? null;
  const writer = art?.write ?? null;
  const shard = opts.artifact?.shard ?? null; // sharding needs no index
  const reported = files.map((f) => !shard || shardOf(f.display, shard.n) === shard.k);
  const artStats: ArtifactStats = { reusedFiles: 0, analysedFiles: 0, reusedHeaders: 0, analysedHeaders: 0, pass2Reused: false, hashMs: 0, writtenBytes: 0 };

  // Index artifact: the current hash of every file, and what the index says about it (by file index).
  const fileHash: (string | undefined)[] = new Array(files.length);
  const fileIncludes: (string[] | undefined)[] = new Array(files.length);
  const warmEntry: (IndexedFile | undefined)[] = new Array(files.length);
  /** Blobs written for the files analysed in this run. */
  const freshPass1: (BlobRef | undefined)[] = new Array(files.length);
  const freshFacts: (BlobRef | null | undefined)[] = new Array(files.length);
  const fileAt = new Map(files.map((f, i) => [f.abs, i]));
  const headerHash = new Map<string, string | undefined>();
  const hashOf = (abs: string): string | undefined => {
    const at = fileAt.get(abs);
    if (at !== undefined) return fileHash[at] ??= hashFile(abs);
    if (!headerHash.has(abs)) headerHash.set(abs, hashFile(abs));
    return headerHash.get(abs);
  };
  const pass1: number[] = [];
  if (reader) {
    const t0 = performance.now();
    const m = reader.manifest;
    // A file is reused when its content is the same and nothing its includes reach changed.
    // (Only the part of the recorded graph this run's files reach: an index of the whole tree
    // checked on one directory hashes that directory and the headers it reads, nothing more.)
    const graph = new Map<string, readonly string[]>();
    const recordedIncludes = (abs: string): readonly string[] | undefined => m.files[abs]?.includes ?? m.headers[abs]?.includes;
    const stack = files.map((f) => f.abs).filter((abs) => recordedIncludes(abs) !== undefined);
    while (stack.length) {
      const abs = stack.pop()!;
      if (graph.has(abs)) continue;
      const incs = recordedIncludes(abs);
      if (!incs) continue;
      graph.set(abs, incs);
      for (const h of incs) if (!graph.has(h)) stack.push(h);
    }
    const recordedHash = (abs: string): string | undefined => m.files[abs]?.hash ?? m.headers[abs]?.hash;
    const affected = affectedByChanges(graph, (abs) => hashOf(abs) !== recordedHash(abs));
    for (let i = 0; i < files.length; i++) {
      const e = Object.prototype.hasOwnProperty.call(m.files, files[i]!.abs) ? m.files[files[i]!.abs] : undefined;
      if (!e || e.display !== files[i]!.display || hashOf(files[i]!.abs) !== e.hash) continue;
      if (e.includes.some((h) => affected.has(h))) continue;
      warmEntry[i] = e;
      fileIncludes[i] = e.includes;
    }
    artStats.hashMs = Math.round(performance.now() - t0);
  }
  for (let q = 0; q < queue.length; q++) if (!warmEntry[order[q]!]) pass1.push(q);
  artStats.reusedFiles = files.length - pass1.length;
  artStats.analysedFiles = pass1.length;

  const input: WorkerInput = {
    kind: 'refscope-check-worker', files: queue, pass1, hashes: writer !== null || reader !== null, next: new SharedArrayBuffer(4), catalog: opts.catalog, root: opts.root, cwd: opts.cwd, cacheDir: opts.cacheDir, refcount: opts.refcount,
  };
  const n = Math.max(1, Math.min(opts.jobs, files.length));
  let headersSummarized = 0;
  const crossFile = { summaries: 0, ambiguous: 0, reanalysed: 0, pass2Ms: 0 };
  let summary: IndexSummary = {
    files: 0, headers: 0, cachedFacts: 0, structs: 0, functions: 0, refcountedTypes: 0, lookupStructures: 0, releaseCallbacks: 0,
    learnedWrappers: { get: 0, put: 0, returnsRef: 0, getNames: [], putNames: [], returnsRefNames: [] }, buildMs: 0, refcountFiles: 0, refcountMs: 0,
  };
  const inPaths = new Set(files.map((f) => f.abs));
  // Headers outside the PATHs, discovered from the includes (rounds until closed).
  const headerTasks: HeaderTask[] = [];
  const headerFacts: (FileFacts | null)[] = [];
  const headerSeen = new Set<string>();
  /** Headers taken from the index (unchanged): their entry, facts read only if pass 2 runs. */
  const warmHeaders = new Map<string, IndexedHeader>();
  /** Headers read in this run: hash, includes and facts blob (for the index written). */
  const freshHeaders = new Map<string, { hash: string | undefined; includes: string[]; facts: BlobRef | null }>();
  let pendingHeaders: HeaderTask[] = [];
  const knowledgeLabel = (abs: string): string => {
    const rel = relative(opts.cwd, abs);
    return (rel && !rel.startsWith('..') ? rel : abs).split(sep).join('/');
  };
  const wantHeaders = (includes: readonly string[]): void => {
    const stack = [...includes];
    while (stack.length) {
      const h = stack.pop()!;
      if (inPaths.has(h) || headerSeen.has(h)) continue;
      headerSeen.add(h);
      const e = reader && Object.prototype.hasOwnProperty.call(reader.manifest.headers, h) ? reader.manifest.headers[h] : undefined;
      if (e && hashOf(h) === e.hash) {
        warmHeaders.set(h, e);
        artStats.reusedHeaders++;
        stack.push(...e.includes);
        continue;
      }
      pendingHeaders.push({ abs: h, label: knowledgeLabel(h) });
    }
  };
  if (opts.refcount) for (let i = 0; i < files.length; i++) if (warmEntry[i]) wantHeaders(warmEntry[i]!.includes);
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
    memTrace?.(`end of ${name}`);
  };

  /** sha256 over everything pass 2 depends on: the run's configuration, every PATH file and every header. */
  const fingerprint = (): string => {
    const h = new Map<string, string>();
    for (let i = 0; i < files.length; i++) h.set(files[i]!.abs, `${files[i]!.display}\0${fileHash[i] ?? '-'}`);
    for (const abs of headerSeen) h.set(abs, `\0${warmHeaders.get(abs)?.hash ?? freshHeaders.get(abs)?.hash ?? '-'}`);
    const parts = [...h].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, v]) => `${k}\0${v}\n`);
    return sha256(`${JSON.stringify(art?.identity ?? null)}\n${opts.root}\n${opts.cwd}\n${parts.join('')}`);
  };
  let pass2Fingerprint = '';

  /**
   * Pass 2. The lock re-analysis needs only the merged cross-file summaries, so
   * it is posted first and the workers run it while this thread merges the facts
   * into the workspace index; the refcount tasks follow with the index,
   * serialised once into shared memory.
   */
  const startPass2 = (threads: readonly Worker[]): void => {
    endPhase(inHeaders ? 'headers' : 'pass1');
    if (art) pass2Fingerprint = fingerprint();
    const stored = reader?.manifest.pass2;
    // (A file this run could not analyse, binary or unreadable, has no stored result and keeps its pass-1 outcome.)
    if (reader && stored && stored.fingerprint === pass2Fingerprint
      && files.every((f, i) => stored.results[f.abs] !== undefined || (outcomes[i] !== undefined && outcomes[i]!.kind !== 'ok'))) {
      // Nothing changed: every result of the last run stands.
      artStats.pass2Reused = true;
      for (let i = 0; i < files.length; i++) {
        const ref = stored.results[files[i]!.abs];
        if (!ref) continue;
        const r = reader.json<StoredFinal>(ref);
        outcomes[i] = r.outcome;
        refcountFindings[i] = r.refcount;
        refcountIncomplete[i] = r.incomplete;
      }
      Object.assign(crossFile, stored.crossFile);
      summary = { ...(stored.summary as IndexSummary), cachedFacts: summary.cachedFacts };
      const none = (): Pass2LockMessage => ({ kind: 'pass2-lock', tasks: [], knowledge: [], archOf: [], archAdds: [], next: new SharedArrayBuffer(4) });
      for (const t of threads) t.postMessage(none());
      const refcountMsg: Pass2RefcountMessage = { kind: 'pass2-refcount', tasks: [], index: null, next: new SharedArrayBuffer(4) };
      for (const t of threads) t.postMessage(refcountMsg);
      endPhase('index');
      return;
    }
    if (reader) {
      // Some file changed: the unchanged ones' pass-1 results and facts come from the index.
      for (let i = 0; i < files.length; i++) {
        const e = warmEntry[i];
        if (!e) continue;
        outcomes[i] = reader.json<FileOutcome>(e.pass1);
        if (e.facts) pathFacts[i] = keepFacts(parseFacts(reader.text(e.facts)));
      }
      for (const e of warmHeaders.values()) if (e.facts) headerFacts.push(keepFacts(parseFacts(reader.text(e.facts))));
    }
    const offers = outcomes.map((o) => (o && o.kind === 'ok' ? o.crossFile : undefined));
    const plan = planCrossFile(offers, files.map((f) => f.abs.endsWith('.c')), files.map((f) => archOfFile(opts.root, f.abs)));
    for (const o of outcomes) if (o && o.kind === 'ok') delete o.crossFile;
    crossFile.summaries = plan.knowledge.length;
    crossFile.ambiguous = plan.ambiguous;
    crossFile.reanalysed = plan.reanalyse.length;
    const queueAt = new Map(order.map((fileIndex, q) => [fileIndex, q]));
    // Every file a summary can change, in the shard or not: their lock-order edges feed the shard's inversions.
    const lockTasks = plan.reanalyse.map((i) => queueAt.get(i)!).sort((a, b) => a - b);
    const lockMsg: Pass2LockMessage = { kind: 'pass2-lock', tasks: lockTasks, knowledge: plan.knowledge, archOf: plan.archOf, archAdds: plan.archAdds, next: new SharedArrayBuffer(4) };
    for (const t of threads) t.postMessage(lockMsg);

    const refcountTasks: number[] = [];
    for (const q of order.keys()) {
      const o = outcomes[order[q]!];
      if (opts.refcount && reported[order[q]!] && o && o.kind === 'ok' && !o.directivesOnly && o.functions > 0) refcountTasks.push(q);
    }
    let shipped: ShippedIndex | null = null;
    if (opts.refcount) {
      const t0 = performance.now();
      const all: FileFacts[] = [];
      for (const f of pathFacts) if (f) all.push(f);
      for (const f of headerFacts) if (f) all.push(f);
      let heap = new HeapBudget(BUILD_HEAP_SLACK, BUILD_HEAP_SHARE);
      let collections = 0;
      summary.files = all.length;
      summary.headers = headerFacts.filter((f) => f).length;
      let traced = performance.now();
      memTrace?.('index build starts');
      const index = timed('main:build', () => buildPackedIndex(all, packer, BUILD_DECODED_BYTES, () => {
        if (heap.check()) collections++;
        // (The build blocks this thread's timer: its trace comes from here.)
        if (memTrace && performance.now() - traced > 2000) {
          traced = performance.now();
          memTrace('in the index build');
        }
      }, () => {
        memTrace?.('index build: tables packed');
        // The tables are packed: the facts they were made from are not needed again.
        all.length = 0;
        pathFacts.fill(null);
        headerFacts.fill(null);
        // Collected now, and the budget measured from here: one measured at the build's start
        // counts the facts as live, so the definitions decoded next grew the heap by their size
        // before the first collection (whole tree: 541 -> 883 MB in 5 s, the process peak).
        collectGarbage();
        heap = new HeapBudget(BUILD_HEAP_SLACK, BUILD_HEAP_SHARE);
        collections++;
        memTrace?.('index build: facts dropped and collected');
      }));
      const lw = learnedWrappers(index);
      summary.structs = index.stats.structs;
      summary.functions = index.stats.functions;
      summary.refcountedTypes = index.stats.refcountedTypes;
      summary.lookupStructures = index.stats.lookupStructures;
      summary.releaseCallbacks = index.stats.releaseCallbacks;
      summary.learnedWrappers = { get: lw.gets.length, put: lw.puts.length, returnsRef: lw.returnsRef.length, getNames: lw.gets, putNames: lw.puts, returnsRefNames: lw.returnsRef };
      summary.buildMs = Math.round(performance.now() - t0);
      memTrace?.(`index built (${summary.buildMs} ms; ${(index.functions as LazyFunctions).decodedFunctions} definitions decoded, ${(index.functions as LazyFunctions).redecoded} again; ${collections} collections)`);
      // Before shipping: the build's garbage (definitions decoded and dropped) and the
      // definitions it kept decoded (not needed on this thread again).
      (index.functions as LazyFunctions).dropDecoded();
      collectGarbage();
      memTrace?.('collected after the build');
      if (refcountTasks.length) shipped = timed('main:ship', () => shipIndex(index));
      memTrace?.('index shipped');
    }
    pathFacts.fill(null); // (without the refcount rules: the facts are not needed either)
    headerFacts.fill(null);
    const refcountMsg: Pass2RefcountMessage = { kind: 'pass2-refcount', tasks: shipped ? refcountTasks : [], index: shipped, next: new SharedArrayBuffer(4) };
    for (const t of threads) t.postMessage(refcountMsg);
    endPhase('index');
    if (shipped) {
      // Every file's parsed facts and the index built from them are garbage now: free them
      // before the workers' pass 2 grows (else the process peak holds both). From the next
      // turn of the event loop: this frame still holds the index and the facts.
      setImmediate(() => {
        memTrace?.('before collecting');
        collectGarbage();
        memTrace?.('collected');
      });
    }
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
    artStats.analysedHeaders += round.length;
    const msg: HeadersMessage = { kind: 'headers', tasks: round, next: new SharedArrayBuffer(4), ...(opts.reverseHeaders ? { reverse: true } : {}) };
    for (const t of threads) t.postMessage(msg);
    return true;
  };

  await runWorkers<WorkerMessage>(workerScript(), input, n, (m, threads) => {
    switch (m.kind) {
      case 'result': {
        const at = order[m.index]!;
        outcomes[at] = m.outcome;
        if (m.hash) fileHash[at] = m.hash;
        if (writer && m.outcome.kind === 'ok') freshPass1[at] = writer.blob(JSON.stringify(m.outcome));
        if (m.extras) {
          if (m.extras.factsCached) summary.cachedFacts++;
          if (writer) freshFacts[at] = m.extras.facts === null ? null : writer.blob(m.extras.facts);
          pathFacts[at] = timed('main:keepFacts', () => keepFacts(parseFacts(m.extras!.facts)));
          m.extras.facts = null;
          fileIncludes[at] = m.extras.includes;
          if (opts.refcount) wantHeaders(m.extras.includes);
        }
        return undefined;
      }
      case 'header-facts': {
        const task = headerTasks[headerBase + m.index]!;
        headerFacts[headerBase + m.index] = keepFacts(parseFacts(m.facts));
        if (art) freshHeaders.set(task.abs, { hash: m.hash, includes: m.includes, facts: writer && m.facts !== null ? writer.blob(m.facts) : null });
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
        if (writer) refcountRan[at] = { ms: m.refcountMs, ran: m.ran };
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
  if (process.env.REFSCOPE_DEBUG_TIME) process.stderr.write(`refscope time main (ms): ${JSON.stringify(timings())}\n`);
  crossFile.pass2Ms = Math.round(crossFile.pass2Ms);
  summary.refcountMs = Math.round(summary.refcountMs);
  if (writer) {
    const changed = artStats.analysedHeaders > 0 || freshPass1.some((r) => r !== undefined) || !reader;
    if (artStats.pass2Reused && !changed) writer.abort(); // the index on disk says it all
    else artStats.writtenBytes = writeArtifact();
  }
  const lockOrder: LockOrderEdge[] = [];
  for (const o of outcomes) if (o && o.kind === 'ok') lockOrder.push(...o.lockOrder);
  return {
    outcomes: outcomes as FileOutcome[], headersSummarized, crossFile, refcountFindings, refcountIncomplete, lockOrder, index: summary, phasesMs, reported,
    ...(art ? { artifact: artStats } : {}),
  };

  /** The manifest of this run: fresh blobs for what was analysed, copies of the old index's for the rest. */
  function writeArtifact(): number {
    const w = writer!;
    const copy = (ref: BlobRef | null): BlobRef | null => (ref && reader ? w.blob(reader.raw(ref)) : null);
    const mFiles: Record<string, IndexedFile> = {};
    const mHeaders: Record<string, IndexedHeader> = {};
    for (const [abs, e] of warmHeaders) mHeaders[abs] = { hash: e.hash, includes: e.includes, facts: copy(e.facts) };
    for (const [abs, e] of freshHeaders) if (e.hash !== undefined) mHeaders[abs] = { hash: e.hash, includes: e.includes, facts: e.facts };
    const results: Record<string, BlobRef> = {};
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const o = outcomes[i]!;
      const e = warmEntry[i];
      const hash = fileHash[i];
      if (o.kind !== 'ok' || hash === undefined) continue; // skipped files are tried again next time
      const pass1Ref = e ? copy(e.pass1)! : freshPass1[i];
      if (!pass1Ref) continue;
      const includes = fileIncludes[i] ?? [];
      mFiles[f.abs] = {
        display: f.display, hash, includes, pass1: pass1Ref,
        facts: e ? copy(e.facts) : (freshFacts[i] ?? null),
      };
      const stored = reader?.manifest.pass2;
      const ran = refcountRan[i] ?? (artStats.pass2Reused && stored ? null : { ms: 0, ran: false });
      const final: StoredFinal | null = ran
        ? { outcome: o, refcount: refcountFindings[i]!, incomplete: refcountIncomplete[i]!, refcountMs: ran.ms, ran: ran.ran }
        : null;
      if (final) results[f.abs] = w.blob(JSON.stringify(final));
      else if (stored?.results[f.abs]) results[f.abs] = copy(stored.results[f.abs]!)!;
    }
    const manifest: IndexManifest = {
      ...art!.identity, root: opts.root, cwd: opts.cwd, files: mFiles, headers: mHeaders,
      ...(shard ? {} : { pass2: { fingerprint: pass2Fingerprint, crossFile, summary, results } }),
    };
    return w.commit(manifest);
  }
}
