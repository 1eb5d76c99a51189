/**
 * Webview injection corpus (issue 8, scope 5): every free-text field of real
 * host messages (the seed race: scenario title and text, roles, thread names,
 * op texts, notes, file names, violation messages, library items) is replaced
 * by injection strings — markup with event handlers, `</script>` breaks, SVG
 * onload, `javascript:` URLs, CSS expressions, template syntax. Each payload
 * would set its own global (`window.__pwnedN`); the test proves none is set
 * after rendering and walking every step, that no injected element exists and
 * that the payloads are shown as text. Messages with wrong shapes (from either
 * side) are rejected by the protocol validators and change nothing on the page.
 * Real Chromium against the built bundle (test/webview/harness.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseToHost, parseToWebview, type ToWebview } from '../../src/shared/protocol';
import { closeBrowser, openWebview, seedRace } from './harness';

/** `{n}` is replaced by the payload's number: each payload sets its own global. */
const CORPUS = [
  '<img src=x onerror="window.__pwned{n}=1">',
  '</script><script>window.__pwned{n}=1</script>',
  '"><script>window.__pwned{n}=1</script>',
  "'><img src=x onerror=window.__pwned{n}=1>",
  '<svg onload="window.__pwned{n}=1"><circle r=5 /></svg>',
  '<svg><script>window.__pwned{n}=1</script></svg>',
  'javascript:window.__pwned{n}=1',
  '<a href="javascript:window.__pwned{n}=1" id="evil-link-{n}">click</a>',
  '<iframe srcdoc="<script>parent.__pwned{n}=1</script>"></iframe>',
  '<details open ontoggle="window.__pwned{n}=1">',
  '<input autofocus onfocus="window.__pwned{n}=1">',
  '<body onload="window.__pwned{n}=1">',
  '<style>@import "javascript:window.__pwned{n}=1";</style>',
  '<div style="width: expression(window.__pwned{n}=1); background: url(javascript:window.__pwned{n}=1)">css</div>',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned{n}=1">',
  '${window.__pwned{n}=1}',
  "{{constructor.constructor('window.__pwned{n}=1')()}}",
  '<object data="javascript:window.__pwned{n}=1"></object>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned{n}=1">',
  'line\u2028break\u2029<img src=x onerror="window.__pwned{n}=1">\u0000\u001b[31m',
  '&lt;img src=x onerror=&quot;window.__pwned{n}=1&quot;&gt;',
  '<template><img src=x onerror="window.__pwned{n}=1"></template><noscript><p title="</noscript><img src=x onerror=window.__pwned{n}=1>">',
];

/** Keys whose string values are free text (ids, enums and kinds are validated and stay as they are). */
const TEXT_KEYS = new Set(['title', 'description', 'text', 'label', 'op', 'note', 'message', 'file', 'thread', 'name', 'summary', 'expectText', 'explanation', 'fix', 'source']);

let fed: Awaited<ReturnType<typeof seedRace>>;
before(async () => {
  fed = await seedRace();
});
after(async () => {
  await closeBrowser();
});

/**
 * Replace free-text strings with corpus payloads (cycling), keeping the message
 * valid: a replacement the validator rejects (an id, a name that must match
 * another field) is undone. Returns the message and the payloads used.
 */
function inject<T extends ToWebview>(msg: T, startAt: number): { msg: T; used: string[] } {
  const copy = JSON.parse(JSON.stringify(msg)) as T;
  const used: string[] = [];
  let n = startAt;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const v of node) visit(v);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const rec = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(rec)) {
      if (typeof v === 'string' && TEXT_KEYS.has(k)) {
        const payload = CORPUS[n % CORPUS.length]!.replace(/\{n\}/g, String(n));
        rec[k] = `${v} ${payload}`;
        if (parseToWebview(copy).ok) {
          used.push(payload);
          n++;
        } else {
          rec[k] = v;
        }
      } else {
        visit(v);
      }
    }
  };
  visit(copy);
  return { msg: copy, used };
}

async function pwnedGlobals(page: import('playwright-core').Page): Promise<string[]> {
  return page.evaluate(() => Object.keys(window).filter((k) => k.startsWith('__pwned')));
}

test('the injection corpus in every free-text field renders as text and runs no script', async () => {
  const init = inject(fed.init, 0);
  const result = inject({ type: 'result', result: fed.result }, init.used.length);
  const used = [...init.used, ...result.used];
  assert.equal(parseToWebview(init.msg).ok, true);
  assert.equal(parseToWebview(result.msg).ok, true);
  // the corpus reached the texts the user reads: op, note, file, thread, message, title
  assert.ok(used.length >= 40, `${used.length} payloads placed`);
  const steps = result.msg.result.violations.flatMap((v) => v.trace);
  for (const k of ['op', 'note', 'file', 'thread'] as const) assert.ok(steps.some((s) => s[k].includes('__pwned')), `payload in trace step ${k}`);
  assert.ok(result.msg.result.violations.every((v) => v.message.includes('__pwned')), 'payload in violation messages');

  const w = await openWebview();
  try {
    await w.send(init.msg);
    await w.send(result.msg);
    await w.page.waitForSelector('.timeline [role="option"]');
    // walk every violation and every step so each text is rendered in the state panel too
    for (let i = 0; i < result.msg.result.violations.length; i++) {
      if (result.msg.result.violations.length > 1) await w.page.click(`.violations button >> nth=${i}`);
      await w.page.focus('.timeline');
      await w.page.keyboard.press('Home');
      for (let s = 0; s < result.msg.result.violations[i]!.trace.length; s++) await w.page.keyboard.press('ArrowDown');
    }
    // click a location link: its file name carries `javascript:` and markup
    await w.page.click('.timeline .row >> nth=0 >> .reveal');
    await w.page.waitForTimeout(200);
    assert.deepEqual(await pwnedGlobals(w.page), [], 'no payload set its global');
    const injected = await w.page.$$eval('#app img, #app script, #app iframe, #app object, #app embed, #app meta, #app style, #app template, #app math, #app input, #app details, #app [id^="evil-link"]', (els) => els.map((e) => e.outerHTML));
    assert.deepEqual(injected, [], 'no injected element in the page');
    const handlers = await w.page.$$eval('#app *', (els) => els.flatMap((e) => Array.from({ length: e.attributes.length }, (_, i) => e.attributes.item(i)!).filter((a) => /^on/i.test(a.name) || (/^(href|src|action|formaction|data|xlink:href|srcdoc|style)$/i.test(a.name) && /javascript:|expression\(/i.test(a.value))).map((a) => `${e.tagName} ${a.name}=${a.value}`)));
    assert.deepEqual(handlers, [], 'no event-handler attribute and no javascript: URL or CSS expression in a URL/style attribute (text in label/title attributes is data)');
    assert.equal(await w.page.$$eval('#app svg', (els) => els.filter((e) => !e.classList.contains('diagram')).length), 0, 'the only svg is the diagram');
    // shown as text: the payloads of the op texts appear verbatim in the page text
    const body = (await w.page.textContent('#app')) ?? '';
    const shown = used.filter((p) => body.includes(p.replace(/[\u0000-\u001f\u2028\u2029]/g, '').slice(0, 30)) || body.includes(p.slice(0, 30)));
    assert.ok(shown.length >= 10, `${shown.length} payloads visible as text`);
    assert.ok(body.includes('<img src=x onerror="window.__pwned'), 'an img payload is shown as text');
    // the reveal posted to the host carries the file name unchanged (the host decides, not the page)
    const posted = await w.posted();
    const reveal = posted.filter((m) => m.type === 'reveal').pop();
    assert.ok(reveal && reveal.type === 'reveal' && reveal.file.includes('__pwned'), 'reveal carries the injected file name as data');
    assert.equal(parseToHost(reveal).ok, true);
  } finally {
    await w.close();
  }
});

test('messages with wrong shapes are rejected by the validators and change nothing on the page', async () => {
  const evil = '<img src=x onerror="window.__pwnedShape=1">';
  const badToWebview: unknown[] = [
    null, 42, evil, [evil], {},
    { type: 'unknown', html: evil },
    { type: 'init' },
    { type: 'init', version: 'one', subject: { kind: 'scenario' }, library: [] },
    { type: 'result', result: { verdict: evil } },
    { type: 'result', result: { ...fed.result, verdict: 'pwned' } },
    { type: 'result', result: { ...fed.result, violations: [{ kind: 'use-after-free', message: 3, trace: [] }] } },
    { type: 'select', violation: '0', step: evil },
    { type: 'runError', runId: 1 },
    { type: 'explore', runId: 1, label: evil, roles: [], model: { programs: evil }, maxStates: 10 },
  ];
  for (const m of badToWebview) assert.equal(parseToWebview(m).ok, false, `rejected: ${JSON.stringify(m)?.slice(0, 120)}`);
  const badToHost: unknown[] = [
    { type: 'reveal', file: 'a.c', line: '3', column: 1, focus: true },
    { type: 'reveal', file: ['a.c'], line: 3, column: 1, focus: true },
    { type: 'reveal', file: 'a.c', line: 3 },
    { type: 'runScenario', runId: 1, scenario: { toString: evil } },
    { type: 'exec', command: 'rm -rf /' },
    { type: 'ready', version: 1, extra: evil },
    'ready',
  ];
  for (const m of badToHost) assert.equal(parseToHost(m).ok, false, `rejected: ${JSON.stringify(m)}`);

  const w = await openWebview();
  try {
    await w.send(fed.init);
    await w.send({ type: 'result', result: fed.result });
    await w.page.waitForSelector('.timeline [role="option"]');
    const before = await w.page.innerHTML('#app');
    for (const m of badToWebview) {
      await w.page.evaluate((msg) => window.postMessage(msg, '*'), m as never);
    }
    // an own `__proto__` key (as JSON.parse makes it) must not pollute Object.prototype
    await w.page.evaluate(() => window.postMessage(JSON.parse('{"type":"init","version":1,"__proto__":{"polluted":"x"}}'), '*'));
    await w.page.waitForTimeout(200);
    assert.equal(await w.page.innerHTML('#app'), before, 'the page is unchanged');
    assert.deepEqual(await pwnedGlobals(w.page), []);
    assert.equal(await w.page.evaluate(() => ({} as Record<string, unknown>).polluted), undefined, 'no prototype pollution');
  } finally {
    await w.close();
  }
});
