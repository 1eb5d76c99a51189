// Shared by the kernel benchmarks: the kernel tree, the CLI's file walk, the
// web-tree-sitter parse-only floor (worker threads over a shared queue), a run
// of the built CLI with its peak RSS, and writing one section of RESULTS.md.
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..');
export const CLI = process.env.REFSCOPE_CLI ?? join(repo, 'dist', 'cli.js');

if (!isMainThread && workerData?.kind === 'refscope-parse-floor') await parseWorker();

/** The Linux 6.12 tree: `kernel`, else $KERNEL_SRC, else ../shared/tools/kernel-source. */
export function kernelTree(kernel = process.env.KERNEL_SRC ?? '') {
  if (kernel) return resolve(kernel);
  const tool = resolve(repo, '..', 'shared', 'tools', 'kernel-source');
  if (!existsSync(tool)) throw new Error(`cannot find ${tool}: pass --kernel DIR or set KERNEL_SRC`);
  return execFileSync('bash', [tool], { encoding: 'utf8' }).trim().split('\n').at(-1);
}

/**
 * Same walk as the CLI (src/cli/files.ts): .c/.h files, recursively, skipping
 * .git and node_modules, and at a Linux tree top its userspace tools/ and scripts/.
 */
export function listFiles(dir) {
  const out = [];
  const top = ['Kbuild', 'MAINTAINERS', 'kernel', 'tools'].every((n) => existsSync(join(dir, n)));
  const walk = (d) => {
    for (const ent of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) {
        if (top && d === dir && (ent.name === 'tools' || ent.name === 'scripts')) continue;
        if (ent.name !== '.git' && ent.name !== 'node_modules') walk(p);
      } else if (ent.isFile() && /\.[ch]$/.test(ent.name)) out.push({ path: p, size: statSync(p).size });
    }
  };
  walk(dir);
  return out;
}

/** Parse-only floor: N worker threads, each loads web-tree-sitter + the C grammar once and parses claimed files (big first). */
export async function parseFloor(files, jobs) {
  const sorted = [...files].sort((a, b) => b.size - a.size).map((f) => f.path);
  const next = new SharedArrayBuffer(4);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: Math.min(jobs, sorted.length) }, () => new Promise((res, rej) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { kind: 'refscope-parse-floor', files: sorted, next } });
    w.on('message', res);
    w.on('error', rej);
  })));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, parsed: results.reduce((a, r) => a + r.parsed, 0), errors: results.reduce((a, r) => a + r.errors, 0) };
}

async function parseWorker() {
  const { Parser, Language } = await import('web-tree-sitter');
  const wasm = (p) => readFileSync(join(repo, 'dist', p));
  await Parser.init({ wasmBinary: wasm('tree-sitter.wasm') });
  const parser = new Parser();
  parser.setLanguage(await Language.load(wasm('tree-sitter-c.wasm')));
  const next = new Int32Array(workerData.next);
  let parsed = 0;
  let errors = 0;
  for (;;) {
    const i = Atomics.add(next, 0, 1);
    if (i >= workerData.files.length) break;
    const text = readFileSync(workerData.files[i], 'utf8');
    const tree = parser.parse(text);
    if (tree.rootNode.hasError) errors++;
    tree.delete();
    parsed++;
  }
  parentPort.postMessage({ parsed, errors });
}

/**
 * Runs the built CLI with `args` in `cwd`; resolves wall ms, the JSON it printed
 * (when `json`), its exit code, stderr, and peak RSS (VmHWM of /proc/PID/status,
 * all threads). Exit codes 0 and 1 are success.
 */
export function runCli(args, cwd, { json = true } = {}) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    let hwm = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch { /* exited */ }
    }, 100);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', rej);
    child.on('close', (code) => {
      clearInterval(poll);
      const ms = performance.now() - t0;
      if (code !== 0 && code !== 1) return rej(new Error(`refscope ${args[0]} exited ${code}: ${err.trim()}`));
      const text = Buffer.concat(out).toString('utf8');
      res({ ms, code, stderr: err, text, json: json ? JSON.parse(text) : null, peakRssMB: hwm / 1024 });
    });
  });
}

/** `2 cores (nproc), 23.5 GiB memory, AMD EPYC, Node v20` */
export function machineLine() {
  return `${availableParallelism()} cores (\`nproc\`), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
}

export const load1 = () => loadavg()[0];

/** Replace the section `<!-- TAG:begin ... -->`..`<!-- TAG:end -->` of bench/RESULTS.md (appended before the first section when absent). */
export function writeSection(tag, section) {
  const file = join(here, 'RESULTS.md');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const begin = text.indexOf(`<!-- ${tag}:begin`);
  const endMark = `<!-- ${tag}:end -->`;
  const end = text.indexOf(endMark);
  if (begin >= 0 && end > begin) {
    let after = end + endMark.length;
    if (text[after] === '\n') after++;
    text = text.slice(0, begin) + section + text.slice(after);
  } else {
    if (!text.startsWith('# Benchmark results')) text = '# Benchmark results\n\n' + text;
    // before the first section or generated block, never inside one
    const m = /\n(?:## |<!-- )/.exec(text);
    const at = m ? m.index + 1 : text.length;
    text = text.slice(0, at) + section + '\n' + text.slice(at);
  }
  writeFileSync(file, text);
}
