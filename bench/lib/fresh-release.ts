/**
 * Releases no Lambda version was published for, on the bench stack: weights 1 or 2 of the demo model paired with a
 * labels version uploaded just now (the same bytes as release 1's labels, so a new S3 VersionId and a new release,
 * whose first promotion publishes and warms a new version).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3'
import type { BenchStack } from './local-stack.js'

/** Reads what the releases share once; the returned function registers one fresh release per call. */
export async function freshReleases (bench: BenchStack): Promise<(weightsOf: 1 | 2, notes: string) => Promise<number>> {
  const { stack, api } = bench
  const model = `/v1/models/${stack.info.model.name}`
  const releases = await Promise.all([1, 2].map(async (n) => await api('GET', `${model}/releases/${n}`) as { weightsVersionId: string, labelsVersionId: string }))
  const labelsObject = await bench.s3.send(new GetObjectCommand({
    Bucket: stack.info.buckets.models, Key: stack.info.model.labelsKey, VersionId: releases[0]!.labelsVersionId,
  }))
  const labels = await labelsObject.Body!.transformToByteArray()
  return async (weightsOf, notes) => {
    const uploaded = await api('PUT', `${model}/artifacts/labels`, labels) as { versionId: string }
    const release = await api('POST', `${model}/releases`, {
      weightsVersionId: releases[weightsOf - 1]!.weightsVersionId, labelsVersionId: uploaded.versionId, notes,
    }) as { number: number }
    return release.number
  }
}
