/** Collect the C files under the PATHs given on the command line. */
import { existsSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './io';

export interface InputFile {
  /** Absolute path. */
  abs: string;
  /** PATH as given joined with the path below it (what reports show). */
  display: string;
  size: number;
  /** The content to analyse instead of the file on disk (another revision of it, a patched version). */
  text?: string;
}

const C_FILE = /\.[ch]$/;
const SKIP_DIRS = new Set(['.git', 'node_modules']);

export function isCFile(name: string): boolean {
  return C_FILE.test(name);
}

/** `drivers/gpu/drm/` + `i915/x.c` -> `drivers/gpu/drm/i915/x.c`; `.` + `x.c` -> `x.c`. */
export function joinDisplay(given: string, rel: string): string {
  let base = given;
  while (base.length > 1 && base.endsWith('/')) base = base.slice(0, -1);
  if (base === '.' || base === '') return rel;
  if (base === '/') return '/' + rel;
  return `${base}/${rel}`;
}

function statOrThrow(abs: string, shown: string): Stats {
  try {
    return statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`no such file or directory: ${shown}`);
    throw new CliError(`cannot access ${shown}: ${(e as Error).message}`);
  }
}

/**
 * Top-level directories of a Linux tree that hold userspace C, not kernel code:
 * `tools/` (perf, bpftool, selftests, the tools' own copies of kernel headers)
 * and `scripts/` (host programs: kconfig, dtc, genksyms). Walking the tree top
 * leaves them out; given as PATHs (`tools/perf`) they are checked.
 */
export const KERNEL_USERSPACE_DIRS = ['tools', 'scripts'] as const;

/** The top of a Linux source tree: Kbuild, MAINTAINERS and the kernel/ and tools/ directories. */
export function isKernelTop(absDir: string): boolean {
  return ['Kbuild', 'MAINTAINERS', 'kernel', 'tools'].every((n) => existsSync(join(absDir, n)));
}

/**
 * The C files under `paths`. `note` hears about what a walk leaves out on
 * purpose (the userspace directories of a kernel tree top).
 */
export function collectFiles(paths: string[], cwd: string, note?: (line: string) => void): InputFile[] {
  const out: InputFile[] = [];
  const seen = new Set<string>();
  const add = (abs: string, display: string, size: number) => {
    if (seen.has(abs)) return;
    seen.add(abs);
    out.push({ abs, display, size });
  };
  for (const given of paths) {
    const abs = resolve(cwd, given);
    const st = statOrThrow(abs, given);
    if (st.isFile()) {
      if (!isCFile(given)) throw new CliError(`not a C file (expected .c or .h): ${given}`);
      add(abs, given, st.size);
    } else if (st.isDirectory()) {
      const skip = isKernelTop(abs) ? new Set<string>(KERNEL_USERSPACE_DIRS) : undefined;
      if (skip) note?.(`${given}: a Linux tree top; ${KERNEL_USERSPACE_DIRS.map((d) => `${d}/`).join(' and ')} (userspace programs) left out, give them as PATHs to check them`);
      walk(abs, '', given, add, skip);
    } else {
      throw new CliError(`not a regular file or directory: ${given}`);
    }
  }
  return out;
}

function walk(absDir: string, rel: string, given: string, add: (abs: string, display: string, size: number) => void, skipTop?: ReadonlySet<string>): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(absDir, { withFileTypes: true });
  } catch (e) {
    throw new CliError(`cannot read directory ${joinDisplay(given, rel) || given}: ${(e as Error).message}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const ent of entries) {
    const abs = join(absDir, ent.name);
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) {
      if (!SKIP_DIRS.has(ent.name) && !(rel === '' && skipTop?.has(ent.name))) walk(abs, r, given, add);
    } else if (isCFile(ent.name)) {
      if (ent.isFile()) {
        add(abs, joinDisplay(given, r), statOrThrow(abs, joinDisplay(given, r)).size);
      } else if (ent.isSymbolicLink()) {
        // Follow links to files, never to directories (no cycles).
        let st: Stats;
        try {
          st = statSync(abs);
        } catch {
          continue; // dangling link
        }
        if (st.isFile()) add(abs, joinDisplay(given, r), st.size);
      }
    }
  }
}
