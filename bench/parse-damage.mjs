// Parse-damage benchmark: how many function definitions still contain an ERROR or
// MISSING node, without and with the kernel-macro normaliser, and how fast.
//
// usage: npm run bench:parse -- [--jobs N] [--sample K] [--max-bytes B] [--top N]
//                                [--kernel DIR] [--ext c,h] [DIR ...]
//   DIRs are relative to the kernel tree printed by ../shared/tools/kernel-source
//   (or --kernel DIR, or $KERNEL_SRC); default: drivers/gpu/drm fs kernel.
//   --sample K   parse every K-th file only (quick iterations)
//   --max-bytes  skip files larger than this (default 1 MiB: generated register headers)
//   --top N      how many remaining damage causes to print per directory (default 25)
// Runs in worker threads (default 2) with the same tsx loader as the tests.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve, relative, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));

if (isMainThread) {
  await main();
} else {
  await worker();
}

function parseArgs(argv) {
  const o = { jobs: 2, sample: 1, maxBytes: 1 << 20, top: 25, kernel: '', ext: ['c', 'h'], dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--jobs') o.jobs = Math.max(1, Number(next()));
    else if (a === '--sample') o.sample = Math.max(1, Number(next()));
    else if (a === '--max-bytes') o.maxBytes = Number(next());
    else if (a === '--top') o.top = Number(next());
    else if (a === '--kernel') o.kernel = next();
    else if (a === '--ext') o.ext = next().split(',');
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.dirs.push(a);
  }
  if (o.dirs.length === 0) o.dirs = ['drivers/gpu/drm', 'fs', 'kernel'];
  return o;
}

function kernelRoot(o) {
  if (o.kernel) return resolve(o.kernel);
  if (process.env.KERNEL_SRC) return resolve(process.env.KERNEL_SRC);
  const tool = resolve(here, '..', '..', 'shared', 'tools', 'kernel-source');
  const alt = '/work/shared/tools/kernel-source';
  const script = existsSync(tool) ? tool : alt;
  return execFileSync(script, { encoding: 'utf8' }).trim().split('\n').pop();
}

function listFiles(dir, exts, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) listFiles(p, exts, out);
    else if (exts.some((e) => name.endsWith(`.${e}`))) out.push({ path: p, size: st.size });
  }
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const root = kernelRoot(o);
  console.log(`kernel tree: ${root}`);
  console.log(`jobs ${o.jobs}, sample 1/${o.sample}, max file size ${o.maxBytes} bytes, extensions ${o.ext.join(',')}`);
  const totals = [];
  for (const d of o.dirs) {
    const abs = resolve(root, d);
    let all = listFiles(abs, o.ext, []);
    const skipped = all.filter((f) => f.size > o.maxBytes).length;
    all = all.filter((f) => f.size <= o.maxBytes).filter((_, i) => i % o.sample === 0);
    const r = await runDir(all.map((f) => f.path), o.jobs);
    r.skipped = skipped;
    r.dir = d;
    report(r, root, o.top);
    totals.push(r);
  }
  console.log('\nsummary');
  console.log('dir'.padEnd(18), 'files'.padStart(6), 'functions'.padStart(10), 'raw dmg%'.padStart(9), 'norm dmg%'.padStart(10), 'parse MB/s'.padStart(11), 'norm cost'.padStart(10));
  for (const r of totals) {
    console.log(
      r.dir.padEnd(18),
      String(r.files).padStart(6),
      String(r.fnNorm).padStart(10),
      pct(r.dmgRaw, r.fnRaw).padStart(9),
      pct(r.dmgNorm, r.fnNorm).padStart(10),
      (r.bytes / 1e6 / (r.parseMs / 1000)).toFixed(2).padStart(11),
      `${((100 * r.normMs) / r.parseMs).toFixed(1)}%`.padStart(10),
    );
  }
}

function pct(a, b) {
  return b ? `${((100 * a) / b).toFixed(2)}%` : '-';
}

function runDir(files, jobs) {
  // Interleave by size so both workers get a similar load.
  const parts = Array.from({ length: jobs }, () => []);
  files.forEach((f, i) => parts[i % jobs].push(f));
  return Promise.all(
    parts.map(
      (part) =>
        new Promise((res, rej) => {
          const w = new Worker(fileURLToPath(import.meta.url), { workerData: { files: part } });
          w.once('message', res);
          w.once('error', rej);
        }),
    ),
  ).then((rs) => {
    const acc = { files: 0, bytes: 0, fnRaw: 0, dmgRaw: 0, fnNorm: 0, dmgNorm: 0, rawMs: 0, parseMs: 0, normMs: 0, causes: new Map(), failures: [] };
    for (const r of rs) {
      for (const k of ['files', 'bytes', 'fnRaw', 'dmgRaw', 'fnNorm', 'dmgNorm', 'rawMs', 'parseMs', 'normMs']) acc[k] += r[k];
      acc.failures.push(...r.failures);
      for (const [key, v] of r.causes) {
        const c = acc.causes.get(key);
        if (c) c.count += v.count;
        else acc.causes.set(key, v);
      }
    }
    return acc;
  });
}

function report(r, root, top) {
  console.log(`\n== ${r.dir}: ${r.files} files (${r.skipped} over the size limit skipped), ${(r.bytes / 1e6).toFixed(1)} MB`);
  console.log(`  without normalisation: ${r.fnRaw} functions, ${r.dmgRaw} damaged (${pct(r.dmgRaw, r.fnRaw)})`);
  console.log(`  with normalisation:    ${r.fnNorm} functions, ${r.dmgNorm} damaged (${pct(r.dmgNorm, r.fnNorm)})`);
  console.log(
    `  parse ${(r.parseMs / 1000).toFixed(1)} s CPU (${(r.bytes / 1e6 / (r.parseMs / 1000)).toFixed(2)} MB/s per core), normaliser ${(r.normMs / 1000).toFixed(2)} s (${((100 * r.normMs) / r.parseMs).toFixed(1)}% of parse)`,
  );
  for (const f of r.failures) console.log(`  FAILED ${relative(root, f.file)}: ${f.error}`);
  const causes = [...r.causes.entries()].sort((a, b) => b[1].count - a[1].count).slice(0, top);
  if (causes.length) console.log(`  top remaining damage causes (first ERROR/MISSING of each damaged function, by line head):`);
  for (const [key, v] of causes) {
    console.log(`  ${String(v.count).padStart(6)}  ${key.padEnd(32)} e.g. ${relative(root, v.file)}:${v.line}: ${v.text}`);
  }
}

async function worker() {
  // Workers do not inherit the main thread's module hooks: register tsx here.
  const { register } = await import('tsx/esm/api');
  register();
  // The sources are CommonJS TypeScript: named exports may sit under `default`.
  const load = async (p) => {
    const m = await import(p);
    return m.default && typeof m.default === 'object' ? { ...m.default, ...m } : m;
  };
  const { nodeParser } = await load('../src/node/assets.ts');
  const { normalizeKernelCStrict: normalizeKernelC } = await load('../src/core/parse/normalize.ts');
  const { listFunctions } = await load('../src/core/parse/source.ts');
  const parser = await nodeParser();
  const acc = { files: 0, bytes: 0, fnRaw: 0, dmgRaw: 0, fnNorm: 0, dmgNorm: 0, rawMs: 0, parseMs: 0, normMs: 0, causes: new Map(), failures: [] };
  // Warm the normaliser's JIT on up to 2 MB of this worker's files (untimed), so its
  // cost is the steady state of a long-running scan rather than compile time.
  let warm = 0;
  for (const file of workerData.files) {
    if (warm > 2e6) break;
    try {
      const t = readFileSync(file, 'utf8');
      normalizeKernelC(t);
      warm += t.length;
    } catch {
      /* reported below */
    }
  }
  for (const file of workerData.files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      acc.failures.push({ file, error: String(e) });
      continue;
    }
    try {
      acc.files++;
      acc.bytes += text.length;
      let t0 = performance.now();
      const raw = parser.parseRaw(text);
      acc.rawMs += performance.now() - t0;
      for (const f of listFunctions(raw.rootNode)) {
        acc.fnRaw++;
        if (f.damaged) acc.dmgRaw++;
      }
      raw.delete();
      t0 = performance.now();
      const norm = normalizeKernelC(text);
      acc.normMs += performance.now() - t0;
      if (norm.length !== text.length) throw new Error('normaliser changed the length');
      t0 = performance.now();
      const tree = parser.parseRaw(norm);
      acc.parseMs += performance.now() - t0;
      const lines = text.split('\n');
      for (const f of listFunctions(tree.rootNode)) {
        acc.fnNorm++;
        if (!f.damaged) continue;
        acc.dmgNorm++;
        const bad = firstDamage(f.node);
        const row = bad ? bad.startPosition.row : f.node.startPosition.row;
        const line = (lines[row] ?? '').trim();
        const key = bad && bad.isMissing ? `MISSING ${bad.type}` : causeKey(line);
        const c = acc.causes.get(key);
        if (c) c.count++;
        else acc.causes.set(key, { count: 1, file, line: row + 1, text: line.slice(0, 100) });
      }
      tree.delete();
    } catch (e) {
      acc.failures.push({ file, error: String(e && e.stack ? e.stack : e) });
    }
  }
  parentPort.postMessage(acc);
}

function firstDamage(node) {
  const stack = [node];
  while (stack.length) {
    const n = stack.pop();
    if (n.isError || n.isMissing) return n;
    if (!n.hasError && !n.isMissing) continue;
    for (let i = n.childCount - 1; i >= 0; i--) {
      const c = n.child(i);
      if (c && (c.hasError || c.isMissing || c.isError)) stack.push(c);
    }
  }
  return null;
}

function causeKey(line) {
  const m = /^(#\s*\w+|[A-Za-z_]\w*|\S{1,3})/.exec(line);
  if (!m) return '(blank line)';
  let k = m[1].replace(/\s+/g, '');
  // Group upper-case macros by prefix (DEFINE_*, DECLARE_*), digits away.
  k = k.replace(/\d+/g, 'N');
  return k;
}
