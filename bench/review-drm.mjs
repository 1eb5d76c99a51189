// Benchmark of patch review: `refscope check --since HEAD` over a 50-file change
// in Linux 6.12 drivers/gpu/drm beside `refscope check` on the same 50 files
// alone (target: review < 2x check). The 50 .c files (and the headers of their
// directories) are copied into a temporary git repository at their kernel paths,
// with `include` a symlink to the kernel's include/, committed, and then each .c
// file gets one harmless line (a comment) inserted at the top of the file and one
// inside the first function that takes or drops a reference (so the lifecycle
// impact check extracts and explores the types those functions work on): every
// finding moves, none is new, no verdict changes. Runs the built CLI (dist/cli.js), default jobs,
// with no facts cache (cold) and with a warm cache; prints both times and the ratio.
//
// usage: npm run bench:review -- [--files N] [--repeat N] [--kernel DIR] [--no-write]
// Writes its section of bench/RESULTS.md unless --no-write.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { load1, machineLine, writeSection } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const cli = join(repo, 'dist', 'cli.js');

function parseArgs(argv) {
  const o = { files: 50, repeat: 1, kernel: process.env.KERNEL_SRC ?? '', write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--files') o.files = Math.max(1, Number(argv[++i]));
    else if (a === '--repeat') o.repeat = Math.max(1, Number(argv[++i]));
    else if (a === '--kernel') o.kernel = argv[++i];
    else if (a === '--no-write') o.write = false;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function kernelTree(o) {
  if (o.kernel) return resolve(o.kernel);
  const tool = resolve(repo, '..', 'shared', 'tools', 'kernel-source');
  return execFileSync('bash', [existsSync(tool) ? tool : '/work/shared/tools/kernel-source'], { encoding: 'utf8' }).trim();
}

/** Deterministic pick: drm .c files with a mutex_lock, 4-40 KB, spread over the sorted list. */
function pickFiles(kernel, n) {
  const all = [];
  const walk = (d) => {
    for (const ent of readdirSync(join(kernel, d), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = `${d}/${ent.name}`;
      if (ent.isDirectory()) walk(rel);
      else if (ent.name.endsWith('.c')) {
        const size = statSync(join(kernel, rel)).size;
        if (size >= 4096 && size <= 40960 && readFileSync(join(kernel, rel), 'utf8').includes('mutex_lock(')) all.push(rel);
      }
    }
  };
  walk('drivers/gpu/drm');
  const step = all.length / n;
  return Array.from({ length: Math.min(n, all.length) }, (_, i) => all[Math.floor(i * step)]);
}

function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
}

function timeCli(args, cwd) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t;
  if (r.status !== 0 && r.status !== 1) throw new Error(`refscope ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const o = parseArgs(process.argv.slice(2));
if (!existsSync(cli)) throw new Error('dist/cli.js missing: npm run build first');
const kernel = kernelTree(o);
const files = pickFiles(kernel, o.files);
const tmp = mkdtempSync(join(tmpdir(), 'refscope-bench-review-'));
try {
  symlinkSync(join(kernel, 'include'), join(tmp, 'include'));
  const dirs = new Set(files.map((f) => dirname(f)));
  for (const d of dirs) {
    mkdirSync(join(tmp, d), { recursive: true });
    for (const ent of readdirSync(join(kernel, d))) if (ent.endsWith('.h')) copyFileSync(join(kernel, d, ent), join(tmp, d, ent));
  }
  for (const f of files) copyFileSync(join(kernel, f), join(tmp, f));
  writeFileSync(join(tmp, '.gitignore'), 'include\n');
  git(tmp, 'init', '-q', '-b', 'main');
  git(tmp, 'add', '-A');
  git(tmp, 'commit', '-q', '-m', 'base');
  const bytes = files.reduce((a, f) => a + statSync(join(tmp, f)).size, 0);
  let edited = 0;
  for (const f of files) {
    const t = readFileSync(join(tmp, f), 'utf8');
    // The first statement line that calls a get/put-like or refcount primitive gets a comment above it.
    const lines = t.split('\n');
    const i = lines.findIndex((l) => /^\t+(?:\w+ = )?\w*(?:kref_|refcount_|_get\(|_put\(|_get_unless_zero\()/.test(l));
    if (i >= 0) {
      lines.splice(i, 0, '\t/* review benchmark: a harmless line inside a function */');
      edited++;
    }
    writeFileSync(join(tmp, f), '/* review benchmark: a harmless line */\n' + lines.join('\n'));
  }
  const cache = join(tmp, '.cache');
  const modes = [
    { name: 'cold (--no-cache)', flags: ['--no-cache'] },
    { name: 'warm cache', flags: ['--cache-dir', cache] },
  ];
  timeCli(['check', '--cache-dir', cache, '--format', 'json', ...files], tmp); // warms the cache for the warm mode
  timeCli(['check', '--cache-dir', cache, '--format', 'json', '--since', 'HEAD'], tmp);
  const rows = [];
  const loadStart = load1();
  const header = `${files.length} files of drivers/gpu/drm (${(bytes / 1024).toFixed(0)} KB), a line inserted at the top of each and one inside a get/put function of ${edited} of them`;
  console.log(`review benchmark: ${files.length} files of drivers/gpu/drm (${(bytes / 1024).toFixed(0)} KB), a line inserted at the top of each and one inside a get/put function of ${edited} of them; ${o.repeat} run(s), best time`);
  for (const m of modes) {
    let check = Infinity;
    let review = Infinity;
    let plain = null;
    let rev = null;
    let checkCpu = Infinity;
    let reviewCpu = Infinity;
    for (let i = 0; i < o.repeat; i++) {
      const c = timeCli(['check', ...m.flags, '--format', 'json', ...files], tmp);
      const r = timeCli(['check', ...m.flags, '--format', 'json', '--since', 'HEAD'], tmp);
      check = Math.min(check, c.ms);
      review = Math.min(review, r.ms);
      plain = JSON.parse(c.stdout);
      rev = JSON.parse(r.stdout);
      checkCpu = Math.min(checkCpu, plain.stats.cpuMs);
      reviewCpu = Math.min(reviewCpu, rev.stats.cpuMs);
    }
    const s = rev.review[0];
    const lc = s.lifecycle ?? [];
    const lcText = `lifecycle: ${lc.length} types checked at both ends in ${((s.ms.lifecycle ?? 0) / 1000).toFixed(2)} s, ${lc.filter((x) => x.status !== 'unchanged').length} verdicts changed`;
    rows.push(`| ${m.name} | ${(check / 1000).toFixed(2)} s / ${(checkCpu / 1000).toFixed(1)} s | ${(review / 1000).toFixed(2)} s / ${(reviewCpu / 1000).toFixed(1)} s | ${s.new} new, ${s.fixed} fixed, ${s.unchanged} unchanged | ${lc.length} type${lc.length === 1 ? '' : 's'} (${lc.map((x) => '`' + x.type + '` ' + x.status).join(', ') || 'none'}), ${((s.ms.lifecycle ?? 0) / 1000).toFixed(2)} s | **${(review / check).toFixed(2)}** | ${(reviewCpu / checkCpu).toFixed(2)} |`);
    console.log(`  ${m.name}: check ${(check / 1000).toFixed(2)} s (${plain.findings.length} findings); check --since HEAD ${(review / 1000).toFixed(2)} s (${s.files.base}+${s.files.head} file ends, ${s.new} new, ${s.fixed} fixed, ${s.unchanged} unchanged; ${lcText}); wall ratio ${(review / check).toFixed(2)} (target < 2); CPU ${(checkCpu / 1000).toFixed(1)} s vs ${(reviewCpu / 1000).toFixed(1)} s, ratio ${(reviewCpu / checkCpu).toFixed(2)}`);
  }
  if (o.write) {
    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    writeSection('review', `<!-- review:begin (written by npm run bench:review: bench/review-drm.mjs) -->
## Patch review: \`check --since HEAD\` beside \`check\` on the same files (\`npm run bench:review\`)

- date: ${date}
- machine: ${machineLine()}; load average (1 min) at start / end: ${loadStart.toFixed(2)} / ${load1().toFixed(2)}
- change: ${header}, in a git repository of those files (their directories' headers copied, \`include\` a symlink to the kernel's); every finding moves, none is new, no lifecycle verdict changes
- commands (cwd = that repository): check = \`node dist/cli.js check --format json [--no-cache | --cache-dir D] FILE...\` (the 50 files); review = \`node dist/cli.js check --format json [--no-cache | --cache-dir D] --since HEAD\` (both ends of the 50 files, all rules, workspace index, lifecycle impact); best of ${o.repeat}

| cache | check: wall / CPU | review: wall / CPU | review result | lifecycle impact: types checked at both ends, time | **wall ratio** (target < 2) | CPU ratio |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
<!-- review:end -->
`);
  }
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
