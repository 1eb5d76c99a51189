/**
 * Patch review: `refscope check --since REV | --range A..B | --patch FILE`.
 * Analyses the changed C files at both ends with `checkFiles` (the older end
 * through `InputFile.text` at the file's real path, so header knowledge still
 * comes from the tree) and reports what the change introduces and fixes
 * (src/core/review/match.ts).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { matchFindings } from '../core/review/match';
import { applyFilePatch, parsePatchSeries, PatchError, type Patch } from '../core/review/patch';
import { checkFiles, loadCatalog, type CheckOptions, type CheckRun } from './check';
import { isCFile, type InputFile } from './files';
import type { Report, ReportFinding } from './format/shared';
import { CliError, type CliIO } from './io';
import { changedFiles, gitTopLevel, mergeBase, readBlobs, resolveRev } from './review-git';
import { formatReview, type ReviewSection } from './review-format';
import { prepareLifecycleTexts, reviewLifecycles } from './review-lifecycle';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function displayOf(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

function readDisk(abs: string): string | null {
  try {
    return readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new CliError(`cannot read ${abs}: ${(e as Error).message}`);
  }
}

/** One end of a change: the files (real path, display name, content). */
interface End {
  files: InputFile[];
}

function inputFile(abs: string, display: string, text: string): InputFile {
  return { abs, display, size: Buffer.byteLength(text), text };
}

/** Analyse both ends and classify the findings. */
async function compareEnds(base: End, head: End, run: CheckRun, renames: Map<string, string>, title: string): Promise<ReviewSection> {
  // Both ends at once, the worker threads split between them: the serial parts of one run
  // (start-up, index build, pass barriers) overlap the other's analysis. Then the lifecycle
  // impact (it needs the workspace's knowledge of the types: skipped with --no-index), which
  // finds the facts of every changed file in the cache the two ends filled.
  const jobs = base.files.length && head.files.length ? Math.max(1, Math.floor(run.jobs / 2)) : run.jobs;
  const one = (files: InputFile[], reverseHeaders: boolean): Promise<Report | null> => (files.length ? checkFiles(files, { ...run, jobs: Math.max(jobs, 1), reverseHeaders }) : Promise.resolve(null));
  const texts = run.index && (base.files.length || head.files.length) ? prepareLifecycleTexts(base.files, head.files, { root: run.root, cwd: run.cwd }) : undefined;
  // The newer end parses the headers in the opposite order: the ends share them through the cache.
  const [baseReport, headReport] = await Promise.all([one(base.files, false), one(head.files, true)]);
  const lifecycle = run.index ? await reviewLifecycles(base.files, head.files, renames, { root: run.root, cwd: run.cwd, jobs: run.jobs, cacheDir: run.cacheDir, ...(texts ? { texts } : {}) }) : null;
  const textOf = (end: End) => {
    const m = new Map(end.files.map((f) => [f.display, f.text]));
    return (file: string) => m.get(file);
  };
  const r = matchFindings<ReportFinding>(
    { findings: baseReport?.findings ?? [], text: textOf(base) },
    { findings: headReport?.findings ?? [], text: textOf(head) },
    { headFileOf: (f) => renames.get(f) ?? f },
  );
  return {
    title,
    introduced: r.introduced,
    fixed: r.fixed,
    unchanged: r.unchanged.length,
    filesBase: base.files.length,
    filesHead: head.files.length,
    root: run.root,
    baseReport,
    headReport,
    lifecycle,
  };
}

function checkRun(o: CheckOptions, root: string, io: CliIO): CheckRun {
  const catalog = loadCatalog(o.config, root, io.cwd);
  const cacheDir = o.cacheDir === null ? null : resolve(io.cwd, o.cacheDir);
  return { jobs: o.jobs, catalog, root, cwd: io.cwd, cacheDir, index: o.index };
}

/** `--since REV` / `--range A..B`. */
async function reviewGit(o: CheckOptions, io: CliIO): Promise<ReviewSection[]> {
  if (o.since !== undefined && o.range !== undefined) throw new CliError('--since and --range cannot be combined');
  const rootGiven = o.root === undefined ? undefined : resolve(io.cwd, o.root);
  if (rootGiven !== undefined && !isDir(rootGiven)) throw new CliError(`--root is not a directory: ${o.root}`);
  const top = await gitTopLevel(rootGiven ?? io.cwd);
  const root = rootGiven ?? top;
  let base: string;
  let head: string | null;
  let title: string;
  if (o.since !== undefined) {
    base = await resolveRev(top, o.since);
    head = null;
    title = `${o.since} (${base.slice(0, 12)})..working tree`;
  } else {
    const m = /^(.*?)(\.\.\.?)(.*)$/.exec(o.range!);
    if (!m) throw new CliError(`--range needs A..B or A...B, got '${o.range!}'`);
    const a = await resolveRev(top, m[1] || 'HEAD');
    const b = await resolveRev(top, m[3] || 'HEAD');
    base = m[2] === '...' ? await mergeBase(top, a, b) : a;
    head = b;
    title = `${o.range!} (${base.slice(0, 12)}..${b.slice(0, 12)})`;
  }
  const pathspecs = o.paths.map((p) => {
    const rel = relative(top, resolve(io.cwd, p));
    if (rel.startsWith('..') || isAbsolute(rel)) throw new CliError(`PATH outside the git repository: ${p}`);
    return rel === '' ? '.' : rel.split(sep).join('/');
  });
  const changes = (await changedFiles(top, base, head, pathspecs)).filter((c) => (c.newPath !== null && isCFile(c.newPath)) || (c.oldPath !== null && isCFile(c.oldPath)));
  const oldPaths = changes.flatMap((c) => (c.oldPath !== null && isCFile(c.oldPath) ? [c.oldPath] : []));
  const newPaths = changes.flatMap((c) => (c.newPath !== null && isCFile(c.newPath) ? [c.newPath] : []));
  const oldTexts = await readBlobs(top, base, oldPaths);
  const newTexts = head === null ? new Map<string, string>() : await readBlobs(top, head, newPaths);
  const baseEnd: End = { files: [] };
  const headEnd: End = { files: [] };
  const renames = new Map<string, string>();
  for (const c of changes) {
    const oldAbs = c.oldPath === null ? null : resolve(top, c.oldPath);
    const newAbs = c.newPath === null ? null : resolve(top, c.newPath);
    const oldText = c.oldPath === null ? undefined : oldTexts.get(c.oldPath);
    const newText = c.newPath === null ? undefined : head === null ? readDisk(newAbs!) ?? undefined : newTexts.get(c.newPath);
    if (oldText !== undefined && newText !== undefined && oldText === newText && c.oldPath === c.newPath) continue;
    if (oldAbs && oldText !== undefined && isCFile(c.oldPath!)) baseEnd.files.push(inputFile(oldAbs, displayOf(oldAbs, io.cwd), oldText));
    if (newAbs && newText !== undefined && isCFile(c.newPath!)) headEnd.files.push(inputFile(newAbs, displayOf(newAbs, io.cwd), newText));
    if (oldAbs && newAbs && oldAbs !== newAbs) renames.set(displayOf(oldAbs, io.cwd), displayOf(newAbs, io.cwd));
  }
  return [await compareEnds(baseEnd, headEnd, checkRun(o, root, io), renames, title)];
}

/** `--patch FILE`: every patch of the series against the state before it. */
async function reviewPatches(o: CheckOptions, io: CliIO): Promise<ReviewSection[]> {
  const root = resolve(io.cwd, o.root ?? '.');
  if (!isDir(root)) throw new CliError(`--root is not a directory: ${o.root ?? '.'}`);
  const patchPath = resolve(io.cwd, o.patch!);
  let text: string;
  try {
    text = readFileSync(patchPath, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read patch file ${o.patch!}: ${(e as Error).message}`);
  }
  let series: Patch[];
  try {
    series = parsePatchSeries(text);
  } catch (e) {
    if (e instanceof PatchError) throw new CliError(`${o.patch!}: ${e.message}`);
    throw e;
  }
  const run = checkRun(o, root, io);
  // PATHs (relative to the current directory) limit the files reviewed; every patch is still applied.
  const limits = o.paths.map((p) => resolve(io.cwd, p));
  const wanted = (rel: string | null): boolean =>
    rel !== null && isCFile(rel) && (limits.length === 0 || limits.some((l) => resolve(root, rel) === l || resolve(root, rel).startsWith(l + sep)));
  const state = new Map<string, string | null>();
  const current = (rel: string): string | null => {
    if (state.has(rel)) return state.get(rel)!;
    const t = readDisk(resolve(root, rel));
    state.set(rel, t);
    return t;
  };
  const sections: ReviewSection[] = [];
  for (const p of series) {
    const what = `patch ${p.index}/${series.length} (${p.subject})`;
    const baseEnd: End = { files: [] };
    const headEnd: End = { files: [] };
    const renames = new Map<string, string>();
    const updates: Array<[string, string | null]> = [];
    for (const fp of p.files) {
      if (!(wanted(fp.oldPath) || wanted(fp.newPath)) || fp.binary) continue;
      const before = fp.oldPath === null ? null : current(fp.oldPath);
      let after: string | null;
      try {
        after = applyFilePatch(before, fp, what);
      } catch (e) {
        if (e instanceof PatchError) throw new CliError(e.message);
        throw e;
      }
      if (fp.oldPath !== null && before !== null) {
        const abs = resolve(root, fp.oldPath);
        baseEnd.files.push(inputFile(abs, displayOf(abs, io.cwd), before));
        if (fp.newPath !== fp.oldPath) updates.push([fp.oldPath, null]);
      }
      if (fp.newPath !== null && after !== null) {
        const abs = resolve(root, fp.newPath);
        headEnd.files.push(inputFile(abs, displayOf(abs, io.cwd), after));
        updates.push([fp.newPath, after]);
        if (fp.oldPath !== null && fp.oldPath !== fp.newPath) renames.set(displayOf(resolve(root, fp.oldPath), io.cwd), displayOf(abs, io.cwd));
      }
    }
    for (const [k, v] of updates) state.set(k, v);
    sections.push({ ...(await compareEnds(baseEnd, headEnd, run, renames, `patch ${p.index}/${series.length}: ${p.subject}`)), patch: p.index, subject: p.subject });
  }
  return sections;
}

/** `refscope check` with --since, --range or --patch. Exit 1 when anything is new (a finding, or a race in a type's lifecycle). */
export async function reviewCommand(o: CheckOptions, io: CliIO): Promise<number> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  if (o.patch !== undefined && (o.since !== undefined || o.range !== undefined)) throw new CliError('--patch cannot be combined with --since or --range');
  // With --no-cache the ends still share the facts of the headers (and of files
  // equal at both ends) through a private cache that lives for this run only.
  const privateCache = o.cacheDir === null ? mkdtempSync(resolve(tmpdir(), 'refscope-review-')) : null;
  try {
    const opts = privateCache === null ? o : { ...o, cacheDir: privateCache };
    const sections = o.patch !== undefined ? await reviewPatches(opts, io) : await reviewGit(opts, io);
    const u = process.cpuUsage(cpu0);
    io.stdout(formatReview(sections, o.format, { cwd: io.cwd, root: sections[0]?.root ?? io.cwd, ms: Math.round(performance.now() - t0), cpuMs: Math.round((u.user + u.system) / 1000) }));
    return sections.some((s) => s.introduced.length > 0 || s.lifecycle?.impacts.some((i) => i.status === 'introduces')) ? 1 : 0;
  } finally {
    if (privateCache !== null) rmSync(privateCache, { recursive: true, force: true });
  }
}
