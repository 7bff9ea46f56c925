/**
 * Bot texts are Telegram HTML. Everything interpolated into `html` is escaped unless it was made by `html` (or
 * marked with `raw`), so a name or a note a person typed can never change the markup.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

type Part = string | number | bigint | Html | null | undefined | false | Part[]

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return ''
  if (part instanceof Html) return part.value
  if (Array.isArray(part)) return part.map(render).join('')
  return escapeHtml(String(part))
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!
  return new Html(out)
}

export function raw(text: string): Html {
  return new Html(text)
}

/** Joins lines, skipping empty ones. */
export function lines(...parts: Part[]): Html {
  return new Html(parts.map(render).filter((l) => l !== '').join('\n'))
}

/** The text of an `Html` without markup, for channels that send plain text (notifications from activities). */
export function toPlainText(text: Html): string {
  return text.value
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
}
