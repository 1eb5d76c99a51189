/// <reference types="mocha" />
/**
 * Test entry for the web extension host (@vscode/test-web). Bundled for the
 * browser; mocha 11's browser build (mocha 12 never calls back in the worker).
 */
import 'mocha/mocha.js';
import * as vscode from 'vscode';
import { finish, makeReporter, type Counts } from './harness';

export async function run(): Promise<void> {
  (globalThis as { refscopeTestHost?: string }).refscopeTestHost = 'web';
  const counts: Counts = { passed: 0, failed: 0, pending: 0 };
  mocha.setup({ ui: 'tdd', reporter: makeReporter('vscode-web', counts) as unknown as Mocha.ReporterConstructor, timeout: 60000 });
  // Loaded only after setup() has put suite()/test() on the global object.
  // The suites edit fixtures and never save them: auto-save (on by default in the web
  // workbench) would write intermediate states to disk and a later revert would load them.
  await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
  await import('./suite/diagnostics.test');
  await import('./suite/editor.test');
  await import('./suite/panel.test');
  await import('./suite/config.test');
  await import('./suite/large.test');
  await import('./suite/review.web.test');
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  return finish(counts, failures);
}
