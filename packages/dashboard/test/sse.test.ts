/**
 * SSE framing, event ids and the HTML escaping helper.
 */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '@swarmkit-ts/api'
import { escapeHtml, eventId, parseLastEventId, parseListenAddress, sseFrame } from '../src/index.ts'

describe('sseFrame', () => {
  it('writes id, event and one data line, ended by a blank line', () => {
    expect(sseFrame('delta', { a: 1 }, 'ab12-7')).toBe('id: ab12-7\nevent: delta\ndata: {"a":1}\n\n')
    expect(sseFrame('snapshot', [])).toBe('event: snapshot\ndata: []\n\n')
  })

  it('keeps CR and LF of user strings escaped inside the JSON line', () => {
    const frame = sseFrame('delta', { label: 'a\r\n\ndata: x\u2028' })
    expect(frame.split('\n')).toEqual(['event: delta', 'data: {"label":"a\\r\\n\\ndata: x\u2028"}', '', ''])
  })

  it('refuses an event name or id that would break a line', () => {
    expect(() => sseFrame('a\nb', {})).toThrow(InvalidArgumentError)
    const err = (() => {
      try {
        sseFrame('delta', {}, '1\r2')
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect((err as InvalidArgumentError).field).toBe('id')
  })
})

describe('event ids', () => {
  it('round-trips an epoch and a version, and ignores anything else', () => {
    expect(parseLastEventId(eventId('9f3a01', 123456789012345n))).toEqual({ epoch: '9f3a01', version: 123456789012345n })
    expect(parseLastEventId(['ab-3', 'cd-4'])).toEqual({ epoch: 'ab', version: 3n })
    for (const bad of [undefined, '', '12', 'AB-1', 'ab-', 'ab-1-2', 'ab-1\n']) expect(parseLastEventId(bad)).toBeUndefined()
  })
})

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<img src=x onerror="alert('&')">`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;&amp;&#39;)&quot;&gt;')
    expect(escapeHtml('plain')).toBe('plain')
  })
})

describe('parseListenAddress', () => {
  it('parses host:port and [v6]:port', () => {
    expect(parseListenAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 })
    expect(parseListenAddress('localhost:1')).toEqual({ host: 'localhost', port: 1 })
  })

  it('names the given field in its refusal', () => {
    expect(() => parseListenAddress('8080', '--dashboard')).toThrow('--dashboard: must be host:port (127.0.0.1:8080), got "8080"')
  })
})
