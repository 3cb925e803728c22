// Types for scripts/build-cli.mjs, which stays plain JavaScript so that bin/modelpin.js and npm's prepare step need
// no TypeScript step.
export declare const CLI_ENTRY: string
export declare const CLI_OUTFILE: string
/** esbuild cannot be loaded (an install without dev dependencies). */
export declare class BundlerUnavailableError extends Error {}
/** Bundles src/cli/main.ts into one ESM file (default dist/cli/main.mjs) and records what it was built from. */
export declare function buildCli (options?: { outfile?: string, logLevel?: 'silent' | 'error' | 'warning' | 'info' }): Promise<{ outfile: string, bytes: number }>
/** True when the bundle was built after the last change of every file it was built from. */
export declare function cliBundleIsCurrent (options?: { outfile?: string }): Promise<boolean>
