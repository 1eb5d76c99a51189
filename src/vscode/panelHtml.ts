/**
 * The lifecycle webview's HTML shell: a strict CSP (`default-src 'none'`, the one
 * script allowed by nonce, styles and fonts only from the bundle, workers only
 * from blob: URLs), the bundled stylesheet and script, and an empty root the
 * script fills. No data is ever spliced into this HTML: everything arrives by
 * postMessage. Pure (no `vscode` import) so the browser tests serve the very
 * same page.
 */

export interface PanelHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** The codicon stylesheet, when the bundle has it. */
  codiconUri?: string;
  /** Extra nonce'd script (tests: the stub host) placed before the bundle. */
  preludeUri?: string;
}

/** 32 random alphanumerics (crypto where available). */
export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += chars[b % chars.length];
  return out;
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(o: Pick<PanelHtmlOptions, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
    `script-src 'nonce-${o.nonce}'`,
    'worker-src blob:',
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  const nonce = attr(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${o.codiconUri ? `<link rel="stylesheet" href="${attr(o.codiconUri)}">\n` : ''}<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>Refscope lifecycle</title>
</head>
<body${o.codiconUri ? '' : ' class="no-codicons"'}>
<main id="app" aria-label="Refscope lifecycle simulation"></main>
${o.preludeUri ? `<script nonce="${nonce}" src="${attr(o.preludeUri)}"></script>\n` : ''}<script nonce="${nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
