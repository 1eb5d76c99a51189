/* global console */
// Cross-check: run spin on each Promela twin (bench/spin/<id>.<variant>.pml) and
// compare its verdict with Refscope's verdict on the library scenario <id>/<variant>.
// spin: errors 0 -> safe; "invalid end state" -> deadlock; "assertion violated" -> any other kind.
// usage: node --import tsx bench/spin/run.mjs      (needs spin and gcc: apt-get install -y spin gcc)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeParser } from '../../src/node/assets.ts';
import { findBuiltin, parseBuiltin } from '../../src/core/scenarios/library.ts';
import { explore } from '../../src/core/sim/explore.ts';

const here = dirname(fileURLToPath(import.meta.url));
const proc = globalThis.process;

if (spawnSync('spin', ['-V'], { encoding: 'utf8' }).status !== 0) {
  console.error('spin is not installed (apt-get install -y spin gcc)');
  proc.exit(2);
}

function runSpin(pml) {
  const dir = mkdtempSync(join(tmpdir(), 'refscope-spin-'));
  try {
    copyFileSync(join(here, pml), join(dir, pml));
    execFileSync('spin', ['-a', pml], { cwd: dir, stdio: 'pipe' });
    execFileSync('gcc', ['-O2', '-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
    const out = spawnSync('./pan', ['-m100000'], { cwd: dir, encoding: 'utf8' }).stdout;
    const errors = Number(/errors: (\d+)/.exec(out)?.[1] ?? 'NaN');
    const kind = /^pan:\d+: invalid end state/m.test(out) ? 'deadlock' : /^pan:\d+: assertion violated/m.test(out) ? 'assertion' : null;
    const states = /(\d+) states, stored/.exec(out)?.[1] ?? '?';
    return { verdict: errors === 0 ? 'safe' : 'violation', kind, states };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const parser = await nodeParser();
const files = readdirSync(here).filter((f) => f.endsWith('.pml')).sort();
let failures = 0;
for (const pml of files) {
  const [id, variant] = pml.replace(/\.pml$/, '').split('.');
  const v = findBuiltin(`${id}/${variant}`)[0];
  if (!v) {
    console.log(`FAIL ${pml}: no library scenario ${id}/${variant}`);
    failures++;
    continue;
  }
  const ours = explore(parseBuiltin(parser, v).model);
  const spin = runSpin(pml);
  const ourKinds = ours.violations.map((x) => x.kind);
  const kindAgrees = spin.verdict === 'safe' || (spin.kind === 'deadlock' ? ourKinds.includes('deadlock') : ourKinds.some((k) => k !== 'deadlock'));
  const ok = ours.verdict === spin.verdict && kindAgrees;
  if (!ok) failures++;
  console.log(`${ok ? 'SAME' : 'DIFF'} ${id}/${variant}: refscope ${ours.verdict}${ourKinds.length ? ` [${ourKinds.join(',')}]` : ''} (${ours.states} states); spin ${spin.verdict}${spin.kind ? ` [${spin.kind}]` : ''} (${spin.states} states)`);
}
console.log(`${files.length - failures}/${files.length} Promela models agree with Refscope`);
proc.exitCode = failures ? 1 : 0;
