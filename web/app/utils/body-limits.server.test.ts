import { describe, expect, test } from 'vitest'
import { API_BODY_MAX_BYTES, bodyLimitFor, describeSize, FORM_BODY_MAX_BYTES, UPLOAD_FORM_OVERHEAD_BYTES } from './body-limits.server.ts'

const env = { RECEIPT_MAX_BYTES: 5 * 1024 * 1024 }

describe('bodyLimitFor', () => {
  test('the receipt forms get the receipt limit, however the route is addressed', () => {
    for (const path of ['/customer/buy', '/customer/buy.data', '/Customer/Buy/', '/customer/payments', '/customer/payments.data', '/agent/wallet', '/agent/%77allet']) {
      expect(bodyLimitFor(path, env), path).toEqual({ kind: 'upload', maxBytes: env.RECEIPT_MAX_BYTES + UPLOAD_FORM_OVERHEAD_BYTES })
    }
  })

  test('the API gets its own limit, every other route the form limit', () => {
    expect(bodyLimitFor('/api/v1/orders', env)).toEqual({ kind: 'api', maxBytes: API_BODY_MAX_BYTES })
    expect(bodyLimitFor('/API/v1/accounts/7', env).kind).toBe('api')
    for (const path of ['/login', '/', '/customer/buy/extra', '/customer/payments/7', '/apiary', '/agent/%E0%A4%A']) {
      expect(bodyLimitFor(path, env), path).toEqual({ kind: 'form', maxBytes: FORM_BODY_MAX_BYTES })
    }
  })
})

describe('describeSize', () => {
  const units = { kilobytes: (n: string) => `${n} KB`, megabytes: (n: string) => `${n} MB` }
  test('says megabytes from 1 MiB up, with one decimal at most, and kilobytes below', () => {
    expect(describeSize(5 * 1024 * 1024, String, units)).toBe('5 MB')
    expect(describeSize(1.25 * 1024 * 1024, String, units)).toBe('1.3 MB')
    expect(describeSize(256 * 1024, String, units)).toBe('256 KB')
    expect(describeSize(100, String, units)).toBe('1 KB')
  })
})
