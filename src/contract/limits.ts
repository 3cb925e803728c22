/**
 * Every bound that more than one part of modelpin enforces, each with where its number comes from. The API's schemas,
 * the registry's checks, the function and the CLI import these; none restates a number.
 */

/** Free text recorded with a release (`notes`) or a move (`reason`): enough for a paragraph, small in a history row. */
export const MAX_TEXT_LENGTH = 4000

/** History entries one read returns by default, and at most (one page of a dashboard, one JSON answer). */
export const DEFAULT_HISTORY_LIMIT = 100
export const MAX_HISTORY_LIMIT = 1000

/** Predictions one request may ask for: the demo ResNet has 1,000 classes, so more cannot be answered. */
export const DEFAULT_TOP_K = 5
export const MAX_TOP_K = 1000

/** S3 answers at most 1,000 entries per ListObjectVersions page, so a page of the API cannot be larger. */
export const MAX_LIST_LIMIT = 1000
/** A page of S3 versions when the caller names no limit: a screenful, and one S3 request. */
export const DEFAULT_LIST_LIMIT = 100

/** S3 object keys are at most 1,024 bytes of UTF-8 (S3's documented limit). */
export const MAX_KEY_BYTES = 1024

/** Each gate image is one invocation inside a move, which holds the alias's lock: keep the move short. */
export const MAX_GATE_IMAGES = 20

/** A canary sends a share strictly between 0 and 1 of the traffic (Lambda's AdditionalVersionWeights range). */
export const MIN_CANARY_WEIGHT_EXCLUSIVE = 0
export const MAX_CANARY_WEIGHT_EXCLUSIVE = 1

/** True when `weight` is a canary weight: a number strictly between 0 and 1. */
export function isCanaryWeight (weight: unknown): weight is number {
  return typeof weight === 'number' && weight > MIN_CANARY_WEIGHT_EXCLUSIVE && weight < MAX_CANARY_WEIGHT_EXCLUSIVE
}

/** Actors (token names) recorded in the history: a name, not a document. */
export const MAX_ACTOR_LENGTH = 200

/** Token names become actors: kept well inside MAX_ACTOR_LENGTH so a name always fits the history. */
export const MAX_TOKEN_NAME_LENGTH = 100

/** Lambda's FunctionName parameter takes a name or a full ARN of at most 170 characters (Lambda API reference). */
export const MAX_FUNCTION_NAME_LENGTH = 170

/** Lambda alias names are 1 to 128 characters (Lambda API reference, CreateAlias). */
export const MAX_FUNCTION_ALIAS_LENGTH = 128

/**
 * Warm-up invocations a move makes of its target version before routing (the model's `prewarm`). Each one holds a
 * Lambda environment while it loads the model, inside a move that holds the alias's lock: 50 keeps a move short and
 * far inside an account's default concurrency (1,000). 0 skips the warm-up; 1 covers one serving environment.
 */
export const MAX_PREWARM = 50
export const DEFAULT_PREWARM = 1

/** True when `count` is a `prewarm`: an integer from 0 to MAX_PREWARM. */
export function isPrewarm (count: unknown): count is number {
  return Number.isInteger(count) && (count as number) >= 0 && (count as number) <= MAX_PREWARM
}

/** An evaluation lists at most this many objects under its prefix before it picks the most recent (DESIGN.md). */
export const MAX_EVALUATION_LISTED = 10_000
/** How many inputs an evaluation takes, at most and by default. */
export const MAX_EVALUATION_INPUTS = 1000
export const DEFAULT_EVALUATION_INPUTS = 100
/** How long a succeeded evaluation vouches for a promotion when the policy does not say (a day). */
export const DEFAULT_POLICY_MAX_AGE_SECONDS = 86_400
/** The longest `maxAgeSeconds` a policy may give (a year): an evaluation older than that says little of today's traffic. */
export const MAX_POLICY_MAX_AGE_SECONDS = 31_536_000
/** The largest `maxLatencyRatio` a policy may give: beyond it the criterion would admit anything. */
export const MAX_POLICY_LATENCY_RATIO = 1000
/**
 * A rollout's steps: 1 to 10 increasing canary weights (ten steps of a day each is already a long rollout), each
 * lasting 5 s (the local stack's metrics arrive within a second or two) to a day (86,400 s).
 */
export const MAX_ROLLOUT_STEPS = 10
export const MIN_ROLLOUT_STEP_SECONDS = 5
export const MAX_ROLLOUT_STEP_SECONDS = 86_400
/** Candidate invocations a step needs before it is judged, unless the rollout names another number. */
export const DEFAULT_MIN_INVOCATIONS = 20
/**
 * A step short of invocations is extended until it has them, up to this many times `stepSeconds` in all; then the
 * rollout ends `inconclusive` (DESIGN.md "Rollouts").
 */
export const MAX_STEP_LENGTHS = 3
/** A token's lifetime in days when one is asked for (`expiresInDays`): from a day to about ten years. */
export const MIN_TOKEN_EXPIRES_IN_DAYS = 1
export const MAX_TOKEN_EXPIRES_IN_DAYS = 3650
