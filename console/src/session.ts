import type { Role } from './contract.js'

// Session storage only: the token lives as long as the tab, never in a URL, a cookie or localStorage
const TOKEN_KEY = 'modelpin.token'

export function storedToken (): string | null {
  return window.sessionStorage.getItem(TOKEN_KEY)
}

export function storeToken (token: string | null): void {
  if (token === null) window.sessionStorage.removeItem(TOKEN_KEY)
  else window.sessionStorage.setItem(TOKEN_KEY, token)
}

const RANK: Record<Role, number> = { viewer: 0, promoter: 1, admin: 2 }

/** Roles nest as the API's do: an admin may do what a promoter may, a promoter what a viewer may. */
export function roleAllows (role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed]
}
