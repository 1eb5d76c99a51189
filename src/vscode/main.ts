/**
 * Activation shared by both entries (extension.ts for the desktop Node host,
 * browser.ts for the web worker host): load the parser once, build the context,
 * activate each feature. Failures are logged and shown, never swallowed silently.
 */
import * as vscode from 'vscode';
import { createCParser } from '../core/parse/parser';
import { readParserAssets } from './assets';
import * as commands from './commands';
import { RefscopeContext, type HostKind } from './context';
import * as diagnostics from './diagnostics';

const FEATURES: ReadonlyArray<{ name: string; activate(ctx: RefscopeContext): void }> = [
  { name: 'diagnostics', activate: diagnostics.activate },
  { name: 'commands', activate: commands.activate },
];

/** What `activate` returns (`vscode.extensions.getExtension('refscope.refscope').exports`). */
export interface RefscopeApi {
  /** Which extension host this activation runs in: `main` (desktop, Node) or `browser` (web worker). */
  readonly host: HostKind;
}

export async function activateRefscope(context: vscode.ExtensionContext, host: HostKind): Promise<RefscopeApi> {
  const log = vscode.window.createOutputChannel('Refscope', { log: true });
  context.subscriptions.push(log);
  // Registered first so the log can be opened even if the rest fails to start.
  context.subscriptions.push(vscode.commands.registerCommand(commands.COMMANDS.showOutput, () => log.show(true)));
  try {
    const t0 = performance.now();
    const parser = await createCParser(await readParserAssets(context.extensionUri));
    const ctx = new RefscopeContext(context, log, parser, host);
    context.subscriptions.push(ctx);
    for (const f of FEATURES) f.activate(ctx);
    log.info(`Refscope ${String(context.extension.packageJSON.version ?? '')} active in the ${host} extension host (parser loaded in ${(performance.now() - t0).toFixed(0)} ms)`);
    return { host };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error('activation failed', e);
    void vscode.window.showErrorMessage(`Refscope failed to start: ${msg}`, 'Show Output').then((choice) => {
      if (choice) log.show(true);
    });
    throw e;
  }
}
