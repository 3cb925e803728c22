import { stat } from 'node:fs/promises'
import type { ApiClient } from './admin-api-client.js'
import { STACK_DEFAULTS } from './stack-options.js'

/** Where the demo model goes: its registry entry, its S3 keys, its function, and the generated files to upload. */
export interface DemoModel {
  model: string
  bucket: string
  weightsKey: string
  labelsKey: string
  functionName: string
  functionAlias: string
  files: { weights: string[], labels: string[] }
}

/**
 * Registers the demo model through the admin API, as a user would: two weights and two labels versions, releases
 * 1 and 2, and the deploy alias on release 1. On a kept registry it only makes sure Lambda serves the alias again
 * (the local runtime starts empty on every start).
 */
export async function seedDemoModel (client: ApiClient, demo: DemoModel, say: (line: string) => void): Promise<void> {
  const path = `/v1/models/${demo.model}`
  const existing = await client.request('GET', path, undefined, [200, 404])
  if (existing.status === 404) {
    await client.request('POST', '/v1/models', {
      name: demo.model,
      bucket: demo.bucket,
      weightsKey: demo.weightsKey,
      labelsKey: demo.labelsKey,
      functionName: demo.functionName,
      functionAlias: demo.functionAlias,
      deployAlias: STACK_DEFAULTS.deployAlias,
    })
    const versions: { weights: string[], labels: string[] } = { weights: [], labels: [] }
    for (const kind of ['weights', 'labels'] as const) {
      for (const [i, file] of demo.files[kind].entries()) {
        say(`model: uploading ${kind} v${i + 1} (${formatBytes((await stat(file)).size)})`)
        const uploaded = await client.upload(`${path}/artifacts/${kind}`, file)
        versions[kind].push(uploaded.versionId)
      }
    }
    for (const i of [0, 1]) {
      const release = await client.request('POST', `${path}/releases`, {
        weightsVersionId: versions.weights[i], labelsVersionId: versions.labels[i], notes: `demo v${i + 1}`,
      })
      say(`registry: release ${(release.body as { number: number }).number} = weights v${i + 1} + labels v${i + 1}`)
    }
    say(`registry: promoting release 1 to ${STACK_DEFAULTS.deployAlias} (publishes a Lambda version, moves ${demo.functionAlias})`)
    await client.request('POST', `${path}/aliases/${STACK_DEFAULTS.deployAlias}/promote`, {
      release: 1, reason: 'local stack: demo model',
    })
    return
  }

  const alias = await client.request('GET', `${path}/aliases/${STACK_DEFAULTS.deployAlias}`, undefined, [200, 404])
  if (alias.status === 404) return
  const view = alias.body as { release: number, live: unknown }
  if (view.live === null) {
    say(`registry: kept; pushing ${STACK_DEFAULTS.deployAlias} (release ${view.release}) to the fresh Lambda runtime`)
    await client.request('POST', `${path}/aliases/${STACK_DEFAULTS.deployAlias}/promote`, {
      release: view.release, reason: 'local stack restart: the local Lambda runtime starts empty',
    })
  }
}

function formatBytes (bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}
