/**
 * Corpus smoke test: the built CLI over real Linux 6.12 code obtained with
 * ../shared/tools/kernel-source. No crash, the JSON contract, the parse-damage
 * bound (at most 1% of function definitions with ERROR/MISSING nodes after
 * normalisation) and SARIF valid against the 2.1.0 schema. If the kernel tree
 * cannot be obtained the test fails: it never skips.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { contractProblems, ensureBuilt, kernelTree, runCli, sarifValidator, type JsonReport } from '../unit/cli-support';
import { RULES } from '../../src/core/rules/registry';

const DIRS = ['drivers/gpu/drm/i915/gem', 'drivers/gpu/drm/i915/gt', 'drivers/gpu/drm/ttm', 'kernel/locking', 'fs/ext4'];
const SARIF_DIR = 'drivers/gpu/drm/i915/gem';
const RULE_IDS = RULES.map((r) => r.id);

let kernel = '';
before(() => {
  ensureBuilt();
  kernel = kernelTree();
});

describe('refscope check over real kernel code', () => {
  test(`JSON over ${DIRS.join(', ')}: no crash, contract, damage <= 1%`, () => {
    const r = runCli(['check', '--format', 'json', '--root', kernel, ...DIRS], kernel, 10 * 60_000);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as JsonReport;
    assert.deepEqual(contractProblems(j), []);
    const s = j.stats;
    assert.ok(s.files >= 350, `only ${s.files} files analysed`);
    assert.ok(s.functions >= 6000, `only ${s.functions} functions`);
    assert.ok(s.bytes > 4_000_000, `only ${s.bytes} bytes`);
    assert.equal(s.skipped, 0, `skipped: ${JSON.stringify(s.skippedFiles.slice(0, 5))}`);
    for (const f of j.findings) {
      assert.ok(RULE_IDS.includes(f.rule), f.rule);
      assert.ok(DIRS.some((d) => f.file.startsWith(d + '/')), f.file);
    }
    const pct = (100 * s.functionsWithParseDamage) / s.functions;
    const summary = `${s.files} files, ${s.functions} functions, ${s.functionsWithParseDamage} damaged (${pct.toFixed(2)}%), ${j.findings.length} findings, ${s.ms} ms`;
    console.log(`# corpus: ${summary}`);
    assert.ok(pct <= 1, `parse damage ${pct.toFixed(2)}% > 1%: ${summary}`);
  });

  test(`SARIF over ${SARIF_DIR} is valid SARIF 2.1.0`, () => {
    const r = runCli(['check', '--format', 'sarif', '--root', kernel, SARIF_DIR], kernel, 10 * 60_000);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    const log = JSON.parse(r.stdout) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    assert.deepEqual(sarifValidator()(log), []);
    for (const res of log.runs[0]!.results) assert.ok(res.locations[0]!.physicalLocation.artifactLocation.uri.startsWith(SARIF_DIR + '/'));
  });
});
