// Refscope beside Coccinelle's lock scripts (scripts/coccinelle/locks/mini_lock.cocci,
// double_lock.cocci, call_kern.cocci) on Linux 6.12 drivers/gpu/drm, measured in the
// same invocation, alternating: wall time, CPU time (user+sys of the child and the
// processes it waited for), peak memory and the reports of each tool, the ratios of
// each script's wall time (and of their sum) to Refscope's, and the overlap of the
// reports: each Coccinelle report against the Refscope findings of the rule it
// corresponds to, and the other way round.
//
//   mini_lock   ~ lock-leak        (a lock not released on some path)
//   double_lock ~ double-lock
//   call_kern   ~ sleep-in-atomic  (GFP_KERNEL allocation under a spinlock)
//
// spatch runs the way `make coccicheck MODE=report M=drivers/gpu/drm` runs it on a
// 2-core machine (scripts/coccicheck of the tree): the script's `Options:` line, the
// include options coccicheck derives from LINUXINCLUDE, `--jobs N --chunksize 1`,
// from the tree top (so the tree's .cocciconfig adds `--timeout 200 --use-gitgrep`).
// The unpacked Debian tree is not a git repository, and `--use-gitgrep` then finds
// a single file ("fatal: not a git repository ... 1 files match"), so
// `--use-coccigrep` (the same token prefilter, done by spatch itself) is appended,
// the way coccicheck's SPFLAGS override it.
//
// Peak memory: sampled every 200 ms over the child and its descendants (spatch
// --jobs forks workers): the sum of their PSS (shared pages counted once), and the
// largest VmHWM of a single process (for Refscope, one process with worker threads,
// that is its exact peak RSS).
//
// usage: node bench/cocci-drm.mjs [--write] [--repeat N] [--jobs N] [--kernel DIR] [SUBDIR]
//   --write   replace (or append) the cocci-drm section of bench/RESULTS.md, with the
//             hand-written notes of bench/cocci-drm-notes.md inside it if that file exists
//   --repeat  rounds of the four runs (Refscope, mini_lock, double_lock, call_kern); best of each
//   --jobs    spatch processes (default: available cores, which is what coccicheck uses
//             up to 4 cores); Refscope always runs with its default jobs
//   SUBDIR    relative to the kernel tree (default drivers/gpu/drm); the tree comes from
//             --kernel, $KERNEL_SRC or /work/shared/tools/kernel-source
// exit status: 0 done, 2 spatch missing or usage error, 1 a run failed
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelTree as findKernel, listFiles, machineLine, repo, writeSection } from './common.mjs';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const BEGIN = '<!-- cocci-drm:begin (written by npm run bench:cocci: bench/cocci-drm.mjs) -->';
const END = '<!-- cocci-drm:end -->';
const NOTES = join(here, 'cocci-drm-notes.md');
const WINDOW = 50; // line window when a line is not inside a function the scan recognises

const SCRIPTS = [
  { name: 'mini_lock', rule: 'lock-leak', what: 'unlock missing on an if branch that returns, between a lock and an unlock' },
  { name: 'double_lock', rule: 'double-lock', what: 'the same lock taken twice on a path' },
  { name: 'call_kern', rule: 'sleep-in-atomic', what: 'a function of the file that uses GFP_KERNEL, called under a spinlock or with irqs off' },
];

function usage(msg) {
  console.error(`cocci-drm: ${msg}`);
  console.error('usage: node bench/cocci-drm.mjs [--write] [--repeat N] [--jobs N] [--kernel DIR] [SUBDIR]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { write: false, repeat: 1, jobs: availableParallelism(), kernel: process.env.KERNEL_SRC ?? '', dir: 'drivers/gpu/drm' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--write') o.write = true;
    else if (a === '--repeat') o.repeat = Math.max(1, Number(argv[++i]) || 1);
    else if (a === '--jobs') o.jobs = Math.max(1, Number(argv[++i]) || 1);
    else if (a === '--kernel') o.kernel = argv[++i];
    else if (a === '-h' || a === '--help') usage('help');
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.dir = a.replace(/\/+$/, '');
  }
  return o;
}

function findSpatch() {
  const cands = [process.env.SPATCH, '/usr/bin/spatch'].filter(Boolean);
  for (const c of cands) if (existsSync(c)) return c;
  try {
    const p = execFileSync('bash', ['-c', 'command -v spatch'], { encoding: 'utf8' }).trim();
    if (p) return p;
  } catch { /* not found */ }
  return '';
}

// ---------------------------------------------------------------- measurement

const TICK_MS = 10; // USER_HZ is 100 on Linux
/** user+sys CPU of this process's waited-for children (fields cutime, cstime of /proc/self/stat), in ms. */
function childrenCpuMs() {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); cutime is field 16, cstime field 17
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}

function descendants(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try { tasks = readdirSync(`/proc/${out[i]}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch { /* gone */ }
    }
  }
  return out;
}

function kb(text, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Spawn cmd in cwd; wall, children CPU, sampled peak memory, stdout and stderr. */
function measure(cmd, args, cwd) {
  return new Promise((res, rej) => {
    const cpu0 = childrenCpuMs();
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    let pssPeakKB = 0;
    let hwmPeakKB = 0;
    let procsPeak = 0;
    const sample = () => {
      let pss = 0;
      const pids = descendants(child.pid);
      for (const p of pids) {
        try { pss += kb(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'), 'Pss'); } catch { /* exited */ }
        try { hwmPeakKB = Math.max(hwmPeakKB, kb(readFileSync(`/proc/${p}/status`, 'utf8'), 'VmHWM')); } catch { /* exited */ }
      }
      pssPeakKB = Math.max(pssPeakKB, pss);
      procsPeak = Math.max(procsPeak, pids.length);
    };
    const poll = setInterval(sample, 200);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => { clearInterval(poll); rej(e); });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      const ms = performance.now() - t0;
      res({
        ms, cpuMs: childrenCpuMs() - cpu0, code, signal,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
        pssPeakMB: pssPeakKB / 1024, hwmPeakMB: hwmPeakKB / 1024, procsPeak,
      });
    });
  });
}

// ---------------------------------------------------------------- tools

/** The spatch arguments coccicheck uses in report mode, for one script (paths relative to the tree top). */
function spatchArgs(kernel, script, dir, jobs) {
  const cocci = `scripts/coccinelle/locks/${script}.cocci`;
  const text = readFileSync(join(kernel, cocci), 'utf8');
  const opt = (/^\/\/ Options:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  // LINUXINCLUDE of the 6.12 Makefile for an in-tree x86 build (srctree = objtree = .),
  // rewritten the way coccicheck rewrites it: "-I dir", "--include file"
  const inc = ['arch/x86/include', 'arch/x86/include/generated', 'include', 'arch/x86/include/uapi',
    'arch/x86/include/generated/uapi', 'include/uapi', 'include/generated/uapi'].flatMap((d) => ['-I', `./${d}`]);
  const forced = ['include/linux/compiler-version.h', 'include/linux/kconfig.h'].flatMap((f) => ['--include', `./${f}`]);
  const par = jobs > 1 ? ['--jobs', String(jobs), '--chunksize', '1'] : [];
  return ['-D', 'report', '--no-show-diff', '--very-quiet', '--cocci-file', cocci, ...opt, '--dir', dir, ...inc, ...forced, ...par, '--use-coccigrep'];
}

/** `file:line:col-col: message` lines of a report-mode run, with the other lines the message names. */
function parseSpatch(script, stdout) {
  const seen = new Set();
  const reports = [];
  for (const l of stdout.split('\n')) {
    const m = /^(\S+?):(\d+):(\d+)-(\d+): (.*)$/.exec(l.trim());
    if (!m || seen.has(l.trim())) continue;
    seen.add(l.trim());
    const [, file, line, , , message] = m;
    const lines = [Number(line)];
    for (const n of message.matchAll(/on line (\d+)/g)) lines.push(Number(n[1]));
    reports.push({ script, file: file.replace(/^\.\//, ''), line: Number(line), message, lines });
  }
  return reports.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

// ---------------------------------------------------------------- functions of a file

const fnCache = new Map();
const NOT_NAMES = new Set(['__attribute__', '__printf', '__scanf', '__acquires', '__releases', '__must_hold', '__aligned',
  '__section', '__alias', '__diag_ignore', 'if', 'for', 'while', 'switch', 'return', 'sizeof', 'defined']);
/**
 * Function definitions in kernel style: a body opens with `{` alone at column 0 and
 * closes at the next `}` at column 0; the name is the first identifier followed by `(`
 * in the lines of the head above the `{` (back to a blank line, a directive, or a line
 * ending a statement or comment). Returns [{ name, start, end }] with 1-based lines.
 */
function functionsOf(kernel, file) {
  if (fnCache.has(file)) return fnCache.get(file);
  let text = '';
  try { text = readFileSync(join(kernel, file), 'utf8'); } catch { /* missing */ }
  const lines = text.split('\n');
  const fns = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\{\s*(\/[*/].*)?$/.test(lines[i])) continue;
    let j = i - 1;
    let head = '';
    while (j >= 0 && i - j <= 12) {
      const l = lines[j];
      if (/^\s*$/.test(l) || /^\s*#/.test(l) || /[;}]\s*$/.test(l) || /\*\/\s*$/.test(l)) break;
      head = `${l} ${head}`;
      j--;
    }
    let name = '';
    for (const m of head.matchAll(/([A-Za-z_]\w*)\s*\(/g)) {
      if (!NOT_NAMES.has(m[1]) && !m[1].startsWith('__attribute')) { name = m[1]; break; }
    }
    let k = i + 1;
    while (k < lines.length && !/^\}/.test(lines[k])) k++;
    fns.push({ name: name || '?', start: j + 2, end: k + 1 });
    i = k;
  }
  fnCache.set(file, fns);
  return fns;
}

function fnAt(kernel, file, line) {
  return functionsOf(kernel, file).find((f) => f.start <= line && line <= f.end) ?? null;
}

/**
 * Do two sets of lines of the same file share a function? Same recognised function
 * (or, for a line outside any, a distance of at most WINDOW lines). Returns the
 * reason or ''.
 */
function related(kernel, file, aLines, bLines, bFunction) {
  for (const a of aLines) {
    const fa = fnAt(kernel, file, a);
    if (fa && bFunction && fa.name === bFunction) return `same function ${fa.name}`;
    for (const b of bLines) {
      const fb = fnAt(kernel, file, b);
      if (fa && fb) { if (fa === fb) return `same function ${fa.name}`; }
      else if (Math.abs(a - b) <= WINDOW) return `±${WINDOW} lines (${a}/${b})`;
    }
  }
  return '';
}

function findingLines(f) {
  return [f.line, ...(f.trace ?? []).filter((t) => !t.file || t.file === f.file).map((t) => t.line)];
}

// ---------------------------------------------------------------- formatting

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mb = (x) => `${x.toFixed(0)} MB`;
const x2 = (r) => `${r.toFixed(2)}×`;
const md = (t) => String(t).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const loc = (r) => `\`${r.file}:${r.line}\``;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const spatch = findSpatch();
  if (!spatch) {
    console.error('cocci-drm: spatch (Coccinelle) not found: install it (Debian: apt-get install coccinelle) or set SPATCH=/path/to/spatch');
    process.exit(2);
  }
  const spatchVersion = execFileSync(spatch, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  const cli = process.env.REFSCOPE_CLI ?? join(repo, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    console.log('dist/cli.js missing: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'inherit' });
  }
  const kernel = findKernel(o.kernel);
  if (!existsSync(join(kernel, o.dir))) usage(`${join(kernel, o.dir)} does not exist`);
  for (const sc of SCRIPTS) {
    if (!existsSync(join(kernel, `scripts/coccinelle/locks/${sc.name}.cocci`))) usage(`missing scripts/coccinelle/locks/${sc.name}.cocci in ${kernel}`);
  }
  const files = listFiles(join(kernel, o.dir)).map((f) => f.path);
  let bytes = 0;
  for (const f of files) bytes += readFileSync(f).length; // also warms the page cache
  console.log(`kernel tree ${kernel}; ${o.dir}: ${files.length} .c/.h files, ${(bytes / 1e6).toFixed(1)} MB; ${spatchVersion}; spatch --jobs ${o.jobs}, Refscope default jobs (${availableParallelism()})`);

  const rsArgs = [cli, 'check', '--format', 'json', '--no-cache', '--root', '.', o.dir];
  const spArgs = Object.fromEntries(SCRIPTS.map((sc) => [sc.name, spatchArgs(kernel, sc.name, o.dir, o.jobs)]));

  const loadStart = loadavg();
  const best = {};
  const keep = (k, r) => { if (!best[k] || r.ms < best[k].ms) best[k] = r; };
  const runs = {};
  for (let round = 0; round < o.repeat; round++) {
    const r = await measure(process.execPath, rsArgs, kernel);
    if (r.code !== 0 && r.code !== 1) throw new Error(`refscope check exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
    r.json = JSON.parse(r.stdout);
    r.stdout = '';
    console.log(`round ${round + 1}: refscope check  ${s(r.ms)} wall, ${s(r.cpuMs)} CPU, ${mb(r.hwmPeakMB)} peak RSS, ${r.json.findings.length} findings`);
    keep('refscope', r);
    (runs.refscope ??= []).push(r.ms);
    for (const sc of SCRIPTS) {
      const p = await measure(spatch, spArgs[sc.name], kernel);
      if (p.code !== 0) throw new Error(`spatch ${sc.name} exited ${p.code ?? p.signal}: ${p.stderr.trim().slice(-2000)}`);
      p.reports = parseSpatch(sc.name, p.stdout);
      p.filesMatch = Number(/(\d+) files match/.exec(p.stderr)?.[1] ?? NaN);
      p.stderrOther = p.stderr.split('\n').filter((l) => l.trim() && !/files match/.test(l));
      console.log(`round ${round + 1}: spatch ${sc.name.padEnd(11)} ${s(p.ms)} wall, ${s(p.cpuMs)} CPU, ${mb(p.pssPeakMB)} peak PSS (${p.procsPeak} processes), ${p.reports.length} reports, ${p.filesMatch} files after the prefilter${p.stderrOther.length ? `, ${p.stderrOther.length} other stderr lines` : ''}`);
      keep(sc.name, p);
      (runs[sc.name] ??= []).push(p.ms);
    }
  }
  const loadEnd = loadavg();

  // ------------------------------------------------------------ overlap
  const rs = best.refscope;
  const rsFindings = rs.json.findings;
  const mapped = rsFindings.filter((f) => SCRIPTS.some((sc) => sc.rule === f.rule));
  const cocci = SCRIPTS.flatMap((sc) => best[sc.name].reports.map((r) => ({ ...r, rule: sc.rule })));
  for (const c of cocci) {
    const fn = fnAt(kernel, c.file, c.line);
    c.fn = fn ? fn.name : '';
    c.match = '';
    c.other = [];
    for (const f of rsFindings) {
      if (f.file !== c.file) continue;
      const why = related(kernel, c.file, c.lines, findingLines(f), f.function);
      if (!why) continue;
      if (f.rule === c.rule) c.match ||= `${f.rule} ${loc(f)} (${why})`;
      else c.other.push(`${f.rule} ${loc(f)}`);
    }
  }
  for (const f of mapped) {
    f.match = '';
    f.other = [];
    for (const c of cocci) {
      if (c.file !== f.file) continue;
      const why = related(kernel, f.file, c.lines, findingLines(f), f.function);
      if (!why) continue;
      if (c.rule === f.rule) f.match ||= `${c.script} ${loc(c)} (${why})`;
      else f.other.push(`${c.script} ${loc(c)}`);
    }
  }
  const cocciMatched = cocci.filter((c) => c.match).length;
  const rsMatched = mapped.filter((f) => f.match).length;

  // ------------------------------------------------------------ markdown
  const sum = SCRIPTS.reduce((a, sc) => a + best[sc.name].ms, 0);
  const sumCpu = SCRIPTS.reduce((a, sc) => a + best[sc.name].cpuMs, 0);
  const perRule = {};
  for (const f of rsFindings) perRule[f.rule] = (perRule[f.rule] ?? 0) + 1;
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const la = (l) => l.map((v) => v.toFixed(2)).join(' ');
  const bestOf = o.repeat > 1 ? `best of ${o.repeat} alternating rounds (wall times of the rounds: ${Object.entries(runs).map(([k, v]) => `${k} ${v.map((m) => (m / 1000).toFixed(1)).join('/')} s`).join(', ')})` : 'best of 1 (one round: Refscope, then the three scripts, one after the other)';
  const cmd = (a) => a.map((x) => (/[\s"'$]/.test(x) ? `'${x}'` : x)).join(' ');
  const rsCmd = `node ${cli === join(repo, 'dist', 'cli.js') ? 'dist/cli.js' : relative(repo, cli)} ${cmd(rsArgs.slice(1))}`;
  const notes = existsSync(NOTES) ? readFileSync(NOTES, 'utf8').trim() : '';

  const toolRow = (name, r, reports, extra) => `| ${name} | ${s(r.ms)} | ${s(r.cpuMs)} | ${mb(r.pssPeakMB)} | ${mb(r.hwmPeakMB)} | ${reports} | ${extra} |`;
  const section = `${BEGIN}
## Refscope beside Coccinelle's lock scripts on ${o.dir} (\`npm run bench:cocci\`)

- date: ${date}
- machine: ${machineLine()}; ${spatchVersion} (Debian coccinelle)
- load average (1 / 5 / 15 min) at start: ${la(loadStart)}, at end: ${la(loadEnd)} (the machine is shared: other load slows all wall times alike; CPU times are less sensitive to it)
- tree: Linux 6.12 \`${o.dir}\` (${files.length} .c/.h files, ${(bytes / 1e6).toFixed(1)} MB), all commands run from the tree top, files in the page cache
- ${bestOf}
- Refscope: \`${rsCmd}\` (default jobs: ${availableParallelism()} worker threads; exit 1 = has findings)
${SCRIPTS.map((sc) => `- ${sc.name}: \`spatch ${cmd(spArgs[sc.name])}\``).join('\n')}
- spatch options as \`make coccicheck MODE=report M=${o.dir}\` passes them on ${o.jobs} cores (\`scripts/coccicheck\`: \`-D report --no-show-diff --very-quiet\`, the script's \`Options:\` line \`--no-includes --include-headers\`, LINUXINCLUDE as \`-I\`/\`--include\`, \`--jobs ${o.jobs} --chunksize 1\`); the tree's \`.cocciconfig\` (read from the cwd) adds \`--timeout 200 --use-gitgrep\`; the Debian tree is no git repository, so \`--use-gitgrep\` would process one file only ("fatal: not a git repository … 1 files match"), and \`--use-coccigrep\` (spatch's own version of the same token prefilter) is appended the way coccicheck's SPFLAGS override options
- CPU = user+sys of the child and of the processes it waited for (\`cutime\`+\`cstime\` of the benchmark process); peak PSS = largest sampled (200 ms) sum of the PSS of the child and its descendants (spatch forks its \`--jobs\` workers); peak RSS = largest VmHWM of one of those processes (exact for Refscope: one process, worker threads)

| tool | wall | CPU | peak PSS (all processes) | peak RSS (largest process) | reports | notes |
| --- | --- | --- | --- | --- | --- | --- |
${toolRow('Refscope `check` (all 12 rules, workspace index)', rs, `${rsFindings.length} (${Object.entries(perRule).map(([k, v]) => `${k} ${v}`).join(', ')})`, `${rs.json.stats.files} files analysed; own CPU figure ${s(rs.json.stats.cpuMs ?? NaN)}`)}
${SCRIPTS.map((sc) => toolRow(`\`${sc.name}.cocci\``, best[sc.name], best[sc.name].reports.length, `${best[sc.name].filesMatch} files after the prefilter; up to ${best[sc.name].procsPeak} processes${best[sc.name].stderrOther.length ? `; ${best[sc.name].stderrOther.length} other stderr lines` : ''}`)).join('\n')}
| sum of the three scripts | ${s(sum)} | ${s(sumCpu)} | | | ${cocci.length} | |

| ratio (wall) | value |
| --- | --- |
${SCRIPTS.map((sc) => `| \`${sc.name}.cocci\` / Refscope | ${x2(best[sc.name].ms / rs.ms)} |`).join('\n')}
| **sum of the three / Refscope** (target ≥ 5) | **${x2(sum / rs.ms)}** |
| CPU: sum of the three / Refscope | ${x2(sumCpu / rs.cpuMs)} |

Overlap. Pairs: \`mini_lock\` ~ \`lock-leak\`, \`double_lock\` ~ \`double-lock\`, \`call_kern\` ~ \`sleep-in-atomic\`.
A Coccinelle report and a Refscope finding of the paired rule match when they are in the same file and a line of the report (its position, and the lines its message names: the preceding/second lock, the call and the lock of \`call_kern\`) lies in the same function as a line of the finding (its position and its trace), or in the function the finding names. Functions are found by a kernel-style scan (a body opens with \`{\` alone at column 0 and ends at the next \`}\` at column 0); a line outside any such body matches within ±${WINDOW} lines.
Coccinelle reports matched: **${cocciMatched} of ${cocci.length}**; Refscope \`lock-leak\`/\`double-lock\`/\`sleep-in-atomic\` findings matched: **${rsMatched} of ${mapped.length}**.

| Coccinelle report | function | message | Refscope, paired rule | Refscope, other rules in that function |
| --- | --- | --- | --- | --- |
${cocci.map((c) => `| \`${c.script}\` ${loc(c)} | \`${c.fn || '?'}\` | ${md(c.message)} | ${c.match || 'not reported'} | ${c.other.join(', ') || '–'} |`).join('\n') || '| (none) | | | | |'}

| Refscope finding | function | message | Coccinelle, paired script | Coccinelle, other scripts in that function |
| --- | --- | --- | --- | --- |
${mapped.map((f) => `| \`${f.rule}\` ${loc(f)} | \`${f.function ?? '?'}\` | ${md(f.message.length > 240 ? `${f.message.slice(0, 237)}...` : f.message)} | ${f.match || 'not reported'} | ${f.other.join(', ') || '–'} |`).join('\n') || '| (none) | | | | |'}
${notes ? `\n${notes}\n` : ''}${END}
`;
  console.log(`\n${section}`);
  if (o.write) {
    writeSection('cocci-drm', section);
    console.log('wrote bench/RESULTS.md');
  }
}

main().catch((e) => {
  console.error(`cocci-drm: ${e.message}`);
  process.exit(1);
});
