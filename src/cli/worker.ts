/**
 * Worker-thread side of `refscope check`: load the WASM parser once, then claim
 * files from the shared queue (an atomic counter over a list sorted big-first)
 * until it is empty, posting one result per file.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFile } from '../core/analyze';
import { nodeParser } from '../node/assets';
import { HeaderKnowledge } from './knowledge';
import type { FileOutcome, WorkerInput, WorkerMessage } from './protocol';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function isWorkerInput(data: unknown): data is WorkerInput {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'refscope-check-worker';
}

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
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
      const file = input.files[index]!;
      let outcome: FileOutcome;
      let bytes: Buffer;
      try {
        bytes = readFileSync(file.abs);
      } catch (e) {
        post({ kind: 'result', index, outcome: { kind: 'io-error', message: `cannot read ${file.display}: ${(e as Error).message}` } });
        continue;
      }
      if (bytes.includes(0)) {
        outcome = { kind: 'skipped', reason: 'binary file (contains NUL bytes)' };
      } else {
        let text: string | undefined;
        try {
          text = decoder.decode(bytes);
        } catch {
          outcome = { kind: 'skipped', reason: 'not valid UTF-8' };
        }
        if (text !== undefined) {
          try {
            const t0 = performance.now();
            const r = analyzeFile(parser, text, file.display, { catalog: input.catalog, knowledge: knowledge.forFile(file.abs, text) });
            outcome = {
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
            outcome = { kind: 'skipped', reason: `analyser error: ${msg}` };
          }
        } else {
          outcome ??= { kind: 'skipped', reason: 'not valid UTF-8' };
        }
      }
      post({ kind: 'result', index, outcome });
    }
    post({ kind: 'done', headersSummarized: knowledge.summarized });
  } catch (e) {
    post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
