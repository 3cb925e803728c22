import { isInvokeImage } from '../contract/invoke.js'
import { DEFAULT_TOP_K } from '../contract/limits.js'
import { servingAlias } from './aliases.js'
import type { RegistryContext } from './context.js'
import { DeployStepError } from './deployer.js'
import { DeployFailedError, InvalidInputError, NotDeployedError, PredictionFailedError } from './errors.js'
import { functionFailure, ownVersionInvokeEvent } from './function-event.js'
import { publishRelease, requireDeployer } from './lambda-sync.js'
import type { Release } from './model.js'
import { getModel } from './models.js'
import { releaseNamedInBody } from './releases.js'
import { checkName, checkObject, checkTopK } from './validation.js'

/**
 * Classifies `image` with one release: the explicit `release`, else the release of `alias` (default the deploy
 * alias). The release's own published Lambda version answers, with no pin in the event (published first when it
 * has none, or when its recorded one predates MODEL_RELEASE and the deploy alias does not serve it): so nothing
 * moves, predicting the release the deploy alias serves shares production's environments, and any other release
 * never loads into them. Evaluations invoke both their releases the same way (evaluation-runner.ts).
 */
export async function predict (
  ctx: RegistryContext, model: string, input: { image: unknown, release?: number | undefined, alias?: string | undefined, topK?: number | undefined }
): Promise<unknown> {
  const found = await getModel(ctx, model)
  checkObject(input, 'the prediction request')
  const image = input.image
  if (!isInvokeImage(image)) {
    throw new InvalidInputError('image must be {bucket, key, versionId?} or {base64}')
  }
  checkTopK(input.topK)
  if (input.release !== undefined && input.alias !== undefined) throw new InvalidInputError('give release or alias, not both')
  let release: Release
  if (input.release !== undefined) {
    release = await releaseNamedInBody(ctx, model, input.release, 'release')
  } else {
    const aliasName = input.alias ?? found.deployAlias
    checkName('alias', aliasName)
    const row = await servingAlias(ctx, model, aliasName)
    release = await releaseNamedInBody(ctx, model, row.release, 'alias')
  }
  if (found.functionName === null) throw new NotDeployedError(`model ${model} has no functionName to predict with`)
  const deployer = requireDeployer(ctx, found)
  const target = { functionName: found.functionName, functionAlias: found.functionAlias }
  let result
  try {
    const version = await publishRelease(ctx, found, target, release, { republishWithoutRelease: true })
    result = await deployer.invoke(target, ownVersionInvokeEvent(image, input.topK ?? DEFAULT_TOP_K), version)
  } catch (error) {
    if (error instanceof DeployStepError) throw new DeployFailedError(error.step, `Lambda failed at ${error.step}: ${error.message}`, { cause: error })
    throw error
  }
  if (result.functionError !== undefined) {
    const failure = functionFailure(result.payload, result.functionError)
    throw new PredictionFailedError(failure.errorType, failure.errorMessage)
  }
  return result.payload
}
