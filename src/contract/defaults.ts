/** The names a model gets when it does not say otherwise (the README's model table). */

/** The Lambda alias that a model's function serves traffic through. */
export const DEFAULT_FUNCTION_ALIAS = 'live'

/** The registry alias whose moves drive that Lambda alias; every other registry alias is registry-only. */
export const DEFAULT_DEPLOY_ALIAS = 'production'
