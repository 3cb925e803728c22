import type { LambdaClient } from '@aws-sdk/client-lambda'
import {
  GetAliasCommand, InvokeCommand, ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda'
import { AdminApiClient, type HttpMethod } from '../../src/client/admin-api.js'
import type { Stack } from '../../src/local/stack.js'
import { v1Target } from './admin-api-target.js'
import { stackLambdaClient } from './local-runtime-e2e.js'
import { colourPhoto } from './images.js'
import { expectedLabel } from './models.js'
import type { Colour, DemoVersion } from './models.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface Answer { status: number, etag: string | null, location: string | null, body: any }

/**
 * The admin API of a running stack over real HTTP, with its admin token unless told otherwise (tests use `adminClient`).
 * Every status is answered, not thrown: tests assert on 4xx and 5xx answers.
 */
export function adminApi (url: string, token: string): {
  get: (path: string) => Promise<Answer>
  post: (path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>
  patch: (path: string, body: unknown) => Promise<Answer>
  del: (path: string, headers?: Record<string, string>) => Promise<Answer>
} {
  const client = new AdminApiClient({ baseUrl: url, token })
  const send = async (method: HttpMethod, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const { 'if-match': ifMatch, ...others } = headers
    if (Object.keys(others).length > 0) throw new Error(`adminApi sends If-Match only, not ${Object.keys(others).join(', ')}`)
    const response = await client.request({ method, ...v1Target(path), json: body, ifMatch })
    return { status: response.status, etag: response.headers.get('etag'), location: response.headers.get('location'), body: response.body ?? null }
  }
  return {
    get: (path) => send('GET', path),
    post: (path, body, headers) => send('POST', path, body ?? {}, headers),
    patch: (path, body) => send('PATCH', path, body),
    del: (path, headers) => send('DELETE', path, undefined, headers),
  }
}

/** @aws-sdk/client-lambda as a user points it at the stack's Lambda endpoint (the stack's credentials). */
export function stackLambda (t: Teardown, stack: Stack): LambdaClient {
  const lambda = stackLambdaClient(stack)
  t.teardown(() => lambda.destroy())
  return lambda
}

/** The test image: a red photo, so release 1 answers `tomato` and release 2 `Cucumis sativus` (src/local/demo-models/classes.ts). */
export const TEST_COLOUR: Colour = 'red'

let testImage: Promise<string> | undefined

/** The test image as base64 (made once per process). */
export async function testImageBase64 (): Promise<string> {
  testImage ??= colourPhoto(TEST_COLOUR).then((bytes) => bytes.toString('base64'))
  return await testImage
}

/** The top label release `n` of the stack (weights n + labels n) gives the test image. */
export function releaseLabel (n: DemoVersion): string {
  return expectedLabel(n, n, TEST_COLOUR)
}

/** One synchronous invocation of `function:qualifier` with the test image; the parsed answer and any function error. */
export async function invokeWithTestImage (
  lambda: LambdaClient, stack: Stack, qualifier = stack.info.function.alias
): Promise<{ functionError: string | undefined, executedVersion: string | undefined, body: any }> {
  const answer = await lambda.send(new InvokeCommand({
    FunctionName: stack.info.function.name,
    Qualifier: qualifier,
    Payload: Buffer.from(JSON.stringify({ image: { base64: await testImageBase64() }, topK: 1 })),
  }))
  return {
    functionError: answer.FunctionError,
    executedVersion: answer.ExecutedVersion,
    body: JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8')),
  }
}

/** The stack function's Lambda alias as Lambda reports it. */
export async function lambdaAlias (lambda: LambdaClient, stack: Stack): Promise<{ functionVersion: string, weights: Record<string, number>, revisionId: string }> {
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: stack.info.function.name, Name: stack.info.function.alias }))
  return {
    functionVersion: alias.FunctionVersion ?? '',
    weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {},
    revisionId: alias.RevisionId ?? '',
  }
}

/** The published versions of the stack's function (without $LATEST). */
export async function publishedVersions (lambda: LambdaClient, stack: Stack): Promise<string[]> {
  const versions: string[] = []
  let marker: string | undefined
  do {
    const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: stack.info.function.name, Marker: marker }))
    for (const version of page.Versions ?? []) if (version.Version !== undefined && version.Version !== '$LATEST') versions.push(version.Version)
    marker = page.NextMarker
  } while (marker !== undefined)
  return versions
}
