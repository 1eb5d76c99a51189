/**
 * Where a thread's analysis time goes, for performance work: hosts switch it on
 * (the CLI with REFSCOPE_DEBUG_TIME=1, one stderr line per worker at its end)
 * and `timed` sections then add their wall time under `phase:key`. Off, a
 * section costs one closure call.
 */
const spent = new Map<string, number>();
let enabled = false;
let phase = '';

export function enableTiming(on: boolean): void {
  enabled = on;
}

/** Name the phase the following sections belong to (the CLI's pass1, headers, lock2, refcount). */
export function setTimingPhase(p: string): void {
  phase = p;
}

export function timed<T>(key: string, f: () => T): T {
  if (!enabled) return f();
  const t0 = performance.now();
  try {
    return f();
  } finally {
    const k = `${phase}:${key}`;
    spent.set(k, (spent.get(k) ?? 0) + performance.now() - t0);
  }
}

/** Milliseconds spent per `phase:key` so far (sections nest: a key's time includes the keys timed inside it). */
export function timings(): Record<string, number> {
  return Object.fromEntries([...spent].map(([k, v]) => [k, Math.round(v)]));
}
