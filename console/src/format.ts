/** 2026-12-03T13:45:07.123Z -> 2026-12-03 13:45:07 UTC: the same text for every reader, whatever their locale. */
export function formatTime (iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—'
  return `${iso.replace('T', ' ').slice(0, 19)} UTC`
}

export function shortSha (sha256: string | undefined | null): string {
  return sha256 === undefined || sha256 === null ? '—' : sha256.slice(0, 12)
}

export function percent (share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)} %`
}

export function release (number: number | null | undefined): string {
  return number === null || number === undefined ? '—' : String(number)
}
