/// <reference lib="dom" />
/**
 * Runs explorations off the webview's UI thread: a dedicated worker started
 * from the embedded worker bundle (a blob: URL, as VS Code webviews require).
 * Cancelling terminates the worker; the next run starts a fresh one. If the
 * page cannot start workers at all, the run happens on the page after a yield
 * (not cancellable), and `inThread` says so.
 */
import { explore } from '../src/core/sim/explore';
import type { SimModel } from '../src/core/sim/types';
import { parseFromWorker, type FromWorker } from '../src/shared/protocol';

export interface RunCallbacks {
  progress(states: number): void;
  done(m: Extract<FromWorker, { type: 'done' }>): void;
  failed(message: string): void;
}

export class Runner {
  private worker: Worker | null = null;
  private current = -1;
  private url: string | null = null;
  inThread = false;

  private startWorker(): Worker | null {
    try {
      this.url ??= URL.createObjectURL(new Blob([__REFSCOPE_SIM_WORKER__], { type: 'text/javascript' }));
      return new Worker(this.url, { name: 'refscope-explorer' });
    } catch {
      return null;
    }
  }

  get running(): boolean {
    return this.current >= 0;
  }

  start(runId: number, model: SimModel, maxStates: number, cb: RunCallbacks): void {
    this.cancel();
    this.current = runId;
    const w = this.startWorker();
    if (!w) {
      this.inThread = true;
      setTimeout(() => {
        if (this.current !== runId) return;
        const t0 = performance.now();
        try {
          const r = explore(model, { maxStates });
          this.current = -1;
          cb.done({ type: 'done', runId, verdict: r.verdict, violations: r.violations, states: r.states, transitions: r.transitions, stoppedBecause: r.stoppedBecause, ms: Math.round((performance.now() - t0) * 100) / 100 });
        } catch (e) {
          this.current = -1;
          cb.failed(e instanceof Error ? e.message : String(e));
        }
      }, 30);
      return;
    }
    this.worker = w;
    w.addEventListener('message', (e: MessageEvent<unknown>) => {
      if (this.current !== runId) return;
      const p = parseFromWorker(e.data);
      if (!p.ok) {
        this.stop();
        cb.failed(`invalid message from the explorer: ${p.error}`);
        return;
      }
      const m = p.value;
      if (m.type === 'progress') cb.progress(m.states);
      else if (m.type === 'done') {
        this.stop();
        cb.done(m);
      } else {
        this.stop();
        cb.failed(m.message);
      }
    });
    w.addEventListener('error', (e: ErrorEvent) => {
      if (this.current !== runId) return;
      this.stop();
      cb.failed(e.message || 'the explorer worker failed');
    });
    w.postMessage({ type: 'explore', runId, model, maxStates });
  }

  /** Stops the current run (terminating its worker). */
  cancel(): boolean {
    const was = this.current >= 0;
    this.stop();
    return was;
  }

  private stop(): void {
    this.current = -1;
    if (this.worker) {
      this.worker.terminate();
      this.worker = null;
    }
  }
}
