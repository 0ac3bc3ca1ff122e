// PLACEHOLDER (to be implemented): the shipped list of common passwords.
export function isCommonPassword (_password: string): boolean {
  return false
}
