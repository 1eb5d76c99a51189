/** Run the check workers over a shared queue and collect one outcome per file. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../core/catalog/index';
import type { InputFile } from './files';
import { planCrossFile } from './crossfile';
import type { FileOutcome, Pass2Message, WorkerInput, WorkerMessage } from './protocol';

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
}

export async function runPool(files: InputFile[], jobs: number, catalog: Catalog, root: string, cwd: string): Promise<PoolResult> {
  // Big files first so that no worker is left with a large file at the end.
  const order = files.map((f, i) => ({ f, i })).sort((a, b) => b.f.size - a.f.size || a.i - b.i);
  const queue = order.map((o) => o.f);
  const outcomes: (FileOutcome | undefined)[] = new Array(files.length);
  const next = new SharedArrayBuffer(4);
  const next2 = new SharedArrayBuffer(4);
  const input: WorkerInput = { kind: 'refscope-check-worker', files: queue, next, next2, catalog, root, cwd };
  const n = Math.max(1, Math.min(jobs, files.length));
  let headersSummarized = 0;
  const crossFile = { summaries: 0, ambiguous: 0, reanalysed: 0, pass2Ms: 0 };
  const script = workerScript();
  let pass1Done = 0;
  /** Pass 2: once every worker has emptied the pass-1 queue, merge the offers and hand out the re-analyses. */
  const startPass2 = (threads: readonly Worker[]): void => {
    const offers = outcomes.map((o) => (o && o.kind === 'ok' ? o.crossFile : undefined));
    const plan = planCrossFile(offers, files.map((f) => f.abs.endsWith('.c')));
    for (const o of outcomes) if (o && o.kind === 'ok') delete o.crossFile;
    crossFile.summaries = plan.knowledge.length;
    crossFile.ambiguous = plan.ambiguous;
    crossFile.reanalysed = plan.reanalyse.length;
    const queueIndex = new Array<number>(files.length);
    order.forEach((o, q) => (queueIndex[o.i] = q));
    const indices = plan.reanalyse.map((i) => queueIndex[i]!).sort((a, b) => a - b);
    const msg: Pass2Message = { kind: 'pass2', indices, knowledge: indices.length ? plan.knowledge : [] };
    for (const t of threads) t.postMessage(msg);
  };
  await runWorkers<WorkerMessage>(script, input, n, (m, threads) => {
    if (m.kind === 'result') {
      const at = order[m.index]!.i;
      const prev = outcomes[at];
      // a pass-2 result replaces pass 1's; its time adds to it
      if (prev && prev.kind === 'ok' && m.outcome.kind === 'ok') {
        crossFile.pass2Ms += m.outcome.ms;
        m.outcome.ms += prev.ms;
      }
      outcomes[at] = m.outcome;
    } else if (m.kind === 'pass1-done') {
      if (++pass1Done === n) startPass2(threads);
    } else if (m.kind === 'done') {
      headersSummarized += m.headersSummarized;
      return 'done';
    } else {
      return new Error(`worker failed: ${m.message}`);
    }
  });
  for (let i = 0; i < outcomes.length; i++) {
    // A worker that died mid-file (e.g. out of memory) leaves a hole: report it as skipped.
    outcomes[i] ??= { kind: 'skipped', reason: 'no result from the worker' };
  }
  crossFile.pass2Ms = Math.round(crossFile.pass2Ms);
  return { outcomes: outcomes as FileOutcome[], headersSummarized, crossFile };
}
