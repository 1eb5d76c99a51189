/** Defined by scripts/build.mjs: the bundled exploration worker (media/simWorker.ts) as text. */
declare const __REFSCOPE_SIM_WORKER__: string;
