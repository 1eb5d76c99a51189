// The flat SyntaxTree against web-tree-sitter's own Node API: every node of
// every fixture (kernel-style C, broken C, non-ASCII text, deep nesting) must
// answer type, span, positions, flags, parent, children and every field the
// same way, whether the tree was copied with the binding's raw cursor
// functions or with the public TreeCursor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'web-tree-sitter';
import { nodeParser } from '../../src/node/assets';
import { normalizeKernelC } from '../../src/core/parse/normalize';
import { flattenTree, SyntaxLanguage } from '../../src/core/parse/syntax';
import { compareWithWasm } from './syntax-compare';

const fixtures = (): { name: string; text: string }[] => {
  const out: { name: string; text: string }[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.[ch]$/.test(n)) out.push({ name: p, text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(__dirname, '..', 'fixtures'));
  walk(join(__dirname, '..', '..', 'examples'));
  return out;
};

const SPECIAL: { name: string; text: string }[] = [
  { name: 'empty', text: '' },
  { name: 'broken', text: 'int f(void) { if (x { return; }\nstruct s { int a; ;\nvoid g( { lock(&a) }' },
  { name: 'missing semicolon', text: 'int f(void) { int a = 1\n return a }' },
  { name: 'non-ASCII', text: '/* Grüße 😀 */ int f(void) { const char *s = "é😀"; return s[0]; }\r\nint g(void) { return 1; }\r\n' },
  { name: 'deep nesting', text: `int f(void) { return ${'('.repeat(600)}1${')'.repeat(600)}; }` },
  { name: 'only directives', text: '#define A 1\n#define B(x) ((x) + 1)\n#include <linux/x.h>\n' },
];

test('SyntaxTree answers as web-tree-sitter does, node by node (raw and public cursor walks)', async () => {
  const parser = await nodeParser();
  const lang = new SyntaxLanguage(parser.language);
  const cases = [...SPECIAL, ...fixtures()];
  assert.ok(cases.length > 40, `fixtures found: ${cases.length}`);
  let nodes = 0;
  let withErrors = 0;
  for (const { name, text } of cases) {
    for (const source of [text, normalizeKernelC(text)]) {
      const wasm = parser.parseRaw(source);
      try {
        const fast = parser.flatten(wasm, source);
        const slow = flattenTree(wasm, source, lang); // the public TreeCursor
        compareWithWasm(parser, name, fast, wasm);
        for (const k of ['typeId', 'start', 'end', 'parentOf', 'subtreeEnd', 'field', 'flags'] as const) {
          assert.deepEqual(fast[k], slow[k], `${name}: ${k} of the raw and the public walk`);
        }
        nodes += fast.length;
        if (fast.rootNode.hasError) withErrors++;
      } finally {
        wasm.delete();
      }
    }
  }
  assert.ok(withErrors >= 3, `trees with errors compared: ${withErrors}`);
  assert.ok(nodes > 10000, `nodes compared: ${nodes}`);
});

test('SyntaxTree: one object per node, ids unique across trees, the parse leaves no tree to free', async () => {
  const parser = await nodeParser();
  const a = parser.parse('int f(int x) { return x + 1; }');
  const b = parser.parse('int f(int x) { return x + 1; }');
  const fa = a.rootNode.namedChild(0)!;
  assert.equal(a.rootNode.namedChild(0), fa);
  assert.equal(fa.parent, a.rootNode);
  assert.equal(fa.childForFieldName('body')!.parent, fa);
  assert.notEqual(b.rootNode.namedChild(0)!.id, fa.id);
  const ids = new Set<number>();
  for (const t of [a, b]) for (let i = 0; i < t.length; i++) ids.add(t.node(i).id);
  assert.equal(ids.size, a.length + b.length);
  assert.equal(fa.childForFieldName('no_such_field'), null);
});

test('SyntaxTree: an edit inside one function copies the others from the last copy, equal to a fresh walk', async () => {
  const cparser = await nodeParser();
  const p = new Parser();
  p.setLanguage(cparser.language);
  const before = [
    '#include <linux/x.h>',
    'static DEFINE_SPINLOCK(l);',
    'int a(int x) { spin_lock(&l); x++; spin_unlock(&l); return x; }',
    'int b(int y) { if (y) { return y * 2; } return 0; }',
    'struct s { int f; };',
    'int c(struct s *p) { return p->f + 1; }',
  ].join('\n');
  const at = before.indexOf('return y * 2;');
  const after = before.slice(0, at) + 'y += 40; ' + before.slice(at);
  const old = p.parse(before)!;
  const prev = cparser.flatten(old, before);
  const delta = after.length - before.length;
  const startPosition = { row: 3, column: at - before.lastIndexOf('\n', at) - 1 };
  old.edit({ startIndex: at, oldEndIndex: at, newEndIndex: at + delta, startPosition, oldEndPosition: startPosition, newEndPosition: { ...startPosition, column: startPosition.column + delta } } as never);
  const tree = p.parse(after, old)!;
  const fnType = cparser.syntax.typeIdOf('function_definition');
  const fns = prev.rootNode.namedChildren.filter((n) => n.typeId === fnType);
  const edited = fns.find((f) => f.startIndex < at && at < f.endIndex)!;
  let copied = 0;
  const reused = cparser.flatten(tree, after, {
    prev,
    typeId: fnType,
    at: (start, end) => {
      const was = end <= edited.startIndex ? start : start >= edited.endIndex + delta ? start - delta : -1;
      const f = fns.find((x) => x.startIndex === was && x.endIndex - x.startIndex === end - start);
      if (f) copied++;
      return f ? f.index : -1;
    },
  });
  const fresh = cparser.flatten(tree, after);
  assert.equal(copied, 2, 'functions a and c copied');
  for (const k of ['typeId', 'start', 'end', 'parentOf', 'subtreeEnd', 'field', 'flags'] as const) assert.deepEqual(reused[k], fresh[k], k);
  old.delete();
  tree.delete();
  p.delete();
});
