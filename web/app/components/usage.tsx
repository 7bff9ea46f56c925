import { useI18n } from '~/utils/root-data.ts'

/** Used / limit traffic with a small bar; a limit of 0 is unlimited. */
export function Usage({ used, limit }: { used: bigint; limit: bigint }) {
  const { t, fmt } = useI18n()
  const percent = limit > 0n ? Math.min(100, Number((used * 100n) / limit)) : 0
  return (
    <div>
      <div>
        {fmt.bytes(used)} / {limit === 0n ? t.common.unlimited : fmt.bytes(limit)}
      </div>
      {limit > 0n ? (
        <div className="usage-bar" role="meter" aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
          <span style={{ width: `${percent}%` }} />
        </div>
      ) : null}
    </div>
  )
}
