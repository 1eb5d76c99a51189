/** Run the check workers over a shared queue and collect one outcome per file. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../core/catalog/index';
import type { InputFile } from './files';
import type { FileOutcome, WorkerInput, WorkerMessage } from './protocol';

/** The bundle (dist/cli.js) is its own worker entry; from sources (tsx) use the built bundle. */
export function workerScript(): string {
  if (process.env.REFSCOPE_WORKER) return resolve(process.env.REFSCOPE_WORKER);
  if (/\bcli\.js$/.test(__filename)) return __filename;
  const built = resolve(__dirname, '..', '..', 'dist', 'cli.js');
  if (existsSync(built)) return built;
  return join(__dirname, 'cli.js');
}

export interface PoolResult {
  outcomes: FileOutcome[];
  headersSummarized: number;
}

export async function runPool(files: InputFile[], jobs: number, catalog: Catalog, root: string, cwd: string): Promise<PoolResult> {
  // Big files first so that no worker is left with a large file at the end.
  const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.size - a.f.size || a.i - b.i);
  const queue = order.map((o) => o.f);
  const outcomes: (FileOutcome | undefined)[] = new Array(files.length);
  const next = new SharedArrayBuffer(4);
  const input: WorkerInput = { kind: 'refscope-check-worker', files: queue, next, catalog, root, cwd };
  const n = Math.max(1, Math.min(jobs, files.length));
  let headersSummarized = 0;
  const script = workerScript();
  const threads: Worker[] = [];
  const workers = Array.from({ length: n }, () => new Promise<void>((resolveDone, reject) => {
    const w = new Worker(script, { workerData: input });
    threads.push(w);
    let finished = false;
    w.on('message', (m: WorkerMessage) => {
      if (m.kind === 'result') outcomes[order[m.index]!.i] = m.outcome;
      else if (m.kind === 'done') {
        finished = true;
        headersSummarized += m.headersSummarized;
      } else {
        finished = true;
        reject(new Error(`worker failed: ${m.message}`));
      }
    });
    w.on('error', (e) => reject(new Error(`worker failed: ${e.message}`)));
    w.on('exit', (code) => (finished ? resolveDone() : reject(new Error(`worker exited with code ${code} before finishing`))));
  }));
  try {
    await Promise.all(workers);
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate()));
    throw e;
  }
  for (let i = 0; i < outcomes.length; i++) {
    // A worker that died mid-file (e.g. out of memory) leaves a hole: report it as skipped.
    outcomes[i] ??= { kind: 'skipped', reason: 'no result from the worker' };
  }
  return { outcomes: outcomes as FileOutcome[], headersSummarized };
}
