/**
 * The three output formats on a hand-built report (independent of what the rules
 * find): SARIF validity against the official 2.1.0 schema, the JSON contract,
 * the GCC-style text, path joining.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { joinDisplay } from '../../src/cli/files';
import { formatJson } from '../../src/cli/format/json';
import { formatSarif } from '../../src/cli/format/sarif';
import { compareFindings, type Report, type ReportFinding } from '../../src/cli/format/shared';
import { formatText } from '../../src/cli/format/text';
import { RULES } from '../../src/core/rules/registry';
import { contractProblems, sarifValidator, type JsonReport } from './cli-support';

const root = resolve('/ws');
const finding = (file: string, line: number, rule: string, fn: string): ReportFinding => ({
  rule, severity: 'warning', file, absFile: resolve(root, file), line, column: 3, endLine: line, endColumn: 20, function: fn,
  message: `${rule} message`, scenario: rule === 'lock-leak' ? 'error-path-lock-leak' : null,
  trace: [
    { file, line: line - 2, column: 2, message: 'mutex_lock(&d->lock) acquires &d->lock' },
    { file, line, column: 3, message: 'returns with &d->lock held' },
  ],
});

function report(findings: ReportFinding[]): Report {
  return {
    findings: [...findings].sort(compareFindings), root, cwd: root, toolVersion: '0.1.0',
    stats: { files: 2, functions: 10, functionsWithParseDamage: 1, bytes: 1234, ms: 5, cpuMs: 9, functionsNotAnalysed: 0, incomplete: [], filesDirectivesOnly: 0, skipped: 1, skippedFiles: [{ file: 'drivers/x/blob.c', reason: 'binary file (contains NUL bytes)' }], damagedFunctions: ['f (drivers/x/a.c)'], headersSummarized: 0, slowestFiles: [], jobs: 2 },
  };
}

const sample = report([
  finding('drivers/x/b.c', 40, 'sleep-in-atomic', 'b_irq'),
  finding('drivers/x/a.c', 12, 'lock-leak', 'a_open'),
  finding('drivers/x/a.c', 12, 'double-lock', 'a_open'),
  finding('drivers/x/a b.c', 5, 'custom-rule', 'weird'),
]);

test('findings sort by file, line, column, rule', () => {
  assert.deepEqual(sample.findings.map((f) => `${f.file}:${f.line}:${f.rule}`), [
    'drivers/x/a b.c:5:custom-rule', 'drivers/x/a.c:12:double-lock', 'drivers/x/a.c:12:lock-leak', 'drivers/x/b.c:40:sleep-in-atomic',
  ]);
});

test('SARIF is valid 2.1.0 with rule metadata, ruleIndex, %SRCROOT% URIs and codeFlows', () => {
  const log = JSON.parse(formatSarif(sample, (f) => resolve(root, f))) as {
    runs: { tool: { driver: { rules: { id: string; helpUri: string; shortDescription: { text: string }; fullDescription: { text: string }; defaultConfiguration: { level: string } }[] } };
      originalUriBaseIds: Record<string, { uri: string }>;
      results: { ruleId: string; ruleIndex: number; level: string; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[]; codeFlows: { threadFlows: { locations: { location: { message: { text: string } } }[] }[] }[] }[] }[];
  };
  assert.deepEqual(sarifValidator()(log), []);
  const run = log.runs[0]!;
  assert.equal(run.originalUriBaseIds['%SRCROOT%']!.uri, 'file:///ws/');
  const rules = run.tool.driver.rules;
  for (const r of RULES) {
    const m = rules.find((x) => x.id === r.id)!;
    assert.equal(m.shortDescription.text, r.shortDescription);
    assert.equal(m.fullDescription.text, r.fullDescription);
    assert.equal(m.helpUri, r.helpUri);
    assert.equal(m.defaultConfiguration.level, 'warning');
  }
  assert.ok(rules.some((x) => x.id === 'custom-rule'), 'unknown rule ids get metadata too');
  for (const res of run.results) {
    assert.equal(rules[res.ruleIndex]!.id, res.ruleId);
    assert.equal(res.level, 'warning');
    assert.equal(res.locations[0]!.physicalLocation.artifactLocation.uriBaseId, '%SRCROOT%');
    assert.deepEqual(res.codeFlows[0]!.threadFlows[0]!.locations.map((l) => l.location.message.text), ['mutex_lock(&d->lock) acquires &d->lock', 'returns with &d->lock held']);
  }
  assert.equal(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, 'drivers/x/a%20b.c');
});

test('SARIF uses an absolute file URI for files outside the root', () => {
  const out = report([{ ...finding('/elsewhere/c.c', 3, 'lock-leak', 'c'), absFile: '/elsewhere/c.c' }]);
  const log = JSON.parse(formatSarif(out, (f) => resolve(root, f))) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[] }[] }[] };
  assert.deepEqual(sarifValidator()(log), []);
  const loc = log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation;
  assert.equal(loc.uri, 'file:///elsewhere/c.c');
  assert.equal(loc.uriBaseId, undefined);
});

test('JSON has exactly the contract keys per finding and trace step', () => {
  const j = JSON.parse(formatJson(sample)) as JsonReport;
  assert.deepEqual(contractProblems(j), []);
  assert.deepEqual(Object.keys(j.findings[0]!), ['rule', 'severity', 'file', 'line', 'column', 'endLine', 'endColumn', 'function', 'message', 'scenario', 'trace']);
  assert.deepEqual(Object.keys(j.findings[0]!.trace[0]!), ['file', 'line', 'message']);
  assert.deepEqual(Object.keys(j.stats).slice(0, 5), ['files', 'functions', 'functionsWithParseDamage', 'bytes', 'ms']);
  assert.equal(j.stats.skipped, 1);
  assert.equal(j.findings[2]!.scenario, 'error-path-lock-leak');
  assert.equal(j.findings[1]!.scenario, null);
});

test('text is GCC-style with indented trace and a summary line', () => {
  const lines = formatText(sample).trimEnd().split('\n');
  assert.equal(lines[0], 'drivers/x/a b.c:5:3: warning: custom-rule message [custom-rule]');
  assert.equal(lines[1], '    drivers/x/a b.c:3: mutex_lock(&d->lock) acquires &d->lock');
  assert.equal(lines[2], '    drivers/x/a b.c:5: returns with &d->lock held');
  assert.ok(lines.includes('drivers/x/blob.c: skipped: binary file (contains NUL bytes)'));
  assert.equal(lines.at(-1), '4 findings in 3 files (2 files checked, 10 functions, 1 with parse damage = 10.00%, 1 skipped, 0.0s)');
});

test('functions whose analysis stopped are listed in text, JSON and SARIF (valid), counted once each', () => {
  const r = report(sample.findings);
  r.stats.functionsNotAnalysed = 2;
  r.stats.incomplete = [
    { file: 'drivers/x/a.c', function: 'huge', line: 7, analysis: 'locks', reason: 'paths' },
    { file: 'drivers/x/a.c', function: 'huge', line: 7, analysis: 'refcount', reason: 'time', detail: 'ref-leak, use-after-put' },
    { file: 'drivers/x/b "q".c', function: 'odd', line: 1, analysis: 'locks', reason: 'error', detail: 'internal error: x' },
  ];
  const lines = formatText(r).trimEnd().split('\n');
  assert.ok(lines.includes('drivers/x/a.c:7: note: huge: lock analysis stopped: too many paths; no findings from it [analysis-incomplete]'), lines.join('\n'));
  assert.ok(lines.some((l) => /^drivers\/x\/a\.c:7: note: huge: refcount analysis \(ref-leak, use-after-put\) stopped: over the \d+ ms time budget/.test(l)));
  assert.ok(lines.includes('drivers/x/b "q".c:1: note: odd: lock analysis failed: internal error: x; no findings from it [analysis-incomplete]'));
  assert.match(lines.at(-1)!, /, 2 not analysed, /);
  const j = JSON.parse(formatJson(r)) as JsonReport & { stats: { incomplete: { file: string; function: string; reason: string; why: string }[] } };
  assert.deepEqual(contractProblems(j), []);
  assert.deepEqual(j.stats.incomplete.map((i) => `${i.file}:${i.function}:${i.reason}`), ['drivers/x/a.c:huge:paths', 'drivers/x/a.c:huge:time', 'drivers/x/b "q".c:odd:error']);
  assert.equal(j.stats.incomplete[0]!.why, 'lock analysis stopped: too many paths');
  const log = JSON.parse(formatSarif(r, (f) => resolve(root, f))) as { runs: { invocations: { toolExecutionNotifications: { level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] }[] };
  assert.deepEqual(sarifValidator()(log), []);
  const notes = log.runs[0]!.invocations[0]!.toolExecutionNotifications;
  assert.equal(notes.length, 3);
  assert.equal(notes[0]!.level, 'note');
  assert.equal(notes[0]!.message.text, 'huge(): lock analysis stopped: too many paths; no findings from it');
  assert.equal(notes[2]!.locations[0]!.physicalLocation.artifactLocation.uri, 'drivers/x/b%20%22q%22.c');
  assert.equal(notes[2]!.locations[0]!.physicalLocation.region.startLine, 1);
});

test('display path = PATH as given joined with the path below it', () => {
  assert.equal(joinDisplay('drivers/gpu/drm', 'i915/x.c'), 'drivers/gpu/drm/i915/x.c');
  assert.equal(joinDisplay('drivers/gpu/drm/', 'i915/x.c'), 'drivers/gpu/drm/i915/x.c');
  assert.equal(joinDisplay('./drm', 'x.c'), './drm/x.c');
  assert.equal(joinDisplay('.', 'x.c'), 'x.c');
  assert.equal(joinDisplay('/abs/dir', 'x.c'), '/abs/dir/x.c');
  assert.equal(joinDisplay('/', 'x.c'), '/x.c');
});
