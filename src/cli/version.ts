import { version } from '../../package.json';

/** The package version (inlined by esbuild). */
export const VERSION: string = version;

declare const __REFSCOPE_BUILD__: string | undefined;

/**
 * The version and, in a bundle, its sources' fingerprint (scripts/build.mjs):
 * what an index artifact records as the tool that made it. Two builds of one
 * package version with other rules are other tools.
 */
export const TOOL_BUILD: string = typeof __REFSCOPE_BUILD__ === 'string' ? `${version}+${__REFSCOPE_BUILD__}` : version;
