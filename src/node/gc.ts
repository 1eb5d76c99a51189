/**
 * A full garbage collection on demand, for hosts that know when a phase has
 * left most of their heap unreachable (the CLI after shipping the workspace
 * index: the parsed facts of every file, gigabytes on the whole Linux tree).
 * V8 collects such garbage only when its heuristics next call for a major GC,
 * which can be after the next phase has grown the other threads' heaps, so the
 * process peak is both at once. Node only; a no-op where `--expose-gc` cannot
 * be set.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const f = runInNewContext('gc') as unknown;
      gc = typeof f === 'function' ? (f as () => void) : null;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/**
 * Collects when this thread's heap has grown by `slack` bytes (at least, or
 * `share` of the live size after the last collection, whichever is more) since the last one:
 * a bound on the garbage a long loop leaves for V8 to find later. Call `check()`
 * between items; it reads one heap figure and returns whether it collected.
 */
export class HeapBudget {
  private live: number;

  constructor(private readonly slack: number, private readonly share = 1) {
    this.live = getHeapStatistics().used_heap_size;
  }

  check(): boolean {
    const used = getHeapStatistics().used_heap_size;
    if (used < this.live + Math.max(this.slack, this.live * this.share)) return false;
    collectGarbage();
    this.live = getHeapStatistics().used_heap_size;
    return true;
  }
}
