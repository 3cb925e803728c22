import type { RegistryContext } from './context.js'
import { EvaluationRequiredError, PolicyViolatedError } from './errors.js'
import { policyApplies, policyDecision } from './evaluation-comparison.js'
import { newestSucceededEvaluation } from './evaluations.js'
import { deployTarget } from './lambda-sync.js'
import type { Model } from './model.js'

/** A move the promotion policy may stand in the way of. */
export interface PolicyCheck {
  /** the registry alias that moves; only the deploy alias of a model with a function is checked */
  alias: string
  /** the history action of the move: only POLICY_ACTIONS are checked (promote, canary-start) */
  action: string
  /** the release the alias serves now; null: it serves nothing yet (exempt) */
  served: number | null
  /** the release the move brings forward */
  release: number
  /** an admin asked to skip the policy (the caller checked the role) */
  force: boolean
}

/**
 * The first step of a move's order: whether `model`'s promotion policy lets it go ahead. Answers what the move's
 * history entry should add to its detail (which evaluation passed it, or that force skipped it; null: nothing);
 * throws EvaluationRequiredError or PolicyViolatedError when the policy refuses it. Moves the policy does not
 * apply to (other aliases, other actions, an alias serving nothing yet, the release already served) pass. A
 * rollout's start calls it as a canary start does: `{alias, action: 'canary-start', served, release, force}`.
 */
export async function checkPromotionPolicy (ctx: RegistryContext, model: Model, check: PolicyCheck): Promise<string | null> {
  const applies = policyApplies(check.action) && deployTarget(model, check.alias) !== null
  if (!applies) return check.force ? 'force given, but the promotion policy does not apply to this move' : null
  const served = check.served === check.release ? null : check.served
  const evaluation = model.promotionPolicy === null || served === null || check.force
    ? null
    : await newestSucceededEvaluation(ctx, model.name, check.release, served)
  const decision = policyDecision({ policy: model.promotionPolicy, release: check.release, served, evaluation, force: check.force, now: ctx.now() })
  switch (decision.outcome) {
    case 'admitted': return decision.detail
    case 'evaluation_required': throw new EvaluationRequiredError(decision.message)
    case 'policy_violated': throw new PolicyViolatedError(decision.message, decision.violations)
  }
}
