/** UTF-8 byte length of a JS string without Node's Buffer (the core also runs in web workers). */
export function utf8ByteLength(s: string): number {
  // Kernel sources are nearly all ASCII: find the first other character natively, count from there.
  const first = s.search(/[^\x00-\x7f]/);
  if (first < 0) return s.length;
  let n = first;
  for (let i = first; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** 0-based offsets of line starts, for offset -> line/column conversion. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of a 0-based offset, given `lineStarts(text)`. */
export function posOf(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
