// Workspace-index benchmark (issue 3): index Linux 6.12 drivers/gpu/drm plus the
// headers it needs, cold (empty cache directory) and warm (same cache), and once
// more with one file changed (incremental: one re-extraction, full re-merge).
//
// usage: npm run bench:index [-- [--jobs N] [--keep-cache] [SUBDIR ...]]
//   SUBDIR defaults to drivers/gpu/drm (relative to the kernel tree top).
//
// File set: every .c/.h under SUBDIRs, every .h under include/drm, and the
// include/linux headers the SUBDIR files include directly (one level). Files over
// 1 MiB (generated register headers: only #defines) are skipped and counted.
// Each run is a separate child process, so wall time and peak RSS (maxRSS of the
// process: main thread + 2 worker threads) are per run. The main thread reads
// every file and asks the cache; only misses go to the worker threads, which
// parse once (`parseKernelC`, as `refscope check` does for the lock analysis),
// extract the facts from that parse (`extractFactsFromParsed`) and store them.
// Each worker times the three steps per file: the cold run prints extraction
// time as a fraction of parse time, for .c files and for headers.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SELF = fileURLToPath(import.meta.url);
const REPO = dirname(dirname(SELF));
const MAX_BYTES = 1 << 20;

function kernelRoot() {
  return execFileSync(join(REPO, '..', 'shared', 'tools', 'kernel-source'), { encoding: 'utf8' }).trim();
}

function listFiles(root, subdirs) {
  const out = [];
  let skipped = 0;
  const walk = (d, re) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, re);
      else if (re.test(e.name)) {
        if (statSync(p).size > MAX_BYTES) skipped++;
        else out.push(p);
      }
    }
  };
  for (const s of subdirs) walk(join(root, s), /\.[ch]$/);
  const own = out.length;
  if (existsSync(join(root, 'include', 'drm'))) walk(join(root, 'include', 'drm'), /\.h$/);
  const seen = new Set(out);
  const linux = new Set();
  const INC = /^[ \t]*#[ \t]*include[ \t]*<(linux\/[^>]+)>/gm;
  for (const f of out.slice()) {
    const text = readFileSync(f, 'latin1');
    for (const m of text.matchAll(INC)) linux.add(m[1]);
  }
  for (const h of [...linux].sort()) {
    const p = join(root, 'include', h);
    if (!seen.has(p) && existsSync(p) && statSync(p).size <= MAX_BYTES) {
      seen.add(p);
      out.push(p);
    }
  }
  return { files: out, own, skipped };
}

/* ---------------------------------------------------------------- worker */
// The sources are CommonJS TypeScript: named exports may sit under `default`.
async function load(rel) {
  const m = await import(join(REPO, rel));
  return m.default && typeof m.default === 'object' ? { ...m.default, ...m } : m;
}

if (!isMainThread) {
  // Workers do not inherit the main thread's module hooks: register tsx here.
  const { register } = await import('tsx/esm/api');
  register();
  const { nodeParser } = await load('src/node/assets.ts');
  const { NodeFactsCache } = await load('src/node/cache.ts');
  const { extractFactsFromParsed } = await load('src/core/index/index.ts');
  const { parseKernelC } = await load('src/core/parse/source.ts');
  const parser = await nodeParser();
  const cache = new NodeFactsCache(workerData.cacheDir);
  parentPort.on('message', (msg) => {
    if (msg === null) {
      parentPort.close();
      return;
    }
    const { abs, label, text } = msg;
    let facts;
    const t0 = performance.now();
    let t1 = t0;
    let t2 = t0;
    try {
      const parsed = parseKernelC(parser, text);
      t1 = performance.now();
      try {
        facts = extractFactsFromParsed(parsed, label);
      } finally {
        parsed.dispose();
      }
      t2 = performance.now();
    } catch (e) {
      parentPort.postMessage({ label, error: String(e) });
      return;
    }
    cache.store(label, text, facts);
    const t3 = performance.now();
    parentPort.postMessage({ label, abs, facts, ms: { parse: t1 - t0, extract: t2 - t1, store: t3 - t2 } });
  });
  parentPort.postMessage({ ready: true });
}

/* ---------------------------------------------------------------- one run (child process) */
async function run(root, subdirs, cacheDir, jobs, changeOne) {
  const t0 = performance.now();
  const { NodeFactsCache } = await load('src/node/cache.ts');
  const { buildWorkspaceIndex, learnedWrappers, FACTS_VERSION } = await load('src/core/index/index.ts');
  const { files, own, skipped } = listFiles(root, subdirs);
  const cache = new NodeFactsCache(cacheDir);
  const facts = [];
  const misses = [];
  let bytes = 0;
  for (const abs of files) {
    let text = readFileSync(abs, 'utf8');
    const label = relative(root, abs);
    if (changeOne && label === changeOne) text += '\n/* edited */\nstatic inline void refscope_bench_edit(struct drm_gem_object *obj) { drm_gem_object_put(obj); }\n';
    bytes += text.length;
    const hit = cache.load(label, text);
    if (hit && hit.version === FACTS_VERSION) facts.push(hit);
    else misses.push({ abs, label, text });
  }
  const tCache = performance.now();
  let errors = 0;
  // Per-file step times summed over the worker threads (ms), for .c files and headers.
  const steps = { c: { parse: 0, extract: 0, store: 0 }, h: { parse: 0, extract: 0, store: 0 } };
  if (misses.length) {
    misses.sort((a, b) => b.text.length - a.text.length);
    const n = Math.max(1, Math.min(jobs, misses.length));
    await new Promise((resolve, reject) => {
      let next = 0;
      let done = 0;
      for (let i = 0; i < n; i++) {
        const w = new Worker(SELF, { workerData: { cacheDir } });
        const feed = () => {
          if (next < misses.length) w.postMessage(misses[next++]);
          else w.postMessage(null);
        };
        w.on('message', (m) => {
          if (m.ready) return feed();
          if (m.error) errors++;
          else {
            facts.push(m.facts);
            const k = m.label.endsWith('.h') ? steps.h : steps.c;
            k.parse += m.ms.parse;
            k.extract += m.ms.extract;
            k.store += m.ms.store;
          }
          done++;
          if (done === misses.length) resolve();
          feed();
        });
        w.on('error', reject);
      }
    });
  }
  const tFacts = performance.now();
  const index = buildWorkspaceIndex(facts);
  const tMerge = performance.now();
  const w = learnedWrappers(index);
  const lookupKinds = {};
  for (const l of index.lookups.values()) lookupKinds[l.kind] = (lookupKinds[l.kind] ?? 0) + 1;
  const withSites = [...index.lookups.values()].filter((l) => l.publish.length || l.lookup.length).length;
  let cacheBytes = 0;
  const du = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) du(join(d, e.name));
      else cacheBytes += statSync(join(d, e.name)).size;
    }
  };
  if (existsSync(cacheDir)) du(cacheDir);
  const r3 = (x) => +x.toFixed(3);
  const ratios = {};
  for (const [k, v] of Object.entries(steps)) {
    if (v.parse > 0) ratios[k] = { parseS: r3(v.parse / 1000), extractS: r3(v.extract / 1000), storeS: r3(v.store / 1000), extractPerParse: r3(v.extract / v.parse) };
  }
  const out = {
    files: files.length, ownFiles: own, headers: files.length - own, skippedOver1MiB: skipped, megabytes: +(bytes / 1e6).toFixed(1),
    cacheHits: cache.counters.hits, cacheMisses: misses.length, cacheCorrupt: cache.counters.corrupt, extractErrors: errors,
    wallSeconds: +((tMerge - t0) / 1000).toFixed(2),
    phases: { listReadHashLoad: +((tCache - t0) / 1000).toFixed(2), extract: +((tFacts - tCache) / 1000).toFixed(2), merge: +((tMerge - tFacts) / 1000).toFixed(2) },
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    steps: ratios, cacheMB: +(cacheBytes / 1e6).toFixed(1),
    stats: index.stats,
    lookupKinds, lookupStructuresWithSites: withSites,
    gemGet: w.gets.includes('drm_gem_object_get'), gemPut: w.puts.includes('drm_gem_object_put'),
    i915Put: w.puts.includes('i915_gem_object_put'),
    sample: {
      gets: w.gets.filter((n) => /(^|_)(get|ref|reference|hold)$/.test(n)).slice(0, 12),
      puts: w.puts.filter((n) => /(^|_)(put|unref|unreference|release)$/.test(n)).slice(0, 12),
      returnsRef: w.returnsRef.slice(0, 8),
    },
  };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

/* ---------------------------------------------------------------- driver */
if (isMainThread) {
  const argv = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const v = argv[i + 1];
    argv.splice(i, 2);
    return v;
  };
  if (argv[0] === '--run') {
    const [, root, cacheDir, jobs, changeOne, ...subdirs] = argv;
    await run(root, subdirs, cacheDir, Number(jobs), changeOne === '-' ? '' : changeOne);
  } else {
    const jobs = Number(opt('--jobs', '2'));
    const keep = argv.includes('--keep-cache');
    const subdirs = argv.filter((a) => !a.startsWith('--'));
    if (!subdirs.length) subdirs.push('drivers/gpu/drm');
    const root = kernelRoot();
    const cacheDir = mkdtempSync(join(tmpdir(), 'refscope-index-bench-'));
    const child = (label, changeOne) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--run', root, cacheDir, String(jobs), changeOne || '-', ...subdirs], {
        cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20,
      });
      const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
      if (r.status !== 0 || !line) {
        process.stderr.write(r.stderr || '');
        throw new Error(`${label} run failed (exit ${r.status})`);
      }
      return JSON.parse(line.slice(7));
    };
    console.log(`index bench: ${subdirs.join(' ')} under ${root}; ${jobs} worker threads; cache ${cacheDir}`);
    console.log(`machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);
    const cold = child('cold');
    const warm = child('warm');
    const editFile = subdirs[0] === 'drivers/gpu/drm' ? 'drivers/gpu/drm/drm_gem.c' : '';
    const incr = editFile ? child('incremental', editFile) : null;
    if (!keep) rmSync(cacheDir, { recursive: true, force: true });
    const ratio = warm.wallSeconds / cold.wallSeconds;
    const rows = [
      ['files (own / headers / skipped > 1 MiB)', `${cold.files} (${cold.ownFiles} / ${cold.headers} / ${cold.skippedOver1MiB}), ${cold.megabytes} MB`],
      ['cold wall time', `${cold.wallSeconds} s (read+hash ${cold.phases.listReadHashLoad} s, extract ${cold.phases.extract} s, merge ${cold.phases.merge} s)`],
      ['warm wall time', `${warm.wallSeconds} s (read+hash+load ${warm.phases.listReadHashLoad} s, merge ${warm.phases.merge} s; hits ${warm.cacheHits}, misses ${warm.cacheMisses})`],
      ['warm / cold (target <= 25%)', `${(ratio * 100).toFixed(1)}%`],
      ...(incr ? [['one file changed (drm_gem.c)', `${incr.wallSeconds} s (misses ${incr.cacheMisses}, extract ${incr.phases.extract} s, merge ${incr.phases.merge} s)`]] : []),
      ['peak RSS cold / warm (target <= 2048 MB)', `${cold.peakRssMB} MB / ${warm.peakRssMB} MB`],
      ...Object.entries(cold.steps).map(([k, v]) => [
        `cold, .${k} files: parse / extraction / cache store (worker-thread seconds)`,
        `${v.parseS} s / ${v.extractS} s / ${v.storeS} s; extraction = ${v.extractPerParse}x parse`,
      ]),
      ['facts cache on disk (JSON)', `${cold.cacheMB} MB for ${cold.megabytes} MB of source`],
      ['structs / functions / calls', `${cold.stats.structs} / ${cold.stats.functions} / ${cold.stats.calls}`],
      ['refcounted types', `${cold.stats.refcountedTypes}`],
      ['learned get / put wrappers, returns-new-ref', `${cold.stats.getWrappers} / ${cold.stats.putWrappers}, ${cold.stats.returnsRef}`],
      ['drm_gem_object_get / _put learned', `${cold.gemGet} / ${cold.gemPut} (i915_gem_object_put: ${cold.i915Put})`],
      ['lookup structures (with sites)', `${cold.stats.lookupStructures} (${cold.lookupStructuresWithSites}) ${JSON.stringify(cold.lookupKinds)}`],
      ['release callbacks', `${cold.stats.releaseCallbacks}`],
      ['functions with parse damage', `${cold.stats.damagedFunctions}`],
      ['extraction errors', `${cold.extractErrors}`],
    ];
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    console.log(`sample gets: ${cold.sample.gets.join(', ')}`);
    console.log(`sample puts: ${cold.sample.puts.join(', ')}`);
    console.log(`sample returns-ref: ${cold.sample.returnsRef.join(', ')}`);
    const same = JSON.stringify(cold.stats) === JSON.stringify(warm.stats);
    console.log(`warm index equals cold index (stats): ${same}`);
    if (!same || !cold.gemGet || !cold.gemPut) process.exitCode = 1;
  }
}
