/// <reference types="mocha" />
/**
 * Shared by both test entries: a reporter that prints one line per test and a
 * closing `refscope-test: N passed, N failed` line (the runners read it from the
 * workbench's log), and the promise VS Code's test loader waits on.
 */

interface RunnerLike {
  on(event: 'pass', fn: (test: Mocha.Test) => void): unknown;
  on(event: 'fail', fn: (test: Mocha.Runnable, err: unknown) => void): unknown;
  on(event: 'pending', fn: (test: Mocha.Test) => void): unknown;
  once(event: 'end', fn: () => void): unknown;
}

export interface Counts {
  passed: number;
  failed: number;
  pending: number;
}

export const SUMMARY_PREFIX = 'refscope-test:';

export function makeReporter(route: string, counts: Counts): new (runner: RunnerLike) => object {
  return class RefscopeReporter {
    constructor(runner: RunnerLike) {
      runner.on('pass', (t) => {
        counts.passed++;
        console.log(`${SUMMARY_PREFIX} ok ${t.fullTitle()} (${t.duration ?? 0} ms)`);
      });
      runner.on('fail', (t, err) => {
        counts.failed++;
        const e = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
        console.log(`${SUMMARY_PREFIX} FAILED ${t.fullTitle()}: ${e}`);
      });
      runner.on('pending', (t) => {
        // Skipped tests are failures here: nothing in the suite may be skipped.
        counts.pending++;
        console.log(`${SUMMARY_PREFIX} SKIPPED ${t.fullTitle()}`);
      });
      runner.once('end', () => {
        console.log(`${SUMMARY_PREFIX} ${route}: ${counts.passed} passed, ${counts.failed + counts.pending} failed`);
      });
    }
  };
}

export function finish(counts: Counts, failures: number): Promise<void> {
  if (failures > 0 || counts.failed > 0 || counts.pending > 0) {
    return Promise.reject(new Error(`${counts.failed + counts.pending} integration test(s) failed`));
  }
  if (counts.passed === 0) return Promise.reject(new Error('no integration test ran'));
  return Promise.resolve();
}
