import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { colourPhoto } from './helpers/images.js'
import { deployedRelease, startEndToEnd } from './helpers/e2e.js'
import { waitForOutput } from './helpers/local-runtime-e2e.js'
import { expectedTopLabel } from './helpers/models.js'

const { stack, s3, releases } = await startEndToEnd(t)
const { input, output } = stack.info.buckets

t.test('an image put into the input bucket produces its prediction object in the output bucket, with production\'s pins', async (t) => {
  const { release } = await deployedRelease(stack)
  const invocations: Array<{ invocationType: string, version: string }> = []
  const record = (r: { invocationType: string, version: string }): void => { invocations.push(r) }
  stack.runtime.on('invocation', record)
  t.teardown(() => { stack.runtime.off('invocation', record) })

  const put = await s3.send(new PutObjectCommand({ Bucket: input, Key: 'uploads/green leaf.jpg', Body: await colourPhoto('green'), ContentType: 'image/jpeg' }))
  const result = await waitForOutput(stack, s3, output, 'uploads/green leaf.jpg.json')
  t.same(result.input, { bucket: input, key: 'uploads/green leaf.jpg', versionId: put.VersionId ?? null })
  t.equal(result.predictions.length, 5)
  t.equal(result.predictions[0].label, expectedTopLabel(1, 1, 'green'))
  t.equal(result.model.weightsVersionId, release.weightsVersionId)
  t.equal(result.model.labelsVersionId, release.labelsVersionId)
  const seeded = releases.find((r) => r.number === release.number)!
  t.match(result.model, { release: release.number, weightsSha256: seeded.weightsSha256, labelsSha256: seeded.labelsSha256 },
    'the output object names the release and its digests')
  t.ok(invocations.some((i) => i.invocationType === 'Event'), 'the runtime invoked the function asynchronously, as S3 does')
})

t.test('a text file put into the input bucket produces <key>.error.json with the invalid_image code', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: input, Key: 'uploads/readme.txt', Body: 'this is a text file, not a photo\n', ContentType: 'text/plain' }))
  const result = await waitForOutput(stack, s3, output, 'uploads/readme.txt.error.json')
  t.equal(result.error.code, 'invalid_image')
  t.type(result.error.message, 'string')
  t.ok(result.error.message.length > 10, `the message says what was wrong: ${result.error.message as string}`)
  t.match(result.input, { bucket: input, key: 'uploads/readme.txt' })
})
