import { useEffect, useRef, useState } from 'preact/hooks'
import { MAX_TEXT_LENGTH } from '../../../src/contract/limits.js'
import { ApiFailure } from '../api.js'
import type { AliasView, Release } from '../contract.js'
import { describeFailure, useSession } from '../context.js'
import { percent } from '../format.js'
import type { Rollout } from '../contract.js'

export type Move =
  | { kind: 'promote' } | { kind: 'rollback' } | { kind: 'canary-start' } | { kind: 'canary-promote' }
  | { kind: 'canary-abort' } | { kind: 'rollout-start' } | { kind: 'rollout-cancel', rollout: Rollout }

const TITLES: Record<Move['kind'], string> = {
  promote: 'Promote',
  rollback: 'Roll back',
  'canary-start': 'Start canary',
  'canary-promote': 'Promote canary',
  'canary-abort': 'Abort canary',
  'rollout-start': 'Start rollout',
  'rollout-cancel': 'Cancel rollout',
}

interface Props {
  model: string
  view: AliasView
  releases: Release[]
  move: Move
  onClose: () => void
  /** reloads the page's data after a move, answering the alias as it is now */
  onMoved: () => Promise<AliasView>
}

/**
 * One move of an alias, with its fields and a Confirm button. It sends `If-Match` with the revision the page shows,
 * so a move made by someone else in the meantime is a 412 (said, and the page shows the new state), never overwritten.
 */
export function MoveForm ({ model, view, releases, move, onClose, onMoved }: Props) {
  const { api, announce, alert } = useSession()
  const alias = view.alias
  const newest = releases.reduce((max, r) => Math.max(max, r.number), 0)
  const suggested = newest === view.release ? '' : String(newest)
  const [release, setRelease] = useState(move.kind === 'rollback' ? '' : suggested)
  const [reason, setReason] = useState('')
  const [weight, setWeight] = useState('0.1')
  const [steps, setSteps] = useState('0.1, 0.5')
  const [stepSeconds, setStepSeconds] = useState('60')
  const [maxErrorRate, setMaxErrorRate] = useState('0.01')
  const [maxLatencyRatio, setMaxLatencyRatio] = useState('1.5')
  const [minInvocations, setMinInvocations] = useState('20')
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)

  useEffect(() => {
    form.current?.querySelector<HTMLElement>('input, button[type=submit]')?.focus()
  }, [move])

  const reasonOrNull = reason.trim() === '' ? null : reason.trim()
  const numberOrUndefined = (text: string): number | undefined => text.trim() === '' ? undefined : Number(text)

  const run = async (): Promise<string> => {
    const revision = view.revision
    switch (move.kind) {
      case 'promote': {
        const moved = await api.promote(model, alias, { release: Number(release), reason: reasonOrNull }, revision)
        return `Promoted ${alias} to release ${moved.release} (revision ${moved.revision}).`
      }
      case 'rollback': {
        const moved = await api.rollback(model, alias, { to: numberOrUndefined(release) ?? null, reason: reasonOrNull }, revision)
        return `Rolled back ${alias} to release ${moved.release} (revision ${moved.revision}).`
      }
      case 'canary-start': {
        const moved = await api.startCanary(model, alias, { release: Number(release), weight: Number(weight), reason: reasonOrNull }, revision)
        return `Canary started on ${alias}: release ${moved.canary?.release ?? release} gets ${percent(moved.canary?.weight)} of the traffic (revision ${moved.revision}).`
      }
      case 'canary-promote': {
        const moved = await api.promoteCanary(model, alias, { reason: reasonOrNull }, revision)
        return `Canary promoted: ${alias} serves release ${moved.release} (revision ${moved.revision}).`
      }
      case 'canary-abort': {
        const moved = await api.abortCanary(model, alias, { reason: reasonOrNull }, revision)
        return `Canary aborted: ${alias} serves release ${moved.release} only (revision ${moved.revision}).`
      }
      case 'rollout-start': {
        const criteria = {
          ...(numberOrUndefined(maxErrorRate) !== undefined ? { maxErrorRate: Number(maxErrorRate) } : {}),
          ...(numberOrUndefined(maxLatencyRatio) !== undefined ? { maxLatencyRatio: Number(maxLatencyRatio) } : {}),
          ...(numberOrUndefined(minInvocations) !== undefined ? { minInvocations: Number(minInvocations) } : {}),
        }
        const rollout = await api.startRollout(model, alias, {
          release: Number(release),
          steps: steps.split(/[\s,]+/).filter((s) => s !== '').map(Number),
          stepSeconds: Number(stepSeconds),
          criteria,
          ...(reasonOrNull === null ? {} : { reason: reasonOrNull }),
        }, revision)
        return `Rollout of release ${rollout.release} started on ${alias}: step 1 of ${rollout.steps.length} at ${percent(rollout.steps[0])}.`
      }
      case 'rollout-cancel': {
        const rollout = await api.cancelRollout(model, alias, move.rollout.id)
        return `Rollout of release ${rollout.release} ${rollout.status}: ${alias}'s canary is aborted.`
      }
    }
  }

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    try {
      const said = await run()
      onClose()
      await onMoved()
      announce(said)
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 412) {
        const now = await onMoved().catch(() => null)
        const state = now === null
          ? 'reload the page to see it'
          : `it now serves release ${now.release} at revision ${now.revision}` +
            (now.canary === null ? '' : `, with a canary of release ${now.canary.release} at ${percent(now.canary.weight)}`)
        onClose()
        alert(`Someone else moved ${alias} after this page read it at revision ${view.revision}: ${state}. ` +
          `Nothing was changed; check the new state below and try again. (${error.message})`)
      } else {
        // a failed or rejected move is in the history now: show it (the form stays open to fix the input)
        await onMoved().catch(() => null)
        alert(`${TITLES[move.kind]} failed: ${describeFailure(error)}`)
      }
    } finally {
      setBusy(false)
    }
  }

  const needsRelease = move.kind === 'promote' || move.kind === 'rollback' || move.kind === 'canary-start' || move.kind === 'rollout-start'
  const hasReason = move.kind !== 'rollout-cancel'
  const title = move.kind === 'rollout-cancel' ? `Cancel the rollout of release ${move.rollout.release}` : `${TITLES[move.kind]} ${alias}`
  return (
    <form
      ref={form} class='move' aria-label={title} noValidate onSubmit={submit}
      onKeyDown={(event) => { if (event.key === 'Escape') onClose() }}
    >
      <h3>{title}</h3>
      <p class='hint'>From revision {view.revision} (release {view.release}{view.canary === null ? '' : `, canary release ${view.canary.release}`}).</p>
      {needsRelease && (
        <div class='field'>
          <label for='move-release'>Release</label>
          <input
            id='move-release' type='number' min='1' step='1' inputMode='numeric' list='release-numbers'
            placeholder={move.kind === 'rollback' ? 'previous' : ''} aria-describedby={move.kind === 'rollback' ? 'release-hint' : undefined}
            value={release} onInput={(event) => setRelease(event.currentTarget.value)}
          />
          <datalist id='release-numbers'>{releases.map((r) => <option key={r.number} value={String(r.number)} />)}</datalist>
          {move.kind === 'rollback' && <span id='release-hint' class='hint'>Empty: where the last move came from.</span>}
        </div>
      )}
      {move.kind === 'canary-start' && (
        <div class='field'>
          <label for='move-weight'>Weight</label>
          <input
            id='move-weight' type='number' min='0' max='1' step='0.01' aria-describedby='weight-hint'
            value={weight} onInput={(event) => setWeight(event.currentTarget.value)}
          />
          <span id='weight-hint' class='hint'>Share of traffic to the candidate, between 0 and 1.</span>
        </div>
      )}
      {move.kind === 'rollout-start' && (
        <>
          <div class='field'>
            <label for='rollout-steps'>Steps</label>
            <input id='rollout-steps' aria-describedby='steps-hint' value={steps} onInput={(event) => setSteps(event.currentTarget.value)} />
            <span id='steps-hint' class='hint'>Canary weights in order, e.g. 0.1, 0.5.</span>
          </div>
          <div class='field'>
            <label for='rollout-step-seconds'>Step seconds</label>
            <input id='rollout-step-seconds' type='number' min='1' value={stepSeconds} onInput={(event) => setStepSeconds(event.currentTarget.value)} />
          </div>
          <div class='field'>
            <label for='rollout-max-error-rate'>Max error rate</label>
            <input id='rollout-max-error-rate' type='number' min='0' max='1' step='0.001' value={maxErrorRate} onInput={(event) => setMaxErrorRate(event.currentTarget.value)} />
          </div>
          <div class='field'>
            <label for='rollout-max-latency-ratio'>Max latency ratio</label>
            <input id='rollout-max-latency-ratio' type='number' min='0' step='0.1' value={maxLatencyRatio} onInput={(event) => setMaxLatencyRatio(event.currentTarget.value)} />
          </div>
          <div class='field'>
            <label for='rollout-min-invocations'>Min invocations</label>
            <input id='rollout-min-invocations' type='number' min='1' step='1' value={minInvocations} onInput={(event) => setMinInvocations(event.currentTarget.value)} />
          </div>
        </>
      )}
      {hasReason && (
        <div class='field'>
          <label for='move-reason'>Reason</label>
          <input id='move-reason' maxLength={MAX_TEXT_LENGTH} value={reason} onInput={(event) => setReason(event.currentTarget.value)} />
        </div>
      )}
      <div class='buttons'>
        <button type='submit' class='primary' disabled={busy}>{busy ? 'Working…' : 'Confirm'}</button>
        <button type='button' onClick={onClose}>Close</button>
      </div>
    </form>
  )
}
