/**
 * Splits a command string into words as a POSIX shell would without expansions (docker uses
 * `shlex.Split` for `command: echo "a b"`): whitespace separates, single quotes are literal,
 * double quotes allow `\"` and `\\`, a backslash outside quotes escapes the next character.
 *
 * @module
 */

/** The words of `s`, or undefined when a quote is not closed. */
export function splitCommand(s: string): string[] | undefined {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  while (i < s.length) {
    const c = s[i] ?? ''
    if (c === "'") {
      const end = s.indexOf("'", i + 1)
      if (end < 0) return undefined
      word += s.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      i++
      for (;;) {
        if (i >= s.length) return undefined
        const d = s[i] ?? ''
        if (d === '"') break
        if (d === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === '$')) {
          word += s[i + 1]
          i += 2
        } else {
          word += d
          i++
        }
      }
      inWord = true
      i++
    } else if (c === '\\' && i + 1 < s.length) {
      word += s[i + 1]
      inWord = true
      i += 2
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      i++
    } else {
      word += c
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return words
}
