/**
 * The directives-only prescan: files it declares free of C really are (the real
 * grammar finds no declaration, type or function in them), and anything that
 * is C outside a directive keeps the file in the analysis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCCode } from '../../src/core/parse/prescan';
import { nodeParser } from '../../src/node/assets';
import { analyzeFile } from '../../src/core/analyze';

const DIRECTIVES_ONLY: Record<string, string> = {
  'register defines': '/* SPDX */\n#ifndef _X_H\n#define _X_H\n#define REG_A 0x1\n#define REG_B__SHIFT 0x4 // note\n#endif\n',
  'continued macro': '#define F(x) \\\n  do { foo(x); } while (0)\n\n#define G 1\n',
  'comment spanning lines inside a directive': '#define A 1 /* starts\n int not_code;\n ends */ + 2\n#define B 2\n',
  'string with comment opener inside a directive': '#define S "/* not a comment"\n#define T 3\n',
  'CRLF and continuation': '#define A \\\r\n  1\r\n#define B 2\r\n',
  'comments and blank lines only': '\n\n// hello\n/* a\n * b\n */\n\t \n',
  'empty file': '',
  'directive after a comment on its line': '/* c */ #define X 1\n',
  'line comment spliced onto the next line': '// a comment \\\nstill the comment\n#define Y 2\n',
};

const HAS_CODE: Record<string, string> = {
  'a function': '#define A 1\nstatic int f(void) { return A; }\n',
  'a declaration after defines': '#define A 1\nextern int x;\n',
  'code inside #if 0': '#if 0\nint dead(void) { return 0; }\n#endif\n',
  'a struct': '#include <linux/types.h>\nstruct s { int a; };\n',
  'a macro call statement': '#define X 1\nDECLARE_BITMAP(map, 16);\n',
  'code after an unterminated-looking quote in a directive': '#error don"t\nint y;\n',
  'code after a closed multi-line comment in a directive': '#define A /* a\n b */ 1\nint z;\n',
};

test('prescan: files of directives and comments only', () => {
  for (const [name, text] of Object.entries(DIRECTIVES_ONLY)) assert.equal(hasCCode(text), false, name);
});

test('prescan: anything that is C keeps the file', () => {
  for (const [name, text] of Object.entries(HAS_CODE)) assert.equal(hasCCode(text), true, name);
});

test('prescan agrees with the real grammar: directive-only texts have no declaration, type or function', async () => {
  const parser = await nodeParser();
  const CODE = new Set(['function_definition', 'declaration', 'struct_specifier', 'type_definition', 'expression_statement']);
  for (const [name, text] of Object.entries(DIRECTIVES_ONLY)) {
    if (name.includes('spanning lines')) continue; // the grammar itself misreads a comment that spans lines inside a directive
    const tree = parser.parseRaw(text);
    try {
      const found: string[] = [];
      const visit = (n: import('web-tree-sitter').Node): void => {
        if (CODE.has(n.type)) found.push(n.type);
        for (const c of n.namedChildren) if (c) visit(c);
      };
      visit(tree.rootNode);
      assert.deepEqual(found, [], name);
    } finally {
      tree.delete();
    }
  }
});

test('analyzeFile: a directives-only file is counted, not parsed, and has no findings', async () => {
  const parser = await nodeParser();
  const text = DIRECTIVES_ONLY['register defines']!;
  const r = analyzeFile(parser, text, 'regs.h');
  assert.equal(r.stats.directivesOnly, true);
  assert.equal(r.stats.functions, 0);
  assert.equal(r.stats.bytes, text.length);
  assert.deepEqual(r.findings, []);
  const withCode = analyzeFile(parser, HAS_CODE['a function']!, 'f.c');
  assert.equal(withCode.stats.directivesOnly, undefined);
  assert.equal(withCode.stats.functions, 1);
});
