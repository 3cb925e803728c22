import { randomBytes } from 'node:crypto'
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand,
  PutBucketVersioningCommand, type S3Client,
} from '@aws-sdk/client-s3'
import { createS3Client, type S3Settings } from '../../src/aws/s3-client.js'

/**
 * The radosgw that scripts/local-s3.sh starts (`.ci/run` and `npm test` make sure it is up). Every test file makes
 * its own buckets with unique names, so files can run in parallel against one gateway.
 */
export const S3_ENDPOINT = process.env.AWS_ENDPOINT_URL_S3 ?? 'http://127.0.0.1:7480'
export const S3_CREDENTIALS = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'modelpin',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'modelpin-secret',
}
export const S3_SETTINGS: S3Settings = {
  endpoint: S3_ENDPOINT,
  region: 'us-east-1',
  forcePathStyle: true,
  checksums: 'when_required',
}

/** Environment variables that point the SDK (and child processes such as a Lambda environment) at radosgw. */
export const S3_ENV: Record<string, string> = {
  AWS_ENDPOINT_URL_S3: S3_ENDPOINT,
  AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
}

export function testS3Client (): S3Client {
  return createS3Client(S3_SETTINGS, S3_CREDENTIALS)
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** Creates a bucket with a unique name (versioned unless told otherwise) and empties and removes it after the test. */
export async function createTestBucket (
  t: Teardown, s3: S3Client, options: { prefix?: string, versioned?: boolean } = {}
): Promise<string> {
  const bucket = `${options.prefix ?? 'test'}-${randomBytes(5).toString('hex')}`
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  if (options.versioned !== false) {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
  }
  t.teardown(() => removeBucket(s3, bucket))
  return bucket
}

/** Deletes every version and delete marker in `bucket`, then the bucket. */
export async function removeBucket (s3: S3Client, bucket: string): Promise<void> {
  await emptyBucket(s3, bucket)
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }))
}

/** Deletes every version and delete marker in `bucket`. */
export async function emptyBucket (s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
      .map((v) => ({ Key: v.Key!, VersionId: v.VersionId }))
    if (objects.length === 0) break
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }))
  }
}
