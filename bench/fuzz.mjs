// Fuzzer over the core: mutates real Linux-kernel C files (byte flips, deleted
// and duplicated lines and tokens, truncation, functions spliced in from another
// file) and runs analyzeFile plus every refcount rule (with a workspace index
// built from the ORIGINAL files) on each mutant in worker threads. A worker that
// exceeds the per-file timeout is terminated and counted as a hang; an exception
// is a crash. The input of every crash or hang is saved to out/fuzz-failures/
// (with the error), to be turned into a fixture in test/fixtures/robustness/.
//
// usage: npm run fuzz -- [--count N] [--seed S] [--jobs J] [--timeout MS]
//                        [--kernel DIR] [--dirs a,b] [--max-kb K] [--json] [--no-save]
//   defaults: --count 1000 --seed 1 --jobs 2 --timeout 30000 --dirs drivers/gpu/drm,fs --max-kb 64 --pool 64
//   (--pool: how many base files, drawn with the seed, the mutants are made from)
//   Prints files, crashes, hangs, max per-file time, peak RSS; exits 1 on any crash or hang.
//   --json prints one JSON summary line last (for test/corpus/fuzz-short.test.ts).
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

/* ------------------------------------------------------------------ PRNG */

/** mulberry32: small, fixed, reproducible across Node versions. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (arr) => arr[Math.floor(next() * arr.length)] };
}

/* ------------------------------------------------------------- mutations */

const NASTY = ['\0', '{', '}', '(', ')', ';', '"', "'", '/*', '*/', '#', '\\', '\r', '\n', '\uFFFD', 'é', '\u2028', '\uD800', '#define', 'goto out;', 'return;', '->', '&', '*'];

function lineBounds(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** Top-level function definitions, roughly: a line starting with an identifier, the body from `{` at column 0 to `}` at column 0. */
export function functionsIn(text) {
  const out = [];
  const re = /^[A-Za-z_][^\n;]*\)\s*\n\{\n[\s\S]*?\n\}\n/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ start: m.index, end: m.index + m[0].length });
  return out;
}

const MUTATORS = {
  flip(text, r) {
    const n = 1 + r.int(8);
    const chars = text.split('');
    for (let i = 0; i < n && chars.length; i++) {
      const at = r.int(chars.length);
      chars[at] = r.next() < 0.5 ? String.fromCharCode(chars[at].charCodeAt(0) ^ (1 << r.int(8))) : r.pick(NASTY);
    }
    return chars.join('');
  },
  deleteLines(text, r) {
    const lines = text.split('\n');
    const at = r.int(lines.length);
    lines.splice(at, 1 + r.int(20));
    return lines.join('\n');
  },
  duplicateLines(text, r) {
    const lines = text.split('\n');
    const at = r.int(lines.length);
    const seg = lines.slice(at, at + 1 + r.int(20));
    lines.splice(at + r.int(seg.length + 1), 0, ...seg);
    return lines.join('\n');
  },
  deleteToken(text, r) {
    const toks = [...text.matchAll(/\w+|[^\s\w]/g)];
    if (!toks.length) return text;
    const n = 1 + r.int(4);
    let t = text;
    for (let i = 0; i < n; i++) {
      const m = r.pick(toks);
      if (m.index + m[0].length <= t.length) t = t.slice(0, m.index) + t.slice(m.index + m[0].length);
    }
    return t;
  },
  duplicateToken(text, r) {
    const toks = [...text.matchAll(/\w+|[^\s\w]/g)];
    if (!toks.length) return text;
    const m = r.pick(toks);
    const times = 1 + r.int(r.next() < 0.1 ? 200 : 3);
    return text.slice(0, m.index) + (m[0] + ' ').repeat(times) + text.slice(m.index);
  },
  truncate(text, r) {
    return text.slice(0, r.int(text.length + 1));
  },
  splice(text, r, donor) {
    const fns = functionsIn(donor);
    if (!fns.length) return text;
    const f = r.pick(fns);
    const body = donor.slice(f.start, f.end);
    const mine = functionsIn(text);
    if (mine.length && r.next() < 0.5) {
      const g = r.pick(mine);
      return text.slice(0, g.start) + body + text.slice(g.end);
    }
    const starts = lineBounds(text);
    const at = r.pick(starts);
    return text.slice(0, at) + body + text.slice(at);
  },
};
const MUTATOR_NAMES = Object.keys(MUTATORS);

export function mutate(text, donor, r) {
  const applied = [];
  let t = text;
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const name = r.pick(MUTATOR_NAMES);
    t = MUTATORS[name](t, r, donor);
    applied.push(name);
  }
  return { text: t, applied };
}

/* ------------------------------------------------------------------ main */

function parseArgs(argv) {
  const o = { count: 1000, seed: 1, jobs: 2, timeout: 30000, kernel: process.env.KERNEL_SRC ?? '', dirs: ['drivers/gpu/drm', 'fs'], maxKb: 64, pool: 64, json: false, save: true, out: join(repo, 'out', 'fuzz-failures') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--count') o.count = Number(argv[++i]);
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--jobs') o.jobs = Math.max(1, Number(argv[++i]));
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--kernel') o.kernel = argv[++i];
    else if (a === '--dirs') o.dirs = argv[++i].split(',');
    else if (a === '--max-kb') o.maxKb = Number(argv[++i]);
    else if (a === '--pool') o.pool = Math.max(2, Number(argv[++i]));
    else if (a === '--out') o.out = resolve(argv[++i]);
    else if (a === '--json') o.json = true;
    else if (a === '--no-save') o.save = false;
    else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error('--count wants a positive integer');
  if (!Number.isFinite(o.seed)) throw new Error('--seed wants a number');
  return o;
}

function kernelDir(o) {
  if (o.kernel) return o.kernel;
  return execFileSync(join(repo, '..', 'shared', 'tools', 'kernel-source'), { encoding: 'utf8' }).trim();
}

function cFiles(dir, maxBytes, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) cFiles(p, maxBytes, out);
    else if (e.isFile() && e.name.endsWith('.c') && statSync(p).size <= maxBytes) out.push(p);
  }
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const kernel = kernelDir(o);
  if (!existsSync(kernel)) throw new Error(`kernel tree not found: ${kernel}`);
  const all = o.dirs.flatMap((d) => cFiles(join(kernel, d), o.maxKb * 1024));
  if (all.length < 2) throw new Error(`too few C files under ${o.dirs.join(', ')} in ${kernel}`);
  const r = prng(o.seed);
  // A pool of base files drawn with the seed: mutants come from these (their facts are then cached in the workers).
  const files = [];
  for (const rest = [...all]; files.length < Math.min(o.pool, all.length);) files.push(rest.splice(r.int(rest.length), 1)[0]);
  const textCache = new Map();
  const read = (p) => {
    let t = textCache.get(p);
    if (t === undefined) {
      t = readFileSync(p, 'utf8');
      if (textCache.size > 512) textCache.clear();
      textCache.set(p, t);
    }
    return t;
  };

  const t0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
  const stats = { files: 0, crashes: 0, hangs: 0, maxMs: 0, maxFile: '', findings: 0, incomplete: 0, mutators: {} };
  const failures = [];
  let nextId = 0;

  const makeJob = () => {
    const id = nextId++;
    const base = r.pick(files);
    let donor = r.pick(files);
    if (donor === base) donor = files[(files.indexOf(base) + 1) % files.length];
    const m = mutate(read(base), read(donor), r);
    for (const a of m.applied) stats.mutators[a] = (stats.mutators[a] ?? 0) + 1;
    return { id, base, donor, text: m.text, applied: m.applied };
  };

  const save = (job, kind, detail) => {
    failures.push({ kind, base: relative(kernel, job.base), applied: job.applied, detail });
    if (!o.save) return;
    mkdirSync(o.out, { recursive: true });
    const stem = join(o.out, `seed${o.seed}-${job.id}-${kind}`);
    writeFileSync(`${stem}.c`, job.text);
    writeFileSync(`${stem}.json`, JSON.stringify({ kind, seed: o.seed, id: job.id, base: relative(kernel, job.base), donor: relative(kernel, job.donor), applied: job.applied, detail }, null, 2));
  };

  // Jobs are generated in id order on the main thread only, so the mutants depend on the seed alone, not on timing.
  let generated = 0;
  const take = () => {
    if (generated >= o.count) return null;
    generated++;
    return makeJob();
  };

  await new Promise((done) => {
    let active = 0;
    const spawnSlot = () => {
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: {}, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
      let current = null;
      let timer = null;
      let dead = false;
      const finish = () => {
        if (dead) return;
        dead = true;
        active--;
        if (active === 0) done();
      };
      const feed = () => {
        current = take();
        if (!current) {
          void w.terminate();
          finish();
          return;
        }
        timer = setTimeout(() => {
          stats.files++;
          stats.hangs++;
          save(current, 'hang', `over ${o.timeout} ms`);
          current = null;
          dead = true;
          void w.terminate().then(() => {
            active--;
            spawnSlot();
          });
        }, o.timeout);
        w.postMessage({ id: current.id, base: current.base, donor: current.donor, text: current.text, file: relative(kernel, current.base) });
      };
      w.on('message', (msg) => {
        if (msg.ready) {
          ready = true;
          feed();
          return;
        }
        clearTimeout(timer);
        const job = current;
        stats.files++;
        if (msg.ms > stats.maxMs) {
          stats.maxMs = msg.ms;
          stats.maxFile = `${relative(kernel, job.base)} #${job.id}`;
        }
        stats.findings += msg.findings ?? 0;
        stats.incomplete += msg.incomplete ?? 0;
        if (msg.error) {
          stats.crashes++;
          save(job, 'crash', msg.error);
        }
        if (!o.json && stats.files % 250 === 0) process.stderr.write(`  ${stats.files}/${o.count} files, ${stats.crashes} crashes, ${stats.hangs} hangs, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
        feed();
      });
      let ready = false;
      w.on('error', (e) => {
        clearTimeout(timer);
        if (dead) return;
        if (!ready) {
          // the worker could not even start: respawning would loop forever
          process.stderr.write(`fuzz: worker failed to start: ${e?.stack ?? e}\n`);
          process.exit(2);
        }
        if (current) {
          stats.files++;
          stats.crashes++;
          save(current, 'crash', `worker died: ${e?.stack ?? e}`);
        }
        dead = true;
        active--;
        spawnSlot();
      });
      active++;
    };
    for (let i = 0; i < o.jobs; i++) spawnSlot();
  });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const summary = {
    seed: o.seed, count: o.count, files: stats.files, crashes: stats.crashes, hangs: stats.hangs,
    maxFileMs: Math.round(stats.maxMs), maxFile: stats.maxFile, timeoutMs: o.timeout,
    peakRssMb: Math.round(peakRss / 1048576), wallS: Math.round((performance.now() - t0) / 100) / 10,
    baseFiles: files.length, findings: stats.findings, functionsNotAnalysed: stats.incomplete, mutators: stats.mutators,
    failures,
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const lines = [
      `fuzz: seed ${o.seed}, ${summary.files} mutated files from a pool of ${files.length} of the ${all.length} kernel C files under ${o.dirs.join(', ')} (<= ${o.maxKb} KB)`,
      `crashes: ${summary.crashes}`,
      `hangs (over ${o.timeout} ms): ${summary.hangs}`,
      `max per-file time: ${summary.maxFileMs} ms (${summary.maxFile})`,
      `peak RSS: ${summary.peakRssMb} MB`,
      `wall: ${summary.wallS} s; findings ${summary.findings}; functions not analysed ${summary.functionsNotAnalysed}`,
      `mutations: ${Object.entries(summary.mutators).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ];
    if (failures.length) lines.push(`failures saved to ${relative(repo, o.out)}/`, ...failures.slice(0, 20).map((f) => `  ${f.kind} ${f.base} [${f.applied.join(',')}]: ${String(f.detail).split('\n')[0]}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = summary.crashes || summary.hangs ? 1 : 0;
}

/* ---------------------------------------------------------------- worker */

async function worker() {
  void workerData;
  // `node --import tsx` does not reach worker threads on Node 20: register tsx here.
  const { register } = await import('tsx/esm/api');
  register();
  const load = async (p) => {
    const m = await import(p);
    return m.default && !('analyzeFile' in m) && typeof m.default === 'object' ? m.default : m;
  };
  const { nodeParser } = await load('../src/node/assets.ts');
  const { analyzeFile } = await load('../src/core/analyze.ts');
  const { extractFileFacts, buildWorkspaceIndex } = await load('../src/core/index/index.ts');
  const { runRefcountRules } = await load('../src/core/rules/refcount/index.ts');
  const { builtinCatalog } = await load('../src/core/catalog/index.ts');
  const parser = await nodeParser();
  const catalog = builtinCatalog();
  const facts = new Map();
  const factsOf = (p) => {
    let f = facts.get(p);
    if (!f) {
      f = extractFileFacts(parser, readFileSync(p, 'utf8'), p);
      if (facts.size > 256) facts.clear();
      facts.set(p, f);
    }
    return f;
  };
  parentPort.on('message', (job) => {
    const t = performance.now();
    let findings = 0;
    let incomplete = 0;
    try {
      const index = buildWorkspaceIndex([factsOf(job.base), factsOf(job.donor)]);
      const res = analyzeFile(parser, job.text, job.file, {
        catalog,
        onParsed: (parsed) => { findings += runRefcountRules(parsed, job.file, { catalog, index }).length; },
      });
      findings += res.findings.length;
      incomplete += res.stats.functionsNotAnalysed ?? 0;
      checkResult(res, job.text);
      // the index over the mutant itself (the facts extractor sees the same damage)
      buildWorkspaceIndex([extractFileFacts(parser, job.text, job.file)]);
      parentPort.postMessage({ id: job.id, ms: performance.now() - t, findings, incomplete });
    } catch (e) {
      parentPort.postMessage({ id: job.id, ms: performance.now() - t, error: String(e?.stack ?? e) });
    }
  });
  parentPort.postMessage({ ready: true });
}

/** Findings must point inside the file: a crash-free but nonsensical result counts as a crash too. */
function checkResult(res, text) {
  const lines = text.split('\n').length;
  for (const f of res.findings) {
    const s = f.span;
    if (!(s.start.offset >= 0 && s.end.offset <= text.length && s.start.offset <= s.end.offset)) throw new Error(`finding ${f.rule} span out of the file: ${JSON.stringify(s)}`);
    if (!(s.start.line >= 1 && s.end.line <= lines && s.start.column >= 1)) throw new Error(`finding ${f.rule} line/column out of range: ${JSON.stringify(s)}`);
  }
}

if (isMainThread) await main();
else await worker();
