// Types for scripts/build-console.mjs, which stays plain JavaScript so that npm scripts run it without a TypeScript step.
export declare const CONSOLE_SOURCE: string
export declare const CONSOLE_OUTDIR: string
/** Builds the web console into dist/console with Vite. */
export declare function buildConsole (options?: { logLevel?: 'silent' | 'error' | 'warn' | 'info' }): Promise<{ outdir: string }>
/** True when dist/console/index.html is newer than every file under console/. */
export declare function consoleBuildIsCurrent (): Promise<boolean>
/** Builds unless the build is current; answers whether it built. */
export declare function ensureConsoleBuilt (options?: { logLevel?: 'silent' | 'error' | 'warn' | 'info' }): Promise<boolean>
