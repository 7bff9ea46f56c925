import { useState } from 'react'
import { useI18n } from '~/utils/root-data.ts'

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // No clipboard API (an insecure origin) or no permission: the old way through a selection.
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.style.position = 'fixed'
    area.style.opacity = '0'
    document.body.appendChild(area)
    area.select()
    const ok = document.execCommand('copy')
    area.remove()
    return ok
  }
}

/** Copies `text` and says so for a moment. Without JavaScript the text next to it can still be selected. */
export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useI18n()
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  return (
    <button
      type="button"
      className="btn btn-small"
      data-copied={state === 'copied' || undefined}
      onClick={() => {
        void copyText(text).then((ok) => {
          setState(ok ? 'copied' : 'failed')
          setTimeout(() => setState('idle'), 2000)
        })
      }}
    >
      {state === 'copied' ? t.live.copied : state === 'failed' ? t.live.copyFailed : (label ?? t.live.copy)}
    </button>
  )
}
