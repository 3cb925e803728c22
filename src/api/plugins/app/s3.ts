import fp from 'fastify-plugin'
import type { S3Client } from '@aws-sdk/client-s3'
import { createS3Client } from '../../../aws/s3-client.js'
import { S3ArtifactStore, type ArtifactStore } from '../../../registry/artifact-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** the one S3 client of the app (it pools connections) */
    s3: S3Client
    /** model artifacts (weights and labels versions) in S3 */
    artifacts: ArtifactStore
  }
}

export interface S3PluginOptions {
  /** explicit credentials (tests); by default the SDK's chain (environment, profile, role) */
  credentials?: { accessKeyId: string, secretAccessKey: string } | undefined
}

/** One S3 client built from the configuration's S3 settings, and the artifact store over it. */
export default fp<S3PluginOptions>(async function s3Plugin (fastify, options) {
  const client = createS3Client(fastify.config.s3, options.credentials)
  fastify.decorate('s3', client)
  fastify.decorate('artifacts', new S3ArtifactStore({ s3: client, tmpDir: fastify.config.uploadTmpDir }))
  fastify.addHook('onClose', async () => { client.destroy() })
}, { name: 's3', dependencies: ['config'] })
