/**
 * Worker-thread side of `refscope check`: load the WASM parser once, then run
 * the phases the main thread hands out (see protocol.ts), claiming tasks from
 * shared queues (atomic counters over lists sorted big-first) until each is
 * empty, posting one result per task.
 */
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFileCrossFile, analyzeRefcount } from '../core/analyze';
import { builtinCatalog, indexCatalog } from '../core/catalog/index';
import { indexRefcountCatalog } from '../core/catalog/refcount';
import { factsFor, type FactsCache } from '../core/index/index';
import { extractFactsFromParsed, type FileFacts } from '../core/index/facts';
import type { FunctionSummary } from '../core/index/summaries';
import type { WorkspaceIndex } from '../core/index/workspace';
import type { CParser } from '../core/parse/parser';
import { hasCCode } from '../core/parse/prescan';
import { runRefcountRules } from '../core/rules/refcount/index';
import type { Finding } from '../core/types';
import { nodeParser } from '../node/assets';
import { NodeFactsCache } from '../node/cache';
import type { InputFile } from './files';
import { HeaderKnowledge, LayeredMap } from './knowledge';
import type { FileOutcome, HeadersMessage, Pass1Extras, Pass2Message, ShippedIndex, WorkerInput, WorkerMessage } from './protocol';

const decoder = new TextDecoder('utf-8', { fatal: true });
/** Headers outside the PATHs bigger than this feed no facts (generated register headers). */
const MAX_HEADER_BYTES = 1 << 20;

export function isWorkerInput(data: unknown): data is WorkerInput {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'refscope-check-worker';
}

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

type Read = { ok: true; text: string } | { ok: false; outcome: FileOutcome };

function readSource(file: InputFile): Read {
  if (file.text !== undefined) return { ok: true, text: file.text };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file.abs);
  } catch (e) {
    return { ok: false, outcome: { kind: 'io-error', message: `cannot read ${file.display}: ${(e as Error).message}` } };
  }
  if (bytes.includes(0)) return { ok: false, outcome: { kind: 'skipped', reason: 'binary file (contains NUL bytes)' } };
  try {
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return { ok: false, outcome: { kind: 'skipped', reason: 'not valid UTF-8' } };
  }
}

class CheckWorker {
  private readonly knowledge: HeaderKnowledge;
  private readonly cache: FactsCache | undefined;

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
   * the merged summaries of the other files' functions after the file's headers
   * and runs the refcount rules on the same parse when `index` is given.
   */
  lockFile(file: InputFile, text: string, global?: ReadonlyMap<string, FunctionSummary>, index?: WorkspaceIndex): { outcome: FileOutcome; extras?: Pass1Extras; refcount?: Finding[] } {
    try {
      const t0 = performance.now();
      const headers = this.knowledge.forFile(file.abs, text);
      const pass1 = global === undefined;
      const withIndex = this.input.refcount;
      let facts = null as FileFacts | null;
      let factsCached = false;
      if (pass1 && withIndex && hasCCode(text)) {
        const hit = this.cache?.load(file.display, text);
        if (hit) {
          facts = hit;
          factsCached = true;
        }
      }
      let refcount: Finding[] | undefined;
      const r = analyzeFileCrossFile(this.parser, text, file.display, {
        catalog: this.input.catalog,
        knowledge: global ? new LayeredMap([headers, global]) : headers,
        lockOrder: true,
        refcountRules: withIndex ? 'none' : 'per-file',
        onParsed: (parsed) => {
          if (pass1 && withIndex && !facts) {
            try {
              const extracted = extractFactsFromParsed(parsed, file.display);
              facts = extracted;
              this.cache?.store(file.display, text, extracted);
            } catch {
              facts = null; // a file the extractor cannot handle feeds no facts
            }
          }
          if (index) refcount = this.refcountOn(parsed, file.display, index);
        },
      });
      const outcome: FileOutcome = {
        kind: 'ok',
        findings: r.findings,
        functions: r.stats.functions,
        functionsWithParseDamage: r.stats.functionsWithParseDamage,
        functionsNotAnalysed: r.stats.functionsNotAnalysed ?? 0,
        directivesOnly: r.stats.directivesOnly === true,
        bytes: r.stats.bytes,
        damagedFunctions: r.damagedFunctions,
        ms: performance.now() - t0,
        lockOrder: r.lockOrder ?? [],
        ...(pass1 ? { crossFile: r.crossFile } : {}),
      };
      const extras = pass1 && withIndex ? { facts, factsCached, includes: this.knowledge.includesOf(file.abs, text) } : undefined;
      return { outcome, ...(extras ? { extras } : {}), ...(refcount ? { refcount } : {}) };
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      return { outcome: { kind: 'skipped', reason: `analyser error: ${msg}` } };
    }
  }

  private refcountOn(parsed: Parameters<typeof runRefcountRules>[0], file: string, index: WorkspaceIndex): Finding[] {
    try {
      return runRefcountRules(parsed, file, { catalog: this.input.catalog, index });
    } catch {
      return [];
    }
  }

  pass1(): void {
    const next = new Int32Array(this.input.next);
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= this.input.files.length) break;
      const file = this.input.files[i]!;
      const read = readSource(file);
      if (!read.ok) {
        post({ kind: 'result', index: i, outcome: read.outcome });
        continue;
      }
      const r = this.lockFile(file, read.text);
      post({ kind: 'result', index: i, outcome: r.outcome, ...(r.extras ? { extras: r.extras } : {}) });
    }
    post({ kind: 'phase-done', phase: 'pass1' });
  }

  headers(m: HeadersMessage): void {
    const next = new Int32Array(m.next);
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= m.tasks.length) break;
      const t = m.tasks[i]!;
      let facts: FileFacts | null = null;
      let cached = false;
      let includes: string[] = [];
      try {
        if (statSync(t.abs).size <= MAX_HEADER_BYTES) {
          const text = readFileSync(t.abs, 'utf8');
          includes = this.knowledge.includesOf(t.abs, text, true);
          if (hasCCode(text)) {
            const r = factsFor(this.parser, text, t.label, this.cache);
            facts = r.facts;
            cached = r.cached;
          }
        }
      } catch {
        facts = null; // unreadable or unparsable: the index goes on without it
      }
      post({ kind: 'header-facts', index: i, facts, cached, includes });
    }
    post({ kind: 'phase-done', phase: 'headers' });
  }

  pass2(m: Pass2Message): void {
    const global = new Map<string, FunctionSummary>();
    for (const s of m.knowledge) global.set(s.name, s);
    const index = m.index ? withCatalog(m.index) : undefined;
    const relevant = index ? relevantFile(index) : undefined;
    const next = new Int32Array(m.next);
    for (;;) {
      const k = Atomics.add(next, 0, 1);
      if (k >= m.tasks.length) break;
      const task = m.tasks[k]!;
      const file = this.input.files[task.index]!;
      const read = readSource(file);
      if (!read.ok) {
        post({ kind: 'result2', index: task.index, refcount: [], refcountMs: 0, ran: false });
        continue;
      }
      const t0 = performance.now();
      if (task.lock) {
        const r = this.lockFile(file, read.text, global, task.refcount ? index : undefined);
        post({ kind: 'result2', index: task.index, lock: r.outcome, refcount: r.refcount ?? [], refcountMs: 0, ran: task.refcount && index !== undefined });
      } else if (index && relevant?.(read.text)) {
        let refcount: Finding[] = [];
        try {
          refcount = analyzeRefcount(this.parser, read.text, file.display, { catalog: this.input.catalog, index });
        } catch {
          refcount = []; // one odd file must not end the run
        }
        post({ kind: 'result2', index: task.index, refcount, refcountMs: performance.now() - t0, ran: true });
      } else {
        post({ kind: 'result2', index: task.index, refcount: [], refcountMs: 0, ran: false });
      }
    }
  }
}

/** Re-attach the catalog tables the main thread left out of the shipped index. */
function withCatalog(shipped: ShippedIndex): WorkspaceIndex {
  return { ...shipped, cat: indexCatalog(builtinCatalog()), rc: indexRefcountCatalog() };
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

export async function runWorker(): Promise<void> {
  const input = workerData as WorkerInput;
  try {
    const parser = await nodeParser();
    const w = new CheckWorker(parser, input);
    w.pass1();
    for (;;) {
      const m = await new Promise<HeadersMessage | Pass2Message>((res) => parentPort?.once('message', (x: HeadersMessage | Pass2Message) => res(x)));
      if (m.kind === 'headers') {
        w.headers(m);
        continue;
      }
      w.pass2(m);
      break;
    }
    post({ kind: 'done', headersSummarized: w.headersSummarized });
  } catch (e) {
    post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
