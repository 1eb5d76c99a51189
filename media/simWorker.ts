/**
 * The exploration worker of the lifecycle webview: runs the core's exhaustive
 * interleaving explorer on a model sent by the webview, off the webview's UI
 * thread, posting progress while it runs. Cancelling is terminating the worker
 * (the webview starts a new one for the next run).
 *
 * Bundled on its own and embedded in dist/webview.js as text (started from a
 * blob: URL, which is how VS Code webviews can run workers).
 */
import { explore } from '../src/core/sim/explore';
import { parseToWorker, type FromWorker } from '../src/shared/protocol';

interface WorkerScope {
  postMessage(m: FromWorker): void;
  addEventListener(type: 'message', fn: (e: { data: unknown }) => void): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.addEventListener('message', (e) => {
  const parsed = parseToWorker(e.data);
  if (!parsed.ok) {
    scope.postMessage({ type: 'failed', runId: -1, message: `bad request: ${parsed.error}` });
    return;
  }
  const { runId, model, maxStates } = parsed.value;
  const t0 = performance.now();
  let polls = 0;
  let lastPost = t0;
  try {
    const r = explore(model, {
      maxStates,
      // Called every 256 states taken from the queue: a progress tick, never a stop.
      shouldStop: () => {
        polls++;
        const now = performance.now();
        if (now - lastPost > 100) {
          lastPost = now;
          scope.postMessage({ type: 'progress', runId, states: polls * 256 });
        }
        return false;
      },
    });
    scope.postMessage({
      type: 'done', runId, verdict: r.verdict, violations: r.violations, states: r.states, transitions: r.transitions, stoppedBecause: r.stoppedBecause,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    });
  } catch (err) {
    scope.postMessage({ type: 'failed', runId, message: err instanceof Error ? err.message : String(err) });
  }
});
