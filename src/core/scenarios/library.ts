/**
 * The built-in race-scenario library. The texts are embedded (library-data.ts,
 * generated from scenarios/<id>/*.rsim by scenarios/embed.mjs) so every host,
 * including the web worker, can run them without a file system.
 */
import type { CParser } from '../parse/parser';
import { parseHeader, parseScenario, type Scenario, type ScenarioMeta } from './format';
import { LIBRARY_DATA } from './library-data';

export interface LibraryEntryData {
  id: string;
  variants: Array<{ file: string; text: string }>;
}

export interface LibraryVariant {
  /** `<id>/<variant>`, e.g. `abba-lock-order/broken`. */
  ref: string;
  /** Repository-relative path of the source file, e.g. `scenarios/abba-lock-order/broken.rsim`. */
  file: string;
  variant: string;
  text: string;
  meta: ScenarioMeta;
}

export interface LibraryEntry {
  id: string;
  /** Title of the safe variant (or the first one). */
  title: string;
  variants: LibraryVariant[];
}

let cache: LibraryEntry[] | undefined;

export function library(): LibraryEntry[] {
  cache ??= LIBRARY_DATA.map((e) => {
    const variants = e.variants.map((v) => {
      const variant = v.file.replace(/^.*\//, '').replace(/\.rsim$/, '');
      return { ref: `${e.id}/${variant}`, file: v.file, variant, text: v.text, meta: parseHeader(v.text, v.file) };
    });
    const main = variants.find((v) => v.variant === 'safe') ?? variants[0]!;
    return { id: e.id, title: main.meta.title.replace(/\s*\((broken|safe)\)\s*$/, ''), variants };
  });
  return cache;
}

/** Find library variants by `<id>` (all variants) or `<id>/<variant>`. */
export function findBuiltin(ref: string): LibraryVariant[] {
  const [id, variant] = ref.split('/');
  const e = library().find((x) => x.id === id);
  if (!e) return [];
  return variant ? e.variants.filter((v) => v.variant === variant) : e.variants;
}

export function parseBuiltin(parser: CParser, v: LibraryVariant): Scenario {
  return parseScenario(parser, v.text, v.file);
}
