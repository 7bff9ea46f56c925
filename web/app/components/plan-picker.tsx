import { useEffect, useState } from 'react'
import { Notice } from '~/components/forms.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface PickerPlan {
  id: number
  nameFa: string
  nameEn: string
  days: number
  dataLimitBytes: string
  price: string
  locations: { id: number; code: string; nameFa: string; nameEn: string }[]
}

/**
 * Plan and location fields. Without JavaScript every location of every plan is offered and the server says
 * when a pair does not exist; with it, the location list follows the chosen plan.
 */
export function PlanPicker({
  plans,
  errors,
  defaultPlanId,
  withLocation = true,
}: {
  plans: PickerPlan[]
  errors: Record<string, string>
  defaultPlanId?: number | null
  withLocation?: boolean
}) {
  const { t, fmt, locale } = useI18n()
  const [planId, setPlanId] = useState<number | null>(defaultPlanId ?? plans[0]?.id ?? null)
  // Until the page is interactive the location list cannot follow the plan, so it offers them all.
  const [interactive, setInteractive] = useState(false)
  useEffect(() => setInteractive(true), [])
  if (plans.length === 0) return <Notice kind="warning">{t.shop.buy.noPlans}</Notice>
  const plan = plans.find((p) => p.id === planId) ?? plans[0]!
  const locations = interactive ? plan.locations : [...new Map(plans.flatMap((p) => p.locations).map((l) => [l.id, l])).values()]
  const name = (x: { nameFa: string; nameEn: string }) => (locale === 'fa' ? x.nameFa : x.nameEn)
  const traffic = (bytes: string) => (bytes === '0' ? t.common.unlimited : fmt.bytes(bytes))
  return (
    <>
      <fieldset className="field plan-choices">
        <legend>{t.orders.plan}</legend>
        {plans.map((p) => (
          <label key={p.id} className="plan-choice">
            <input type="radio" name="planId" value={p.id} checked={p.id === plan.id} onChange={() => setPlanId(p.id)} />
            <span>
              <strong>{name(p)}</strong> · {t.shop.buy.planTerms(fmt.number(p.days), traffic(p.dataLimitBytes))} · <strong>{fmt.money(p.price)}</strong>
            </span>
          </label>
        ))}
        {errors.planId ? (
          <small className="field-error" role="alert">
            {errors.planId}
          </small>
        ) : null}
      </fieldset>
      {withLocation ? (
        <div className="field">
          <label htmlFor="f-locationId">{t.panels.location}</label>
          <select id="f-locationId" name="locationId" key={`${plan.id}:${interactive}`} defaultValue={plan.locations[0]?.id} aria-invalid={errors.locationId ? true : undefined}>
            {locations.map((l) => (
              <option key={l.id} value={l.id}>
                {name(l)}
              </option>
            ))}
          </select>
          {errors.locationId ? (
            <small className="field-error" role="alert">
              {errors.locationId}
            </small>
          ) : null}
        </div>
      ) : null}
    </>
  )
}
