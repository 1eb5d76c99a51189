/**
 * `refscope index`: build the workspace index artifact once (facts, summaries,
 * and every file's results), so `refscope check --index FILE` runs and CI
 * shards start warm.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkFiles, loadCatalog, parseCheckArgs } from './check';
import { collectFiles } from './files';
import { CliError, type CliIO } from './io';

export const INDEX_USAGE = `usage: refscope index [--root DIR] [--out FILE] [--jobs N] [--config FILE]
                      [--cache-dir DIR | --no-cache] [PATH...]

Build the index artifact of the C files under the PATHs (default: DIR): each
file's content hash, index facts and results, the headers they include, the
cross-file summaries and the workspace index's results, in one file (default
DIR/.refscope-index). \`refscope check --index FILE\` with the same --root, the
same working directory and the same PATH spelling then re-analyses only what
changed, and \`refscope check --index FILE --shard K/N\` runs one CI shard warm.
An existing FILE is reused and updated the same way.

options: as for refscope check (--root, --jobs, --config, --cache-dir, --no-cache), and
  --out FILE      where the index goes (default DIR/.refscope-index)

prints one summary line; exit status: 0 built, 2 usage or I/O error`;

export async function indexCommand(argv: string[], io: CliIO): Promise<number> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // --out FILE is this command's; the rest parse as check's.
  const rest: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out' || a === '-o') {
      out = argv[++i];
      if (out === undefined) throw new CliError(`option ${a} needs a value`);
    } else if (a.startsWith('--out=')) out = a.slice('--out='.length);
    else rest.push(a);
  }
  const o = parseCheckArgs(rest);
  if (o.help) {
    io.stdout(INDEX_USAGE + '\n');
    return 0;
  }
  if (!o.index) throw new CliError('refscope index builds the workspace index: --no-index makes no sense here');
  for (const [bad, given] of [['--index', o.indexFile], ['--shard', o.shard], ['--since', o.since], ['--range', o.range], ['--patch', o.patch]] as const) {
    if (given !== undefined) throw new CliError(`${bad} is an option of refscope check, not of refscope index`);
  }
  if (o.format !== 'text') throw new CliError('refscope index prints a summary line only (no --format)');
  const rootGiven = o.root ?? '.';
  const root = resolve(io.cwd, rootGiven);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new CliError(`--root is not a directory: ${rootGiven}`);
  const paths = o.paths.length ? o.paths : [rootGiven];
  const file = resolve(io.cwd, out ?? join(rootGiven, '.refscope-index'));
  const catalog = loadCatalog(o.config, root, io.cwd);
  const files = collectFiles(paths, io.cwd, (line) => io.stderr(`refscope: ${line}\n`));
  if (files.length === 0) throw new CliError(`no C files (.c, .h) under ${paths.join(', ')}`);
  const cacheDir = o.cacheDir === null ? null : resolve(io.cwd, o.cacheDir);
  const notes: string[] = [];
  const report = await checkFiles(files, { jobs: o.jobs, catalog, root, cwd: io.cwd, cacheDir, index: true, indexFile: file, log: (l) => notes.push(l) }, t0, cpu0);
  for (const n of notes) if (!/ (written|unchanged)/.test(n)) io.stderr(`refscope: ${n}\n`);
  const s = report.stats;
  const a = s.indexFile;
  const mb = (b: number): string => (b / 1048576).toFixed(1);
  io.stdout(`index ${out ?? join(rootGiven, '.refscope-index')}: ${s.files} files (${a?.reusedFiles ?? 0} unchanged, ${a?.analysedFiles ?? s.files} analysed), `
    + `${s.index?.headers ?? 0} headers, ${s.functions} functions, ${s.index?.learnedWrappers.get ?? 0} get / ${s.index?.learnedWrappers.put ?? 0} put wrappers, `
    + `${report.findings.length} findings; ${a?.writtenBytes ? `${mb(a.writtenBytes)} MB written` : 'unchanged'} in ${(s.ms / 1000).toFixed(1)}s\n`);
  return 0;
}
