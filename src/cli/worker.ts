/**
 * Worker-thread side of `refscope check`: load the WASM parser once, then run
 * the phases the main thread hands out (see protocol.ts), claiming tasks from
 * shared queues (atomic counters over lists sorted big-first) until each is
 * empty, posting one result per task.
 */
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { deserialize } from 'node:v8';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { analyzeFileCrossFile, analyzeRefcount } from '../core/analyze';
import { builtinCatalog, indexCatalog } from '../core/catalog/index';
import { indexRefcountCatalog } from '../core/catalog/refcount';
import { extractFactsFromParsed, extractFileFacts } from '../core/index/facts';
import type { FunctionSummary } from '../core/index/summaries';
import type { WorkspaceIndex } from '../core/index/workspace';
import type { CParser } from '../core/parse/parser';
import { hasCCode } from '../core/parse/prescan';
import type { Finding, IncompleteFunction } from '../core/types';
import { nodeParser } from '../node/assets';
import { NodeFactsCache } from '../node/cache';
import { collectGarbage, HeapBudget } from '../node/gc';
import type { InputFile } from './files';
import { archKnowledge, archOfFile, HeaderKnowledge, LayeredMap } from './knowledge';
import type { FileOutcome, HeadersMessage, Pass1Extras, Pass2LockMessage, Pass2RefcountMessage, ShippedTables, WorkerInput, WorkerMessage } from './protocol';
import { CallerIds, LazyFunctions, LazyTable } from '../core/index/lazy';
import { sha256 } from './index-file';
import { enableTiming, setTimingPhase, timed, timings } from '../core/util/timing';

const decoder = new TextDecoder('utf-8', { fatal: true });
/** Headers outside the PATHs bigger than this feed no facts (generated register headers). */
const MAX_HEADER_BYTES = 1 << 20;

export function isWorkerInput(data: unknown): data is WorkerInput {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'refscope-check-worker';
}

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

type Read = { ok: true; text: string; bytes?: number; hash?: string } | { ok: false; outcome: FileOutcome };

/** The file's text (`hash`: also the sha256 of its bytes, for the index artifact). */
function readSource(file: InputFile, hash = false): Read {
  if (file.text !== undefined) return { ok: true, text: file.text };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file.abs);
  } catch (e) {
    return { ok: false, outcome: { kind: 'io-error', message: `cannot read ${file.display}: ${(e as Error).message}` } };
  }
  if (bytes.includes(0)) return { ok: false, outcome: { kind: 'skipped', reason: 'binary file (contains NUL bytes)' } };
  try {
    return { ok: true, text: decoder.decode(bytes), bytes: bytes.length, ...(hash ? { hash: sha256(bytes) } : {}) };
  } catch {
    return { ok: false, outcome: { kind: 'skipped', reason: 'not valid UTF-8' } };
  }
}

class CheckWorker {
  private readonly knowledge: HeaderKnowledge;
  private readonly cache: NodeFactsCache | undefined;

  constructor(private readonly parser: CParser, private readonly input: WorkerInput) {
    this.knowledge = new HeaderKnowledge(parser, input.catalog, input.root, input.cwd);
    this.cache = input.cacheDir ? new NodeFactsCache(input.cacheDir) : undefined;
  }

  get headersSummarized(): number {
    return this.knowledge.summarized;
  }

  /**
   * Lock analysis of one file; never throws. Pass 1 (`global` undefined) also
   * returns the cross-file offer, the index facts and the includes; pass 2 adds
   * the merged summaries of the other files' functions after the file's headers.
   */
  lockFile(file: InputFile, text: string, bytes: number | undefined, global?: ReadonlyMap<string, FunctionSummary>): { outcome: FileOutcome; extras?: Pass1Extras } {
    try {
      const t0 = performance.now();
      const headers = timed('forFile', () => this.knowledge.forFile(file.abs, text));
      const pass1 = global === undefined;
      const withIndex = this.input.refcount;
      let facts = null as string | null;
      let factsCached = false;
      if (pass1 && withIndex && hasCCode(text)) {
        const hit = this.cache?.loadWithJson(file.display, text);
        if (hit) {
          facts = hit.json;
          factsCached = true;
        }
      }
      const r = analyzeFileCrossFile(this.parser, text, file.display, {
        catalog: this.input.catalog,
        knowledge: global ? new LayeredMap([headers, global]) : headers,
        lockOrder: true,
        ...(bytes !== undefined ? { bytes } : {}),
        refcountRules: withIndex ? 'none' : 'per-file',
        onParsed: (parsed) => {
          if (pass1 && withIndex && !facts) {
            try {
              const json = timed('facts', () => JSON.stringify(extractFactsFromParsed(parsed, file.display)));
              facts = json;
              this.cache?.storeJson(file.display, text, json);
            } catch {
              facts = null; // a file the extractor cannot handle feeds no facts
            }
          }
        },
      });
      const outcome: FileOutcome = {
        kind: 'ok',
        findings: r.findings,
        functions: r.stats.functions,
        functionsWithParseDamage: r.stats.functionsWithParseDamage,
        functionsNotAnalysed: r.stats.functionsNotAnalysed ?? 0,
        incomplete: r.incomplete ?? [],
        directivesOnly: r.stats.directivesOnly === true,
        bytes: r.stats.bytes,
        damagedFunctions: r.damagedFunctions,
        ms: performance.now() - t0,
        lockOrder: r.lockOrder ?? [],
        ...(pass1 ? { crossFile: r.crossFile } : {}),
      };
      const extras = pass1 && withIndex ? { facts, factsCached, includes: this.knowledge.includesOf(file.abs, text) } : undefined;
      return { outcome, ...(extras ? { extras } : {}) };
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      return { outcome: { kind: 'skipped', reason: `analyser error: ${msg}` } };
    }
  }

  pass1(): void {
    const { files, pass1, hashes } = this.input;
    claimEach(this.input.next, pass1, (i) => {
      const file = files[i]!;
      const read = timed('read', () => readSource(file, hashes));
      if (!read.ok) {
        post({ kind: 'result', index: i, outcome: read.outcome });
        return;
      }
      const r = this.lockFile(file, read.text, read.bytes);
      post({ kind: 'result', index: i, outcome: r.outcome, ...(r.extras ? { extras: r.extras } : {}), ...(read.hash ? { hash: read.hash } : {}) });
    });
    workerMem('after pass 1');
    post({ kind: 'phase-done', phase: 'pass1' });
  }

  headers(m: HeadersMessage): void {
    claimEach(m.next, m.tasks, (t, i) => {
      let facts: string | null = null;
      let cached = false;
      let includes: string[] = [];
      let hash: string | undefined;
      try {
        if (this.input.hashes) hash = sha256(readFileSync(t.abs));
        if (statSync(t.abs).size <= MAX_HEADER_BYTES) {
          const text = readFileSync(t.abs, 'utf8');
          includes = this.knowledge.includesOf(t.abs, text, true);
          if (hasCCode(text)) {
            const hit = this.cache?.loadWithJson(t.label, text);
            facts = hit ? hit.json : JSON.stringify(extractFileFacts(this.parser, text, t.label));
            if (!hit) this.cache?.storeJson(t.label, text, facts);
            cached = !!hit;
          }
        }
      } catch {
        facts = null; // unreadable or unparsable: the index goes on without it
      }
      post({ kind: 'header-facts', index: i, facts, cached, includes, ...(hash ? { hash } : {}) });
    }, m.reverse === true);
    post({ kind: 'phase-done', phase: 'headers' });
  }

  pass2Lock(m: Pass2LockMessage): void {
    const global = new Map<string, FunctionSummary>();
    for (const s of m.knowledge) global.set(s.name, s);
    // A file in an architecture's tree sees the summaries that architecture links to (one view per architecture).
    const archOfName = new Map(m.archOf);
    const adds = new Map(m.archAdds.map(([a, l]) => [a, new Map(l.map((s) => [s.name, s]))]));
    const views = new Map<string | null, ReadonlyMap<string, FunctionSummary>>();
    const viewFor = (arch: string | null): ReadonlyMap<string, FunctionSummary> => {
      let v = views.get(arch);
      if (!v) views.set(arch, (v = archKnowledge(global, archOfName, arch === null ? undefined : adds.get(arch), arch)));
      return v;
    };
    const budget = new HeapBudget(LOCK2_HEAP_SLACK, PASS2_HEAP_SHARE);
    workerMem(`lock re-analysis of ${m.tasks.length} files starts`);
    let traced = performance.now();
    claimEach(m.next, m.tasks, (i) => {
      budget.check();
      if (TRACE_MEM && performance.now() - traced > 5000) {
        traced = performance.now();
        workerMem('in the lock re-analysis');
      }
      const file = this.input.files[i]!;
      const read = readSource(file);
      if (read.ok) post({ kind: 'lock2', index: i, lock: this.lockFile(file, read.text, read.bytes, viewFor(archOfFile(this.input.root, file.abs))).outcome }); // else pass 1 reported it
    });
    // The lock analysis is over: its header summaries are garbage from here on. Freed now,
    // while the main thread is still building the index (the process peak was both at once:
    // whole tree, each worker held 0.6-0.7 GB of heap through the build), not when the index comes.
    this.knowledge.release();
    collectGarbage();
    workerMem('after the lock re-analysis, header knowledge released');
  }

  pass2Refcount(m: Pass2RefcountMessage): void {
    if (!m.index) return;
    workerMem('before reading the index');
    const tables = deserialize(new Uint8Array(m.index.tables)) as ShippedTables;
    workerMem('index tables read');
    const functions = new LazyFunctions(m.index.functions, decodedBudget());
    const index: WorkspaceIndex = {
      ...tables, functions, callers: new CallerIds(m.index.callers, functions),
      structs: new LazyTable(m.index.structs), globals: new LazyTable(m.index.globals), prototypes: new LazyTable(m.index.prototypes),
      cat: indexCatalog(builtinCatalog()), rc: indexRefcountCatalog(),
    };
    const relevant = relevantFile(index);
    collectGarbage(); // pass 1's garbage, before the index definitions decoded here add up
    workerMem('before pass 2');
    const budget = new HeapBudget(PASS2_HEAP_SLACK, PASS2_HEAP_SHARE);
    let collections = 0;
    claimEach(m.next, m.tasks, (i) => {
      if (timed('gc', () => budget.check())) collections++;
      const file = this.input.files[i]!;
      const read = timed('read', () => readSource(file));
      if (!read.ok || !timed('relevant', () => relevant(read.text))) {
        post({ kind: 'refcount', index: i, refcount: [], incomplete: [], refcountMs: 0, ran: false });
        return;
      }
      const t0 = performance.now();
      let refcount: Finding[] = [];
      const incomplete: IncompleteFunction[] = [];
      try {
        refcount = analyzeRefcount(this.parser, read.text, file.display, { catalog: this.input.catalog, index, incomplete });
      } catch {
        refcount = []; // one odd file must not end the run
      }
      post({ kind: 'refcount', index: i, refcount, incomplete, refcountMs: performance.now() - t0, ran: true });
    });
    if (process.env.REFSCOPE_DEBUG_MEM) {
      const lazy = index.functions as LazyFunctions;
      workerMem(`after pass 2 (${collections} collections on the heap budget), before collecting`);
      collectGarbage();
      const tablesDecoded = (['structs', 'globals', 'prototypes'] as const).map((k) => `${k} ${(index[k] as LazyTable<unknown>).decodedValues} of ${index[k].size}`).join(', ');
      workerMem(`after pass 2 (index definitions decoded: ${lazy.decodedFunctions} of ${lazy.definitions}, ${lazy.redecoded} again; ${tablesDecoded})`);
    }
  }
}

/**
 * Claim the items of a queue shared by all workers (an atomic counter over a
 * list sorted big-first) until it is empty, each item by exactly one worker.
 */
function claimEach<T>(next: SharedArrayBuffer, items: readonly T[], each: (item: T, index: number) => void, reverse = false): void {
  const counter = new Int32Array(next);
  for (;;) {
    const k = Atomics.add(counter, 0, 1);
    if (k >= items.length) return;
    const i = reverse ? items.length - 1 - k : k;
    each(items[i]!, i);
  }
}

/**
 * Names whose call can make a refcount/RCU rule fire: the refcount and RCU
 * primitives, frees, container operations, lookups through rcu_dereference,
 * and every function with a learned summary. A file calling none of them is
 * not parsed again.
 */
export function relevantFile(index: WorkspaceIndex): (text: string) => boolean {
  // every rule but free-without-grace-period needs a get, a put or a conditional get
  const names = new Set<string>();
  for (const k of index.rc.refOps.keys()) names.add(k);
  for (const s of index.summaries.values()) {
    if (s.returnsRef || s.params.some((p) => p.effect !== 'none')) names.add(s.name);
  }
  // free-without-grace-period needs a free of a type that readers find under rcu_read_lock
  const frees = new Set<string>();
  for (const [k, f] of index.rc.frees) if (!f.deferred) frees.add(k);
  const rcuTypes = new Set<string>();
  for (const l of index.lookups.values()) {
    if (!l.rcu && !l.readLocks.includes('rcu')) continue;
    for (const e of l.elements) rcuTypes.add(e.type);
  }
  return (text) => {
    let free = false;
    CALLED.lastIndex = 0;
    for (let m = CALLED.exec(text); m; m = CALLED.exec(text)) {
      const n = m[1]!;
      if (names.has(n)) return true;
      if (frees.has(n)) free = true;
    }
    if (!free) return false;
    for (const t of rcuTypes) if (text.includes(t)) return true;
    return false;
  };
}

const CALLED = /\b([A-Za-z_]\w*)\s*\(/g;

/**
 * Pass 2 (both parts) collects garbage whenever a worker's heap has grown by
 * this much, or by PASS2_HEAP_SHARE of its live size if more, since the last
 * collection. Without it V8 let each worker's heap reach 2.5 times its live size
 * on drivers/gpu/drm (513 MB, 195 MB live), and the process peak is the
 * workers' pass 2. With the whole live size as the share, on the whole tree a
 * worker's heap went to 2.4 GB with 1.6 GB live; with half, to 1.7 GB with 1.3
 * GB live (11 collections instead of 4). On 2026-12-04, with 256 MB and half,
 * the whole tree's process peak (3.47 GB, sampled every 0.5 s) was the two
 * workers' lock re-analysis, each heap 256 MB over its live size just before it
 * ended (beside the index build), and pass 2 reached 3.0 GB; hence 128 MB and a quarter.
 * On 2026-12-08 the process peak was the refcount pass's end again (2.78 GB
 * sampled: each worker's heap 451-525 MB before its last collection, 365-370 MB
 * live): 64 MB and a fifth.
 */
const PASS2_HEAP_SLACK = 64 * 1048576;
/**
 * The lock re-analysis runs beside the main thread's index build, the process
 * peak (whole tree, 2026-12-07: 3.16 GB at the build, each worker's heap between
 * 190 and 400 MB), and ends before the build does (61 s against 71 s): collecting
 * twice as often there costs no wall time.
 */
const LOCK2_HEAP_SLACK = 64 * 1048576;
const DECODED_MB = 48;
const PASS2_HEAP_SHARE = 0.2;

/** REFSCOPE_DEBUG_TIME=1: where each worker's time went, by phase and section (src/core/util/timing.ts), on stderr at its end. */
const TRACE_TIME = !!process.env.REFSCOPE_DEBUG_TIME;
function phase(name: string, run: () => void): void {
  setTimingPhase(name);
  timed('all', run);
}

/** REFSCOPE_DEBUG_MEM=1: this thread's heap and its external memory. */
const TRACE_MEM = !!process.env.REFSCOPE_DEBUG_MEM;
function workerMem(what: string): void {
  if (!TRACE_MEM) return;
  const m = process.memoryUsage();
  const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MB`;
  process.stderr.write(`refscope mem worker ${threadId} ${what}: heap ${mb(m.heapUsed)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})\n`);
}

/**
 * Packed bytes of index function facts a worker keeps decoded (DECODED_MB, or
 * $REFSCOPE_DECODED_MB; the least recently used definitions beyond it are
 * decoded again on demand). A worker decodes only what its files call (drm:
 * 22k of 71k definitions; whole tree: 265k of 680k). Whole tree, 2026-12-03:
 * unbounded, a worker held 1.05 GB live after pass 2; with 128 MB, 0.73 GB,
 * having decoded 7k definitions again; with 48 MB, 0.38 GB and 21k again
 * (on 2026-12-02, when decoding went a whole file at a time, a 128 MB
 * bound cost 300 s of CPU).
 */
function decodedBudget(): number {
  const mb = Number(process.env.REFSCOPE_DECODED_MB ?? DECODED_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 1048576 : Infinity;
}

export async function runWorker(): Promise<void> {
  const input = workerData as WorkerInput;
  try {
    const parser = await nodeParser();
    const w = new CheckWorker(parser, input);
    enableTiming(TRACE_TIME);
    phase('pass1', () => w.pass1());
    for (;;) {
      type Next = HeadersMessage | Pass2LockMessage | Pass2RefcountMessage;
      const m = await new Promise<Next>((res) => parentPort?.once('message', (x: Next) => res(x)));
      if (m.kind === 'headers') phase('headers', () => w.headers(m));
      else if (m.kind === 'pass2-lock') phase('lock2', () => w.pass2Lock(m));
      else {
        phase('refcount', () => w.pass2Refcount(m));
        break;
      }
    }
    if (TRACE_TIME) process.stderr.write(`refscope time worker ${threadId} (ms): ${JSON.stringify(timings())}\n`);
    post({ kind: 'done', headersSummarized: w.headersSummarized });
  } catch (e) {
    post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
