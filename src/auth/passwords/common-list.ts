// Rejects passwords that attackers try first (NIST SP 800-63B: check new passwords against
// lists of commonly used ones). The list is zxcvbn-ts's ~49k most common passwords. Loading
// it decompresses the package's data (tens of ms), so it is loaded on first use, synchronously,
// and kept as a lower-cased Set; loadCommonPasswords() lets a server warm it at start.
import { createRequire } from 'node:module'

type LanguageCommon = typeof import('@zxcvbn-ts/language-common')

const require = createRequire(import.meta.url)
let common: Set<string> | null = null

/** the lower-cased list, loaded once */
export function loadCommonPasswords (): ReadonlySet<string> {
  if (!common) {
    const { dictionary } = require('@zxcvbn-ts/language-common') as LanguageCommon
    common = new Set(dictionary['passwords-common'].map(p => p.toLowerCase()))
  }
  return common
}

// the part of an email before "@" (and before a "+tag"), or the whole input when it is no email
function userWord (input: string): string {
  const lower = input.trim().toLowerCase()
  const at = lower.lastIndexOf('@')
  const local = at >= 0 ? lower.slice(0, at) : lower
  return local.split('+', 1)[0]!
}

const MIN_CONTEXT_WORD = 4

/**
 * True when the password is on the common list (case-insensitive), or when it contains one of
 * the user's own inputs (e.g. the email's local part) of at least 4 characters.
 */
export function isCommonPassword (password: string, context: readonly string[] = []): boolean {
  const lower = password.toLowerCase()
  if (loadCommonPasswords().has(lower)) return true
  return context.some(input => {
    const word = userWord(input)
    return word.length >= MIN_CONTEXT_WORD && lower.includes(word)
  })
}
