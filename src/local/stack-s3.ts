import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CreateBucketCommand, GetObjectCommand, NoSuchKey, PutBucketNotificationConfigurationCommand,
  PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3'
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns'
import { REPOSITORY_ROOT } from './repository-root.js'

/**
 * The stack's S3 side on radosgw: starting radosgw when nothing answers, the buckets, the marker that ties a data
 * dir to the S3 contents it was built against, and the input bucket's notification to the local Lambda runtime.
 */

const run = promisify(execFile)

/** Whether anything answers HTTP at `url` within two seconds. */
export async function answers (url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
    await response.arrayBuffer()
    return true
  } catch {
    return false
  }
}

/**
 * Runs scripts/local-s3.sh (install, start, stop) for radosgw on `port`; with `storeDir`, on the on-disk (bluestore)
 * store kept there, else on the script's throwaway in-memory store. Answers what the script said.
 */
export async function localS3 (commands: string[], port: number, storeDir?: string): Promise<string> {
  try {
    const { stderr } = await run('bash', [join(REPOSITORY_ROOT, 'scripts/local-s3.sh'), ...commands], {
      env: {
        ...process.env,
        MODELPIN_S3_PORT: String(port),
        ...(storeDir === undefined ? {} : { MODELPIN_S3_STORE: 'bluestore', MODELPIN_S3_DIR: storeDir }),
      },
    })
    return stderr
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    throw new Error(`scripts/local-s3.sh ${commands.join(' ')} failed:\n${stderr.trim()}`, { cause: error })
  }
}

/** Creates `bucket` unless it is already there. */
export async function ensureBucket (s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  } catch (error) {
    const name = (error as Error).name
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error
  }
}

/** Whether the radosgw of the store in `storeDir` is still running (a stack that was killed leaves it running). */
export async function storeGatewayRunning (storeDir: string): Promise<boolean> {
  const pid = Number(await readFile(join(storeDir, 'run', 'client.rgw.a.pid'), 'utf8').catch(() => ''))
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const MARKER_KEY = '.modelpin-stack-id'

/**
 * Keeps the registry in `dataDir` when a marker object says S3 still holds what it was built against, and removes
 * it otherwise (the admin token file stays); the answer says which happened.
 */
export async function matchRegistryToS3 (
  s3: S3Client, bucket: string, dataDir: string, say: (line: string) => void
): Promise<'kept' | 'created' | 'reset'> {
  const markerFile = join(dataDir, 'stack-s3-id')
  const database = join(dataDir, 'registry.db')
  const known = await readFile(markerFile, 'utf8').then((s) => s.trim(), () => undefined)
  let current: string | undefined
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: MARKER_KEY }))
    current = (await object.Body?.transformToString())?.trim()
  } catch (error) {
    if (!(error instanceof NoSuchKey)) throw error
  }
  if (known !== undefined && known === current) return 'kept'

  const hadRegistry = await stat(database).then(() => true, () => false)
  if (hadRegistry) {
    say('registry: S3 does not hold what the registry was built against (a new or wiped store, or another radosgw), ' +
      'so the registry is reset to match it; the admin token stays valid')
    for (const suffix of ['', '-wal', '-shm']) await rm(database + suffix, { force: true })
  }
  const id = randomBytes(8).toString('hex')
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: MARKER_KEY, Body: id }))
  await writeFile(markerFile, id + '\n')
  return hadRegistry ? 'reset' : 'created'
}

/** Makes radosgw invoke `pushEndpoint` (the runtime's S3 intake) for every object created in `bucket`. */
export async function notifyFunctionOnUpload (
  s3Endpoint: string, credentials: { accessKeyId: string, secretAccessKey: string }, region: string,
  s3: S3Client, bucket: string, pushEndpoint: string
): Promise<void> {
  // radosgw delivers bucket notifications through an SNS-compatible topic whose push-endpoint is the runtime's intake.
  // Not persistent: persistent topics deliver seconds late or not at all here.
  const sns = new SNSClient({ endpoint: s3Endpoint, region, credentials })
  try {
    const topic = await sns.send(new CreateTopicCommand({
      Name: `${bucket}-uploads`,
      Attributes: { 'push-endpoint': pushEndpoint, persistent: 'false' },
    }))
    await s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: [{ Id: 'modelpin-inference', TopicArn: topic.TopicArn, Events: ['s3:ObjectCreated:*'] }],
      },
    }))
  } finally {
    sns.destroy()
  }
}
