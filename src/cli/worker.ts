/**
 * Worker-thread side of `refscope check`: load the WASM parser once, then claim
 * files from the shared queue (an atomic counter over a list sorted big-first)
 * until it is empty, posting one result per file.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFile } from '../core/analyze';
import type { CParser } from '../core/parse/parser';
import { nodeParser } from '../node/assets';
import type { InputFile } from './files';
import { HeaderKnowledge } from './knowledge';
import type { FileOutcome, WorkerInput, WorkerMessage } from './protocol';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function isWorkerInput(data: unknown): data is WorkerInput {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'refscope-check-worker';
}

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

/** Read, decode and analyse one file; never throws. */
function checkFile(parser: CParser, knowledge: HeaderKnowledge, input: WorkerInput, file: InputFile): FileOutcome {
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
    const r = analyzeFile(parser, text, file.display, { catalog: input.catalog, knowledge: knowledge.forFile(file.abs, text) });
    return {
      kind: 'ok',
      findings: r.findings,
      functions: r.stats.functions,
      functionsWithParseDamage: r.stats.functionsWithParseDamage,
      functionsNotAnalysed: r.stats.functionsNotAnalysed ?? 0,
      bytes: r.stats.bytes,
      damagedFunctions: r.damagedFunctions,
      ms: performance.now() - t0,
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
    post({ kind: 'done', headersSummarized: knowledge.summarized });
  } catch (e) {
    post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
