/**
 * Which lines of the newer end of a file a change touched (pure): a Myers
 * line diff (O((N+M)·D)) of the two texts after the common prefix and suffix
 * are cut off. The edit distance is bounded (`maxEdits`): beyond it the whole
 * middle region counts as changed, which is what a reviewer would see anyway.
 */

export interface LineChanges {
  /** 1-based lines of the newer text that are inserted or modified. */
  changed: Set<number>;
  /** 1-based lines of the older text that were deleted or modified. */
  removed: Set<number>;
  /** The diff stopped at `maxEdits`: the middle region is reported whole. */
  approximate: boolean;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const l = text.split(/\r?\n/);
  if (l.length > 1 && l[l.length - 1] === '') l.pop();
  return l;
}

/**
 * Lines of `head` changed relative to `base`. `base` null: the file is new
 * (every line changed); `head` null: deleted (every base line removed).
 */
export function changedLines(base: string | null, head: string | null, maxEdits = 20_000): LineChanges {
  const a = base === null ? [] : splitLines(base);
  const b = head === null ? [] : splitLines(head);
  const changed = new Set<number>();
  const removed = new Set<number>();
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let ea = a.length;
  let eb = b.length;
  while (ea > lo && eb > lo && a[ea - 1] === b[eb - 1]) {
    ea--;
    eb--;
  }
  const n = ea - lo;
  const m = eb - lo;
  if (n === 0 || m === 0) {
    for (let i = lo; i < eb; i++) changed.add(i + 1);
    for (let i = lo; i < ea; i++) removed.add(i + 1);
    return { changed, removed, approximate: false };
  }
  // Myers' greedy forward algorithm, keeping every V for the backtrack.
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  const trace: Int32Array[] = [];
  let v = new Int32Array(2 * max + 3);
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[lo + x] === b[lo + y]) {
        x++;
        y++;
      }
      next[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    trace.push(next);
    v = next;
  }
  if (found < 0) {
    for (let i = lo; i < eb; i++) changed.add(i + 1);
    for (let i = lo; i < ea; i++) removed.add(i + 1);
    return { changed, removed, approximate: true };
  }
  // Backtrack from (n, m): each step down (insertion) or right (deletion) is an edit.
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d - 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && prev[off + k - 1]! < prev[off + k + 1]!);
    const pk = down ? k + 1 : k - 1;
    const px = prev[off + pk]!;
    const py = px - pk;
    while (x > px + (down ? 0 : 1) && y > py + (down ? 1 : 0)) {
      x--;
      y--;
    }
    if (down) changed.add(lo + py + 1);
    else removed.add(lo + px + 1);
    x = px;
    y = py;
  }
  return { changed, removed, approximate: false };
}
