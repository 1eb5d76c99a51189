// Benchmark of `refscope check` over Linux 6.12 drivers/gpu/drm (or another dir):
// wall time of the built CLI (default jobs) beside the time web-tree-sitter alone
// takes to parse the same files with the same number of worker threads, measured
// in the same run, and the ratio (target <= 2). Also files, functions, parse
// damage, findings per rule and peak RSS. Writes the figures to bench/RESULTS.md.
//
// Each check run starts with an empty facts cache (a cold index); one more run
// with the cache it left measures the warm case. A second baseline parses only
// the files that contain C outside directives and comments (the files check
// parses: it skips directive-only generated register headers), so the ratio of
// the analysis to the parsing it needs is visible too.
//
// usage: npm run bench -- [--jobs N] [--repeat N] [--kernel DIR] [--no-write] [SUBDIR]
//   SUBDIR is relative to the kernel tree (default drivers/gpu/drm); the kernel
//   tree comes from --kernel, $KERNEL_SRC or ../shared/tools/kernel-source.
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTree as findKernel, listFiles, machineLine, parseFloor as baseline, repo, runCli as run, writeSection } from './common.mjs';

await main();

function kernelTree(o) {
  return findKernel(o.kernel);
}

/** The built CLI's check over `dir` (JSON; `defaultJobs`: no --jobs), with its CPU time from the JSON stats. */
async function runCli(kernel, dir, jobs, defaultJobs, cacheDir, extra = []) {
  const args = ['check', '--format', 'json', '--cache-dir', cacheDir, ...extra, '--root', kernel, dir];
  if (!defaultJobs) args.splice(3, 0, '--jobs', String(jobs));
  const r = await run(args, kernel);
  return { ms: r.ms, cpuMs: r.json.stats.cpuMs ?? NaN, code: r.code, json: r.json, peakRssMB: r.peakRssMB };
}

function parseArgs(argv) {
  const o = { jobs: availableParallelism(), kernel: process.env.KERNEL_SRC ?? '', write: true, dir: 'drivers/gpu/drm', repeat: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--jobs') o.jobs = Math.max(1, Number(argv[++i]));
    else if (a === '--kernel') o.kernel = argv[++i];
    else if (a === '--no-write') o.write = false;
    else if (a === '--repeat') o.repeat = Math.max(1, Number(argv[++i]));
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.dir = a;
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(join(repo, 'dist', 'cli.js'))) throw new Error('dist/cli.js missing: run npm run build');
  const kernel = kernelTree(o);
  const dirAbs = join(kernel, o.dir);
  const files = listFiles(dirAbs);
  const bytes = files.reduce((a, f) => a + f.size, 0);
  console.log(`kernel tree ${kernel}; ${o.dir}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB; ${o.jobs} jobs`);
  // Warm the page cache so that neither measurement pays for the disk.
  // (main thread only: the parse-only workers load this file without the TypeScript loader)
  const { hasCCode } = await import('../src/core/parse/prescan.ts');
  const withC = [];
  for (const f of files) if (hasCCode(readFileSync(f.path, 'utf8'))) withC.push(f);
  const bytesC = withC.reduce((a, f) => a + f.size, 0);
  console.log(`files with C outside directives and comments: ${withC.length} (${(bytesC / 1e6).toFixed(1)} MB); the rest are directive-only`);
  const cacheRoot = mkdtempSync(join(tmpdir(), 'refscope-bench-cache-'));

  const loadStart = loadavg()[0];
  // Alternate the two measurements; keep the best of each (other load only slows things down).
  let base;
  let baseC;
  let cli;
  let warm;
  let lockOnly;
  for (let r = 0; r < o.repeat; r++) {
    const b = await baseline(files, o.jobs);
    console.log(`web-tree-sitter parse only: ${(b.ms / 1000).toFixed(2)} s wall, ${(b.cpuMs / 1000).toFixed(1)} s CPU (${b.parsed} files)`);
    if (!base || b.ms < base.ms) base = b;
    const bc = await baseline(withC, o.jobs);
    console.log(`  ... files with C only:    ${(bc.ms / 1000).toFixed(2)} s wall, ${(bc.cpuMs / 1000).toFixed(1)} s CPU (${bc.parsed} files)`);
    if (!baseC || bc.ms < baseC.ms) baseC = bc;
    const cacheDir = join(cacheRoot, `run${r}`);
    const c = await runCli(kernel, o.dir, o.jobs, o.jobs === availableParallelism(), cacheDir);
    console.log(`refscope check (cold):      ${(c.ms / 1000).toFixed(2)} s wall, ${(c.cpuMs / 1000).toFixed(1)} s CPU`);
    if (!cli || c.ms < cli.ms) cli = c;
    if (r === o.repeat - 1) {
      warm = await runCli(kernel, o.dir, o.jobs, o.jobs === availableParallelism(), cacheDir);
      console.log(`refscope check (warm):      ${(warm.ms / 1000).toFixed(2)} s wall, ${(warm.cpuMs / 1000).toFixed(1)} s CPU`);
    }
    const l = await runCli(kernel, o.dir, o.jobs, o.jobs === availableParallelism(), cacheDir, ['--no-index']);
    console.log(`refscope check --no-index:  ${(l.ms / 1000).toFixed(2)} s wall, ${(l.cpuMs / 1000).toFixed(1)} s CPU`);
    if (!lockOnly || l.ms < lockOnly.ms) lockOnly = l;
  }
  rmSync(cacheRoot, { recursive: true, force: true });
  const s = cli.json.stats;
  const ratio = cli.ms / base.ms;
  const perRule = {};
  for (const f of cli.json.findings) perRule[f.rule] = (perRule[f.rule] ?? 0) + 1;
  const damagePct = s.functions ? (100 * s.functionsWithParseDamage) / s.functions : 0;
  console.log(`refscope check exit ${cli.code}, peak RSS ${cli.peakRssMB.toFixed(0)} MB`);
  console.log(`ratio check / parse:        ${ratio.toFixed(2)} wall (target <= 2), ${(cli.cpuMs / base.cpuMs).toFixed(2)} CPU`);
  const ratioC = cli.ms / baseC.ms;
  console.log(`ratio check --no-index / parse: ${(lockOnly.ms / base.ms).toFixed(2)} wall, ${(lockOnly.cpuMs / base.cpuMs).toFixed(2)} CPU; peak RSS ${lockOnly.peakRssMB.toFixed(0)} MB`);
  console.log(`ratio check / parse of the files with C: ${ratioC.toFixed(2)} wall, ${(cli.cpuMs / baseC.cpuMs).toFixed(2)} CPU`);
  const ix = s.index;
  if (ix) console.log(`index: ${ix.files} files (${ix.headers} headers outside the PATH), built in ${ix.buildMs} ms; ${ix.learnedWrappers.get} get / ${ix.learnedWrappers.put} put wrappers learned (drm_gem_object_get: ${ix.learnedWrappers.getNames.includes('drm_gem_object_get')}, drm_gem_object_put: ${ix.learnedWrappers.putNames.includes('drm_gem_object_put')}); refcount rules on ${ix.refcountFiles} files`);
  console.log(`slowest files: ${JSON.stringify((s.slowestFiles ?? []).slice(0, 5))}`);
  console.log(`files ${s.files}, skipped ${s.skipped}, functions ${s.functions}, with parse damage ${s.functionsWithParseDamage} (${damagePct.toFixed(2)}%)`);
  console.log(`findings: ${cli.json.findings.length} ${JSON.stringify(perRule)}`);
  const xf = s.crossFile;
  if (xf) console.log(`cross-file knowledge: ${xf.summaries} summaries merged (${xf.ambiguous} ambiguous names dropped), ${xf.reanalysed} of ${s.files} files re-analysed in pass 2 (${(xf.pass2Ms / 1000).toFixed(1)} s worker time)`);

  const loadEnd = loadavg()[0];
  console.log(`load average (1 min) at start / end: ${loadStart.toFixed(2)} / ${loadEnd.toFixed(2)}`);
  if (!o.write) return;
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ALL = ['lock-leak', 'double-lock', 'unlock-unheld', 'sleep-in-atomic', 'lock-order-inversion', 'ref-leak', 'use-after-put', 'unchecked-get-unless-zero',
    'get-unless-zero-outside-lookup', 'unsafe-lookup-get', 'put-under-release-lock', 'free-without-grace-period'];
  const rules = [...ALL, ...Object.keys(perRule).filter((r) => !ALL.includes(r))];
  const slow = (s.slowestFiles ?? []).slice(0, 5).map((f) => `\`${f.file}\` ${(f.ms / 1000).toFixed(1)} s`).join(', ');
  const section = `<!-- check-drm:begin (written by npm run bench: bench/check-drm.mjs) -->
## \`refscope check\` over ${o.dir} (\`npm run bench\`)

- date: ${date}
- machine: ${machineLine()}
- load average (1 min) at start / end: ${loadStart.toFixed(2)} / ${loadEnd.toFixed(2)} (other processes on the machine slow both wall times; the CPU times are less sensitive to that)
- tree: Linux 6.12 \`${o.dir}\` (${files.length} .c/.h files, ${(bytes / 1e6).toFixed(1)} MB)
- command: \`node dist/cli.js check --format json --cache-dir <empty dir> --root <kernel> ${o.dir}\` (cwd = kernel tree top, ${o.jobs} jobs)${o.repeat > 1 ? `; best of ${o.repeat} alternating runs of each` : ''}
- baseline: web-tree-sitter ${JSON.parse(readFileSync(join(repo, 'node_modules/web-tree-sitter/package.json'), 'utf8')).version} + tree-sitter-c parsing the same files (read from disk, no normalisation, no analysis) in ${o.jobs} worker threads over a shared queue, big files first, WASM loading included

| figure | value |
| --- | --- |
| \`refscope check\` wall time | ${(cli.ms / 1000).toFixed(2)} s |
| web-tree-sitter parse-only wall time | ${(base.ms / 1000).toFixed(2)} s |
| **wall-time ratio** (target ≤ 2) | **${ratio.toFixed(2)}** |
| CPU time (all threads): check / parse-only | ${(cli.cpuMs / 1000).toFixed(1)} s / ${(base.cpuMs / 1000).toFixed(1)} s = ${(cli.cpuMs / base.cpuMs).toFixed(2)} |
| \`refscope check --no-index\` (lock rules, lock-order, the refcount rules that need no index): wall / CPU / ratio to parse-only wall / peak RSS | ${(lockOnly.ms / 1000).toFixed(2)} s / ${(lockOnly.cpuMs / 1000).toFixed(1)} s / **${(lockOnly.ms / base.ms).toFixed(2)}** / ${lockOnly.peakRssMB.toFixed(0)} MB |
| files with C (the rest are directive-only register headers, which check does not parse) | ${withC.length} of ${files.length} (${(bytesC / 1e6).toFixed(1)} of ${(bytes / 1e6).toFixed(1)} MB) |
| parse-only of the files with C: wall / CPU | ${(baseC.ms / 1000).toFixed(2)} s / ${(baseC.cpuMs / 1000).toFixed(1)} s |
| ratio check / parse-only of the files with C: wall / CPU | ${ratioC.toFixed(2)} / ${(cli.cpuMs / baseC.cpuMs).toFixed(2)} |
| \`refscope check\` with a warm facts cache: wall / CPU | ${(warm.ms / 1000).toFixed(2)} s / ${(warm.cpuMs / 1000).toFixed(1)} s |
| workspace index: files (headers outside the PATH) / build time on the main thread | ${ix ? `${ix.files} (${ix.headers}) / ${ix.buildMs} ms` : 'n/a'} |
| learned wrappers: get / put / returning a new reference | ${ix ? `${ix.learnedWrappers.get} / ${ix.learnedWrappers.put} / ${ix.learnedWrappers.returnsRef}` : 'n/a'} |
| files the refcount rules ran on (pass 2) | ${ix ? ix.refcountFiles : 'n/a'} |
| files analysed / skipped | ${s.files} / ${s.skipped} |
| functions | ${s.functions} |
| functions with parse damage | ${s.functionsWithParseDamage} (${damagePct.toFixed(2)}%) |
| functions the lock analysis gave up on | ${s.functionsNotAnalysed ?? 'n/a'} |
| headers summarised (all workers) | ${s.headersSummarized} |
| cross-file: summaries merged / ambiguous names / files re-analysed (pass 2) | ${s.crossFile ? `${s.crossFile.summaries} / ${s.crossFile.ambiguous} / ${s.crossFile.reanalysed} (${(s.crossFile.pass2Ms / 1000).toFixed(1)} s)` : 'n/a'} |
| peak RSS of \`refscope check\` | ${cli.peakRssMB.toFixed(0)} MB |
| slowest files (analysis time) | ${slow} |
| findings (total) | ${cli.json.findings.length} |
${rules.map((r) => `| findings \`${r}\` | ${perRule[r] ?? 0} |`).join('\n')}
<!-- check-drm:end -->
`;
  writeSection('check-drm', section);
  console.log('wrote bench/RESULTS.md');
}
