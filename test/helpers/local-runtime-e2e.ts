import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda'
import { AdminApiClient, type HttpMethod } from '../../src/client/admin-api.js'
import type { Stack } from '../../src/local/stack.js'
import { v1Target } from './admin-api-target.js'

/** What a release looks like over the admin API (the fields these tests read). */
export interface ApiRelease { number: number, weightsVersionId: string, labelsVersionId: string }

/** An admin API call with the stack's admin token; throws with the answer when the status is not the expected one. */
export async function api (stack: Stack, method: HttpMethod, path: string, body?: unknown, expect = [200, 201]): Promise<any> {
  const client = new AdminApiClient({ baseUrl: stack.info.endpoints.api, token: stack.token })
  const answer = await client.request({ method, ...v1Target(path), json: body })
  if (!expect.includes(answer.status)) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`)
  return answer.body ?? null
}

/** The release the stack's model serves on its deploy alias, read from the API, and the Lambda version behind it. */
export async function deployedRelease (stack: Stack): Promise<{ release: ApiRelease, functionVersion: string }> {
  const { name, deployAlias } = stack.info.model
  const alias = await api(stack, 'GET', `/v1/models/${name}/aliases/${deployAlias}`)
  if (alias.live === null) throw new Error(`Lambda serves nothing for ${deployAlias}: ${alias.liveError as string}`)
  const release = await api(stack, 'GET', `/v1/models/${name}/releases/${alias.release as number}`) as ApiRelease
  return { release, functionVersion: alias.live.functionVersion }
}

/** Promotes `release` to the stack's deploy alias through the API; answers the Lambda version it now serves. */
export async function promote (stack: Stack, release: number): Promise<string> {
  const { name, deployAlias } = stack.info.model
  await api(stack, 'POST', `/v1/models/${name}/aliases/${deployAlias}/promote`, { release, reason: 'end-to-end test' })
  return (await deployedRelease(stack)).functionVersion
}

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
