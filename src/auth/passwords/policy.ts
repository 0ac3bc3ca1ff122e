// What a new password must be: 12 to 256 characters (counted as the schema counts them, in
// code points), not on the list of common passwords, and not built from the account's email.
import { isCommonPassword } from './common-list.js'

/** a reason the password is refused, or null when it is acceptable */
export function passwordProblem (password: string, email: string): string | null {
  const length = [...password].length
  if (length < 12 || length > 256) return 'Password must be 12 to 256 characters'
  if (isCommonPassword(password)) return 'Password is too common; choose another'
  if (isCommonPassword(password, [email])) return 'Password must not contain your email address'
  return null
}
