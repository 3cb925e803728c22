import type { RolloutObservation, RolloutSide } from '../contract.js'

const errorRate = (side: RolloutSide): number | null => side.invocations === 0 ? null : side.errors / side.invocations

interface Series { label: string, value: (o: RolloutObservation) => number | null, unit: (v: number) => string }

const SERIES: Series[] = [
  { label: 'Error rate', value: (o) => errorRate(o.candidate) ?? null, unit: (v) => `${(v * 100).toFixed(1)} %` },
  { label: 'p95 latency', value: (o) => o.candidate.p95Ms, unit: (v) => `${v.toFixed(0)} ms` },
]
const STABLE: Series[] = [
  { label: 'Error rate', value: (o) => errorRate(o.stable), unit: SERIES[0]!.unit },
  { label: 'p95 latency', value: (o) => o.stable.p95Ms, unit: SERIES[1]!.unit },
]

const WIDTH = 320
const HEIGHT = 110
const BAR = 12

/**
 * Candidate against stable per step, as bars: one small chart for the error rate, one for p95. Drawn with SVG
 * attributes and CSS classes only (no inline style), so it needs nothing the Content-Security-Policy forbids; the
 * observations table beside it carries the same numbers for screen readers.
 */
export function RolloutChart ({ observations }: { observations: RolloutObservation[] }) {
  if (observations.length === 0) return null
  return (
    <div class='charts' aria-hidden='true'>
      {SERIES.map((series, index) => {
        const stable = STABLE[index]!
        const values = observations.flatMap((o) => [series.value(o), stable.value(o)]).filter((v): v is number => v !== null)
        const max = Math.max(...values, Number.MIN_VALUE)
        const group = (WIDTH - 20) / observations.length
        return (
          <figure key={series.label}>
            <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 20}`} width={WIDTH} height={HEIGHT + 20}>
              <line class='axis' x1='10' y1={HEIGHT} x2={WIDTH - 10} y2={HEIGHT} />
              {observations.map((o, i) => {
                const x = 10 + i * group + group / 2
                const bars = [
                  { cls: 'bar candidate', v: series.value(o), dx: -BAR - 1, who: 'candidate' },
                  { cls: 'bar stable', v: stable.value(o), dx: 1, who: 'stable' },
                ]
                return (
                  <g key={o.step}>
                    {bars.map(({ cls, v, dx, who }) => {
                      const h = v === null ? 0 : Math.max(1, (v / max) * (HEIGHT - 10))
                      return (
                        <rect key={who} class={cls} x={x + dx} y={HEIGHT - h} width={BAR} height={h}>
                          <title>{`step ${o.step + 1}, ${who}: ${v === null ? 'no data' : series.unit(v)}`}</title>
                        </rect>
                      )
                    })}
                    <text class='tick' x={x} y={HEIGHT + 14} text-anchor='middle'>{`${(o.weight * 100).toFixed(0)} %`}</text>
                  </g>
                )
              })}
            </svg>
            <figcaption>{series.label} per step: <span class='key candidate'>candidate</span> <span class='key stable'>stable</span></figcaption>
          </figure>
        )
      })}
    </div>
  )
}
