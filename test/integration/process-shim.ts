/** `process` for the browser test bundle: the npm `assert` polyfill and its `util` expect one. */
export const process = {
  env: {} as Record<string, string | undefined>,
  argv: [] as string[],
  platform: 'browser',
  version: '',
  versions: {} as Record<string, string>,
  browser: true,
  cwd: (): string => '/',
  nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]): void => queueMicrotask(() => fn(...args)),
  emitWarning: (): void => undefined,
};
