import { eventPinOf, type InvokeEvent, type InvokeImage } from '../contract/invoke.js'
import type { Release } from './model.js'

/**
 * The direct-invoke event the registry sends the function (a prediction, a gate image), and how it reads the
 * function's failure: the one place the registry writes that contract (its schema is src/contract/invoke.ts).
 */

/** A direct-invoke event: classify `image` with exactly `release`'s weights and labels, answering `topK` predictions. */
export function directInvokeEvent (image: InvokeImage, release: Release, topK: number): InvokeEvent {
  return { image, model: eventPinOf(release), topK }
}

/**
 * A direct-invoke event for a release's own published version: no pin, so the version's configuration answers (and
 * the answer names its release).
 */
export function ownVersionInvokeEvent (image: InvokeImage, topK: number): InvokeEvent {
  return { image, topK }
}

/** The function's error as Lambda reports it (`{errorType, errorMessage}`), whatever shape the payload has. */
export function functionFailure (payload: unknown, functionError: string): { errorType: string, errorMessage: string } {
  const body = (payload !== null && typeof payload === 'object' ? payload : {}) as { errorType?: unknown, errorMessage?: unknown }
  return {
    errorType: typeof body.errorType === 'string' ? body.errorType : functionError,
    errorMessage: typeof body.errorMessage === 'string' ? body.errorMessage : typeof payload === 'string' ? payload : 'the function reported no message',
  }
}
