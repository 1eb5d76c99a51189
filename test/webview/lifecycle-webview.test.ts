/**
 * The lifecycle webview in a real browser (Debian's Chromium via playwright-core)
 * against the built bundle, fed through the typed protocol with results of the
 * real simulator (see harness.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { closeBrowser, EVIL_FILE, generatedExplore, generatedRun, injectionRace, openWebview, ROOT, SEED, seedRace } from './harness';

let seed: Awaited<ReturnType<typeof seedRace>>;
let evil: Awaited<ReturnType<typeof injectionRace>>;

before(async () => {
  seed = await seedRace();
  evil = await injectionRace();
  assert.equal(seed.result.verdict, 'violation', 'the seed broken variant has a race');
  assert.equal(evil.result.verdict, 'violation', 'the injection fixture (broken kref lookup) has a race');
});

after(async () => {
  await closeBrowser();
});

async function selectedIndex(page: import('playwright-core').Page): Promise<number> {
  const id = await page.getAttribute('.timeline [role="option"][aria-selected="true"]', 'id');
  assert.ok(id, 'a step is selected');
  return Number(id.replace('step-', ''));
}

test('renders the seed race: verdict, one lane per thread, one row per step with op and source line, state panel and diagram', async () => {
  const w = await openWebview();
  try {
    await w.send(seed.init);
    await w.send({ type: 'result', result: seed.result });
    const v = seed.result.violations[0]!;
    await w.page.waitForSelector('.timeline [role="option"]');
    assert.match(await w.page.textContent('.verdict') ?? '', /Violation: increment from zero/);
    assert.match(await w.page.textContent('h1') ?? '', /struct_mutex moved into the free function/);
    const lanes = await w.page.$$eval('.lane-head .lane-name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(lanes, [...new Set(v.trace.map((s) => s.thread))]);
    assert.ok(lanes.length >= 2, 'at least two threads');
    // The lane of a step is the header column its cell lines up with on screen.
    const rows = await w.page.$$eval('.timeline [role="option"]', (els) => {
      const heads = Array.from(document.querySelectorAll('.lane-head .lane-name')).map((x) => x.getBoundingClientRect().left);
      return els.map((e) => {
        const left = e.querySelector('.cell')!.getBoundingClientRect().left;
        return { op: e.querySelector('.op')?.textContent, loc: e.querySelector('.reveal')?.textContent, lane: heads.findIndex((x) => Math.abs(x - left) < 2) };
      });
    });
    assert.equal(rows.length, v.trace.length);
    rows.forEach((r, i) => {
      const s = v.trace[i]!;
      assert.equal(r.op, s.op);
      assert.equal(r.loc, `broken.rsim:${s.line}`);
      assert.equal(r.lane, lanes.indexOf(s.thread), `step ${i + 1} in the lane of ${s.thread}`);
    });
    // The last step (the violation) is selected first; the state panel shows the state after it.
    assert.equal(await selectedIndex(w.page), v.trace.length - 1);
    const last = v.trace[v.trace.length - 1]!;
    assert.equal(await w.page.textContent('.state .refcount'), String(last.state.objects[0]!.refcount));
    assert.equal(await w.page.textContent('.state .objstate'), last.state.objects[0]!.state);
    assert.equal(await w.page.textContent('.counter'), `Step ${v.trace.length} of ${v.trace.length}`);
    // The diagram marks that state.
    assert.equal(await w.page.getAttribute('svg.diagram .state-node.current', 'data-state'), last.state.objects[0]!.state);
    assert.match(await w.page.textContent('.timeline .row.violating') ?? '', /increments the refcount of bo from zero/);
    assert.match(await w.page.textContent('.timeline .row.violating .vmsg') ?? '', /increment from zero/);
    assert.equal(await w.page.$$eval('.timeline .row.violating', (els) => els.length), 1, 'only the last step is the violation');
  } finally {
    await w.close();
  }
});

test('keyboard stepping (Home, arrows, End, Space) changes the selected step and the state panel', async () => {
  const w = await openWebview();
  try {
    await w.send(seed.init);
    await w.send({ type: 'result', result: seed.result });
    const trace = seed.result.violations[0]!.trace;
    await w.page.focus('.timeline');
    await w.page.keyboard.press('Home');
    assert.equal(await selectedIndex(w.page), 0);
    assert.equal(await w.page.textContent('.counter'), `Step 1 of ${trace.length}`);
    const locks0 = await w.page.textContent('.state .locks');
    assert.match(locks0 ?? '', /struct_mutex held by thread_mmap/, 'after step 1 thread_mmap holds struct_mutex');
    assert.equal(await w.page.getAttribute('#step-0', 'aria-selected'), 'true');
    assert.equal(await w.page.getAttribute('.timeline', 'aria-activedescendant'), 'step-0');

    await w.page.keyboard.press('ArrowDown');
    await w.page.keyboard.press('ArrowDown');
    assert.equal(await selectedIndex(w.page), 2);
    assert.match(await w.page.textContent('.state .step-desc') ?? '', new RegExp(trace[2]!.op.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await w.page.keyboard.press('ArrowUp');
    assert.equal(await selectedIndex(w.page), 1);

    // Find the step at which the refcount first drops to 0, walk there with the arrows, check the panel.
    const zero = trace.findIndex((s) => s.state.objects[0]!.refcount === 0);
    assert.ok(zero > 1, 'the race drops the count to zero on the way');
    for (let i = 1; i < zero; i++) await w.page.keyboard.press('ArrowRight');
    assert.equal(await selectedIndex(w.page), zero);
    assert.equal(await w.page.textContent('.state .refcount'), '0');
    assert.equal(await w.page.textContent('.state .objstate'), trace[zero]!.state.objects[0]!.state);
    assert.equal(await w.page.getAttribute('svg.diagram .state-node.current', 'data-state'), trace[zero]!.state.objects[0]!.state);

    await w.page.keyboard.press('End');
    assert.equal(await selectedIndex(w.page), trace.length - 1);
    assert.ok(await w.page.isDisabled('#step-next'), 'Next is disabled on the last step');

    // Space plays from the start and advances on its own; Space again pauses.
    await w.page.keyboard.press('Space');
    assert.equal(await w.page.getAttribute('#step-play', 'aria-pressed'), 'true');
    await w.page.waitForFunction(() => document.querySelector('.timeline [aria-selected="true"]')?.id === 'step-1', undefined, { timeout: 5000 });
    await w.page.keyboard.press('Space');
    assert.equal(await w.page.getAttribute('#step-play', 'aria-pressed'), 'false');
    const paused = await selectedIndex(w.page);
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(await selectedIndex(w.page), paused, 'paused: no further steps');

    // Every selection change asked the host to highlight the step's line (focus stays in the panel).
    const reveals = (await w.posted()).filter((m) => m.type === 'reveal');
    assert.ok(reveals.length >= 6);
    assert.ok(reveals.every((m) => m.type === 'reveal' && m.focus === false));
    const lastReveal = reveals[reveals.length - 1]!;
    assert.equal(lastReveal.type === 'reveal' && lastReveal.line, trace[paused]!.line);
  } finally {
    await w.close();
  }
});

test('clicking a step highlights its line; clicking its location posts a reveal with the right file and line', async () => {
  const w = await openWebview();
  try {
    await w.send(seed.init);
    await w.send({ type: 'result', result: seed.result });
    const trace = seed.result.violations[0]!.trace;
    const k = 3;
    await w.page.click(`#step-${k} .op`);
    assert.equal(await selectedIndex(w.page), k);
    let posted = await w.posted();
    let m = posted[posted.length - 1]!;
    assert.deepEqual(m, { type: 'reveal', file: trace[k]!.file, line: trace[k]!.line, column: trace[k]!.column, focus: false });
    const j = 5;
    await w.page.click(`#step-${j} .reveal`);
    posted = await w.posted();
    m = posted[posted.length - 1]!;
    assert.deepEqual(m, { type: 'reveal', file: `scenarios/${SEED}.rsim`, line: trace[j]!.line, column: trace[j]!.column, focus: true });
    assert.equal(await selectedIndex(w.page), j);
  } finally {
    await w.close();
  }
});

test('injection fixture: markup in C comments and file names renders as text and runs no script', async () => {
  const w = await openWebview();
  try {
    await w.send(evil.init);
    await w.send({ type: 'result', result: evil.result });
    await w.page.waitForSelector('.timeline [role="option"]');
    // The op texts of the fixture's lines carry the comments verbatim.
    const ops = evil.result.violations.flatMap((v) => v.trace.map((s) => s.op));
    assert.ok(ops.some((o) => o.includes('<img src=x onerror=')), `the trace shows a commented line: ${ops.join(' | ')}`);
    // Walk every violation and every step so each text is rendered.
    for (let i = 0; i < evil.result.violations.length; i++) {
      if (evil.result.violations.length > 1) await w.page.click(`.violations button >> nth=${i}`);
      await w.page.focus('.timeline');
      await w.page.keyboard.press('Home');
      for (let s = 0; s < evil.result.violations[i]!.trace.length; s++) await w.page.keyboard.press('ArrowDown');
    }
    const pwned = await w.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);
    assert.equal(pwned, undefined, 'no injected handler ran');
    assert.equal(await w.page.$$eval('#app img, #app script, #app iframe, #app [onerror], #app [onload]', (els) => els.length), 0);
    assert.equal(await w.page.$$eval('#app svg', (els) => els.filter((e) => !e.classList.contains('diagram')).length), 0, 'the only svg is the diagram');
    const body = await w.page.textContent('#app');
    assert.ok(body?.includes('<img src=x onerror="window.__pwned=2"><script>window.__pwned=3</script>'), 'the comment is shown as text');
    assert.ok(body?.includes('evil<img src=x onerror="window.__pwned=5">.c'), 'the file name is shown as text');
    // The location link reveals the file by its real (markup) name.
    await w.page.click('.timeline .row >> nth=0 >> .reveal');
    const posted = await w.posted();
    const m = posted[posted.length - 1]!;
    assert.equal(m.type === 'reveal' && m.file, EVIL_FILE);
  } finally {
    await w.close();
  }
});

test('invalid host messages are dropped; state survives a reload through getState', async () => {
  const w = await openWebview();
  try {
    await w.send(seed.init);
    await w.send({ type: 'result', result: seed.result });
    // Malformed messages (wrong shape, markup in a wrong field, extra properties) change nothing.
    await w.page.evaluate(() => {
      window.postMessage({ type: 'result', result: { verdict: 'safe' } }, '*');
      window.postMessage({ type: 'select', violation: 0, step: '<img src=x onerror=1>' }, '*');
      window.postMessage({ type: 'init', version: 1, subject: { kind: 'evil' }, library: [] }, '*');
      window.postMessage('<script>1</script>', '*');
    });
    await w.page.waitForTimeout(100);
    assert.match(await w.page.textContent('.verdict') ?? '', /Violation/);
    // A valid host 'select' is obeyed.
    await w.send({ type: 'select', violation: 0, step: 4 });
    assert.equal(await selectedIndex(w.page), 4);
    await w.page.focus('.timeline');
    await w.page.keyboard.press('ArrowDown');
    assert.equal(await selectedIndex(w.page), 5);
    const refcount5 = await w.page.textContent('.state .refcount');
    await w.page.waitForFunction(() => {
      const s = sessionStorage.getItem('refscope-state');
      return s !== null && (JSON.parse(s) as { step: number }).step === 5;
    });
    await w.page.reload();
    // No host message after the reload: everything comes from getState.
    await w.page.waitForSelector('.timeline [role="option"]');
    assert.equal(await selectedIndex(w.page), 5);
    assert.equal(await w.page.textContent('.state .refcount'), refcount5);
    assert.match(await w.page.textContent('h1') ?? '', /struct_mutex moved into the free function/);
    assert.match(await w.page.textContent('.verdict') ?? '', /Violation: increment from zero/);
    const posted = await w.posted();
    assert.equal(posted[0]?.type, 'ready', 'the reloaded page says ready to the host');
  } finally {
    await w.close();
  }
});

test('runs an exploration in the webview worker: progress, result, run status to the host; cancel stops it', async () => {
  const w = await openWebview();
  try {
    await w.send(seed.init);
    await w.send(seed.explore);
    await w.page.waitForSelector('.timeline [role="option"]', { timeout: 20000 });
    const posted = await w.posted();
    const statuses = posted.filter((m) => m.type === 'runStatus');
    assert.deepEqual(statuses.map((m) => m.type === 'runStatus' && m.status), ['started', 'done']);
    const done = statuses[1]!;
    assert.ok(done.type === 'runStatus' && done.verdict === 'violation' && done.kinds?.includes('increment-from-zero'));
    assert.equal(done.type === 'runStatus' && done.states, seed.result.states, 'the worker explored the same state space as Node');
    assert.equal(await w.page.$$eval('.timeline [role="option"]', (els) => els.length), seed.result.violations[0]!.trace.length);

    // A lifecycle model (extracted from C, with null lookup keys and source-line op texts) explores the same way.
    await w.send(evil.init);
    await w.send(evil.explore);
    await w.page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string; runId?: number; status?: string }> }).__posted.some((m) => m.type === 'runStatus' && m.runId === 11 && m.status === 'done'), undefined, { timeout: 20000 });
    const lc = (await w.posted()).find((m) => m.type === 'runStatus' && m.runId === 11 && m.status === 'done');
    assert.ok(lc && lc.type === 'runStatus' && lc.verdict === 'violation' && lc.states === evil.result.states);
    await w.send(seed.init);

    // The Run button of the scenario asks the host for a run; a cancel during a run reports 'cancelled'.
    await w.page.click('#run-scenario');
    const asked = (await w.posted()).filter((m) => m.type === 'runScenario');
    assert.equal(asked.length, 1);
    assert.ok(await w.page.isVisible('#cancel'));
    await w.page.click('#cancel');
    const last = (await w.posted()).at(-1)!;
    assert.ok(last.type === 'runStatus' && last.status === 'cancelled');
    assert.match(await w.page.textContent('#run-status') ?? '', /Cancelled/);
  } finally {
    await w.close();
  }
});

test('a longer run shows progress and ends "safe" with the states explored and the property held; cancelling a running exploration stops it', async () => {
  const gen = await generatedRun(4, 3);
  assert.equal(gen.verdict, 'safe');
  const w = await openWebview();
  try {
    await w.send(seed.init);
    // Every DOM change during the run is observed (a MutationObserver installed before the run starts):
    // polling can miss the whole exploring phase when the run is short or the machine is loaded.
    await w.page.evaluate(() => {
      const seen = { exploring: false, progressVisible: false, states: false };
      (window as unknown as { __exploring: typeof seen }).__exploring = seen;
      // (inline: a named function would get tsx's __name helper, which the page does not have)
      new MutationObserver(() => {
        const text = document.querySelector('#run-status')?.textContent ?? '';
        if (!/Exploring/.test(text)) return;
        seen.exploring = true;
        if (/Exploring: [\d,]+ states so far/.test(text)) seen.states = true;
        const p = document.querySelector<HTMLElement>('#progress');
        if (p && p.getClientRects().length > 0 && getComputedStyle(p).visibility !== 'hidden') seen.progressVisible = true;
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await w.send(gen.explore);
    await w.page.waitForSelector('.verdict.safe', { timeout: 60000 });
    const state = await w.page.evaluate(() => (window as unknown as { __exploring: { exploring: boolean; progressVisible: boolean; states: boolean } }).__exploring);
    assert.ok(state.exploring, 'the status said it was exploring');
    assert.ok(state.progressVisible, 'the progress bar shows while exploring');
    const verdict = await w.page.textContent('.verdict');
    assert.match(verdict ?? '', /Safe\. Property held: no use after free, increment from zero \(resurrection\), refcount underflow, double free, double call_rcu, deadlock, leaked reference, lock held at thread exit, unlock of a lock not held, sleep in atomic context in any interleaving\./);
    assert.ok(verdict?.includes(`${gen.states.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')} states`), `${verdict} reports ${gen.states} states`);
    assert.equal(await w.page.$$eval('.timeline', (els) => els.length), 0, 'no trace for a safe result');
    assert.ok(await w.page.isHidden('#progress'));

    // Again, cancelled while it runs: the worker is stopped, the host hears 'cancelled', no result replaces the old one.
    // (A model far bigger than the one above, so that it cannot end before the click.)
    await w.send(await generatedExplore(6, 4, 22));
    await w.page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string; runId?: number; status?: string }> }).__posted
      .some((m) => m.type === 'runStatus' && m.runId === 22 && m.status === 'started'), undefined, { timeout: 20000 });
    assert.match(await w.page.textContent('#run-status') ?? '', /Exploring/);
    await w.page.click('#cancel');
    await w.page.waitForTimeout(1500);
    const statuses = (await w.posted()).filter((m) => m.type === 'runStatus' && m.runId === 22).map((m) => m.type === 'runStatus' && m.status);
    assert.deepEqual(statuses, ['started', 'cancelled']);
    assert.match(await w.page.textContent('#run-status') ?? '', /Cancelled/);
  } finally {
    await w.close();
  }
});

test('lifecycle object view: type, refcount field, release callback and what it does, structures, roles with source links', async () => {
  const w = await openWebview({ theme: 'light' });
  try {
    await w.send(evil.init);
    const lm = evil.init.subject.kind === 'lifecycle' ? evil.init.subject.lifecycle : null;
    assert.ok(lm);
    const facts = await w.page.textContent('#object');
    assert.match(facts ?? '', /struct widget/);
    assert.match(facts ?? '', /ref \(kref\)/);
    assert.match(facts ?? '', /widget_release/);
    assert.match(facts ?? '', /takes widget_lock; removes it from widget_list; frees it with kfree/);
    assert.match(facts ?? '', /widget_list \(list\)/);
    assert.match(facts ?? '', /holds no reference/);
    // Two roles preselected (a lookup and the owner's put), the Run button enabled; four is the maximum.
    const checked = await w.page.$$eval('#run input[type="checkbox"]', (els) => els.filter((e) => (e as HTMLInputElement).checked).length);
    assert.equal(checked, 2);
    assert.ok(!(await w.page.isDisabled('#run-roles')));
    await w.page.click('#run-roles');
    const ask = (await w.posted()).find((m) => m.type === 'runRoles');
    assert.ok(ask && ask.type === 'runRoles' && ask.roles.length === 2);
    // Every source link of the object view reveals its file and line.
    await w.page.click('#object .reveal >> nth=1');
    const m = (await w.posted()).at(-1)!;
    assert.ok(m.type === 'reveal' && m.file === EVIL_FILE && m.line > 0 && m.focus === true);
  } finally {
    await w.close();
  }
});

test('screenshots of the seed race in the light and dark themes', async () => {
  const dir = join(ROOT, 'out', 'screenshots');
  mkdirSync(dir, { recursive: true });
  for (const theme of ['light', 'dark'] as const) {
    const w = await openWebview({ theme, width: 1280, height: 1300 });
    try {
      await w.send(seed.init);
      await w.send({ type: 'result', result: seed.result });
      const trace = seed.result.violations[0]!.trace;
      // The step where the lookup revives the zero count (the violation itself).
      await w.send({ type: 'select', violation: 0, step: trace.length - 1 });
      await w.page.evaluate(() => document.querySelector('#result')?.scrollIntoView());
      // Every row of the race is painted (none left out as an off-screen placeholder).
      await w.page.waitForTimeout(200);
      const painted = await w.page.$$eval('.timeline .row', (els) => els.every((e) => (e.querySelector('.op')?.getBoundingClientRect().height ?? 0) > 0));
      assert.ok(painted, 'all rows laid out');
      const path = join(dir, `webview-${theme}.png`);
      const shot = await w.page.screenshot({ path, fullPage: true });
      assert.ok(shot.length > 20_000, `${path} has content`);
      const bg = await w.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, theme === 'dark' ? 'rgb(31, 31, 31)' : 'rgb(255, 255, 255)', 'the theme variables are used');
    } finally {
      await w.close();
    }
  }
});
