/* global console */
// Simulator benchmark: per library scenario, states explored and time (median of
// 5 runs after a warm-up), with and without partial-order reduction; then the
// 3 threads x 12 operations scenario, POR vs plain exploration.
// Writes its table into bench/RESULTS.md under "## Simulator" (other sections untouched).
// usage: npm run bench:sim        (node --import tsx bench/sim.mjs)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeParser } from '../src/node/assets.ts';
import { library, parseBuiltin } from '../src/core/scenarios/library.ts';
import { parseScenario } from '../src/core/scenarios/format.ts';
import { explore } from '../src/core/sim/explore.ts';
import { verdictMatches } from '../src/core/scenarios/run.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;

function timed(model, options) {
  explore(model, options); // warm-up
  const ms = [];
  let r;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    r = explore(model, options);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { r, median: ms[Math.floor(RUNS / 2)], max: ms[RUNS - 1] };
}

const parser = await nodeParser();
const rows = [];
let worst = 0;
let allMatch = true;
for (const e of library()) {
  for (const v of e.variants) {
    const s = parseBuiltin(parser, v);
    const por = timed(s.model, {});
    const full = timed(s.model, { por: false });
    const ok = verdictMatches(v.meta.expect, por.r);
    allMatch &&= ok;
    worst = Math.max(worst, por.median);
    rows.push([v.ref, v.meta.expect, por.r.verdict === 'safe' ? 'safe' : por.r.violations.map((x) => x.kind).join(','), ok ? 'yes' : 'NO', por.r.states, full.r.states, por.median.toFixed(2), full.median.toFixed(2)]);
  }
}

const bigFile = join(root, 'test', 'fixtures', 'sim', 'three-by-twelve.rsim');
const big = parseScenario(parser, readFileSync(bigFile, 'utf8'), 'test/fixtures/sim/three-by-twelve.rsim');
const bigPor = timed(big.model, {});
const bigFull = timed(big.model, { por: false });
const ratio = bigFull.r.states / bigPor.r.states;

const header = ['scenario', 'expect', 'found', 'as expected', 'states (POR)', 'states (no POR)', 'ms (POR)', 'ms (no POR)'];
const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const section = `## Simulator (\`npm run bench:sim\`)

Measured ${date} UTC, Node ${globalThis.process.version}, median of ${RUNS} runs after one warm-up; exploration time only (parsing excluded).

${table}

Slowest library scenario (POR, median): ${worst.toFixed(2)} ms. All verdicts as expected: ${allMatch ? 'yes' : 'NO'}.

3 threads x 12 operations (\`test/fixtures/sim/three-by-twelve.rsim\`): verdict ${bigPor.r.verdict} with POR, ${bigFull.r.verdict} without;
**${bigPor.r.states} states with partial-order reduction vs ${bigFull.r.states} without (${ratio.toFixed(1)}x fewer)**;
${bigPor.median.toFixed(1)} ms vs ${bigFull.median.toFixed(1)} ms (median).
`;

console.log(section);
const resultsPath = join(root, 'bench', 'RESULTS.md');
let doc = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark results\n';
const start = doc.indexOf('## Simulator');
if (start >= 0) {
  const next = doc.indexOf('\n## ', start + 3);
  doc = doc.slice(0, start) + section + (next >= 0 ? doc.slice(next + 1) : '');
} else {
  doc = doc.replace(/\n*$/, '\n\n') + section;
}
writeFileSync(resultsPath, doc);
console.log(`wrote the Simulator section of ${resultsPath}`);
if (!allMatch || ratio < 5) globalThis.process.exitCode = 1;
