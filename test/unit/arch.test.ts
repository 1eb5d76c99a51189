/** Architecture trees (src/core/util/arch.ts): a function under arch/<a>/ resolves no callee in another architecture's tree. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeParser } from '../../src/node/assets';
import { archOf, linkable } from '../../src/core/util/arch';
import { buildWorkspaceIndex, extractFileFacts } from '../../src/core/index/index';
import { buildPackedIndex, definitionScanFlags, resolveCallee, resolveCalleeId } from '../../src/core/index/workspace';
import { FunctionPacker } from '../../src/core/index/lazy';

test('archOf and linkable: arch trees by display path, any prefix', () => {
  assert.equal(archOf('arch/loongarch/kernel/traps.c'), 'loongarch');
  assert.equal(archOf('linux-6.12/arch/sh/kernel/cpu/fpu.c'), 'sh');
  assert.equal(archOf('arch\\x86\\kernel\\a.c'), 'x86');
  assert.equal(archOf('drivers/gpu/drm/drm_gem.c'), null);
  assert.equal(archOf('arch/Kconfig'), null);
  assert.ok(linkable('arch/loongarch/kernel/traps.c', 'arch/loongarch/include/asm/fpu.h'));
  assert.ok(linkable('arch/loongarch/kernel/traps.c', 'kernel/fork.c'));
  assert.ok(!linkable('arch/loongarch/kernel/traps.c', 'arch/sh/kernel/cpu/fpu.c'));
  assert.ok(linkable('kernel/fork.c', 'arch/sh/kernel/cpu/fpu.c'), 'a caller outside the arch trees keeps every candidate');
});

test('resolveCallee: never into another architecture, with the map index and the packed one', async () => {
  const parser = await nodeParser();
  const files: [string, string][] = [
    ['arch/sh/kernel/cpu/fpu.c', 'int init_fpu(struct task_struct *t)\n{\n\treturn 0;\n}\n'],
    ['arch/loongarch/kernel/traps.c', 'void do_fpu(void)\n{\n\tinit_fpu();\n}\n'],
    ['arch/sh/kernel/traps.c', 'void do_fpu_sh(void)\n{\n\tinit_fpu(0);\n}\n'],
    ['kernel/generic.c', 'void generic(void)\n{\n\tinit_fpu(0);\n}\n'],
    ['arch/mips/kernel/helper.c', 'int helper(void)\n{\n\treturn 1;\n}\n'],
    ['lib/helper.c', 'int helper(void)\n{\n\treturn 2;\n}\n'],
  ];
  const facts = () => files.map(([f, t]) => extractFileFacts(parser, t, f));
  const map = buildWorkspaceIndex(facts());
  const packer = new FunctionPacker((n) => new Uint8Array(n), 1024, definitionScanFlags());
  const rest = facts().map((ff) => {
    packer.add(ff.file, ff.functions);
    return { ...ff, functions: [] };
  });
  const packed = buildPackedIndex(rest, packer, Infinity);
  for (const index of [map, packed]) {
    assert.equal(resolveCallee(index, 'arch/loongarch/kernel/traps.c', 'init_fpu'), undefined);
    assert.equal(resolveCalleeId(index, 'arch/loongarch/kernel/traps.c', 'init_fpu'), undefined);
    assert.equal(resolveCallee(index, 'arch/sh/kernel/traps.c', 'init_fpu')?.file, 'arch/sh/kernel/cpu/fpu.c');
    assert.equal(resolveCallee(index, 'kernel/generic.c', 'init_fpu')?.file, 'arch/sh/kernel/cpu/fpu.c');
    // two definitions, one in another arch: the other one, whatever the order
    assert.equal(resolveCallee(index, 'arch/loongarch/kernel/traps.c', 'helper')?.file, 'lib/helper.c');
    assert.equal(resolveCallee(index, 'arch/mips/kernel/x.c', 'helper')?.file, 'arch/mips/kernel/helper.c');
  }
});
