/**
 * What may be said of an AWS failure outside the log. AWS's own messages name ARNs, and so the account ID
 * ("Function not found: arn:aws:lambda:us-east-1:123456789012:function:x"): answers and history entries carry the
 * error's code instead, and the message goes to the log.
 */

/** The code of an AWS SDK error (`ResourceConflictException`, `TooManyRequestsException`), a network error's (`ECONNREFUSED`), or `UnknownError`. */
export function awsErrorCode (error: unknown): string {
  const e = error as { name?: unknown, code?: unknown, Code?: unknown } | null
  if (e === null || typeof e !== 'object') return 'UnknownError'
  for (const candidate of [e.Code, e.name, e.code]) {
    // codes are single words; 'Error' says nothing (a plain Error from the SDK's own checks)
    if (typeof candidate === 'string' && /^[A-Za-z][\w.]{1,100}$/.test(candidate) && candidate !== 'Error') return candidate
  }
  return 'UnknownError'
}

const ARN = /\barn:aws[\w-]*:[\w-]*:[\w-]*:\d{0,12}:[^\s"',;)]*/g
const ACCOUNT_ID = /(?<![\w-])\d{12}(?![\w-])/g

/**
 * `text` with every ARN cut to the resource's own name and any other 12-digit account ID masked: a last guard for
 * text that may quote AWS (a function error, a name given as an ARN), applied to what answers and history carry.
 */
export function redactAwsIdentifiers (text: string): string {
  return text
    .replace(ARN, (arn) => arn.split(/[:/]/).filter((part) => part !== '').at(-1) ?? 'resource')
    .replace(ACCOUNT_ID, '<account>')
}
