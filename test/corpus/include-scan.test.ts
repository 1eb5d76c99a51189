/** The fast include scan of `refscope check` (src/cli/knowledge.ts) reads the same includes as the reference pattern on real Linux 6.12 files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { scanIncludes } from '../../src/cli/knowledge';
import { kernelTree, referenceIncludes as reference } from '../unit/cli-support';

test('scanIncludes: same includes as the reference pattern on real kernel files', () => {
  const dir = join(kernelTree(), 'drivers', 'gpu', 'drm', 'i915');
  let files = 0;
  let includes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.[ch]$/.test(e.name)) {
        const text = readFileSync(p, 'utf8');
        const got = scanIncludes(text);
        assert.deepEqual(got, reference(text), p);
        files++;
        includes += got.length;
      }
    }
  };
  walk(dir);
  assert.ok(files > 500 && includes > 5000, `${files} files, ${includes} includes`);
});
