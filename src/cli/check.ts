/** `refscope check`: analyse the C files under the PATHs and report findings. */
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { builtinCatalog, catalogWithUserConfig, ConfigError, type Catalog } from '../core/catalog/index';
import { collectFiles, type InputFile } from './files';
import { formatJson } from './format/json';
import { formatSarif } from './format/sarif';
import { cmp, compareFindings, type IncompleteReport, type Report, type ReportFinding, type SkippedFile } from './format/shared';
import { formatText } from './format/text';
import { CliError, type CliIO } from './io';
import { runPool, type ArtifactOptions, type PoolResult } from './pool';
import { configIdentity, IndexReader, IndexUnusable, IndexWriter } from './index-file';
import { defaultCacheDir } from '../node/cache';
import { findLockOrderInversions } from '../core/rules/lock-order';
import { countIncomplete } from '../core/analyze';
import type { Finding } from '../core/types';
import { VERSION } from './version';
import { reviewCommand } from './review';

export const CHECK_USAGE = `usage: refscope check [--format text|json|sarif] [--root DIR] [--jobs N] [--config FILE]
                      [--cache-dir DIR | --no-cache] [--no-index | --index FILE]
                      [--shard K/N] PATH...
       refscope check --since REV | --range A..B [options] [PATH...]
       refscope check --patch FILE.patch|FILE.mbox [options]

Analyse the C files (.c, .h) under each PATH (files or directories, recursively)
for locking bugs (lock-leak, double-lock, unlock-unheld, sleep-in-atomic,
lock-order-inversion) and reference-counting and RCU bugs (ref-leak,
use-after-put, unchecked-get-unless-zero, get-unless-zero-outside-lookup,
unsafe-lookup-get, put-under-release-lock, free-without-grace-period).

options:
  --format FMT    text (default), json or sarif
  --root DIR      workspace root whose headers feed knowledge about functions
                  (default: the current directory); also the SARIF %SRCROOT%.
                  Non-static functions of the analysed .c files feed knowledge
                  about each other (a second pass re-analyses the files whose
                  result such a summary can change)
  --jobs N        worker threads (default: available cores)
  --config FILE   catalog extensions (default: DIR/.refscope.json if present)
  --cache-dir DIR where the workspace index keeps per-file facts, keyed by
                  content (default: $XDG_CACHE_HOME/refscope or ~/.cache/refscope)
  --no-cache      do not read or write the facts cache
  --no-index      no workspace index (the PATH files and the headers they
                  include): lock rules and the refcount rules that need no
                  index only, faster
  --index FILE    reuse the index artifact FILE (from \`refscope index\` or an
                  earlier --index run): files whose content, and the headers
                  they read, did not change are not analysed again, and when
                  nothing changed every result comes from FILE. FILE is then
                  updated (created when missing); a stale FILE (other version,
                  catalog, --root or cwd) is rebuilt
  --shard K/N     analyse and report only shard K of N (1 <= K <= N): a
                  deterministic 1/N of the files by path; the others feed
                  knowledge only, from --index FILE when given (which a shard
                  reads, never writes). \`refscope merge\` joins the shards'
                  outputs into the output of one unsharded run
  -h, --help      show this help

patch review (only what a change introduces or fixes):
  --since REV     the C files changed between REV and the working tree (limited
                  to the PATHs if any), analysed at both ends (REV read with git,
                  no checkout): findings marked NEW or FIXED
  --range A..B    the same between two revisions (A...B: from their merge base)
  --patch FILE    a git format-patch file or mbox series applied in memory to the
                  tree at --root (default: the current directory), reported per
                  patch against the state before it
  Findings are matched on rule, function, message and the source text of their
  trace, not on line numbers: moved or shifted code is neither new nor fixed.
  JSON findings carry "status": "new"|"fixed"; SARIF results a baselineState
  ("new", or "absent" for fixed). When the change touches a refcounted type's
  get/put/lookup/publish/unpublish/release functions, that type's lifecycle is
  explored at both ends and a changed verdict reported ("RACE NEW struct X:
  introduces a race ..." with the interleaving, or "RACE FIXED"); not with
  --no-index. Exit status 1 when anything is new (a finding or a race).

exit status: 0 no findings, 1 findings, 2 usage or I/O error`;

export type Format = 'text' | 'json' | 'sarif';

export interface CheckOptions {
  format: Format;
  root: string | undefined;
  jobs: number;
  config: string | undefined;
  cacheDir: string | null;
  index: boolean;
  paths: string[];
  help: boolean;
  /** --index FILE: the index artifact to reuse and update. */
  indexFile?: string;
  /** --shard K/N. */
  shard?: { k: number; n: number };
  /** Patch review (src/cli/review.ts): --since REV, --range A..B, --patch FILE. */
  since?: string;
  range?: string;
  patch?: string;
}

export function parseCheckArgs(argv: string[]): CheckOptions {
  const o: CheckOptions = { format: 'text', root: undefined, jobs: availableParallelism(), config: undefined, cacheDir: defaultCacheDir(), index: true, paths: [], help: false };
  let onlyPaths = false;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (onlyPaths || !a.startsWith('-') || a === '-') {
      o.paths.push(a);
      continue;
    }
    if (a === '--') {
      onlyPaths = true;
      continue;
    }
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const take = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new CliError(`option ${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--format':
      case '-f': {
        const f = take();
        if (f !== 'text' && f !== 'json' && f !== 'sarif') throw new CliError(`unknown format '${f}' (expected text, json or sarif)`);
        o.format = f;
        break;
      }
      case '--root':
        o.root = take();
        break;
      case '--jobs':
      case '-j': {
        const v = take();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1) throw new CliError(`--jobs needs a positive integer, got '${v}'`);
        o.jobs = n;
        break;
      }
      case '--config':
      case '-c':
        o.config = take();
        break;
      case '--cache-dir':
        o.cacheDir = take();
        break;
      case '--no-cache':
        o.cacheDir = null;
        break;
      case '--no-index':
        o.index = false;
        break;
      case '--index':
        o.indexFile = take();
        break;
      case '--shard': {
        const v = take();
        const m = /^(\d+)\/(\d+)$/.exec(v);
        const k = m ? Number(m[1]) : NaN;
        const n = m ? Number(m[2]) : NaN;
        if (!m || n < 1 || k < 1 || k > n) throw new CliError(`--shard needs K/N with 1 <= K <= N, got '${v}'`);
        o.shard = { k, n };
        break;
      }
      case '--since':
        o.since = take();
        break;
      case '--range':
        o.range = take();
        break;
      case '--patch':
        o.patch = take();
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new CliError(`unknown option '${a}' (see refscope check --help)`);
    }
  }
  if (!o.index && o.indexFile !== undefined) throw new CliError('--index FILE and --no-index cannot be combined');
  return o;
}

export function loadCatalog(configPath: string | undefined, root: string, cwd: string): Catalog {
  let path: string;
  let shown: string;
  if (configPath !== undefined) {
    path = resolve(cwd, configPath);
    shown = configPath;
    if (!existsSync(path)) throw new CliError(`config file not found: ${configPath}`);
  } else {
    path = resolve(root, '.refscope.json');
    shown = path;
    if (!existsSync(path)) return builtinCatalog();
  }
  let text: string;
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read config file ${shown}: ${(e as Error).message}`);
  }
  try {
    return catalogWithUserConfig(text, shown);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid config: ${e.message.split('\n')[0]}`);
    throw e;
  }
}

/** CPU time of this process (all threads: the workers included), in ms. */
function cpuMs(u: NodeJS.CpuUsage): number {
  return Math.round((u.user + u.system) / 1000);
}

export interface CheckRun {
  jobs: number;
  catalog: Catalog;
  /** Absolute workspace root. */
  root: string;
  cwd: string;
  cacheDir: string | null;
  /** Build the workspace index and run the refcount/RCU rules with it. */
  index: boolean;
  /** --index FILE (absolute): reuse it, and write it back unless `readOnlyIndex` or sharded. */
  indexFile?: string;
  readOnlyIndex?: boolean;
  shard?: { k: number; n: number };
  /** See PoolOptions.reverseHeaders (the newer end of a review). */
  reverseHeaders?: boolean;
  /** Where a note about the index goes (stale, unreadable, written). */
  log?: (line: string) => void;
}

/** Opens the index artifact for a run: a reader when FILE is usable for this configuration, a writer unless read only. */
function openArtifact(o: CheckRun): { artifact: ArtifactOptions; notes: string[] } | undefined {
  if (!o.index || (o.indexFile === undefined && !o.shard)) return o.shard ? { artifact: { read: null, write: null, shard: o.shard, identity: configIdentity(JSON.stringify(o.catalog)) }, notes: [] } : undefined;
  const identity = configIdentity(JSON.stringify(o.catalog));
  const notes: string[] = [];
  let read: IndexReader | null = null;
  if (o.indexFile !== undefined && existsSync(o.indexFile)) {
    try {
      read = IndexReader.open(o.indexFile);
      const m = read.manifest;
      const why = m.tool !== identity.tool ? `made by refscope ${m.tool}`
        : m.factsVersion !== identity.factsVersion ? `facts version ${m.factsVersion}`
        : m.catalog !== identity.catalog ? 'made with another catalog (.refscope.json or --config)'
        : m.root !== o.root ? `made for --root ${m.root}`
        : m.cwd !== o.cwd ? `made from another directory (${m.cwd}), whose file labels differ` : '';
      if (why) {
        notes.push(`index ${o.indexFile} is stale (${why}): a cold run${o.readOnlyIndex || o.shard ? '' : ' rewrites it'}`);
        read.close();
        read = null;
      }
    } catch (e) {
      if (!(e instanceof IndexUnusable)) throw e;
      notes.push(`index ${o.indexFile} not used: ${e.message}`);
      read = null;
    }
  } else if (o.indexFile !== undefined && (o.readOnlyIndex || o.shard)) {
    notes.push(`index ${o.indexFile} does not exist: every file is analysed`);
  }
  let write: IndexWriter | null = null;
  if (o.indexFile !== undefined && !o.readOnlyIndex && !o.shard) {
    try {
      write = new IndexWriter(o.indexFile);
    } catch (e) {
      read?.close();
      throw new CliError((e as Error).message);
    }
  }
  return { artifact: { read, write, shard: o.shard ?? null, identity }, notes };
}

/**
 * Analyse these files (their `text` when given, else the file on disk) and build
 * the report every format prints. `t0`/`cpu0` date the run (default: now).
 */
export async function checkFiles(files: InputFile[], o: CheckRun, t0 = performance.now(), cpu0 = process.cpuUsage()): Promise<Report> {
  const opened = openArtifact(o);
  for (const n of opened?.notes ?? []) o.log?.(n);
  let pool: PoolResult;
  try {
    pool = await runPool(files, { jobs: o.jobs, catalog: o.catalog, root: o.root, cwd: o.cwd, cacheDir: o.cacheDir, refcount: o.index, ...(opened ? { artifact: opened.artifact } : {}), ...(o.reverseHeaders ? { reverseHeaders: true } : {}) });
  } catch (e) {
    opened?.artifact.write?.abort();
    throw e;
  } finally {
    opened?.artifact.read?.close();
  }
  if (opened?.artifact.write && pool.artifact) {
    const a = pool.artifact;
    o.log?.(a.writtenBytes ? `index ${o.indexFile} written (${(a.writtenBytes / 1048576).toFixed(1)} MB)` : `index ${o.indexFile} unchanged`);
  }
  const { outcomes, headersSummarized, crossFile } = pool;
  const absOf = new Map(files.map((f) => [f.display, f.abs]));
  const report1 = (f: Finding, display: string, abs: string): ReportFinding => ({
    rule: f.rule,
    severity: f.severity,
    file: display,
    absFile: abs,
    line: f.span.start.line,
    column: f.span.start.column,
    endLine: f.span.end.line,
    endColumn: f.span.end.column,
    function: f.function,
    message: f.message,
    scenario: f.scenario ?? null,
    trace: f.trace.map((t) => ({ file: t.file, line: t.line, column: t.column, message: t.message })),
  });

  const findings: ReportFinding[] = [];
  const skippedFiles: SkippedFile[] = [];
  const damagedFunctions: string[] = [];
  let functions = 0;
  let damaged = 0;
  let notAnalysed = 0;
  const incomplete: IncompleteReport[] = [];
  let directivesOnly = 0;
  let bytes = 0;
  let analysed = 0;
  const times: { file: string; ms: number }[] = [];
  const reportedFile = new Set<string>();
  for (let i = 0; i < files.length; i++) {
    if (!pool.reported[i]) continue; // another shard's
    const file = files[i]!;
    reportedFile.add(file.display);
    const r = outcomes[i]!;
    if (r.kind === 'io-error') throw new CliError(r.message);
    if (r.kind === 'skipped') {
      skippedFiles.push({ file: file.display, reason: r.reason });
      continue;
    }
    analysed++;
    functions += r.functions;
    damaged += r.functionsWithParseDamage;
    const inc = [...r.incomplete, ...(pool.refcountIncomplete[i] ?? [])];
    notAnalysed += inc.length ? countIncomplete(inc) : r.functionsNotAnalysed;
    for (const x of inc.sort((a, b) => a.line - b.line || a.analysis.localeCompare(b.analysis))) incomplete.push({ file: file.display, ...x });
    if (r.directivesOnly) directivesOnly++;
    bytes += r.bytes;
    times.push({ file: file.display, ms: Math.round(r.ms) });
    for (const name of r.damagedFunctions) damagedFunctions.push(`${name} (${file.display})`);
    for (const f of r.findings) findings.push(report1(f, file.display, file.abs));
    for (const f of pool.refcountFindings[i]!) findings.push(report1(f, file.display, file.abs));
  }
  // Lock-order inversions: over the edges of every file (a pair is reported once, at its first acquire).
  for (const f of findLockOrderInversions(pool.lockOrder)) {
    const display = f.file;
    const abs = absOf.get(display);
    if (abs !== undefined && reportedFile.has(display)) findings.push(report1(f, display, abs));
  }
  findings.sort(compareFindings);
  // By file label like the findings (not by PATH order), so sharded runs merge into the same lists.
  incomplete.sort((a, b) => cmp(a.file, b.file) || a.line - b.line || cmp(a.analysis, b.analysis));
  skippedFiles.sort((a, b) => cmp(a.file, b.file));
  const report: Report = {
    findings,
    root: o.root,
    cwd: o.cwd,
    toolVersion: VERSION,
    stats: {
      files: analysed,
      functions,
      functionsWithParseDamage: damaged,
      bytes,
      ms: Math.round(performance.now() - t0),
      cpuMs: cpuMs(process.cpuUsage(cpu0)),
      functionsNotAnalysed: notAnalysed,
      incomplete,
      filesDirectivesOnly: directivesOnly,
      skipped: skippedFiles.length,
      skippedFiles,
      damagedFunctions,
      headersSummarized,
      crossFile,
      ...(o.index ? { index: pool.index } : {}),
      ...(pool.artifact ? { indexFile: pool.artifact } : {}),
      ...(o.shard ? { shard: o.shard } : {}),
      phasesMs: pool.phasesMs,
      slowestFiles: times.sort((a, b) => b.ms - a.ms || (a.file < b.file ? -1 : 1)).slice(0, 10),
      jobs: Math.max(1, Math.min(o.jobs, files.length)),
    },
  };
  return report;
}

export async function checkCommand(argv: string[], io: CliIO): Promise<number> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const o = parseCheckArgs(argv);
  if (o.help) {
    io.stdout(CHECK_USAGE + '\n');
    return 0;
  }
  if (o.since !== undefined || o.range !== undefined || o.patch !== undefined) return reviewCommand(o, io);
  if (o.paths.length === 0) throw new CliError('no PATH given (usage: refscope check [options] PATH...)');
  const root = resolve(io.cwd, o.root ?? '.');
  if (o.root !== undefined) {
    let ok = false;
    try {
      ok = statSync(root).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) throw new CliError(`--root is not a directory: ${o.root}`);
  }
  const catalog = loadCatalog(o.config, root, io.cwd);
  const files = collectFiles(o.paths, io.cwd, (line) => io.stderr(`refscope: ${line}\n`));
  const cacheDir = o.cacheDir === null ? null : resolve(io.cwd, o.cacheDir);
  const report = await checkFiles(files, {
    jobs: o.jobs, catalog, root, cwd: io.cwd, cacheDir, index: o.index,
    ...(o.indexFile !== undefined ? { indexFile: resolve(io.cwd, o.indexFile) } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
    log: (line) => io.stderr(`refscope: ${line}\n`),
  }, t0, cpu0);
  if (o.format === 'json') io.stdout(formatJson(report));
  else if (o.format === 'sarif') io.stdout(formatSarif(report, (f) => resolve(io.cwd, f)));
  else io.stdout(formatText(report));
  return report.findings.length ? 1 : 0;
}
