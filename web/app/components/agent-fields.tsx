import { Checkbox, Field, TextArea } from '~/components/forms.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface AgentFieldValues {
  firstName?: string
  lastName?: string
  phone?: string | null
  shopName?: string | null
  address?: string | null
  maxActiveAccounts?: number | null
  mayDeleteForRefund?: boolean
  locationIds?: number[]
}

/** Profile, limits and allowed locations of an agent (create and edit forms). */
export function AgentFields({
  values = {},
  errors = {},
  locations,
}: {
  values?: AgentFieldValues
  errors?: Record<string, string>
  locations: { id: number; nameFa: string; nameEn: string }[]
}) {
  const { t, locale } = useI18n()
  return (
    <>
      <fieldset className="form-grid">
        <legend>{t.agents.profile}</legend>
        <Field label={t.agents.firstName} name="firstName" defaultValue={values.firstName} required error={errors.firstName} />
        <Field label={t.agents.lastName} name="lastName" defaultValue={values.lastName} required error={errors.lastName} />
        <Field label={t.agents.phone} name="phone" type="tel" inputMode="tel" dir="ltr" defaultValue={values.phone} error={errors.phone} />
        <Field label={t.agents.shopName} name="shopName" defaultValue={values.shopName} error={errors.shopName} />
        <div className="wide">
          <TextArea label={t.agents.address} name="address" defaultValue={values.address} error={errors.address} rows={2} />
        </div>
      </fieldset>
      <fieldset className="form-grid">
        <legend>{t.agents.limits}</legend>
        <Field
          label={t.agents.maxActiveAccounts}
          name="maxActiveAccounts"
          inputMode="numeric"
          defaultValue={values.maxActiveAccounts ?? ''}
          hint={t.agents.maxActiveHint}
          error={errors.maxActiveAccounts}
        />
        <div className="field">
          <span className="hint">&nbsp;</span>
          <Checkbox label={t.agents.mayDeleteForRefund} name="mayDeleteForRefund" defaultChecked={values.mayDeleteForRefund ?? true} />
        </div>
        <div className="wide">
          <span>{t.agents.allowedLocations}</span> <small className="hint">{t.agents.allowedLocationsHint}</small>
          <div>
            {locations.map((l) => (
              <Checkbox key={l.id} label={locale === 'fa' ? l.nameFa : l.nameEn} name="locationIds" value={String(l.id)} defaultChecked={values.locationIds?.includes(l.id)} />
            ))}
          </div>
          {errors.locationIds ? <small className="field-error">{errors.locationIds}</small> : null}
        </div>
      </fieldset>
    </>
  )
}
