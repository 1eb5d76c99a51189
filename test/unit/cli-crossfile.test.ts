/**
 * Cross-file knowledge in `refscope check`: summaries of the non-static functions
 * of the other analysed `.c` files reach each file through a second pass (the
 * built CLI, real WASM parser, real worker threads).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, runCli, type JsonReport } from './cli-support';

interface Report extends JsonReport {
  stats: JsonReport['stats'] & { crossFile?: { summaries: number; ambiguous: number; reanalysed: number } };
}

const HEADER = `#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/delay.h>

struct obj { struct mutex lock; spinlock_t sl; int n; };
`;

/** Caller side: obj_finish() releases the mutex on the error path; obj_wait() is called under a spinlock. */
const CALLER_C = `${HEADER}
int obj_finish(struct obj *o);
void obj_wait(struct obj *o);

int obj_op(struct obj *o)
{
	mutex_lock(&o->lock);
	if (o->n < 0)
		return obj_finish(o);
	mutex_unlock(&o->lock);
	return 0;
}

static void obj_kick(struct obj *o)
{
	obj_wait(o);
}

void obj_poke(struct obj *o)
{
	spin_lock(&o->sl);
	obj_kick(o);
	spin_unlock(&o->sl);
}
`;

/** Callee side, defined in another .c file. */
const CALLEE_C = (storage: string) => `${HEADER}
int obj_finish(struct obj *o)
{
	o->n = 0;
	mutex_unlock(&o->lock);
	return -1;
}

${storage}void obj_wait(struct obj *o)
{
	msleep(10);
	o->n++;
}
`;

/** A callee with no lock effect and no sleep: no reason to analyse anything again. */
const HARMLESS_C = `${HEADER}
int obj_count(struct obj *o)
{
	return o->n;
}
`;

let tmp = '';
const json = (stdout: string): Report => JSON.parse(stdout) as Report;
const check = (cwd: string, ...args: string[]) => {
  const r = runCli(['check', '--format', 'json', '--root', cwd, ...args], cwd);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return json(r.stdout);
};
const summary = (r: Report) => r.findings.map((f) => `${f.rule} ${f.function} ${f.file}:${f.line}`);

before(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'refscope-xfile-'));
  for (const [dir, storage] of [['pair', ''], ['static', 'static '], ['dup', '']] as const) {
    mkdirSync(join(tmp, dir), { recursive: true });
    writeFileSync(join(tmp, dir, 'caller.c'), CALLER_C);
    writeFileSync(join(tmp, dir, 'callee.c'), CALLEE_C(storage));
  }
  // a second non-static obj_wait() that does not sleep makes the name ambiguous
  writeFileSync(join(tmp, 'dup', 'other.c'), `${HEADER}\nvoid obj_wait(struct obj *o)\n{\n\to->n--;\n}\n`);
  // Architecture trees: obj_wait() sleeps in arch/sh's tree and not in arch/mips'; arch/loongarch has neither.
  const at = (path: string, text: string) => {
    mkdirSync(join(tmp, 'tree', path, '..'), { recursive: true });
    writeFileSync(join(tmp, 'tree', path), text);
  };
  at('arch/sh/kernel/fpu.c', CALLEE_C(''));
  at('arch/mips/kernel/fpu.c', `${HEADER}\nvoid obj_wait(struct obj *o)\n{\n\to->n--;\n}\n`);
  for (const dir of ['arch/sh/kernel', 'arch/mips/kernel', 'arch/loongarch/kernel', 'drivers/obj']) at(`${dir}/poke.c`, CALLER_C);
  // <asm/objlock.h> as each architecture has it: loongarch's lock helper sleeps, x86's (the default) does not
  at('arch/loongarch/include/asm/objlock.h', '#include <linux/delay.h>\nstruct obj;\nstatic inline void obj_settle(struct obj *o)\n{\n\tmsleep(1);\n}\n');
  at('arch/x86/include/asm/objlock.h', 'struct obj;\nstatic inline void obj_settle(struct obj *o)\n{\n}\n');
  const settle = `${HEADER}#include <asm/objlock.h>\n\nvoid obj_hold(struct obj *o)\n{\n\tspin_lock(&o->sl);\n\tobj_settle(o);\n\tspin_unlock(&o->sl);\n}\n`;
  at('arch/loongarch/kernel/settle.c', settle);
  at('drivers/obj/settle.c', settle);
  mkdirSync(join(tmp, 'harmless'), { recursive: true });
  writeFileSync(join(tmp, 'harmless', 'caller.c'), `${HEADER}\nint obj_count(struct obj *o);\n\nint obj_get(struct obj *o)\n{\n\tint n;\n\n\tspin_lock(&o->sl);\n\tn = obj_count(o);\n\tspin_unlock(&o->sl);\n\treturn n;\n}\n`);
  writeFileSync(join(tmp, 'harmless', 'callee.c'), HARMLESS_C);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('refscope check: knowledge from the other .c files', () => {
  test('alone, caller.c has a false lock-leak and misses the sleep (the baseline this feature fixes)', () => {
    const r = check(join(tmp, 'pair'), 'caller.c');
    assert.deepEqual(summary(r), ['lock-leak obj_op caller.c:14']);
  });

  test('with callee.c: the release in obj_finish() removes the lock-leak, the msleep in obj_wait() adds a sleep-in-atomic', () => {
    const r = check(join(tmp, 'pair'), 'caller.c', 'callee.c');
    assert.deepEqual(summary(r), ['sleep-in-atomic obj_poke caller.c:27']);
    assert.match(r.findings[0]!.message, /obj_kick\(\) \(may sleep: obj_wait\(\) \(may sleep: msleep\(\)\)\)|obj_kick\(\).*msleep/);
    assert.equal(r.stats.crossFile?.reanalysed, 1, 'only caller.c is analysed again');
    assert.equal(r.stats.files, 2);
  });

  test('the result does not depend on --jobs or on the order of the PATHs', () => {
    const dir = join(tmp, 'pair');
    const a = JSON.stringify(check(dir, '--jobs', '1', 'caller.c', 'callee.c').findings);
    const b = JSON.stringify(check(dir, '--jobs', '2', 'caller.c', 'callee.c').findings);
    const c = JSON.stringify(check(dir, '--jobs', '3', 'callee.c', 'caller.c').findings);
    assert.equal(a, b);
    assert.equal(a, c);
  });

  test('a static callee in another file is not the one called: no sleep-in-atomic from it', () => {
    const r = check(join(tmp, 'static'), 'caller.c', 'callee.c');
    assert.deepEqual(summary(r), []);
  });

  test('a name defined non-statically in two files is ambiguous and not used', () => {
    const r = check(join(tmp, 'dup'), '.');
    assert.deepEqual(summary(r), []);
    assert.equal(r.stats.crossFile?.ambiguous, 1);
  });

  test('architecture trees: a file under arch/<a>/ never calls into another architecture, and finds <asm/...> in its own', () => {
    const r = check(join(tmp, 'tree'), '.');
    const sleeps = r.findings.filter((f) => f.rule === 'sleep-in-atomic').map((f) => `${f.function} ${f.file}`).sort();
    assert.deepEqual(sleeps, [
      // arch/sh sees its own sleeping obj_wait(); arch/mips its own that does not sleep; arch/loongarch
      // neither; drivers/ sees two non-static definitions: ambiguous, as before
      'obj_hold arch/loongarch/kernel/settle.c', // loongarch's <asm/objlock.h>; drivers/ gets x86's, which does not sleep
      'obj_poke arch/sh/kernel/poke.c',
    ]);
  });

  test('a callee summary that cannot change the result causes no second analysis', () => {
    const r = check(join(tmp, 'harmless'), '.');
    assert.deepEqual(summary(r), []);
    assert.equal(r.stats.crossFile?.reanalysed, 0);
  });
});
