import { Form, useNavigation, type FormProps } from '@remix-run/react'
import type { ReactNode } from 'react'
import { useRootData } from '~/utils/root-data.ts'

export const CSRF_FIELD = '_csrf'

export function CsrfInput() {
  return <input type="hidden" name={CSRF_FIELD} value={useRootData()?.csrfToken ?? ''} />
}

/** A POST form that always carries the CSRF token. Every mutating form of the app is one of these. */
export function PostForm({ children, ...props }: Omit<FormProps, 'method'> & { children: ReactNode }) {
  return (
    <Form method="post" {...props}>
      <CsrfInput />
      {children}
    </Form>
  )
}

/** A submit button that shows it is busy while its form is being sent. */
export function SubmitButton({
  children,
  name = 'intent',
  value,
  className = 'btn btn-primary',
  ...rest
}: { children: ReactNode; name?: string; value?: string; className?: string } & Omit<React.ButtonHTMLAttributes<HTMLButtonElement>, 'name' | 'value'>) {
  const navigation = useNavigation()
  const busy = navigation.state === 'submitting' && navigation.formData?.get(name) === (value ?? null)
  return (
    <button type="submit" name={value === undefined ? undefined : name} value={value} className={className} aria-busy={busy || undefined} {...rest}>
      {children}
    </button>
  )
}

export interface FieldProps {
  label: string
  name: string
  /** Defaults to `f-<name>`; give one when the same field appears in several forms of a page. */
  id?: string
  error?: string | null
  hint?: string
  defaultValue?: string | number | null
  type?: string
  required?: boolean
  autoComplete?: string
  inputMode?: 'text' | 'numeric' | 'decimal' | 'tel' | 'email' | 'url'
  dir?: 'ltr' | 'rtl' | 'auto'
  placeholder?: string
  autoFocus?: boolean
}

/** A labelled input with its hint and its error, wired for screen readers. */
export function Field({ label, name, id: givenId, error, hint, defaultValue, type = 'text', dir, ...rest }: FieldProps) {
  const id = givenId ?? `f-${name}`
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        defaultValue={defaultValue ?? undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        dir={dir}
        {...rest}
      />
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  )
}

export function TextArea({ label, name, error, hint, defaultValue, required, dir, rows = 3 }: FieldProps & { rows?: number }) {
  const id = `f-${name}`
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        name={name}
        defaultValue={defaultValue ?? undefined}
        required={required}
        rows={rows}
        dir={dir}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {hint ? <small className="hint">{hint}</small> : null}
      {error ? (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  )
}

export function Checkbox({ label, name, defaultChecked, value = 'on' }: { label: string; name: string; defaultChecked?: boolean; value?: string }) {
  return (
    <label className="check">
      <input type="checkbox" name={name} value={value} defaultChecked={defaultChecked} />
      <span>{label}</span>
    </label>
  )
}

export function Select({
  label,
  name,
  options,
  defaultValue,
  error,
  required,
}: {
  label: string
  name: string
  options: { value: string; label: string }[]
  defaultValue?: string
  error?: string | null
  required?: boolean
}) {
  const id = `f-${name}`
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={defaultValue} required={required} aria-invalid={error ? true : undefined}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error ? (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  )
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'success' | 'error' | 'warning'; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  )
}
