/**
 * How model bytes are downloaded by default, in a module of its own that imports nothing: the function's early read
 * (early-read.ts) decides with it before the AWS SDK is even loaded.
 *
 * 8 MiB parts, 8 at a time: AWS's guidance for S3 throughput is one connection per 8-16 MB range, and about
 * 85-90 MB/s per connection from Lambda, so a 100 MB model arrives in about one part's time instead of a
 * single stream's second or more. Against radosgw on two cores the server is the limit and parallelism is
 * neutral (bench/inference.ts measures both).
 */
export const DEFAULT_PARALLEL_READ = { partBytes: 8 * 1024 * 1024, concurrency: 8 } as const

/**
 * One GET of the whole object against a gateway of our own (radosgw), parallel ranged GETs against AWS S3. AWS caps a
 * connection at about 85-90 MB/s, so parts in parallel bring a 100 MB model in about one part's time. A single
 * radosgw on the function's machine is limited by its own CPU instead: one stream and eight ranges download at the
 * same rate when the machine is quiet, and while other work runs the eight ranges took 1.5-1.9 times as long as one
 * stream (bench/inference.ts: `cold_load_ms` and `cold_load_ranged_ms`).
 */
export function defaultDownload (gateway: boolean): { partBytes: number, concurrency: number } {
  return gateway ? { partBytes: 2 ** 31 - 1, concurrency: 1 } : { ...DEFAULT_PARALLEL_READ }
}

/** Whether the environment points S3 at a gateway of its own (AWS_ENDPOINT_URL_S3) rather than AWS. */
export function usesGateway (env: Record<string, string | undefined>): boolean {
  return (env.AWS_ENDPOINT_URL_S3 ?? '').trim() !== ''
}
