import { describe, expect, test } from 'vitest'
import { safeRedirectPath } from './misc.ts'

describe('safeRedirectPath', () => {
  test('keeps a path of this site, with its query and fragment', () => {
    expect(safeRedirectPath('/customer/orders/12')).toBe('/customer/orders/12')
    expect(safeRedirectPath('/agent/users?page=2&q=ali#list')).toBe('/agent/users?page=2&q=ali#list')
    expect(safeRedirectPath('/login?redirectTo=%2Fadmin')).toBe('/login?redirectTo=%2Fadmin')
    expect(safeRedirectPath('/')).toBe('/')
  })

  test.each([
    ['protocol-relative', '//evil.host/path'],
    ['backslash', '/\\evil.host/path'],
    ['two backslashes', '\\\\evil.host/path'],
    ['slash and backslash mixed', '/\\/evil.host'],
    ['tab between the slashes', '/\t/evil.host/path'],
    ['CR LF between the slashes', '/\r\n/evil.host/path'],
    ['LF between the slashes', '/\n/evil.host'],
    ['leading space', ' //evil.host'],
    ['NUL between the slashes', '/\u0000/evil.host'],
    ['encoded tab', '/%09/evil.host/path'],
    ['encoded CR LF', '/%0d%0a/evil.host'],
    ['encoded slash', '/%2F/evil.host'],
    ['encoded backslash', '/%5Cevil.host'],
    ['double-encoded slash', '/%252F/evil.host'],
    ['dot segment collapsing to //', '/.//evil.host'],
    ['encoded dot segments', '/%2e%2e//evil.host'],
    ['absolute URL', 'https://evil.host/path'],
    ['scheme with one slash', 'http:/evil.host'],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: with spaces', ' javascript:alert(1)'],
    ['javascript: split by a tab', 'java\tscript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['relative without a slash', 'evil.host'],
    ['malformed escape', '/%E0%A4%A'],
    ['empty', ''],
  ])('falls back on %s', (_, value) => {
    expect(safeRedirectPath(value, '/home')).toBe('/home')
  })

  test('falls back on anything that is not a string', () => {
    expect(safeRedirectPath(null)).toBe('/')
    expect(safeRedirectPath(undefined, '/agent')).toBe('/agent')
    expect(safeRedirectPath(new File(['x'], 'x.txt'), '/agent')).toBe('/agent')
  })

  test('answers a value that is always a valid Location header', () => {
    const path = safeRedirectPath('/customer/orders?note=\u0633\u0644\u0627\u0645\r\nSet-Cookie: a=b')
    expect(path).toBe('/customer/orders?note=%D8%B3%D9%84%D8%A7%D9%85Set-Cookie:a=b')
    expect(() => new Headers({ Location: path })).not.toThrow()
  })
})
