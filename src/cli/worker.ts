/**
 * Worker-thread side of `refscope check`: load the WASM parser once, then claim
 * files from the shared queue (an atomic counter over a list sorted big-first)
 * until it is empty, posting one result per file.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFileCrossFile } from '../core/analyze';
import type { FunctionSummary } from '../core/index/summaries';
import type { CParser } from '../core/parse/parser';
import { nodeParser } from '../node/assets';
import type { InputFile } from './files';
import { HeaderKnowledge, LayeredMap } from './knowledge';
import type { FileOutcome, Pass2Message, WorkerInput, WorkerMessage } from './protocol';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function isWorkerInput(data: unknown): data is WorkerInput {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'refscope-check-worker';
}

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

/**
 * Read, decode and analyse one file; never throws. Pass 1 (`global` undefined)
 * also returns the file's cross-file information; pass 2 adds the merged
 * summaries of the other files' functions after the file's headers.
 */
function checkFile(parser: CParser, knowledge: HeaderKnowledge, input: WorkerInput, file: InputFile, global?: ReadonlyMap<string, FunctionSummary>): FileOutcome {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file.abs);
  } catch (e) {
    return { kind: 'io-error', message: `cannot read ${file.display}: ${(e as Error).message}` };
  }
  if (bytes.includes(0)) return { kind: 'skipped', reason: 'binary file (contains NUL bytes)' };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { kind: 'skipped', reason: 'not valid UTF-8' };
  }
  try {
    const t0 = performance.now();
    const headers = knowledge.forFile(file.abs, text);
    const r = analyzeFileCrossFile(parser, text, file.display, { catalog: input.catalog, knowledge: global ? new LayeredMap([headers, global]) : headers });
    return {
      kind: 'ok',
      findings: r.findings,
      functions: r.stats.functions,
      functionsWithParseDamage: r.stats.functionsWithParseDamage,
      functionsNotAnalysed: r.stats.functionsNotAnalysed ?? 0,
      bytes: r.stats.bytes,
      damagedFunctions: r.damagedFunctions,
      ms: performance.now() - t0,
      ...(global ? {} : { crossFile: r.crossFile }),
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { kind: 'skipped', reason: `analyser error: ${msg}` };
  }
}

export async function runWorker(): Promise<void> {
  const input = workerData as WorkerInput;
  try {
    const parser = await nodeParser();
    const knowledge = new HeaderKnowledge(parser, input.catalog, input.root, input.cwd);
    const next = new Int32Array(input.next);
    for (;;) {
      const index = Atomics.add(next, 0, 1);
      if (index >= input.files.length) break;
      post({ kind: 'result', index, outcome: checkFile(parser, knowledge, input, input.files[index]!) });
    }
    post({ kind: 'pass1-done' });
    const pass2 = await new Promise<Pass2Message>((res) => parentPort?.once('message', (m: Pass2Message) => res(m)));
    if (pass2.indices.length) {
      const global = new Map<string, FunctionSummary>();
      for (const s of pass2.knowledge) global.set(s.name, s);
      const next2 = new Int32Array(input.next2);
      for (;;) {
        const k = Atomics.add(next2, 0, 1);
        if (k >= pass2.indices.length) break;
        const index = pass2.indices[k]!;
        post({ kind: 'result', index, outcome: checkFile(parser, knowledge, input, input.files[index]!, global) });
      }
    }
    post({ kind: 'done', headersSummarized: knowledge.summarized });
  } catch (e) {
    post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
