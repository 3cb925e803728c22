import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateAliasCommand, PublishVersionCommand } from '@aws-sdk/client-lambda'
import { PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { CreateTopicCommand, DeleteTopicCommand, SNSClient } from '@aws-sdk/client-sns'
import t from 'tap'
import { encodeS3EventKey, rewriteRadosgwNotification } from '../src/local/lambda-runtime/index.js'
import { handlerPath, startTestRuntime, waitForRuntimeEvent } from './helpers/lambda-runtime.js'
import { createTestBucket, S3_CREDENTIALS, S3_ENDPOINT, testS3Client } from './helpers/s3.js'

// Captured from this machine's radosgw (Ceph 16.2) on a PutObject of "dir/a b+ü(1)=x.txt" into a versioned bucket.
const RADOSGW_BODY = {
  Records: [{
    eventVersion: '2.2',
    eventSource: 'ceph:s3',
    awsRegion: '',
    eventTime: '2026-11-24T23:51:16.049907Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'modelpin' },
    requestParameters: { sourceIPAddress: '' },
    responseElements: { 'x-amz-request-id': '48d4900d-635b-4406-9e20-fefe428e186e.4110.11869919341984917325', 'x-amz-id-2': '100e-default-default' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'n1',
      bucket: { name: 'capture-aa45b5', ownerIdentity: { principalId: 'modelpin' }, arn: 'arn:aws:s3:::capture-aa45b5', id: '48d4900d-635b-4406-9e20-fefe428e186e.4112.2' },
      object: {
        key: 'dir/a b+ü(1)=x.txt',
        size: 11,
        eTag: '5eb63bbbe01eeed093cb22bb8f5acdc3',
        versionId: 'iAkBlEoBVRgSDP5np0hBqsjossT.Zbj',
        sequencer: 'F422066B94824003',
        metadata: [{ key: 'x-amz-content-sha256', val: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9' }, { key: 'x-amz-date', val: '20261124T235116Z' }],
        tags: [],
      },
    },
    eventId: '1795564276.054559.5eb63bbbe01eeed093cb22bb8f5acdc3',
    opaqueData: '',
  }],
}

t.test('a radosgw record is rewritten into the record AWS S3 sends to Lambda', async (t) => {
  const [record] = rewriteRadosgwNotification(RADOSGW_BODY, { region: 'us-east-1' })
  t.same(record, {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-24T23:51:16.049Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'modelpin' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': '48d4900d-635b-4406-9e20-fefe428e186e.4110.11869919341984917325', 'x-amz-id-2': '100e-default-default' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'n1',
      bucket: { name: 'capture-aa45b5', ownerIdentity: { principalId: 'modelpin' }, arn: 'arn:aws:s3:::capture-aa45b5' },
      object: {
        key: 'dir/a+b%2B%C3%BC%281%29%3Dx.txt',
        size: 11,
        eTag: '5eb63bbbe01eeed093cb22bb8f5acdc3',
        versionId: 'iAkBlEoBVRgSDP5np0hBqsjossT.Zbj',
        sequencer: 'F422066B94824003',
      },
    },
  })
})

t.test('older radosgw shapes and unversioned buckets: string size, s3: prefix, empty versionId, removals', async (t) => {
  const base = RADOSGW_BODY.Records[0]!
  const [older] = rewriteRadosgwNotification({
    Records: [{ ...base, eventName: 's3:ObjectCreated:Copy', s3: { ...base.s3, object: { ...base.s3.object, size: '2048', versionId: '' } } }],
  }, { region: 'eu-west-1' })
  t.equal(older?.eventName, 'ObjectCreated:Copy')
  t.equal(older?.s3.object.size, 2048)
  t.equal(older?.awsRegion, 'eu-west-1')
  t.notOk('versionId' in (older?.s3.object ?? {}), 'no versionId member on an unversioned bucket, as AWS sends it')
  const [removed] = rewriteRadosgwNotification({ Records: [{ ...base, eventName: 'ObjectRemoved:Delete' }] }, { region: 'us-east-1' })
  t.notOk('size' in (removed?.s3.object ?? {}))
  t.notOk('eTag' in (removed?.s3.object ?? {}))
  t.throws(() => rewriteRadosgwNotification({ hello: 'world' }, { region: 'us-east-1' }), { name: 'InvalidNotificationError' })
  t.equal(encodeS3EventKey('images/cat photo.jpg'), 'images/cat+photo.jpg')
  t.equal(encodeS3EventKey('a+b&c=d*e~f'), 'a%2Bb%26c%3Dd*e%7Ef')
})

t.test('an object put into a bucket that notifies the runtime invokes the function alias with an AWS-shaped record', async (t) => {
  const eventDir = await mkdtemp(join(tmpdir(), 'lambda-s3-events-'))
  t.teardown(() => rm(eventDir, { recursive: true, force: true }))
  const { runtime, lambda } = await startTestRuntime(t, {
    functions: [{ name: 'recorder', bundlePath: handlerPath('record-event.mjs'), handler: 'index.handler', environment: { EVENT_DIR: eventDir } }],
  })
  await lambda.send(new PublishVersionCommand({ FunctionName: 'recorder' }))
  await lambda.send(new CreateAliasCommand({ FunctionName: 'recorder', Name: 'live', FunctionVersion: '1' }))

  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3, { prefix: 'lambda-intake' })
  const sns = new SNSClient({ endpoint: S3_ENDPOINT, region: 'us-east-1', credentials: S3_CREDENTIALS })
  const topic = await sns.send(new CreateTopicCommand({
    Name: `lambda-intake-${randomBytes(5).toString('hex')}`,
    Attributes: { 'push-endpoint': runtime.s3EventsUrl('recorder', 'live') },
  }))
  t.teardown(async () => {
    await sns.send(new DeleteTopicCommand({ TopicArn: topic.TopicArn }))
    sns.destroy()
  })
  await s3.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: { TopicConfigurations: [{ Id: 'to-lambda', TopicArn: topic.TopicArn, Events: ['s3:ObjectCreated:*'] }] },
  }))

  const done = waitForRuntimeEvent(runtime, 'async-done', (d) => d.functionName === 'recorder')
  const body = Buffer.from('not really a jpeg')
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbox/cat photo.jpg', Body: body }))
  const [result] = await done
  t.equal(result.outcome, 'succeeded')
  t.equal(result.qualifier, 'live')

  const delivered = JSON.parse(await readFile(join(eventDir, `${result.requestId}.json`), 'utf8'))
  t.equal(delivered.functionVersion, '1', 'the alias ran its version')
  t.match(delivered.invokedFunctionArn, /:function:recorder:live$/)
  t.equal(delivered.event.Records.length, 1)
  const record = delivered.event.Records[0]
  t.equal(record.eventSource, 'aws:s3')
  t.equal(record.eventVersion, '2.1')
  t.equal(record.awsRegion, 'us-east-1')
  t.equal(record.eventName, 'ObjectCreated:Put')
  t.equal(record.s3.bucket.name, bucket)
  t.equal(record.s3.bucket.arn, `arn:aws:s3:::${bucket}`)
  t.equal(record.s3.object.key, 'inbox/cat+photo.jpg')
  t.equal(record.s3.object.size, body.length)
  t.equal(typeof record.s3.object.size, 'number')
  t.equal(record.s3.object.versionId, put.VersionId)
  t.equal(record.s3.object.eTag, put.ETag?.replaceAll('"', ''))
  t.match(record.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.notOk('metadata' in record.s3.object)
  t.notOk('eventId' in record)
  s3.destroy()
})

t.test('the intake refuses a body that is not a notification, and an unknown function, in Lambda error shape', async (t) => {
  const { runtime } = await startTestRuntime(t, {
    functions: [{ name: 'recorder', bundlePath: handlerPath('record-event.mjs'), handler: 'handler', environment: { EVENT_DIR: tmpdir() } }],
  })
  const notJson = await fetch(runtime.s3EventsUrl('recorder', '$LATEST'), { method: 'POST', body: 'hello' })
  t.equal(notJson.status, 400)
  t.equal(notJson.headers.get('x-amzn-errortype'), 'InvalidRequestContentException')
  const unknown = await fetch(runtime.s3EventsUrl('ghost', 'live'), { method: 'POST', body: JSON.stringify(RADOSGW_BODY) })
  t.equal(unknown.status, 404)
  t.equal(unknown.headers.get('x-amzn-errortype'), 'ResourceNotFoundException')
  t.equal(runtime.stats().asyncInFlight, 0, 'nothing was queued')
})
