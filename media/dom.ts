/// <reference lib="dom" />
/**
 * DOM helpers for the webview. Text is only ever set as text (text nodes,
 * `textContent`, attribute values): nothing here parses HTML, so identifiers,
 * comments and file names from the user's sources cannot become markup.
 */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

function setAttrs(el: Element, attrs: Attrs | undefined): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    // Never event-handler attributes: listeners are attached with addEventListener.
    if (/^on/i.test(k)) throw new Error(`refusing attribute ${k}`);
    el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** An HTML element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (same rules: text only as text). */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A codicon (decorative; the control's label carries the meaning). */
export function icon(name: string): HTMLSpanElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

/** Base name of a file key (URI string or path) for compact labels. */
export function baseName(file: string): string {
  const noQuery = file.replace(/[?#].*$/, '');
  const i = noQuery.lastIndexOf('/');
  let b = i >= 0 ? noQuery.slice(i + 1) : noQuery;
  try {
    b = decodeURIComponent(b);
  } catch {
    // keep as is
  }
  return b || file;
}
