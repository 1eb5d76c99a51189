/**
 * Hostile and broken input (issue 8, scope 1 and 6): the analysis never throws,
 * finishes within its budgets (asserted as counts and flags — the machine is
 * shared — with child-process timeouts as hang guards), says what it gave up on
 * (`stats.functionsNotAnalysed`, `functionsWithParseDamage`, the CLI's skipped
 * files) and reports nothing from a half-done analysis. Outputs stay valid JSON
 * and SARIF for any file name. Real WASM parser, real CLI bundle.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeFile, analyzeRefcount } from '../../src/core/analyze';
import { describeIncomplete, setFunctionBudgetMs } from '../../src/core/budget';
import { computeHints } from '../../src/core/hints';
import { builtinCatalog } from '../../src/core/catalog/index';
import { buildCfg } from '../../src/core/cfg/build';
import { buildWorkspaceIndex, extractFileFacts } from '../../src/core/index/index';
import type { CParser } from '../../src/core/parse/parser';
import { parseKernelC } from '../../src/core/parse/source';
import { runRefcountRules } from '../../src/core/rules/refcount/index';
import type { FileResult, Finding, IncompleteFunction } from '../../src/core/types';
import { nodeParser } from '../../src/node/assets';
import { ensureBuilt, runCli, sarifValidator, type JsonReport, contractProblems } from './cli-support';

let parser: CParser;
before(async () => {
  parser = await nodeParser();
});

const FIXTURES = join(__dirname, '..', 'fixtures', 'robustness');

interface Outcome {
  result: FileResult;
  refcount: Finding[];
}

/** analyzeFile plus every refcount rule with an index built from the same text; asserts sane spans. */
function analyse(text: string, file = 'robust.c'): Outcome {
  const result = analyzeFile(parser, text, file);
  const index = buildWorkspaceIndex([extractFileFacts(parser, text, file)]);
  const parsed = parseKernelC(parser, text);
  let refcount: Finding[];
  try {
    refcount = runRefcountRules(parsed, file, { catalog: builtinCatalog(), index });
  } finally {
    parsed.dispose();
  }
  for (const f of [...result.findings, ...refcount]) {
    const s = f.span;
    assert.ok(s.start.offset >= 0 && s.start.offset <= s.end.offset && s.end.offset <= text.length, `${f.rule} span outside the text: ${JSON.stringify(s)}`);
    assert.ok(s.start.line >= 1 && s.start.column >= 1, `${f.rule} position not 1-based: ${JSON.stringify(s)}`);
  }
  assert.equal(typeof result.stats.functionsNotAnalysed, 'number');
  return { result, refcount };
}

const rules = (fs: Finding[]): string[] => fs.map((f) => `${f.rule}@${f.span.start.line}`);

/** A function with a real lock leak (the early return keeps the lock), nested in `depth` blocks. */
function nestedLeak(depth: number): string {
  return [
    'static int nested(struct dev *d)',
    '{',
    ...Array.from({ length: depth }, () => '{'),
    '\tspin_lock(&d->lock);',
    '\tif (d->broken)',
    '\t\treturn -EIO;',
    '\tspin_unlock(&d->lock);',
    ...Array.from({ length: depth }, () => '}'),
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
}

const LEAK = [
  '#include <linux/spinlock.h>',
  '',
  'struct dev { spinlock_t lock; int broken; int n; };',
  '',
  'static int dev_poke(struct dev *d)',
  '{',
  '\tspin_lock(&d->lock);',
  '\tif (d->broken)',
  '\t\treturn -EIO;',
  '\td->n++;',
  '\tspin_unlock(&d->lock);',
  '\treturn 0;',
  '}',
  '',
].join('\n');

describe('robustness: broken text', () => {
  it('truncated files: every prefix of a file analyses without throwing', () => {
    const text = readFileSync(join(FIXTURES, 'refcount-and-locks.c'), 'utf8');
    let damaged = 0;
    for (let cut = 0; cut <= text.length; cut += Math.max(1, Math.floor(text.length / 60))) {
      const o = analyse(text.slice(0, cut));
      damaged += o.result.stats.functionsWithParseDamage;
    }
    // cuts inside a function leave it damaged: the stats say so
    assert.ok(damaged > 0, 'some truncations are reported as parse damage');
    const full = analyse(text);
    assert.equal(full.result.stats.functionsNotAnalysed, 0);
    assert.deepEqual(full.result.stats.functionsWithParseDamage, 0);
  });

  it('unbalanced braces and parentheses: damage is counted, no spurious finding', () => {
    // stray closing braces end the function early: the rest is junk at file level (no throw, spans sane)
    analyse(LEAK.replace('\td->n++;', '\td->n++;\n\t}}}'));
    // 500 unclosed braces before the file: tree-sitter's recovery decides what is a function; no throw, no spurious finding
    assert.deepEqual(rules(analyse(`${'{'.repeat(500)}\n${LEAK}`).result.findings).filter((r) => r !== 'lock-leak@10'), []);
    // [text, functions, damaged, findings]
    const variants: [string, number, number, string[]][] = [
      // a missing `)` swallows the function: tree-sitter keeps no definition, so nothing is claimed about it
      [LEAK.replace('\tspin_unlock(&d->lock);', '\tspin_unlock(&d->lock;'), 0, 0, []],
      // unbalanced parentheses in a condition: damaged, and silent
      [LEAK.replace('if (d->broken)', 'if ((((d->broken)'), 1, 1, []],
      // a missing closing brace at the end: damaged, but the leak before the damage is real
      [LEAK.replace('return 0;\n}', 'return 0;\n'), 1, 1, ['lock-leak@9']],
      // junk after the function does not damage it
      [`${LEAK}${')'.repeat(500)}\n`, 1, 0, ['lock-leak@9']],
    ];
    for (const [v, functions, damaged, findings] of variants) {
      const o = analyse(v);
      assert.equal(o.result.stats.functions, functions, JSON.stringify(v.slice(-120)));
      assert.equal(o.result.stats.functionsWithParseDamage, damaged, JSON.stringify(v.slice(-120)));
      assert.deepEqual(rules(o.result.findings), findings);
      assert.deepEqual(o.refcount, []);
    }
    // the intact file does report the leak (so the silence above is the damage flag, not blindness)
    assert.deepEqual(rules(analyse(LEAK).result.findings), ['lock-leak@9']);
  });

  it('thousands of nested blocks: the function is marked not analysed and yields no finding', () => {
    const shallow = analyse(nestedLeak(20));
    assert.equal(shallow.result.stats.functionsNotAnalysed, 0);
    assert.deepEqual(shallow.result.findings.map((f) => f.rule), ['lock-leak']);
    const deep = analyse(nestedLeak(3000));
    assert.equal(deep.result.stats.functions, 1);
    assert.equal(deep.result.stats.functionsNotAnalysed, 1, 'the lock analysis gave up and says so');
    assert.deepEqual(deep.result.incomplete?.map((i) => `${i.function}:${i.analysis}:${i.reason}`), ['nested:locks:error']);
    assert.deepEqual(deep.result.findings, [], 'no finding from a half-done analysis');
    // thousands of nested parentheses parse and analyse
    const parens = analyse(`static int p(int a)\n{\n\treturn ${'('.repeat(3000)}a${')'.repeat(3000)};\n}\n`);
    assert.equal(parens.result.stats.functions, 1);
  });

  it('the CFG builder fails cleanly (a catchable error, never a hang) on absurd nesting', () => {
    const text = nestedLeak(3000);
    const parsed = parseKernelC(parser, text);
    try {
      const fn = parsed.functions[0]!;
      let cfg: ReturnType<typeof buildCfg> | undefined;
      try {
        cfg = buildCfg(fn.node, { text: parsed.text, noreturn: new Set() });
      } catch (e) {
        assert.ok(e instanceof Error, 'an Error the callers catch');
      }
      if (cfg) assert.ok(cfg.nodes.length > 0);
    } finally {
      parsed.dispose();
    }
  });

  it('NUL bytes in the text: analysed without throwing; findings before the NUL still reported', () => {
    const o = analyse(`${LEAK}\0\0static int z(void) { return 0\0; }\n`);
    assert.deepEqual(rules(o.result.findings), ['lock-leak@9']);
    analyse('\0'.repeat(10000));
    analyse(LEAK.replace(/;/g, ';\0'));
  });

  it('CRLF and mixed line ends: the same findings on the same lines as with LF', () => {
    const lf = rules(analyse(LEAK).result.findings);
    assert.deepEqual(rules(analyse(LEAK.replace(/\n/g, '\r\n')).result.findings), lf);
    const lines = LEAK.split('\n');
    const mixed = lines.map((l, i) => l + (i === lines.length - 1 ? '' : i % 2 ? '\r\n' : '\n')).join('');
    assert.deepEqual(rules(analyse(mixed).result.findings), lf);
    // lone CRs are no line break for the positions (the editor counts \n and \r\n): must not throw
    analyse(LEAK.replace(/\n/g, '\r'));
  });

  it('non-UTF-8 (replacement characters, lone surrogates) in the text', () => {
    const o = analyse(`${LEAK}/* \uFFFD\uFFFD \uD800 caf\u00e9 */\nstatic int w(void) { return '\uDC00'; }\n`);
    assert.deepEqual(rules(o.result.findings), ['lock-leak@9']);
  });

  it('macros that expand to nothing the parser understands', () => {
    const text = readFileSync(join(FIXTURES, 'macro-soup.c'), 'utf8');
    const o = analyse(text);
    assert.ok(o.result.stats.functions >= 1);
    // the one ordinary function after the soup is still analysed and its leak found
    assert.ok(rules(o.result.findings).some((r) => r.startsWith('lock-leak@')), JSON.stringify(rules(o.result.findings)));
  });
});

describe('robustness: path explosion and recursion', () => {
  /** `n` sequential `if (...) goto outK;` with a lock held: 2^n paths through the ladder. */
  function gotoLadder(n: number): string {
    const out = ['static int ladder(struct dev *d)', '{', '\tspin_lock(&d->lock);'];
    for (let i = 0; i < n; i++) out.push(`\tif (d->f${i})`, `\t\tgoto out${i};`, `\td->c${i}++;`);
    out.push('\tspin_unlock(&d->lock);', '\treturn 0;');
    for (let i = n - 1; i >= 0; i--) out.push(`out${i}:`, `\td->e${i}--;`);
    out.push('\treturn -1;', '}', '');
    return out.join('\n');
  }

  it('a goto ladder with 2^14 (> 10,000) paths finishes and reports the real leak once', () => {
    const text = gotoLadder(14);
    const o = analyse(text);
    assert.equal(o.result.stats.functionsNotAnalysed, 0, 'deduplicated states keep it under the budget');
    const leaks = o.result.findings.filter((f) => f.rule === 'lock-leak');
    assert.equal(leaks.length, 1);
    assert.equal(leaks[0]!.span.start.line, text.split('\n').indexOf('\treturn -1;') + 1);
  });

  it('refcount rules on a ladder of 2^14 paths with distinct per-path states finish (bounded walk)', () => {
    const out = ['static int rc_ladder(struct dev *d)', '{', '\tstruct kobject *k = kobject_get(&d->kobj);', '\tint err = 0;'];
    for (let i = 0; i < 14; i++) out.push(`\tif (d->f${i})`, `\t\terr = ${i};`, '\telse', `\t\tk = kobject_get(&d->o${i});`);
    out.push('\tkobject_put(k);', '\treturn err;', '}', '');
    const o = analyse(out.join('\n'));
    assert.equal(o.result.stats.functions, 1);
    assert.equal(o.result.stats.functionsNotAnalysed, 0);
  });

  /** `n` branches that each may take a new reference, then an early return that leaks it (ref-leak). */
  function refLadder(n: number): string {
    const out = ['static int rc_big(struct dev *d)', '{', '\tstruct kobject *k = kobject_get(&d->kobj);', '\tint err = 0;'];
    for (let i = 0; i < n; i++) out.push(`\tif (d->f${i})`, `\t\terr = ${i};`, '\telse', `\t\tk = kobject_get(&d->o${i});`);
    out.push('\tif (d->bad)', '\t\treturn -1;', '\tkobject_put(k);', '\treturn err;', '}', '');
    return out.join('\n');
  }

  it('a refcount walk over its step bound: the function is listed as incomplete and none of its walk is reported', () => {
    const small = analyse(refLadder(20));
    assert.ok(small.refcount.some((f) => f.rule === 'ref-leak'), 'the small ladder has real leaks');
    const text = refLadder(500);
    const index = buildWorkspaceIndex([extractFileFacts(parser, text, 'rc.c')]);
    const incomplete: IncompleteFunction[] = [];
    const t0 = performance.now();
    const findings = analyzeRefcount(parser, text, 'rc.c', { index, incomplete });
    const ms = performance.now() - t0;
    assert.deepEqual(findings.filter((f) => f.rule === 'ref-leak' || f.rule === 'use-after-put'), [], 'no finding from half a walk');
    assert.deepEqual(incomplete, [{ function: 'rc_big', line: 1, analysis: 'refcount', reason: 'paths', detail: 'ref-leak, use-after-put' }]);
    assert.equal(describeIncomplete(incomplete[0]!), 'refcount analysis (ref-leak, use-after-put) stopped: too many paths');
    // the hang guard of the whole test run is far above this; the figure is for the log
    assert.ok(ms < 60_000, `refcount analysis of the 2,000-line function took ${ms.toFixed(0)} ms`);
  });

  it('the time budget: a walk that runs out of time stops, says so, and yields nothing', () => {
    const text = gotoLadder(400);
    assert.deepEqual(analyse(text).result.findings.map((f) => f.rule), ['lock-leak']);
    const prev = setFunctionBudgetMs(0.001);
    try {
      const r = analyzeFile(parser, text, 'time.c');
      assert.deepEqual(r.findings, []);
      assert.deepEqual(r.incomplete, [{ function: 'ladder', line: 1, analysis: 'locks', reason: 'time' }]);
      assert.equal(r.stats.functionsNotAnalysed, 1);
      const parsed = parseKernelC(parser, text);
      try {
        const h = computeHints(parsed, 'time.c', builtinCatalog());
        assert.equal(h.functions[0]!.heldWalkStopped, 'time', 'the held-set hints say they are partial');
      } finally {
        parsed.dispose();
      }
    } finally {
      setFunctionBudgetMs(prev);
    }
    assert.throws(() => setFunctionBudgetMs(0), RangeError);
    assert.throws(() => setFunctionBudgetMs(Number.NaN), RangeError);
    assert.equal(analyzeFile(parser, text, 'time.c').incomplete, undefined, 'the default budget is back');
  });

  it('recursion in the call graph (self, mutual, through a lock) terminates with summaries', () => {
    const text = readFileSync(join(FIXTURES, 'recursion.c'), 'utf8');
    const o = analyse(text);
    assert.equal(o.result.stats.functions, 4);
    assert.equal(o.result.stats.functionsNotAnalysed, 0);
    // even() -> odd() -> even() with the lock released on the early return of odd()
    assert.deepEqual(rules(o.result.findings), ['lock-leak@25']);
  });
});

describe('robustness: size', () => {
  it('a single 1 MB line of small functions analyses; positions are columns on line 1', () => {
    const fn = (i: number) => `static int f${i}(struct dev *d) { spin_lock(&d->lock); if (d->x) return ${i}; spin_unlock(&d->lock); return 0; } `;
    const parts: string[] = [];
    let len = 0;
    for (let i = 0; len < 1 << 20; i++) {
      parts.push(fn(i));
      len += parts[i]!.length;
    }
    const text = `${parts.join('')}\n`;
    const result = analyzeFile(parser, text, 'oneline.c');
    assert.equal(result.stats.functions, parts.length);
    assert.equal(result.stats.functionsNotAnalysed, 0);
    assert.equal(result.findings.length, parts.length, 'one leak per function');
    assert.ok(result.findings.every((f) => f.span.start.line === 1));
    const last = result.findings[result.findings.length - 1]!;
    assert.equal(text.slice(last.span.start.offset, last.span.end.offset).startsWith('return'), true);
    assert.equal(last.span.start.column, last.span.start.offset + 1);
  });
});

describe('robustness: the CLI on hostile files (and JSON/SARIF validity)', () => {
  let tmp: string;
  before(() => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'refscope-robust-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('non-UTF-8 and NUL files are skipped and counted; the rest is analysed', () => {
    const dir = join(tmp, 'enc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'good.c'), LEAK);
    writeFileSync(join(dir, 'latin1.c'), Buffer.concat([Buffer.from('/* caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from(' */\n'), Buffer.from(LEAK)]));
    writeFileSync(join(dir, 'nul.c'), Buffer.concat([Buffer.from(LEAK), Buffer.from([0, 0, 0])]));
    const r = runCli(['check', '--format', 'json', dir], tmp, 600_000);
    const j = JSON.parse(r.stdout) as JsonReport;
    assert.deepEqual(contractProblems(j), []);
    assert.equal(j.stats.skipped, 2);
    const reasons = Object.fromEntries(j.stats.skippedFiles.map((s) => [s.file.replace(/^.*[\\/]/, ''), s.reason]));
    assert.match(reasons['latin1.c'] ?? '', /UTF-8/);
    assert.match(reasons['nul.c'] ?? '', /NUL/);
    assert.deepEqual(j.findings.map((f) => `${f.file.replace(/^.*[\\/]/, '')}:${f.rule}`), ['good.c:lock-leak']);
  });

  it('a function over the budget is listed (JSON stats.incomplete, a text note) and the other files still report', () => {
    const dir = join(tmp, 'budget');
    mkdirSync(dir);
    writeFileSync(join(dir, 'good.c'), LEAK);
    const n = 500;
    const big = ['#include <linux/kobject.h>', 'struct dev { struct kobject kobj; int bad; };', 'static int rc_big(struct dev *d)', '{', '\tstruct kobject *k = kobject_get(&d->kobj);', '\tint err = 0;'];
    for (let i = 0; i < n; i++) big.push(`\tif (d->f${i})`, `\t\terr = ${i};`, '\telse', `\t\tk = kobject_get(&d->o${i});`);
    big.push('\tif (d->bad)', '\t\treturn -1;', '\tkobject_put(k);', '\treturn err;', '}', '');
    writeFileSync(join(dir, 'big.c'), big.join('\n'));
    const r = runCli(['check', '--format', 'json', dir], tmp, 600_000);
    const j = JSON.parse(r.stdout) as JsonReport & { stats: { functionsNotAnalysed: number; incomplete: Array<{ file: string; function: string; line: number; analysis: string; reason: string; why: string }> } };
    assert.deepEqual(contractProblems(j), []);
    assert.deepEqual(j.findings.map((f) => `${f.file.replace(/^.*[\\/]/, '')}:${f.rule}`), ['good.c:lock-leak']);
    assert.equal(j.stats.functionsNotAnalysed, 1);
    assert.deepEqual(j.stats.incomplete.map((i) => `${i.file.replace(/^.*[\\/]/, '')}:${i.line}:${i.function}:${i.analysis}:${i.reason}`), ['big.c:3:rc_big:refcount:paths']);
    assert.match(j.stats.incomplete[0]!.why, /ref-leak, use-after-put/);
    const t = runCli(['check', dir], tmp, 600_000);
    assert.match(t.stdout, /big\.c:3: note: rc_big: refcount analysis \(ref-leak, use-after-put\) stopped: too many paths; no findings from it \[analysis-incomplete\]/);
    assert.match(t.stdout, /1 not analysed/);
  });

  it('a 20 MB generated file finishes within the hang guard and is counted', () => {
    const dir = join(tmp, 'big');
    mkdirSync(dir);
    const fn = (i: number) => `static int f${i}(struct dev *d)\n{\n\tint r;\n\n\tmutex_lock(&d->lock);\n\tr = d->ops->go(d, ${i});\n\tif (r)\n\t\tgoto out;\n\td->n++;\nout:\n\tmutex_unlock(&d->lock);\n\treturn r;\n}\n\n`;
    const parts: string[] = [];
    let len = 0;
    for (let i = 0; len < 20 << 20; i++) {
      parts.push(fn(i));
      len += parts[i]!.length;
    }
    parts.push(LEAK.replace('dev_poke', 'dev_poke_last').replace(/^#include.*\n\nstruct dev.*\n/, ''));
    writeFileSync(join(dir, 'generated.c'), parts.join(''));
    // hang guard: the child is killed after 15 minutes (spawnSync timeout throws)
    const r = runCli(['check', '--format', 'json', dir], tmp, 900_000);
    const j = JSON.parse(r.stdout) as JsonReport;
    assert.ok(j.stats.bytes >= 20 << 20, JSON.stringify(j.stats));
    assert.equal(j.stats.skipped, 0);
    assert.equal(j.stats.functions, parts.length);
    assert.deepEqual(j.findings.map((f) => f.function), ['dev_poke_last']);
  });

  const NAMES = [
    'quote"d.c',
    "apos'trophe.c",
    'back\\slash.c',
    'tab\tname.c',
    'new\nline.c',
    'ctrl\u0001\u001f\u007f.c',
    'caf\u00e9-\u65e5\u672c-\u{1F600}.c',
    '<script>alert(1)<\\script>.c',
    'percent%20and#hash?.c',
    'bidi\u202e\u2028.c',
  ];

  it('JSON and SARIF stay valid for file names with quotes, control characters, newlines and non-ASCII', () => {
    const dir = join(tmp, 'names');
    mkdirSync(dir);
    const made: string[] = [];
    for (const n of NAMES) {
      const safe = n.replace(/\\/g, '_'); // a backslash is a separator on Windows; keep the test portable
      try {
        writeFileSync(join(dir, safe), LEAK.replace('dev_poke', `dev_poke_${made.length}`).replace('/* */', ''));
        made.push(safe);
      } catch {
        // the file system refuses some names: test the rest
      }
    }
    assert.ok(made.length >= 8, `created ${made.length} files`);
    assert.deepEqual(readdirSync(dir).sort(), [...made].sort());
    const j = JSON.parse(runCli(['check', '--format', 'json', dir], tmp, 600_000).stdout) as JsonReport;
    assert.deepEqual(contractProblems(j), []);
    assert.equal(j.findings.length, made.length);
    const seen = new Set(j.findings.map((f) => f.file.slice(f.file.lastIndexOf('/') + 1)));
    for (const m of made) assert.ok(seen.has(m), `finding for ${JSON.stringify(m)} with the name intact`);

    const sarifText = runCli(['check', '--format', 'sarif', dir], tmp, 600_000).stdout;
    const sarif = JSON.parse(sarifText) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    assert.deepEqual(sarifValidator()(sarif), []);
    const uris = sarif.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation.uri);
    assert.equal(uris.length, made.length);
    for (const u of uris) {
      assert.doesNotMatch(u, /[\s"<>\\^`{|}\u0000-\u001f\u007f]/u, `URI is percent-encoded: ${u}`);
      assert.ok(made.includes(decodeURIComponent(u.slice(u.lastIndexOf('/') + 1))), `URI decodes to a file name: ${u}`);
    }
  });

  it('messages naming hostile identifiers stay valid JSON and SARIF', () => {
    const dir = join(tmp, 'msgs');
    mkdirSync(dir);
    // identifiers cannot hold quotes, but lock expressions quote source text: put odd text in the lock expression
    const text = LEAK.replace(/&d->lock/g, '&d->locks["\\"</script>\\u0000\u00e9"[0]]');
    writeFileSync(join(dir, 'odd.c'), text);
    const j = JSON.parse(runCli(['check', '--format', 'json', dir], tmp, 600_000).stdout) as JsonReport;
    assert.deepEqual(contractProblems(j), []);
    const sarif = JSON.parse(runCli(['check', '--format', 'sarif', dir], tmp, 600_000).stdout) as unknown;
    assert.deepEqual(sarifValidator()(sarif), []);
    assert.equal(j.findings.length, 1);
    assert.match(j.findings[0]!.message, /locks/);
  });
});
