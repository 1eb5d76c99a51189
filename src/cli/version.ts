import { version } from '../../package.json';

/** The package version (inlined by esbuild). */
export const VERSION: string = version;
