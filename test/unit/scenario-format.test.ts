import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { nodeParser } from '../../src/node/assets';
import { parseScenario, ScenarioError } from '../../src/core/scenarios/format';
import { library } from '../../src/core/scenarios/library';
import { simulateCommand, scenariosCommand } from '../../src/cli/simulate';
import type { CliIO } from '../../src/cli/io';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const fixture = (name: string) => readFileSync(join(root, 'test', 'fixtures', 'sim', name), 'utf8');

async function errorOf(text: string, file = 'x.rsim'): Promise<ScenarioError> {
  const parser = await nodeParser();
  try {
    parseScenario(parser, text, file);
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return e;
  }
  assert.fail('expected a ScenarioError');
}

test('parse errors point at file:line:col', async () => {
  const syntax = await errorOf(fixture('parse-error.rsim'), 'parse-error.rsim');
  assert.equal(syntax.line, 9);
  assert.equal(syntax.column, 2);
  assert.match(syntax.message, /^parse-error\.rsim:9:2: syntax error/);
  const lock = await errorOf(fixture('unknown-lock.rsim'), 'unknown-lock.rsim');
  assert.equal(lock.message, "unknown-lock.rsim:10:15: unknown lock '&other' (declare it, e.g. 'static DEFINE_MUTEX(other);')");
});

test('header errors: unknown expectation (with its column), missing expect, missing title', async () => {
  const bad = await errorOf('/*\n * title: t\n * expect use-after-fre\n */\nvoid thread_a(void) {}\n');
  assert.equal(bad.line, 3);
  assert.equal(bad.column, 11);
  assert.match(bad.detail, /unknown expectation 'use-after-fre'/);
  const noExpect = await errorOf('/*\n * title: t\n */\nvoid thread_a(void) {}\n');
  assert.match(noExpect.detail, /expect safe/);
  const noTitle = await errorOf('/*\n * expect safe\n */\nvoid thread_a(void) {}\n');
  assert.match(noTitle.detail, /title:/);
  const noHeader = await errorOf('void thread_a(void) {}\n');
  assert.equal(noHeader.line, 1);
});

test('unsupported statements and unknown names are errors at their position', async () => {
  const loop = await errorOf('/*\n * title: t\n * expect safe\n */\nvoid thread_a(void)\n{\n\twhile (1)\n\t\t;\n}\n');
  assert.deepEqual([loop.line, loop.column], [7, 2]);
  assert.match(loop.detail, /unsupported statement 'while statement'/);
  const ptr = await errorOf('/*\n * title: t\n * expect safe\n */\nvoid thread_a(void)\n{\n\tkref_get(&nobody->ref);\n}\n');
  assert.deepEqual([ptr.line, ptr.column], [7, 11]);
  const holds = await errorOf('/*\n * title: t\n * expect safe\n * holds-ref: nothing\n */\nvoid thread_a(void) {}\n');
  assert.match(holds.detail, /holds-ref names 'nothing'/);
  const noThreads = await errorOf('/*\n * title: t\n * expect safe\n */\nvoid setup(void) {}\n');
  assert.match(noThreads.detail, /no thread functions/);
});

test('the embedded library matches scenarios/*/*.rsim', () => {
  const r = spawnSync(process.execPath, [join(root, 'scenarios', 'embed.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = readdirSync(join(root, 'scenarios'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(root, 'scenarios', d.name)).filter((f) => f.endsWith('.rsim')).map((f) => `scenarios/${d.name}/${f}`))
    .sort();
  const embedded = library().flatMap((e) => e.variants.map((v) => v.file)).sort();
  assert.deepEqual(embedded, files);
  for (const e of library()) for (const v of e.variants) assert.equal(v.text, readFileSync(join(root, v.file), 'utf8'));
});

function captureIO(): CliIO & { out: string; err: string } {
  const io = { out: '', err: '', cwd: root, stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s) };
  return io;
}

test('refscope simulate: JSON per file, exit 0 when verdicts match, 1 when not, 2 on a bad file', async () => {
  const one = captureIO();
  assert.equal(await simulateCommand(['--format', 'json', 'scenarios/abba-lock-order/broken.rsim'], one), 0);
  const j = JSON.parse(one.out) as { scenario: string; verdict: string; violations: Array<{ kind: string; trace: Array<{ thread: string; op: string; file: string; line: number; state: unknown }> }>; states: number; ms: number };
  assert.equal(j.verdict, 'violation');
  assert.equal(j.violations[0]!.kind, 'deadlock');
  assert.deepEqual(Object.keys(j.violations[0]!.trace[0]!).filter((k) => ['thread', 'op', 'file', 'line', 'state'].includes(k)).sort(), ['file', 'line', 'op', 'state', 'thread']);
  assert.ok(j.states > 0 && typeof j.ms === 'number');

  const many = captureIO();
  assert.equal(await simulateCommand(['--format', 'json', 'scenarios/abba-lock-order/safe.rsim', '--builtin', 'double-unlock'], many), 0);
  const arr = JSON.parse(many.out) as Array<{ file: string; verdict: string }>;
  assert.deepEqual(arr.map((x) => x.file).sort(), ['scenarios/abba-lock-order/safe.rsim', 'scenarios/double-unlock/broken.rsim', 'scenarios/double-unlock/safe.rsim']);

  // A file whose expect line is wrong: exit 1.
  const wrong = captureIO();
  const tmp = join(root, 'test', 'fixtures', 'sim', 'wrong-expect.rsim');
  assert.equal(await simulateCommand([tmp], wrong), 1);
  assert.match(wrong.out, /^FAIL .*wrong-expect\.rsim: violation \[deadlock\] \(expect safe\)/);

  const bad = captureIO();
  assert.equal(await simulateCommand(['test/fixtures/sim/parse-error.rsim'], bad), 2);
  assert.match(bad.err, /^test\/fixtures\/sim\/parse-error\.rsim:9:2: /);

  const text = captureIO();
  assert.equal(await simulateCommand(['--builtin', 'all'], text), 0);
  assert.match(text.out, new RegExp(`${library().reduce((n, e) => n + e.variants.length, 0)}/\\d+ scenarios as expected`));
});

test('refscope scenarios lists ids, titles and files', async () => {
  const io = captureIO();
  assert.equal(await scenariosCommand(['--format', 'json'], io), 0);
  const list = JSON.parse(io.out) as Array<{ id: string; title: string; files: Array<{ file: string; expect: string }> }>;
  assert.equal(list.length, library().length);
  const seed = list.find((x) => x.id === 'seed-struct-mutex-around-unref')!;
  assert.ok(seed.title.length > 10);
  assert.ok(seed.files.some((f) => f.file === 'scenarios/seed-struct-mutex-around-unref/safe.rsim' && f.expect === 'safe'));
  const t = captureIO();
  assert.equal(await scenariosCommand([], t), 0);
  assert.match(t.out, /^abba-lock-order\n/);
});
