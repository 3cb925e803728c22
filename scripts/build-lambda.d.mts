// Types for scripts/build-lambda.mjs, which stays plain JavaScript so `npm run build:lambda` needs no TypeScript step.
export declare const DEFAULT_OUTFILE: string
export declare const EXTERNAL: string[]
/** Bundles lambda/index.ts into one ESM file (default dist/lambda/index.mjs); resolves when it is written. */
export declare function buildLambda (options?: { outfile?: string, minify?: boolean }): Promise<{ outfile: string, bytes: number }>
