// What a new password must be: 12 to 256 characters (checked by the schema), not on the list
// of common passwords, and not built from the account's own email.
import { isCommonPassword } from './common-passwords.js'

/** a reason the password is refused, or null when it is acceptable */
export function passwordProblem (password: string, email: string): string | null {
  if (password.length < 12 || password.length > 256) return 'Password must be 12 to 256 characters'
  if (isCommonPassword(password)) return 'Password is too common; choose another'
  const local = email.split('@')[0] ?? ''
  if (local.length >= 4 && password.toLowerCase().includes(local.toLowerCase())) {
    return 'Password must not contain your email address'
  }
  return null
}
