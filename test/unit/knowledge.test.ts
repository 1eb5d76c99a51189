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
