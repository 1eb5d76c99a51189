/**
 * Analysis worker of the desktop host (bundled as dist/analysis-worker.js): loads
 * the WASM parser once from the bundle's directory and analyses files on request.
 * Requests that queue up while it is busy are coalesced per file: only the newest
 * text of each file is analysed, older ones are answered `superseded`.
 */
import { parentPort } from 'node:worker_threads';
import { extractFileFacts } from '../core/index/index';
import type { Catalog } from '../core/catalog/index';
import type { CParser } from '../core/parse/parser';
import { nodeParser } from '../node/assets';
import { AnalyzerPool } from './backend';
import type { FromWorker, ToWorker } from './workerProtocol';

function main(port: NonNullable<typeof parentPort>): void {
  const post = (m: FromWorker): void => port.postMessage(m);
  const queue: Array<Extract<ToWorker, { kind: 'analyze' | 'facts' }>> = [];
  let parser: CParser | undefined;
  let pool: AnalyzerPool | undefined;
  let catalog: Catalog | undefined;
  let draining = false;

  const drain = (): void => {
    draining = false;
    if (!parser) return;
    const batch = queue.splice(0);
    const newest = new Map<string, number>();
    for (const r of batch) if (r.kind === 'analyze') newest.set(r.file, r.id);
    for (const r of batch) {
      if (r.kind === 'facts') {
        try {
          post({ kind: 'facts', id: r.id, facts: extractFileFacts(parser, r.text, r.file) });
        } catch (e) {
          post({ kind: 'error', id: r.id, message: e instanceof Error ? e.message : String(e) });
        }
        continue;
      }
      if (newest.get(r.file) !== r.id) {
        post({ kind: 'superseded', id: r.id });
        continue;
      }
      try {
        if (!pool) {
          pool = new AnalyzerPool(parser);
          if (catalog) pool.setCatalog(catalog);
        }
        post({ kind: 'result', id: r.id, result: pool.analyze(r.text, r.file) });
      } catch (e) {
        post({ kind: 'error', id: r.id, message: e instanceof Error ? e.message : String(e) });
      }
    }
  };
  const schedule = (): void => {
    if (draining) return;
    draining = true;
    // setImmediate lets every message that arrived meanwhile join the batch.
    setImmediate(drain);
  };

  port.on('message', (m: ToWorker) => {
    if (m.kind === 'close') {
      pool?.close(m.file);
      return;
    }
    if (m.kind === 'catalog') {
      catalog = m.catalog;
      pool?.setCatalog(m.catalog);
      return;
    }
    queue.push(m);
    schedule();
  });
  nodeParser().then(
    (p) => {
      parser = p;
      post({ kind: 'ready' });
      schedule();
    },
    (e: unknown) => post({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) }),
  );
}

if (parentPort) main(parentPort);
