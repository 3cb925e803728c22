/**
 * Errors of the inference path that blame the request (its image, its pin, or the artifacts a pin names). Lambda
 * reports an error's `name` as `errorType`, so each class is named for what went wrong; `code` is the stable
 * snake_case form written into `<key>.error.json`. Anything that is not an `InferenceError` (S3 5xx, throttling,
 * a network failure, a bug) is rethrown as it is, so Lambda retries it.
 */
export abstract class InferenceError extends Error {
  abstract readonly code: string
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The bytes are not an image sharp can decode (text, truncated or corrupt data, an empty object). */
export class InvalidImageError extends InferenceError { readonly code = 'invalid_image' }
/** The image is over the byte or pixel limit (see preprocess.ts). */
export class ImageTooLargeError extends InferenceError { readonly code = 'image_too_large' }
/** The image is too small to classify (see `MIN_INPUT_SIDE`). */
export class ImageTooSmallError extends InferenceError { readonly code = 'image_too_small' }
/** An S3 object or version that a request or pin names does not exist; the message names bucket, key and VersionId. */
export class VersionNotFoundError extends InferenceError { readonly code = 'version_not_found' }
/** A pin is malformed: one version ID without the other, an empty ID, a sha256 that is not 64 lowercase hex digits. */
export class InvalidPinError extends InferenceError { readonly code = 'invalid_pin' }
/** The bytes of a pinned version do not match the sha256 the pin carries. */
export class ChecksumMismatchError extends InferenceError { readonly code = 'checksum_mismatch' }
/** The weights are not an ONNX model this loader can serve (not ONNX, or not a single float32 image input). */
export class InvalidModelError extends InferenceError { readonly code = 'invalid_model' }
/** The labels file has a different number of classes than the model's output, or none at all. */
export class LabelsMismatchError extends InferenceError { readonly code = 'labels_mismatch' }
/** No pin applies: the configuration has no version IDs and the request carries none. */
export class ModelNotPinnedError extends InferenceError { readonly code = 'model_not_pinned' }
/** An event this function does not know how to handle. */
export class UnknownEventError extends InferenceError { readonly code = 'unknown_event' }
/** A known kind of event with a malformed field (missing image, bad topK, bad base64). */
export class InvalidEventError extends InferenceError { readonly code = 'invalid_event' }
/** S3 refused access to an object the request names (403); the message names bucket, key and VersionId. */
export class AccessDeniedError extends InferenceError { readonly code = 'access_denied' }
