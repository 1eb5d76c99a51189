/**
 * Editor settings: ONE schema with defaults, the source of truth for
 * `package.json` `contributes.configuration` (test/unit/settings.test.ts checks
 * that they match exactly) and for resolving whatever the user wrote into typed,
 * validated values (bad values fall back to the default).
 *
 * Pure: hosts pass a `get(key)` reader (vscode.workspace.getConfiguration, a JSON file, a test map).
 */
import { RULES } from './rules/registry';
import type { Finding, Severity } from './types';

export const SETTINGS_SECTION = 'refscope';

/** JSON-schema fragment as VS Code's configuration contribution takes it. */
export interface SettingSchema {
  type: 'boolean' | 'integer' | 'array' | 'object';
  default: unknown;
  markdownDescription: string;
  minimum?: number;
  maximum?: number;
  items?: { type: 'string'; enum?: string[] };
  uniqueItems?: boolean;
  properties?: Record<string, { type: 'string'; enum: string[]; markdownDescription: string }>;
  additionalProperties?: boolean;
  scope?: 'resource' | 'window';
}

export type SeverityOverride = Severity;
const SEVERITIES: readonly SeverityOverride[] = ['error', 'warning', 'info'];

export interface RefscopeSettings {
  enable: boolean;
  disabledRules: string[];
  severity: Partial<Record<string, SeverityOverride>>;
  debounceMs: number;
  maxFileSizeKB: number;
  /** Editor hint kinds (src/core/hints.ts), each switchable. */
  hints: HintSettings;
  /** Workspace index: files included / excluded (glob patterns relative to each workspace folder). */
  indexInclude: string[];
  indexExclude: string[];
}

export interface HintSettings {
  /** Master switch (the Toggle Hints command flips it). */
  enable: boolean;
  lockScopes: boolean;
  heldAtExit: boolean;
  refcount: boolean;
  wrappers: boolean;
  hovers: boolean;
  codeLens: boolean;
  incomplete: boolean;
}

const HINT_KINDS: ReadonlyArray<[keyof HintSettings, string]> = [
  ['enable', 'Show Refscope editor hints at all (lock scopes, refcount inlay hints, hovers, CodeLens). `Refscope: Toggle Hints` flips it.'],
  ['lockScopes', 'Colour the lines where each lock is held (gutter bar and faint background, one colour per lock).'],
  ['heldAtExit', 'Show the held set after each `return`/`goto` that leaves with locks held.'],
  ['refcount', 'Inlay hints after refcount operations: `+1 obj`, `−1 obj · may free`, `+1 if ≠0`, `ref → table`.'],
  ['wrappers', 'Inlay hints after calls to learned get/put wrappers (from the workspace index).'],
  ['hovers', 'Hovers on lock, refcount and RCU calls: held set, refcount effect, learned summary, rule docs.'],
  ['codeLens', 'CodeLens "Simulate lifecycle of struct X" above functions that handle a refcounted object.'],
  ['incomplete', 'Mark functions whose analysis stopped over its budget (too many paths, out of time) with an inlay hint "analysis incomplete" on its first line: no findings come from that analysis.'],
];

const ruleIds = (): string[] => RULES.map((r) => r.id);

/** The schema, keyed by full setting name (`refscope.enable`, ...). */
export function settingsSchema(): Record<string, SettingSchema> {
  const severityProps: NonNullable<SettingSchema['properties']> = {};
  for (const r of RULES) {
    severityProps[r.id] = {
      type: 'string',
      enum: [...SEVERITIES],
      markdownDescription: `Severity of \`${r.id}\` findings (default: ${r.defaultSeverity}). ${r.shortDescription}`,
    };
  }
  return {
    'refscope.enable': {
      type: 'boolean',
      default: true,
      markdownDescription: 'Analyse open C files and show Refscope findings in the Problems panel.',
      scope: 'resource',
    },
    'refscope.disabledRules': {
      type: 'array',
      default: [],
      items: { type: 'string', enum: ruleIds() },
      uniqueItems: true,
      markdownDescription: 'Rule ids whose findings are not reported, e.g. `["sleep-in-atomic"]`.',
      scope: 'resource',
    },
    'refscope.severity': {
      type: 'object',
      default: {},
      properties: severityProps,
      additionalProperties: false,
      markdownDescription: 'Severity per rule id, overriding the rule\'s default (`error`, `warning` or `info`).',
      scope: 'resource',
    },
    'refscope.debounceMs': {
      type: 'integer',
      default: 300,
      minimum: 0,
      maximum: 10000,
      markdownDescription: 'Delay after the last edit before a file is re-analysed, in milliseconds. Larger files wait longer automatically.',
      scope: 'window',
    },
    'refscope.maxFileSizeKB': {
      type: 'integer',
      default: 2048,
      minimum: 1,
      maximum: 65536,
      markdownDescription: 'Files larger than this (in KB of UTF-8) are not analysed in the editor.',
      scope: 'resource',
    },
    ...Object.fromEntries(HINT_KINDS.map(([k, d]): [string, SettingSchema] => [`refscope.hints.${k}`, {
      type: 'boolean', default: true, markdownDescription: d, scope: 'window',
    }])),
    'refscope.primitives': {
      type: 'object',
      default: {},
      markdownDescription: 'Extra primitives, in the format of `.refscope.json` (keys `locks`, `sleeping`, `noreturn`, `atomic`), applied before the workspace\'s `.refscope.json`. '
        + 'A workspace value and `.refscope.json` are ignored in restricted mode (an untrusted workspace); your user value always applies.',
      scope: 'window',
    },
    'refscope.index.include': {
      type: 'array',
      default: ['**/*.c', '**/*.h'],
      items: { type: 'string' },
      markdownDescription: 'Glob patterns of the files the workspace index reads (relative to each workspace folder).',
      scope: 'window',
    },
    'refscope.index.exclude': {
      type: 'array',
      default: ['**/.git/**', '**/node_modules/**'],
      items: { type: 'string' },
      markdownDescription: 'Glob patterns of files the workspace index skips.',
      scope: 'window',
    },
  };
}

/** Exactly what `package.json` `contributes.configuration` must contain. */
export function contributedConfiguration(): { title: string; properties: Record<string, SettingSchema> } {
  return { title: 'Refscope', properties: settingsSchema() };
}

function defaultOf<T>(key: string): T {
  return settingsSchema()[key]!.default as T;
}

function intIn(v: unknown, s: SettingSchema): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return undefined;
  if (s.minimum !== undefined && v < s.minimum) return undefined;
  if (s.maximum !== undefined && v > s.maximum) return undefined;
  return v;
}

/**
 * Typed settings from raw values. `get` receives the key WITHOUT the `refscope.`
 * prefix (as `getConfiguration('refscope').get(key)` takes it) and may return undefined.
 */
export function resolveSettings(get: (key: string) => unknown): RefscopeSettings {
  const schema = settingsSchema();
  const enable = get('enable');
  const disabled = get('disabledRules');
  const ids = new Set(ruleIds());
  const severity: Partial<Record<string, SeverityOverride>> = {};
  const rawSeverity = get('severity');
  if (rawSeverity && typeof rawSeverity === 'object' && !Array.isArray(rawSeverity)) {
    for (const [id, v] of Object.entries(rawSeverity as Record<string, unknown>)) {
      if (ids.has(id) && typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v)) severity[id] = v as SeverityOverride;
    }
  }
  return {
    enable: typeof enable === 'boolean' ? enable : defaultOf<boolean>('refscope.enable'),
    disabledRules: Array.isArray(disabled)
      ? [...new Set(disabled.filter((x): x is string => typeof x === 'string' && ids.has(x)))]
      : [...defaultOf<string[]>('refscope.disabledRules')],
    severity,
    debounceMs: intIn(get('debounceMs'), schema['refscope.debounceMs']!) ?? defaultOf<number>('refscope.debounceMs'),
    maxFileSizeKB: intIn(get('maxFileSizeKB'), schema['refscope.maxFileSizeKB']!) ?? defaultOf<number>('refscope.maxFileSizeKB'),
    hints: Object.fromEntries(HINT_KINDS.map(([k]) => {
      const v = get(`hints.${k}`);
      return [k, typeof v === 'boolean' ? v : defaultOf<boolean>(`refscope.hints.${k}`)];
    })) as unknown as HintSettings,
    indexInclude: stringList(get('index.include')) ?? [...defaultOf<string[]>('refscope.index.include')],
    indexExclude: stringList(get('index.exclude')) ?? [...defaultOf<string[]>('refscope.index.exclude')],
  };
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : undefined;
}

export function defaultSettings(): RefscopeSettings {
  return resolveSettings(() => undefined);
}

/** Findings as the settings want them reported: disabled rules dropped, severities overridden. */
export function applySettings(findings: readonly Finding[], settings: RefscopeSettings): Finding[] {
  if (!settings.enable) return [];
  const off = new Set(settings.disabledRules);
  const out: Finding[] = [];
  for (const f of findings) {
    if (off.has(f.rule)) continue;
    const sev = settings.severity[f.rule];
    out.push(sev && sev !== f.severity ? { ...f, severity: sev } : f);
  }
  return out;
}
