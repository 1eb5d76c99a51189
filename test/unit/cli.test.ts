/**
 * The `refscope` command line, run as users run it (the built dist/cli.js, real
 * WASM parser, real worker threads) on the bundled example driver and on small
 * fixtures written to a temporary directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';
import { CLI, contractProblems, ensureBuilt, REPO, runCli, sarifValidator, type JsonReport } from './cli-support';

const RULE_IDS = ['lock-leak', 'double-lock', 'unlock-unheld', 'sleep-in-atomic'];
/** Where examples/blinkdev has its deliberate bugs (see the BUG: comments). */
const EXPECTED_BUGS: [rule: string, fn: string][] = [
  ['lock-leak', 'blink_remove_pattern'],
  ['double-lock', 'blink_toggle_pattern'],
  ['unlock-unheld', 'blink_rename_pattern'],
  ['sleep-in-atomic', 'blink_hw_reset'],
  ['sleep-in-atomic', 'blink_hw_snapshot'],
  ['sleep-in-atomic', 'blink_hw_commit'],
];
const CORRECT_FUNCTIONS = [
  'blink_find', 'blink_add_pattern', 'blink_set_enabled', 'blink_count', 'blink_hw_load', 'blink_hw_poke',
  'blink_hw_maybe_poke', 'blink_irq', 'blink_wait_latch', 'blink_write',
];

const CLEAN_C = `// SPDX-License-Identifier: GPL-2.0
#include <linux/mutex.h>

struct counter {
	struct mutex lock;
	int value;
};

int counter_bump(struct counter *c)
{
	int v;

	mutex_lock(&c->lock);
	v = ++c->value;
	mutex_unlock(&c->lock);
	return v;
}
`;

let tmp = '';
const json = (stdout: string): JsonReport => JSON.parse(stdout) as JsonReport;
const stable = (stdout: string): string => {
  const j = JSON.parse(stdout) as { stats: Record<string, unknown> };
  delete j.stats.ms;
  delete j.stats.cpuMs;
  delete j.stats.jobs;
  delete j.stats.slowestFiles;
  delete j.stats.phasesMs;
  // timings, and how many facts came from the cache (runs share the default cache)
  const ix = j.stats.index as Record<string, unknown> | undefined;
  if (ix) {
    delete ix.buildMs;
    delete ix.refcountMs;
    delete ix.cachedFacts;
  }
  const xf = j.stats.crossFile as Record<string, unknown> | undefined;
  if (xf) delete xf.pass2Ms;
  return JSON.stringify(j);
};

before(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'refscope-cli-'));
  mkdirSync(join(tmp, 'clean', 'sub'), { recursive: true });
  writeFileSync(join(tmp, 'clean', 'sub', 'counter.c'), CLEAN_C);
  writeFileSync(join(tmp, 'clean', 'notes.txt'), 'not C, ignored while walking\n');
  mkdirSync(join(tmp, 'clean', 'node_modules'), { recursive: true });
  writeFileSync(join(tmp, 'clean', 'node_modules', 'ignored.c'), 'int broken( {\n');
  mkdirSync(join(tmp, 'mixed'), { recursive: true });
  writeFileSync(join(tmp, 'mixed', 'good.c'), CLEAN_C);
  writeFileSync(join(tmp, 'mixed', 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]));
  writeFileSync(join(tmp, 'mixed', 'latin1.h'), Buffer.from('/* caf\xe9 */\nint x;\n', 'latin1'));
  writeFileSync(join(tmp, 'README.md'), '# not C\n');
  writeFileSync(join(tmp, 'bad.json'), '{ "locks": [ oops ] }');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('refscope check on the bundled example driver', () => {
  test('JSON: exit 1, every deliberate bug found, correct functions quiet, contract keys, sorted', () => {
    const r = runCli(['check', '--format', 'json', 'examples/']);
    assert.equal(r.code, 1, r.stderr);
    const j = json(r.stdout);
    assert.deepEqual(contractProblems(j), []);
    for (const [rule, fn] of EXPECTED_BUGS) {
      assert.ok(j.findings.some((f) => f.rule === rule && f.function === fn), `expected ${rule} in ${fn}: ${JSON.stringify(j.findings.map((f) => [f.rule, f.function]))}`);
    }
    const noisy = j.findings.filter((f) => CORRECT_FUNCTIONS.includes(f.function));
    assert.deepEqual(noisy, [], 'findings in correct code');
    assert.ok(j.findings.every((f) => RULE_IDS.includes(f.rule)));
    assert.ok(j.findings.every((f) => f.trace.length > 0), 'every finding has a trace');
    assert.equal(j.stats.files, 3);
    assert.ok(j.stats.functions >= 16, `functions ${j.stats.functions}`);
    assert.equal(j.stats.skipped, 0);
  });

  test('file = PATH as given joined with the path below it', () => {
    const slash = json(runCli(['check', '--format', 'json', 'examples/']).stdout);
    assert.ok(slash.findings.length > 0);
    assert.ok(slash.findings.every((f) => /^examples\/blinkdev\/blink_(core|hw)\.c$/.test(f.file)), JSON.stringify(slash.findings.map((f) => f.file)));
    const dot = json(runCli(['check', '--format', 'json', './examples/blinkdev']).stdout);
    assert.ok(dot.findings.every((f) => f.file.startsWith('./examples/blinkdev/blink_')));
    const one = json(runCli(['check', '--format', 'json', './examples//blinkdev/blink_hw.c']).stdout);
    assert.ok(one.findings.length > 0);
    assert.ok(one.findings.every((f) => f.file === './examples//blinkdev/blink_hw.c'));
    const inside = json(runCli(['check', '--format', 'json', '--root', REPO, '.'], join(REPO, 'examples', 'blinkdev')).stdout);
    assert.ok(inside.findings.some((f) => f.file === 'blink_core.c'));
  });

  test('text: GCC-style lines, indented trace, summary line', () => {
    const r = runCli(['check', 'examples']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const heads = lines.filter((l) => !l.startsWith('    ') && l.includes(': warning: '));
    assert.ok(heads.length >= EXPECTED_BUGS.length);
    for (const h of heads) assert.match(h, /^examples\/blinkdev\/blink_(core|hw)\.c:\d+:\d+: warning: .+ \[(lock-leak|double-lock|unlock-unheld|sleep-in-atomic)\]$/);
    assert.ok(lines.some((l) => /^ {4}examples\/blinkdev\/\S+:\d+: \S/.test(l)), 'trace lines');
    assert.match(lines.at(-1)!, new RegExp(`^${heads.length} findings in 2 files \\(3 files checked, \\d+ functions, \\d+ with parse damage`));
  });

  test('SARIF: valid against the SARIF 2.1.0 schema, rules metadata, codeFlows, relative URIs', () => {
    const r = runCli(['check', '--format', 'sarif', 'examples']);
    assert.equal(r.code, 1, r.stderr);
    const log = JSON.parse(r.stdout) as {
      version: string;
      runs: { tool: { driver: { rules: { id: string; helpUri: string; defaultConfiguration: { level: string } }[] } }; results: {
        ruleId: string; ruleIndex: number; level: string;
        locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number; startColumn: number; endLine: number; endColumn: number } } }[];
        codeFlows?: { threadFlows: { locations: unknown[] }[] }[];
      }[] }[];
    };
    assert.deepEqual(sarifValidator()(log), []);
    assert.equal(log.version, '2.1.0');
    const run = log.runs[0]!;
    const ids = run.tool.driver.rules.map((x) => x.id);
    for (const id of RULE_IDS) assert.ok(ids.includes(id), id);
    assert.ok(run.tool.driver.rules.every((x) => /docs\/rules\/[a-z-]+\.md$/.test(x.helpUri) && x.defaultConfiguration.level));
    assert.ok(run.results.length >= EXPECTED_BUGS.length);
    for (const res of run.results) {
      assert.equal(ids[res.ruleIndex], res.ruleId);
      const loc = res.locations[0]!.physicalLocation;
      assert.equal(loc.artifactLocation.uriBaseId, '%SRCROOT%');
      assert.match(loc.artifactLocation.uri, /^examples\/blinkdev\/blink_(core|hw)\.c$/);
      assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1 && loc.region.endLine >= loc.region.startLine);
      assert.ok(res.codeFlows && res.codeFlows[0]!.threadFlows[0]!.locations.length > 0);
    }
  });

  test('--jobs 1 and --jobs 2 give identical output', () => {
    const one = runCli(['check', '--format', 'json', '--jobs', '1', 'examples', join(tmp, 'mixed')]);
    const two = runCli(['check', '--format', 'json', '--jobs', '2', 'examples', join(tmp, 'mixed')]);
    assert.equal(one.code, 1);
    assert.equal(two.code, 1);
    assert.equal(stable(one.stdout), stable(two.stdout));
    const textOne = runCli(['check', '--jobs=1', 'examples']).stdout.split('\n').slice(0, -2).join('\n');
    const textTwo = runCli(['check', '--jobs=2', 'examples']).stdout.split('\n').slice(0, -2).join('\n');
    assert.equal(textOne, textTwo);
  });

  test('in-process main() with a CliIO gives the same findings as the bundle', async () => {
    let out = '';
    let err = '';
    const io: CliIO = { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd: REPO };
    const code = await main(['check', '--format', 'json', 'examples'], io);
    assert.equal(code, 1, err);
    assert.equal(stable(out), stable(runCli(['check', '--format', 'json', 'examples']).stdout));
  });
});

describe('refscope check exit codes and errors', () => {
  test('clean code: exit 0, no findings, files counted; .txt and node_modules ignored', () => {
    const r = runCli(['check', '--format', 'json', join(tmp, 'clean')]);
    assert.equal(r.code, 0, r.stderr);
    const j = json(r.stdout);
    assert.deepEqual(j.findings, []);
    assert.equal(j.stats.files, 1);
    assert.equal(j.stats.functions, 1);
    const t = runCli(['check', join(tmp, 'clean')]);
    assert.equal(t.code, 0);
    assert.match(t.stdout, /^0 findings in 0 files \(1 file checked, 1 functions, 0 with parse damage/);
  });

  test('binary and non-UTF-8 files are skipped and counted, not fatal', () => {
    const r = runCli(['check', '--format', 'json', 'mixed'], tmp);
    assert.equal(r.code, 0, r.stderr);
    const j = json(r.stdout);
    assert.equal(j.stats.files, 1);
    assert.equal(j.stats.skipped, 2);
    assert.deepEqual(j.stats.skippedFiles.map((s) => s.file), ['mixed/blob.c', 'mixed/latin1.h']);
    assert.match(j.stats.skippedFiles[0]!.reason, /binary/);
    assert.match(j.stats.skippedFiles[1]!.reason, /UTF-8/);
    const t = runCli(['check', 'mixed'], tmp);
    assert.match(t.stdout, /mixed\/blob\.c: skipped: binary/);
    assert.match(t.stdout, /, 2 skipped,/);
  });

  const errors: [name: string, args: string[], message: RegExp][] = [
    ['missing path', ['check', 'no/such/dir'], /^refscope: error: no such file or directory: no\/such\/dir\n$/],
    ['non-C file named explicitly', ['check', 'README.md'], /^refscope: error: not a C file \(expected \.c or \.h\): README\.md\n$/],
    ['invalid --config', ['check', '--config', 'bad.json', 'clean'], /^refscope: error: invalid config: .*bad\.json.*\n$/],
    ['missing --config', ['check', '--config', 'nope.json', 'clean'], /^refscope: error: config file not found: nope\.json\n$/],
    ['unknown format', ['check', '--format', 'xml', 'clean'], /^refscope: error: unknown format 'xml'/],
    ['bad --jobs', ['check', '--jobs', '0', 'clean'], /^refscope: error: --jobs needs a positive integer/],
    ['unknown option', ['check', '--frobnicate', 'clean'], /^refscope: error: unknown option '--frobnicate'/],
    ['no PATH', ['check'], /^refscope: error: no PATH given/],
    ['unknown command', ['lint', 'clean'], /^refscope: error: unknown command 'lint'/],
    ['--root not a directory', ['check', '--root', 'README.md', 'clean'], /^refscope: error: --root is not a directory: README\.md\n$/],
  ];
  for (const [name, args, message] of errors) {
    test(`${name}: one-line error, exit 2`, () => {
      const r = runCli(args, tmp);
      assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
      assert.equal(r.stdout, '');
    });
  }

  test('an invalid .refscope.json at the --root is read and rejected', () => {
    const root = join(tmp, 'withcfg');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'a.c'), CLEAN_C);
    writeFileSync(join(root, '.refscope.json'), '[1, 2');
    const r = runCli(['check', '--root', root, join(root, 'a.c')], tmp);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^refscope: error: invalid config: .*\.refscope\.json/);
    rmSync(join(root, '.refscope.json'));
    assert.equal(runCli(['check', '--root', root, join(root, 'a.c')], tmp).code, 0);
  });

  test('a valid config extends the catalog: a custom lock pair is tracked (from --root or --config)', () => {
    const root = join(tmp, 'customlock');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'a.c'), `struct dev { int lock; int busy; };

int dev_claim(struct dev *d)
{
	dev_lock(&d->lock);
	if (d->busy)
		return -16;
	d->busy = 1;
	dev_unlock(&d->lock);
	return 0;
}
`);
    const cfg = JSON.stringify({ locks: [{ acquire: 'dev_lock', release: 'dev_unlock', kind: 'spinlock' }] });
    assert.equal(runCli(['check', 'customlock/a.c'], tmp).code, 0, 'unknown functions are not locks');
    writeFileSync(join(tmp, 'custom.json'), cfg);
    const viaFlag = runCli(['check', '--format', 'json', '--config', 'custom.json', 'customlock/a.c'], tmp);
    assert.equal(viaFlag.code, 1, viaFlag.stderr);
    assert.deepEqual(json(viaFlag.stdout).findings.map((f) => [f.rule, f.function, f.file, f.line]), [['lock-leak', 'dev_claim', 'customlock/a.c', 7]]);
    writeFileSync(join(root, '.refscope.json'), cfg);
    const viaRoot = runCli(['check', '--format', 'json', '--root', 'customlock', 'customlock/a.c'], tmp);
    assert.equal(viaRoot.code, 1, viaRoot.stderr);
    assert.equal(stable(viaRoot.stdout), stable(viaFlag.stdout));
  });

  test('--help, --version', () => {
    const h = runCli(['check', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /usage: refscope check \[--format text\|json\|sarif\]/);
    const top = runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /commands:\n {2}check/);
    const v = runCli(['--version']);
    assert.equal(v.code, 0);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.equal(v.stdout, `refscope ${pkg.version}\n`);
    assert.equal(runCli([]).code, 2);
  });

  test('bin/refscope.js (what npx runs) runs the CLI, workers included', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'refscope.js'), 'check', '--format', 'json', 'examples'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(stable(r.stdout), stable(runCli(['check', '--format', 'json', 'examples']).stdout));
  });
  test('a closed output pipe (`| head -1`) ends quietly, no EPIPE crash', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" scenarios | head -1; echo "exit=\${PIPESTATUS[0]}"`], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout.split('\n').length, 3, r.stdout);
    assert.match(r.stdout, /^abba-lock-order\nexit=0\n$/);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
  });
});
