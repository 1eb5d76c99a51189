// Shared by the unit and corpus tests of src/core/parse/syntax.ts: a SyntaxTree
// compared node by node with the web-tree-sitter tree it was copied from.
import assert from 'node:assert/strict';
import type { Node, Tree } from 'web-tree-sitter';
import type { CParser } from '../../src/core/parse/parser';
import type { SyntaxNode, SyntaxTree } from '../../src/core/parse/syntax';

/** Preorder list of a web-tree-sitter tree's nodes (what the flat tree must hold, in its order). */
function preorder(tree: Tree): Node[] {
  const out: Node[] = [];
  const c = tree.walk();
  try {
    for (;;) {
      out.push(c.currentNode);
      if (c.gotoFirstChild()) continue;
      for (;;) {
        if (c.gotoNextSibling()) break;
        if (!c.gotoParent()) return out;
      }
    }
  } finally {
    c.delete();
  }
}

function same(a: Node | null, b: SyntaxNode | null, what: string): void {
  if (a === null || b === null) {
    assert.equal(b === null, a === null, what);
    return;
  }
  assert.deepEqual([b.type, b.startIndex, b.endIndex], [a.type, a.startIndex, a.endIndex], what);
}

/** Every node of `flat` answers as the node of `wasm` at the same preorder position does. */
export function compareWithWasm(parser: CParser, name: string, flat: SyntaxTree, wasm: Tree): void {
  const nodes = preorder(wasm);
  assert.equal(flat.length, nodes.length, `${name}: node count`);
  const fields = parser.language.fields.filter((f): f is string => !!f);
  for (let i = 0; i < nodes.length; i++) {
    const a = nodes[i]!;
    const b = flat.node(i);
    const at = `${name}: node ${i} (${a.type} at ${a.startIndex})`;
    assert.equal(b.type, a.type, at);
    assert.equal(b.typeId, a.typeId, at);
    assert.deepEqual([b.startIndex, b.endIndex], [a.startIndex, a.endIndex], at);
    assert.deepEqual([b.startPosition, b.endPosition], [a.startPosition, a.endPosition], at);
    assert.deepEqual([b.isNamed, b.isMissing, b.isError, b.hasError], [a.isNamed, a.isMissing, a.isError, a.hasError], at);
    assert.equal(b.text, a.text, at);
    same(a.parent, b.parent, `${at}: parent`);
    assert.deepEqual(b.children.map((x) => x.index), b.children.map((_, k) => b.child(k)!.index), `${at}: child(k)`);
    assert.equal(b.childCount, a.childCount, `${at}: childCount`);
    assert.equal(b.namedChildCount, a.namedChildCount, `${at}: namedChildCount`);
    a.children.forEach((x, k) => same(x, b.children[k] ?? null, `${at}: child ${k}`));
    a.namedChildren.forEach((x, k) => same(x, b.namedChild(k), `${at}: named child ${k}`));
    same(a.lastChild, b.lastChild, `${at}: lastChild`);
    // tree-sitter finds siblings by position and passes over zero-width ones (error recovery's); the flat tree does not
    const nb = b.nextNamedSibling;
    if (!nb || nb.startIndex < nb.endIndex) same(a.nextNamedSibling, b.nextNamedSibling, `${at}: nextNamedSibling`);
    for (const f of fields) {
      // In some error-recovered trees tree-sitter answers a field with a grandchild
      // (an inherited field looked up by child position); the flat tree answers children only.
      const af = a.childForFieldName(f);
      if (af && !a.children.some((x) => x?.id === af.id)) continue;
      same(af, b.childForFieldName(f), `${at}: field ${f}`);
      const as = a.childrenForFieldName(f);
      const bs = b.childrenForFieldName(f);
      assert.equal(bs.length, as.length, `${at}: fields ${f}`);
      as.forEach((x, k) => same(x, bs[k]!, `${at}: fields ${f} #${k}`));
    }
  }
  for (const types of [['call_expression'], ['declaration', 'parameter_declaration'], ['ERROR'], ['identifier']]) {
    const as = wasm.rootNode.descendantsOfType(types);
    const bs = flat.rootNode.descendantsOfType(types);
    assert.equal(bs.length, as.length, `${name}: descendantsOfType ${types.join(',')}`);
    as.forEach((x, k) => same(x, bs[k]!, `${name}: descendantsOfType ${types.join(',')} #${k}`));
  }
}

