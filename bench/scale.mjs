// Scale benchmark (issue: the whole tree on one machine): for each directory of
// Linux 6.12 (default drivers/gpu/drm, fs and the whole tree), in one run:
//  - the parse-only floor: web-tree-sitter parsing every .c/.h file with the same
//    number of worker threads (bench/common.mjs);
//  - `refscope check` with every rule and the workspace index, cold (no facts
//    cache, no index: it writes the index artifact as it goes) and warm (the
//    same command again: the index is reused);
//  wall, CPU, peak RSS, MB/s and the ratios; findings per rule per kLOC.
// With --shards N the first directory is also checked as N shards (each with
// the cold index, read only) and the merged SARIF compared with an unsharded run.
//
// usage: npm run bench:scale -- [--jobs N] [--kernel DIR] [--shards N] [--no-write] [DIR...]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, kernelTree, listFiles, load1, machineLine, parseFloor, runCli, writeSection } from './common.mjs';

const o = { jobs: availableParallelism(), kernel: '', write: true, shards: 0, dirs: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--jobs') o.jobs = Math.max(1, Number(argv[++i]));
  else if (a === '--kernel') o.kernel = argv[++i];
  else if (a === '--shards') o.shards = Math.max(0, Number(argv[++i]));
  else if (a === '--no-write') o.write = false;
  else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
  else o.dirs.push(a);
}
if (o.dirs.length === 0) o.dirs = ['drivers/gpu/drm', 'fs', '.'];
const kernel = kernelTree(o.kernel);
const tmp = mkdtempSync(join(tmpdir(), 'refscope-scale-'));
const jobsArgs = o.jobs === availableParallelism() ? [] : ['--jobs', String(o.jobs)];
const s1 = (ms) => `${(ms / 1000).toFixed(1)} s`;
const loadStart = load1();
const rows = [];
let perRuleTable = '';
let shardLine = '';
try {
  for (const [di, dir] of o.dirs.entries()) {
    const files = listFiles(join(kernel, dir));
    let bytes = 0;
    let lines = 0;
    for (const f of files) {
      bytes += f.size;
      const b = readFileSync(f.path);
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
    }
    console.log(`${dir}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${(lines / 1000).toFixed(0)} kLOC`);
    const floor = await parseFloor(files, o.jobs);
    console.log(`  parse-only floor: ${s1(floor.ms)} wall, ${s1(floor.cpuMs)} CPU`);
    const idx = join(tmp, `index-${di}`);
    const args = ['check', '--format', 'json', '--no-cache', ...jobsArgs, '--index', idx, '--root', '.', dir];
    const cold = await runCli(args, kernel);
    console.log(`  check cold: ${s1(cold.ms)} wall, ${s1(cold.json.stats.cpuMs)} CPU, peak RSS ${cold.peakRssMB.toFixed(0)} MB, ${cold.json.findings.length} findings`);
    const warm = await runCli(args, kernel);
    console.log(`  check warm: ${s1(warm.ms)} wall, ${s1(warm.json.stats.cpuMs)} CPU, peak RSS ${warm.peakRssMB.toFixed(0)} MB (${JSON.stringify(warm.json.stats.indexFile)})`);
    const same = JSON.stringify(warm.json.findings) === JSON.stringify(cold.json.findings);
    if (!same) console.log('  WARNING: warm findings differ from cold');
    rows.push({ dir, files: files.length, bytes, lines, floor, cold, warm, same });
    if (dir === '.' || di === o.dirs.length - 1) {
      // every rule, those without findings too (the rule ids are the settings' enum in package.json)
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
      const per = Object.fromEntries(pkg.contributes.configuration.properties['refscope.disabledRules'].items.enum.map((r) => [r, 0]));
      for (const f of cold.json.findings) per[f.rule] = (per[f.rule] ?? 0) + 1;
      perRuleTable = `Findings per rule on \`${dir}\` (${(lines / 1000).toFixed(0)} kLOC of .c/.h):\n\n| rule | findings | per kLOC |\n| --- | --- | --- |\n`
        + Object.entries(per).sort((a, b) => b[1] - a[1]).map(([r, n]) => `| \`${r}\` | ${n} | ${(n / (lines / 1000)).toFixed(4)} |`).join('\n')
        + `\n| total | ${cold.json.findings.length} | ${(cold.json.findings.length / (lines / 1000)).toFixed(4)} |\n`;
      writeFileSync(join(tmp, 'findings.json'), cold.text);
      if (process.env.REFSCOPE_SCALE_KEEP) writeFileSync(process.env.REFSCOPE_SCALE_KEEP, cold.text);
    }
    if (di === 0 && o.shards > 1) {
      const sarifArgs = (extra) => ['check', '--format', 'sarif', '--no-cache', ...jobsArgs, '--index', idx, ...extra, '--root', '.', dir];
      const full = await runCli(sarifArgs([]), kernel, { json: false });
      const parts = [];
      let shardMs = 0;
      for (let k = 1; k <= o.shards; k++) {
        const r = await runCli(sarifArgs(['--shard', `${k}/${o.shards}`]), kernel, { json: false });
        shardMs = Math.max(shardMs, r.ms);
        const p = join(tmp, `shard${k}.sarif`);
        writeFileSync(p, r.text);
        parts.push(p);
      }
      const merged = await runCli(['merge', '-', ...parts], kernel, { json: false });
      const equal = merged.text === full.text;
      shardLine = `Sharded \`${dir}\` (N=${o.shards}, each shard reading the cold run's index): merged SARIF ${equal ? '**byte-identical**' : '**DIFFERS**'} to the unsharded run's; slowest shard ${s1(shardMs)}.`;
      console.log(`  ${shardLine}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const loadEnd = load1();
const table = `| directory | files | MB | kLOC | parse-only floor: wall / CPU / MB/s | check cold: wall / CPU / peak RSS | **ratio to floor** (target ≤ 1.5) | check warm: wall / peak RSS | **warm / cold** (target ≤ 0.15) | warm = cold findings |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.map((r) => `| \`${r.dir}\` | ${r.files} | ${(r.bytes / 1e6).toFixed(0)} | ${(r.lines / 1000).toFixed(0)} | ${s1(r.floor.ms)} / ${s1(r.floor.cpuMs)} / ${(r.bytes / 1e6 / (r.floor.ms / 1000)).toFixed(1)} | ${s1(r.cold.ms)} / ${s1(r.cold.json.stats.cpuMs)} / ${(r.cold.peakRssMB / 1024).toFixed(2)} GB | **${(r.cold.ms / r.floor.ms).toFixed(2)}** | ${s1(r.warm.ms)} / ${(r.warm.peakRssMB / 1024).toFixed(2)} GB | **${(r.warm.ms / r.cold.ms).toFixed(3)}** | ${r.same ? 'yes' : 'NO'} |`).join('\n')}`;
console.log('\n' + table + '\n');
if (shardLine) console.log(shardLine);
if (perRuleTable) console.log(perRuleTable);
if (o.write) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  writeSection('scale', `<!-- scale:begin (written by npm run bench:scale: bench/scale.mjs) -->
## Scale: parse-only floor, cold and warm checks (\`npm run bench:scale\`)

- date: ${date}
- machine: ${machineLine()}; load average (1 min) at start / end: ${loadStart.toFixed(2)} / ${loadEnd.toFixed(2)}
- commands (cwd = the Linux 6.12 tree top): floor = web-tree-sitter parsing every .c/.h file in ${o.jobs} worker threads; cold = \`node ${CLI.replace(/.*\/(dist\/cli\.js)$/, '$1')} check --format json --no-cache --index <new file> --root . DIR\` (all rules, workspace index; writes the index); warm = the same command again
- peak RSS: VmHWM of the process (all threads)

${table}

${shardLine}

${perRuleTable}<!-- scale:end -->
`);
  console.log('wrote bench/RESULTS.md');
}
