import type {
  Alias, AliasList, AliasView, CanaryBody, CanaryStepBody, ErrorBody, History, ModelList, PromoteBody, ReleaseList,
  RollbackBody, Whoami,
} from './contract.js'
import type { Evaluation, EvaluationList, Rollout, RolloutList, StartRolloutBody } from './contract.js'
import { fillPath, ROUTES, type RouteName, type RouteParams } from './routes.js'

/** An answer of the API with an error status: its status, and the code and message of its `{"error"}` body. */
export class ApiFailure extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiFailure'
  }

  /** The route itself does not exist on this API (not an unknown model or alias, which have codes of their own). */
  get routeMissing (): boolean {
    return this.status === 404 && this.code === 'not_found'
  }
}

/** The API root: the console is served at <root>/ui/, so the API is one level up (works under a path prefix too). */
const API_ROOT = new URL('../', window.location.href)

/**
 * The admin API as the console calls it, with the signed-in token. Every method answers the typed body or throws
 * ApiFailure with the API's own message; nothing is cached.
 */
export class ConsoleApi {
  constructor (private readonly token: string) {}

  whoami = async (): Promise<Whoami> => await this.call('whoami', {})
  models = async (): Promise<ModelList> => await this.call('models', {})
  releases = async (model: string): Promise<ReleaseList> => await this.call('releases', { model })
  aliases = async (model: string): Promise<AliasList> => await this.call('aliases', { model })
  alias = async (model: string, alias: string): Promise<AliasView> => await this.call('alias', { model, alias })
  history = async (model: string, alias: string): Promise<History> => await this.call('history', { model, alias })

  promote = async (model: string, alias: string, body: PromoteBody, revision: number): Promise<Alias> =>
    await this.call('promote', { model, alias }, { body, revision })

  rollback = async (model: string, alias: string, body: RollbackBody, revision: number): Promise<Alias> =>
    await this.call('rollback', { model, alias }, { body, revision })

  startCanary = async (model: string, alias: string, body: CanaryBody, revision: number): Promise<Alias> =>
    await this.call('startCanary', { model, alias }, { body, revision })

  promoteCanary = async (model: string, alias: string, body: CanaryStepBody, revision: number): Promise<Alias> =>
    await this.call('promoteCanary', { model, alias }, { body, revision })

  abortCanary = async (model: string, alias: string, body: CanaryStepBody, revision: number): Promise<Alias> =>
    await this.call('abortCanary', { model, alias }, { body, revision })

  evaluations = async (model: string): Promise<EvaluationList> => await this.call('evaluations', { model })
  evaluation = async (model: string, id: string): Promise<Evaluation> => await this.call('evaluation', { model, id })
  rollouts = async (model: string, alias: string): Promise<RolloutList> => await this.call('rollouts', { model, alias })

  startRollout = async (model: string, alias: string, body: StartRolloutBody, revision: number): Promise<Rollout> =>
    await this.call('startRollout', { model, alias }, { body, revision })

  cancelRollout = async (model: string, alias: string, id: string): Promise<Rollout> =>
    await this.call('cancelRollout', { model, alias, id })

  private async call<T, Name extends RouteName = RouteName> (
    name: Name, params: RouteParams<(typeof ROUTES)[Name]['path']>, options: { body?: unknown, revision?: number } = {}
  ): Promise<T> {
    const { method } = ROUTES[name]
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.token}` }
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    // the revision the page shows: a move of the alias since then is a 412, never a silent overwrite
    if (options.revision !== undefined) headers['if-match'] = `"${options.revision}"`
    const url = new URL(fillPath(name, params), API_ROOT)
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        // the token goes in the header only; nothing of it in a URL, a cache or a referrer
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      })
    } catch (error) {
      throw new ApiFailure(0, 'unreachable', `the API did not answer (${(error as Error).message})`)
    }
    const text = await response.text()
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    if (!response.ok) {
      const error = (body as Partial<ErrorBody> | undefined)?.error
      throw new ApiFailure(response.status, error?.code ?? `http_${response.status}`,
        error?.message ?? `${response.status} ${response.statusText}`)
    }
    return body as T
  }
}
