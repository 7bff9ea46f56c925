import { describe, expect, it } from 'vitest'
import { PanelError } from './errors.ts'
import { isValidPanelUsername, orderIdFromMarker, ownerMarker, parseOwnerMarker, usernameForOrder } from './username.ts'

// Marzban v0.8.4's username validator, kept here to check our names against the panel's own rule.
const MARZBAN_RULE = /^(?=\w{3,32}\b)[a-zA-Z0-9-_@.]+(?:_[a-zA-Z0-9-_@.]+)*$/

describe('usernameForOrder', () => {
  it('is deterministic for an order', () => {
    expect(usernameForOrder(42)).toBe('fp_42')
    expect(usernameForOrder('42')).toBe(usernameForOrder(42))
    expect(usernameForOrder(42, 'shop')).toBe('fpshop_42')
  })

  it('produces names both panels accept, up to the longest order id', () => {
    for (const name of [usernameForOrder(1), usernameForOrder('999999999999999999', 'abcdefghijk')]) {
      expect(isValidPanelUsername(name)).toBe(true)
      expect(MARZBAN_RULE.test(name)).toBe(true)
      expect(name).toBe(name.toLowerCase())
    }
  })

  it('refuses ids and prefixes that would make an invalid name', () => {
    expect(() => usernameForOrder(-1)).toThrow(PanelError)
    expect(() => usernameForOrder('1.5')).toThrow(/positive integer/)
    expect(() => usernameForOrder(7, 'Shop')).toThrow(/prefix/)
    expect(() => usernameForOrder(7, 'a-b')).toThrow(/prefix/)
  })
})

describe('isValidPanelUsername', () => {
  it('rejects what Marzban rejects', () => {
    expect(isValidPanelUsername('ab')).toBe(false)
    expect(isValidPanelUsername('ab.cd')).toBe(false)
    expect(isValidPanelUsername('a'.repeat(33))).toBe(false)
    expect(isValidPanelUsername('Alice')).toBe(false)
  })
})

describe('ownership markers', () => {
  it('round-trips through free text', () => {
    const marker = ownerMarker(42)
    expect(marker).toBe('flowpanel:order:42')
    expect(parseOwnerMarker(`${marker} gift for mom`)).toBe(marker)
    expect(orderIdFromMarker(marker)).toBe(42)
  })

  it('finds nothing in foreign notes', () => {
    expect(parseOwnerMarker('customer from telegram')).toBeNull()
    expect(parseOwnerMarker(null)).toBeNull()
    expect(orderIdFromMarker(null)).toBeNull()
  })
})
