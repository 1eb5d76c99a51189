/**
 * The per-function analysis budget. Every path walk of the core (the lock
 * dataflow, the refcount rules' path walks, the editor's held-set walk) is
 * bounded twice: by a step count that grows with the function (deterministic:
 * the same file gives the same result on any machine) and by wall time (the
 * last guard, for a machine so loaded or a function so odd that the step bound
 * still takes too long). A walk that runs out of either stops, and its function
 * is reported as incomplete (`FileResult.incomplete`): no finding is made from
 * a half-done walk.
 *
 * Plain module state, no host APIs beyond `performance.now()` (Node, browsers,
 * workers): hosts may lower the time budget (the editor does, so that one odd
 * function never holds up the hints of a file).
 */
import type { IncompleteFunction } from './types';

/** Default wall-time budget of one function's walk, in milliseconds. */
export const DEFAULT_FUNCTION_BUDGET_MS = 2000;

let budgetMs = DEFAULT_FUNCTION_BUDGET_MS;

/** Set the wall-time budget of one function's walk (ms, > 0); returns the previous value. */
export function setFunctionBudgetMs(ms: number): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`function budget must be a positive number of milliseconds, got ${ms}`);
  const prev = budgetMs;
  budgetMs = ms;
  return prev;
}

/** How often (in steps, a power of two minus one as a mask) a walk reads the clock. */
const CLOCK_MASK = 255;

/**
 * A walk's allowance: `tick()` once per step; it returns the reason to stop
 * (`paths`: the step bound, `time`: the wall-time budget) or null to go on.
 */
export class Allowance {
  private steps = 0;
  private readonly deadline: number;

  constructor(private readonly maxSteps: number) {
    this.deadline = performance.now() + budgetMs;
  }

  tick(): IncompleteFunction['reason'] | null {
    const n = ++this.steps;
    if (n > this.maxSteps) return 'paths';
    if ((n & CLOCK_MASK) === 0 && performance.now() > this.deadline) return 'time';
    return null;
  }
}

/** One line of text for an incomplete function: what stopped, in which analysis. */
export function describeIncomplete(i: Pick<IncompleteFunction, 'analysis' | 'reason' | 'detail'>): string {
  const what = i.analysis === 'locks' ? 'lock analysis' : `refcount analysis (${i.detail ?? 'path walk'})`;
  switch (i.reason) {
    case 'paths': return `${what} stopped: too many paths`;
    case 'time': return `${what} stopped: over the ${budgetMs} ms time budget`;
    default: return `${what} failed${i.analysis === 'locks' && i.detail ? `: ${i.detail}` : ''}`;
  }
}
