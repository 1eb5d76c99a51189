/**
 * The flat SyntaxTree (src/core/parse/syntax.ts) against web-tree-sitter's own
 * Node API on real Linux 6.12 files: every node's type, span, positions,
 * flags, parent, children and fields, for a spread of files from several
 * subsystems (every 12th file of each directory, as the normaliser leaves it).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { normalizeKernelC } from '../../src/core/parse/normalize';
import { nodeParser } from '../../src/node/assets';
import { kernelTree } from '../unit/cli-support';
import { compareWithWasm } from '../unit/syntax-compare';

const DIRS = ['drivers/gpu/drm/i915/gt', 'fs/ext4', 'kernel/sched', 'net/core', 'mm', 'arch/x86/kvm', 'drivers/net/ethernet/intel/ice', 'include/linux'];
let kernel = '';
before(() => {
  kernel = kernelTree();
});

test('SyntaxTree equals web-tree-sitter node by node on real kernel files', async () => {
  const parser = await nodeParser();
  let files = 0;
  let nodes = 0;
  for (const d of DIRS) {
    const names = readdirSync(join(kernel, d)).filter((n) => /\.[ch]$/.test(n)).sort();
    for (let i = 0; i < names.length; i += 12) {
      const rel = `${d}/${names[i]}`;
      const text = normalizeKernelC(readFileSync(join(kernel, rel), 'utf8'));
      const wasm = parser.parseRaw(text);
      try {
        const flat = parser.flatten(wasm, text);
        compareWithWasm(parser, rel, flat, wasm);
        nodes += flat.length;
        files++;
      } finally {
        wasm.delete();
      }
    }
  }
  console.log(`# syntax: ${files} files, ${nodes} nodes compared`);
  assert.ok(files >= 60, `files compared: ${files}`);
});
