import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda'
import type { Stack } from '../../src/local/stack.js'

/** `@aws-sdk/client-lambda` as production builds it, pointed at the stack's runtime with the stack's keys. */
export function stackLambdaClient (stack: Stack): LambdaClient {
  const { accessKeyId, secretAccessKey, region } = stack.info.credentials
  return new LambdaClient({ endpoint: stack.info.endpoints.lambda, region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 })
}

/** A synchronous invocation of the stack's function alias (or `qualifier`) with a JSON event. */
export async function invoke (
  lambda: LambdaClient, stack: Stack, event: unknown, qualifier = stack.info.function.alias
): Promise<{ response: InvokeCommandOutput, body: any }> {
  const response = await lambda.send(new InvokeCommand({
    FunctionName: stack.info.function.name, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(event)),
  }))
  return { response, body: JSON.parse(Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8')) }
}

/**
 * Resolves with the parsed JSON object at `bucket/key` once an asynchronous invocation of the runtime has written
 * it: the object is read after each `async-done` event (the listener is in place before each read, so no event is
 * missed), never after a sleep. An asynchronous invocation that did not succeed fails the wait at once; the time
 * limit only turns a hang into a clear failure.
 */
export async function waitForOutput (stack: Stack, s3: S3Client, bucket: string, key: string, limitMs = 60_000): Promise<any> {
  const { runtime } = stack
  const deadline = Date.now() + limitMs
  for (;;) {
    let stop = (): void => {}
    const next = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3://${bucket}/${key} was not written within ${limitMs} ms`)), Math.max(0, deadline - Date.now()))
      const listener = (done: { outcome: string, requestId: string }): void => {
        if (done.outcome === 'succeeded') resolve()
        else reject(new Error(`asynchronous invocation ${done.requestId} ended ${done.outcome} while waiting for s3://${bucket}/${key}`))
      }
      runtime.on('async-done', listener)
      stop = () => {
        clearTimeout(timer)
        runtime.off('async-done', listener)
      }
    })
    // a failed invocation seen during the read below must not become an unhandled rejection when the read succeeds
    next.catch(() => {})
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return JSON.parse(await object.Body!.transformToString())
    } catch (error) {
      if ((error as Error).name !== 'NoSuchKey') throw error
      await next
    } finally {
      stop()
    }
  }
}
