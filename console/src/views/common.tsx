import type { ComponentChildren } from 'preact'
import { describeFailure, type Loaded } from '../context.js'
import { hrefOf, type Route } from '../route.js'

/** Where this view sits: links back up to the models and the model. */
export function Crumbs ({ trail }: { trail: Array<{ label: string, route: Route }> }) {
  return (
    <nav aria-label='Breadcrumb' class='crumbs'>
      <ol>
        {trail.map(({ label, route }) => <li key={label}><a href={hrefOf(route)}>{label}</a></li>)}
      </ol>
    </nav>
  )
}

/** A loaded part of a view: its content, "Loading…", or the API's error message. */
export function Show<T> ({ loaded, what, children }: { loaded: Loaded<T>, what: string, children: (value: T) => ComponentChildren }) {
  if (loaded.state === 'loading') return <p class='loading'>Loading {what}…</p>
  if (loaded.state === 'failed') return <p class='error-text'>Could not load {what}: {describeFailure(loaded.error)}</p>
  return <>{children(loaded.value)}</>
}

export function Unavailable ({ what }: { what: string }) {
  return <p class='unavailable'>{what} are not available on this API yet (it has no such route).</p>
}
