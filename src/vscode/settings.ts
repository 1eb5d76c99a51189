/** Reads the `refscope.*` configuration for a document through the core's schema. */
import * as vscode from 'vscode';
import { resolveSettings, SETTINGS_SECTION, type RefscopeSettings } from '../core/settings';

export function readSettings(scope?: vscode.ConfigurationScope): RefscopeSettings {
  const cfg = vscode.workspace.getConfiguration(SETTINGS_SECTION, scope);
  return resolveSettings((key) => cfg.get<unknown>(key));
}

export function affectsRefscope(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(SETTINGS_SECTION);
}
