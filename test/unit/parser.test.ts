import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeParser } from '../../src/node/assets';

test('real WASM grammar parses C and indexes by UTF-16 offset', async () => {
  const parser = await nodeParser();
  const tree = parser.parseRaw('int f(void) { return 42; }');
  try {
    assert.equal(tree.rootNode.type, 'translation_unit');
    const fn = tree.rootNode.namedChildren[0];
    assert.equal(fn?.type, 'function_definition');
    const num = tree.rootNode.descendantsOfType('number_literal')[0];
    assert.equal(num?.text, '42');
    assert.equal(num?.startIndex, 21);
  } finally {
    tree.delete();
  }
});
