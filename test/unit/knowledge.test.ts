/** Header knowledge of `refscope check` (src/cli/knowledge.ts): the fast include scan reads what the reference pattern reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanIncludes } from '../../src/cli/knowledge';
import { referenceIncludes as reference } from './cli-support';

test('scanIncludes: edge cases read as the reference pattern reads them', () => {
  const cases = [
    '#include <linux/kref.h>\n#include "local.h"\n',
    '  #  include\t<a.h>\n#include "include/b.h"\n',
    '#include MACRO_HEADER\n#include <c.h>',
    'int x; #include <not_at_line_start.h>\n',
    '/* #include <in_comment.h> */\n#include<d.h>\r\n#include "e.h"\r\n',
    'x\r#include <after_cr.h>\n',
    '#include <unterminated\n#include "f.h"\n',
    '#includex <g.h>\n#  define include 1\ninclude <h.h>\n',
    '',
  ];
  for (const c of cases) assert.deepEqual(scanIncludes(c), reference(c), JSON.stringify(c));
});

test('header knowledge: summaries computed on first use from the header as it is then, cached after; a header gone by then gives none and no error', async () => {
  const { mkdtempSync, writeFileSync, rmSync, mkdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { nodeParser } = await import('../../src/node/assets');
  const { builtinCatalog } = await import('../../src/core/catalog');
  const { HeaderKnowledge } = await import('../../src/cli/knowledge');
  const root = mkdtempSync(join(tmpdir(), 'refscope-knowledge-'));
  try {
    mkdirSync(join(root, 'drv'));
    const lockH = 'struct foo { spinlock_t lock; };\nstatic inline void foo_lock(struct foo *f)\n{\n\tspin_lock(&f->lock);\n}\n';
    writeFileSync(join(root, 'drv', 'foo.h'), lockH);
    writeFileSync(join(root, 'drv', 'gone.h'), 'static inline void gone_lock(struct foo *f)\n{\n\tspin_lock(&f->lock);\n}\n');
    const src = '#include "foo.h"\n#include "gone.h"\nvoid use(struct foo *f) { foo_lock(f); }\n';
    const k = new HeaderKnowledge(await nodeParser(), builtinCatalog(), root, root);
    const view = k.forFile(join(root, 'drv', 'use.c'), src);
    assert.equal(k.summarized, 0, 'nothing parsed before a name is asked for');
    rmSync(join(root, 'drv', 'gone.h'));
    const s = view.get('foo_lock');
    assert.ok(s, 'foo_lock summarised');
    assert.equal(s.file, 'drv/foo.h');
    assert.deepEqual(s.acquires.map((a) => [a.lock, a.kind]), [['$0.lock', 'spinlock']]);
    assert.equal(k.summarized, 1);
    assert.equal(view.get('gone_lock'), undefined, 'the header was removed after the scan');
    assert.equal(k.forFile(join(root, 'drv', 'other.c'), src).get('foo_lock'), s, 'cached for the next file');
    assert.equal(k.summarized, 1, 'foo.h parsed once; gone.h could not be read');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('candidateNames keeps no header text alive: 64 headers of 1 MB each, their long names kept, heap grows by far less than the texts', async () => {
  const { candidateNames } = await import('../../src/cli/knowledge');
  const { collectGarbage } = await import('../../src/node/gc');
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const kept: Set<string>[] = [];
  for (let i = 0; i < 64; i++) {
    // A definition with a name long enough to be a slice of the text, then 1 MB of comment (unique per header).
    const text = `static inline void header_${i}_long_function_name_for_slicing(struct foo *f)\n{\n}\n/* ${String(i).repeat(8)}${'\u00e9x'.repeat(512 * 1024)} */\n`;
    kept.push(candidateNames(text));
  }
  collectGarbage();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(kept.length, 64);
  assert.deepEqual([...kept[5]!], ['header_5_long_function_name_for_slicing']);
  assert.ok(grown < 16 * 1048576, `heap grew by ${(grown / 1048576).toFixed(1)} MB for 64 names (the texts are 64 MB)`);
});
