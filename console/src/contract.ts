/**
 * What the console reads and sends, as the admin API's own TypeBox schemas define it (type-only imports: nothing of
 * the server is bundled). A route whose schema changes breaks `npm run typecheck` here, not the page in a browser.
 */
import type { Static } from 'typebox'
import type {
  AliasListSchema, AliasSchema, AliasViewSchema, CanaryBody, HistorySchema, PromoteBody, RollbackBody,
} from '../../src/api/routes/aliases/index.js'
import type { EvaluationListSchema, EvaluationSchema } from '../../src/api/routes/evaluations/index.js'
import type { ModelListSchema } from '../../src/api/routes/models/index.js'
import type { ReleaseListSchema } from '../../src/api/routes/releases/index.js'
import type { RolloutBodySchema, RolloutListSchema, RolloutSchema } from '../../src/api/routes/rollouts/index.js'
import type { WhoamiSchema } from '../../src/api/routes/tokens/index.js'
import type { ErrorBody } from '../../src/api/schemas/common.js'
import type { HistoryEntrySchema, ModelSchema, ReleaseSchema, RoleSchema } from '../../src/api/schemas/registry.js'

export type Whoami = Static<typeof WhoamiSchema>
export type Role = Static<typeof RoleSchema>
export type Model = Static<typeof ModelSchema>
export type ModelList = Static<typeof ModelListSchema>
export type Release = Static<typeof ReleaseSchema>
export type ReleaseList = Static<typeof ReleaseListSchema>
export type Alias = Static<typeof AliasSchema>
export type AliasView = Static<typeof AliasViewSchema>
export type AliasList = Static<typeof AliasListSchema>
export type History = Static<typeof HistorySchema>
export type HistoryEntry = Static<typeof HistoryEntrySchema>
export type Evaluation = Static<typeof EvaluationSchema>
export type EvaluationList = Static<typeof EvaluationListSchema>
export type Percentiles = NonNullable<Evaluation['latencyMs']['candidate']>
export type Rollout = Static<typeof RolloutSchema>
export type RolloutList = Static<typeof RolloutListSchema>
export type RolloutObservation = Rollout['observations'][number]
export type RolloutSide = RolloutObservation['candidate']
export type StartRolloutBody = Static<typeof RolloutBodySchema>
export type { CanaryBody, ErrorBody, PromoteBody, RollbackBody }
/** The body of canary promote and canary abort. */
export interface CanaryStepBody { reason?: string | null }
