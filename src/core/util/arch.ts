/**
 * Architecture trees of a Linux source tree: code under `arch/<a>/` is built
 * only for architecture `a`, so a function there never calls one defined under
 * another architecture's `arch/<b>/` (LoongArch's `init_fpu()` is its own
 * static inline, not SH's allocating `init_fpu()` in arch/sh/kernel/cpu/fpu.c).
 * Paths are display paths (`/`-separated, any prefix before the tree top).
 */

const ARCH_DIR = /(?:^|\/)arch\/([^/]+)\//;

/** The architecture whose tree a path is in (`arch/loongarch/kernel/traps.c` -> `loongarch`), or null. */
export function archOf(path: string): string | null {
  const m = ARCH_DIR.exec(path.includes('\\') ? path.replace(/\\/g, '/') : path);
  return m ? m[1]! : null;
}

/** Whether code in `callerFile` can call a definition in `defFile`: not from one architecture's tree into another's. */
export function linkable(callerFile: string, defFile: string): boolean {
  const a = archOf(callerFile);
  if (a === null) return true;
  const b = archOf(defFile);
  return b === null || b === a;
}
