/**
 * File collection: a walk of a Linux tree top leaves out its userspace
 * directories (tools/, scripts/) and says so; given as PATHs they are checked.
 * Through collectFiles and through the built CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles, isKernelTop } from '../../src/cli/files';
import { ensureBuilt, kernelTree, runCli } from './cli-support';

const LEAK = '#include <linux/mutex.h>\nstruct s { struct mutex m; };\nint f(struct s *p, int v)\n{\n\tmutex_lock(&p->m);\n\tif (v)\n\t\treturn -1;\n\tmutex_unlock(&p->m);\n\treturn 0;\n}\n';

describe('collecting files of a Linux tree top', () => {
  let top = '';
  before(() => {
    ensureBuilt();
    top = mkdtempSync(join(tmpdir(), 'refscope-top-'));
    for (const d of ['kernel', 'tools/perf', 'scripts/kconfig', 'drivers/x']) mkdirSync(join(top, d), { recursive: true });
    writeFileSync(join(top, 'Kbuild'), '');
    writeFileSync(join(top, 'MAINTAINERS'), '');
    for (const f of ['kernel/a.c', 'tools/perf/b.c', 'scripts/kconfig/c.c', 'drivers/x/d.c']) writeFileSync(join(top, f), LEAK);
  });
  after(() => rmSync(top, { recursive: true, force: true }));

  it('the tree top without tools/ and scripts/, with a note; a PATH inside them is walked', () => {
    assert.equal(isKernelTop(top), true);
    assert.equal(isKernelTop(join(top, 'drivers')), false);
    const notes: string[] = [];
    assert.deepEqual(collectFiles(['.'], top, (l) => notes.push(l)).map((f) => f.display), ['drivers/x/d.c', 'kernel/a.c']);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /tools\/ and scripts\/ \(userspace programs\) left out/);
    assert.deepEqual(collectFiles(['tools'], top).map((f) => f.display), ['tools/perf/b.c']);
    assert.deepEqual(collectFiles(['.', 'tools/perf/b.c'], top).map((f) => f.display).sort(), ['drivers/x/d.c', 'kernel/a.c', 'tools/perf/b.c']);
  });

  it('the CLI reports the kernel files only and prints the note on stderr', () => {
    const r = runCli(['check', '--no-cache', '--format', 'json', '.'], top);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as { findings: Array<{ file: string }> };
    assert.deepEqual([...new Set(j.findings.map((f) => f.file))].sort(), ['drivers/x/d.c', 'kernel/a.c']);
    assert.match(r.stderr, /^refscope: \.: a Linux tree top; tools\/ and scripts\/ \(userspace programs\) left out/m);
  });

  it('the real Linux 6.12 tree is recognised as a tree top', () => {
    assert.equal(isKernelTop(kernelTree()), true);
  });
});
