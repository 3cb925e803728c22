import type { Release } from './model.js'

/**
 * The direct-invoke event the registry sends the function (a prediction, a gate image), and how it reads the
 * function's failure: the one place the registry writes that contract.
 */

/** The `model` field of a direct-invoke event: the release's pinned version IDs and their digests. */
export interface EventPin { weightsVersionId: string, labelsVersionId: string, weightsSha256: string, labelsSha256: string }

/** A direct-invoke event: classify `image` with exactly `release`'s weights and labels, answering `topK` predictions. */
export function directInvokeEvent (image: unknown, release: Release, topK: number): { image: unknown, model: EventPin, topK: number } {
  return {
    image,
    model: {
      weightsVersionId: release.weightsVersionId,
      labelsVersionId: release.labelsVersionId,
      weightsSha256: release.weightsSha256,
      labelsSha256: release.labelsSha256,
    },
    topK,
  }
}

/** The function's error as Lambda reports it (`{errorType, errorMessage}`), whatever shape the payload has. */
export function functionFailure (payload: unknown, functionError: string): { errorType: string, errorMessage: string } {
  const body = (payload !== null && typeof payload === 'object' ? payload : {}) as { errorType?: unknown, errorMessage?: unknown }
  return {
    errorType: typeof body.errorType === 'string' ? body.errorType : functionError,
    errorMessage: typeof body.errorMessage === 'string' ? body.errorMessage : typeof payload === 'string' ? payload : 'the function reported no message',
  }
}
