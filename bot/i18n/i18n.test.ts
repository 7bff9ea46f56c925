import { describe, expect, test } from 'vitest'
import { en } from './en.ts'
import { fa } from './fa.ts'
import { createFormat } from './format.ts'
import { html, lines, toPlainText } from './html.ts'
import { getMessages } from './index.ts'

describe('html', () => {
  test('what people type is escaped, markup made by html is kept', () => {
    const name = '<b>Eve</b> & "co"'
    expect(html`<b>${name}</b>`.value).toBe('<b>&lt;b&gt;Eve&lt;/b&gt; &amp; &quot;co&quot;</b>')
    expect(html`a ${html`<i>b</i>`} c`.value).toBe('a <i>b</i> c')
    expect(lines('one', null, false, '', html`<b>two</b>`).value).toBe('one\n<b>two</b>')
    expect(toPlainText(html`<b>${name}</b>`)).toBe(name)
  })
})

describe('dictionaries', () => {
  const faT = fa(createFormat('fa', 'IRT'))
  const enT = en(createFormat('en', 'IRT'))

  test('Persian and English have the same texts and buttons', () => {
    expect(Object.keys(faT).sort()).toEqual(Object.keys(enT).sort())
  })

  test('money and numbers: Persian digits and Toman in Persian, ASCII in English', () => {
    expect(faT.btnPlan('یک ماهه', '150000')).toBe('یک ماهه · ۱۵۰٬۰۰۰ تومان')
    expect(enT.btnPlan('One month', '150000')).toBe('One month · 150,000 Toman')
    const card = { method: 'Card', cardNumber: '6037 9912 3456 7890', holder: 'Ali <Rezaei>', bank: null, destination: null, amount: '150000', orderId: 12 }
    expect(faT.cardInstructions(card).value).toContain('دقیقاً ۱۵۰٬۰۰۰ تومان')
    expect(enT.cardInstructions(card).value).toContain('exactly 150,000 Toman')
    expect(enT.cardInstructions(card).value).toContain('Ali &lt;Rezaei&gt;')
  })

  test('every order step has words in both languages', () => {
    for (const step of ['queued', 'awaiting_payment', 'paying', 'provisioning', 'delivering', 'delivered', 'compensating', 'refunded', 'failed', 'cancelled'] as const) {
      expect(faT.progress(1, step, { attempt: 2, lastError: null }).value.split('\n')).toHaveLength(2)
      expect(enT.progress(1, step, { attempt: 2, lastError: null }).value.split('\n')).toHaveLength(2)
    }
  })

  test('unlimited traffic and the already-decided answer read well', () => {
    const at = new Date('2026-11-21T10:00:00Z')
    expect(enT.alreadyDecided('APPROVED', 'Sara', at)).toBe('Already approved by Sara at 21 Nov 2026, 13:30')
    expect(faT.alreadyDecided('APPROVED', 'Sara', at)).toContain('قبلاً توسط Sara')
    expect(enT.buyPlanSummary({ name: 'Pro', days: 30, dataLimitBytes: '0', price: '1' }, 'DE').value).toContain('unlimited traffic')
  })

  test('getMessages builds each locale once', () => {
    expect(getMessages('fa', 'IRT')).toBe(getMessages('fa', 'IRT'))
    expect(getMessages('en', 'IRT').t.btnBuy).toBe('🛒 Buy an account')
  })
})
