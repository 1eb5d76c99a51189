/**
 * Desktop (Node) backend: analysis in a worker thread running
 * dist/analysis-worker.js. Started once; restarted on the next request if it dies.
 */
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { Catalog } from '../core/catalog/index';
import type { FileFacts } from '../core/index/index';
import type { AnalysisBackend, EditorResult } from './backend';
import type { FromWorker, ToWorker } from './workerProtocol';

interface Waiter {
  resolve(r: EditorResult | FileFacts | undefined): void;
  reject(e: Error): void;
}

const READY_TIMEOUT_MS = 30000;

export class WorkerBackend implements AnalysisBackend {
  readonly kind = 'worker';
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private disposed = false;
  /** Sent again to a restarted worker. */
  private catalog: Catalog | undefined;

  constructor(
    private readonly script: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  static async start(extensionUri: vscode.Uri, log: vscode.LogOutputChannel): Promise<WorkerBackend> {
    const b = new WorkerBackend(vscode.Uri.joinPath(extensionUri, 'dist', 'analysis-worker.js').fsPath, log);
    await b.ensureWorker();
    return b;
  }

  async analyze(text: string, file: string): Promise<EditorResult | undefined> {
    const r = await this.request((id) => ({ kind: 'analyze', id, file, text }));
    return r && 'hints' in r ? r : undefined;
  }

  close(file: string): void {
    const msg: ToWorker = { kind: 'close', file };
    this.worker?.postMessage(msg);
  }

  setCatalog(catalog: Catalog): void {
    this.catalog = catalog;
    const msg: ToWorker = { kind: 'catalog', catalog };
    this.worker?.postMessage(msg);
  }

  async facts(text: string, file: string): Promise<FileFacts> {
    const r = await this.request((id) => ({ kind: 'facts', id, file, text }));
    if (r && 'functions' in r) return r;
    throw new Error(`no facts for ${file} (the analysis worker stopped)`);
  }

  private async request(make: (id: number) => ToWorker): Promise<EditorResult | FileFacts | undefined> {
    const worker = await this.ensureWorker();
    const id = this.nextId++;
    return new Promise<EditorResult | FileFacts | undefined>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      worker.postMessage(make(id));
    });
  }

  private ensureWorker(): Promise<Worker> {
    if (this.disposed) return Promise.reject(new Error('the analysis worker is disposed'));
    if (this.worker && this.ready) {
      const w = this.worker;
      return this.ready.then(() => w);
    }
    const worker = new Worker(this.script);
    this.worker = worker;
    if (this.catalog) worker.postMessage({ kind: 'catalog', catalog: this.catalog } satisfies ToWorker);
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`analysis worker not ready after ${READY_TIMEOUT_MS} ms`));
        void worker.terminate();
      }, READY_TIMEOUT_MS);
      worker.on('message', (m: FromWorker) => {
        switch (m.kind) {
          case 'ready':
            clearTimeout(timer);
            resolve();
            return;
          case 'fatal':
            clearTimeout(timer);
            reject(new Error(`analysis worker failed to start: ${m.message}`));
            void worker.terminate();
            return;
          case 'result':
            this.settle(m.id, (w) => w.resolve(m.result));
            return;
          case 'facts':
            this.settle(m.id, (w) => w.resolve(m.facts));
            return;
          case 'superseded':
            this.settle(m.id, (w) => w.resolve(undefined));
            return;
          case 'error':
            this.settle(m.id, (w) => w.reject(new Error(m.message)));
            return;
        }
      });
      worker.once('error', (e) => {
        clearTimeout(timer);
        this.log.error('analysis worker error', e);
        reject(e);
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        const err = new Error(`analysis worker exited (${code})`);
        for (const w of this.waiters.values()) w.reject(err);
        this.waiters.clear();
        if (!this.disposed) this.log.warn(`${err.message}; it restarts on the next request`);
        reject(err);
      });
    });
    return this.ready.then(() => worker);
  }

  private settle(id: number, f: (w: Waiter) => void): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    f(w);
  }

  dispose(): void {
    this.disposed = true;
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const x of this.waiters.values()) x.resolve(undefined);
    this.waiters.clear();
    if (w) void w.terminate();
  }
}
