import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeFile } from '../../src/core/analyze';
import { RULES } from '../../src/core/rules/registry';
import { applySettings, contributedConfiguration, defaultSettings, resolveSettings, settingsSchema } from '../../src/core/settings';
import { nodeParser } from '../../src/node/assets';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  contributes?: { configuration?: unknown; commands?: Array<{ command: string; category?: string }> };
  activationEvents?: string[];
  capabilities?: { virtualWorkspaces?: unknown; untrustedWorkspaces?: unknown };
  main?: string;
  browser?: string;
};

test('package.json contributes.configuration is exactly the core settings schema', () => {
  // To regenerate after changing src/core/settings.ts, write contributedConfiguration() into package.json.
  assert.deepStrictEqual(pkg.contributes?.configuration, JSON.parse(JSON.stringify(contributedConfiguration())));
});

test('every rule can be disabled and re-ranked through the schema', () => {
  const schema = settingsSchema();
  assert.deepStrictEqual(schema['refscope.disabledRules']?.items?.enum, RULES.map((r) => r.id));
  assert.deepStrictEqual(Object.keys(schema['refscope.severity']?.properties ?? {}), RULES.map((r) => r.id));
  for (const [key, s] of Object.entries(schema)) {
    assert.ok(key.startsWith('refscope.'), key);
    assert.ok(s.markdownDescription.length > 10, `${key} is described`);
  }
});

test('manifest: both entries, C activation, trust and virtual-workspace support, categorised commands', () => {
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.browser, './dist/browser.js');
  // `.h` files are `cpp` in VS Code by default: kernel headers activate too (only `.h` among cpp documents is analysed).
  assert.deepStrictEqual(pkg.activationEvents, ['onLanguage:c', 'onLanguage:cpp']);
  // Restricted mode: everything works with the built-in primitives; the workspace's own primitives wait for trust.
  assert.equal(pkg.capabilities?.virtualWorkspaces, true);
  const trust = pkg.capabilities?.untrustedWorkspaces as { supported: unknown; description?: string; restrictedConfigurations?: string[] } | undefined;
  assert.equal(trust?.supported, 'limited');
  assert.deepStrictEqual(trust?.restrictedConfigurations, ['refscope.primitives']);
  assert.match(trust?.description ?? '', /\.refscope\.json/);
  const commands = pkg.contributes?.commands ?? [];
  for (const id of ['refscope.analyzeFile', 'refscope.showOutput']) {
    assert.equal(commands.find((c) => c.command === id)?.category, 'Refscope', id);
  }
});

test('resolveSettings: defaults from the schema, invalid values fall back to them', () => {
  const d = defaultSettings();
  const rest = {
    hints: { enable: true, lockScopes: true, heldAtExit: true, refcount: true, wrappers: true, hovers: true, codeLens: true, incomplete: true },
    indexInclude: ['**/*.c', '**/*.h'],
    indexExclude: ['**/.git/**', '**/node_modules/**'],
  };
  assert.deepStrictEqual(d, { enable: true, disabledRules: [], severity: {}, debounceMs: 300, maxFileSizeKB: 2048, ...rest });
  const bad = resolveSettings((k) => ({
    enable: 'yes',
    disabledRules: ['no-such-rule', 7, 'lock-leak', 'lock-leak'],
    severity: { 'lock-leak': 'fatal', 'double-lock': 'error', bogus: 'error' },
    debounceMs: -5,
    maxFileSizeKB: 1.5,
  })[k]);
  assert.deepStrictEqual(bad, { enable: true, disabledRules: ['lock-leak'], severity: { 'double-lock': 'error' }, debounceMs: 300, maxFileSizeKB: 2048, ...rest });
  const hintsOff = resolveSettings((k) => ({ 'hints.refcount': false, 'hints.hovers': 'no', 'index.include': ['drivers/**/*.c', 3] })[k]);
  assert.equal(hintsOff.hints.refcount, false);
  assert.equal(hintsOff.hints.hovers, true);
  assert.deepStrictEqual(hintsOff.indexInclude, ['drivers/**/*.c']);
  const good = resolveSettings((k) => ({ enable: false, debounceMs: 0, maxFileSizeKB: 10 })[k]);
  assert.equal(good.enable, false);
  assert.equal(good.debounceMs, 0);
  assert.equal(good.maxFileSizeKB, 10);
});

test('applySettings on real findings: disabled rules dropped, severity overridden, enable=false reports nothing', async () => {
  const parser = await nodeParser();
  const text = readFileSync(new URL('../integration/workspace/foo_dev.c', import.meta.url), 'utf8');
  const { findings } = analyzeFile(parser, text, 'foo_dev.c');
  assert.deepStrictEqual(findings.map((f) => f.rule), ['lock-leak']);
  assert.equal(applySettings(findings, defaultSettings()).length, 1);
  assert.equal(applySettings(findings, { ...defaultSettings(), disabledRules: ['lock-leak'] }).length, 0);
  const raised = applySettings(findings, { ...defaultSettings(), severity: { 'lock-leak': 'error' } });
  assert.equal(raised[0]?.severity, 'error');
  assert.equal(findings[0]?.severity, 'warning', 'the input is not mutated');
  assert.equal(applySettings(findings, { ...defaultSettings(), enable: false }).length, 0);
});
