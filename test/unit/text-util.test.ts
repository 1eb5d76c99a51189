/** Text helpers of the core (src/core/util/text.ts), against Node's own answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineStarts, posOf, utf8ByteLength } from '../../src/core/util/text';

test('utf8ByteLength agrees with Buffer.byteLength on ASCII, 2-, 3- and 4-byte characters and lone surrogates', () => {
  const samples = [
    '', 'static int x;\n', 'é', 'naïve /* ü */ code', '// ∀ x ∈ S\n', '€€€', '𝄞 clef', 'a\u{1F600}b', 'x'.repeat(1000) + 'ß',
    '\ud800', 'end\udc00', 'mixed \r\n lines \u00a0 nbsp',
  ];
  for (const s of samples) assert.equal(utf8ByteLength(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
});

test('posOf maps offsets to 1-based lines and columns', () => {
  const text = 'a\nbc\n\nd';
  const starts = lineStarts(text);
  assert.deepEqual(posOf(starts, 0), { line: 1, column: 1 });
  assert.deepEqual(posOf(starts, 3), { line: 2, column: 2 });
  assert.deepEqual(posOf(starts, 6), { line: 4, column: 1 });
});
