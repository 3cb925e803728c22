import { useEffect, useState } from 'preact/hooks'

/** The views, addressed by the URL's fragment (#/models/resnet50/aliases/production): one HTML file serves them all. */
export type Route =
  | { view: 'models' }
  | { view: 'model', model: string }
  | { view: 'alias', model: string, alias: string }
  | { view: 'evaluation', model: string, id: string }

export function parseRoute (hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent)
  const [first, model, kind, name] = parts
  if (first === 'models' && model !== undefined) {
    if (kind === 'aliases' && name !== undefined) return { view: 'alias', model, alias: name }
    if (kind === 'evaluations' && name !== undefined) return { view: 'evaluation', model, id: name }
    return { view: 'model', model }
  }
  return { view: 'models' }
}

export function hrefOf (route: Route): string {
  const e = encodeURIComponent
  switch (route.view) {
    case 'models': return '#/'
    case 'model': return `#/models/${e(route.model)}`
    case 'alias': return `#/models/${e(route.model)}/aliases/${e(route.alias)}`
    case 'evaluation': return `#/models/${e(route.model)}/evaluations/${e(route.id)}`
  }
}

export function useRoute (): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}
