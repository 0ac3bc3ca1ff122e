// The common-password check: entries of the shipped list are rejected whatever their case,
// random passwords pass, and a password built on the user's own email is rejected.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { isCommonPassword, loadCommonPasswords } from '../src/auth/passwords/common-list.js'

t.test('the shipped list is loaded once, lower-cased, and large', async t => {
  const list = loadCommonPasswords()
  t.ok(list.size > 30_000, `${list.size} entries`)
  t.equal(loadCommonPasswords(), list, 'the same Set on every call')
})

t.test('list entries are common, in any case', async t => {
  // entries of 12+ chars: what still reaches the list after the length rule
  for (const p of ['qwertyuiop123', '1q2w3e4r5t6y', 'qwerty123456', '123456789012', 'passwordpassword', 'password']) {
    t.ok(isCommonPassword(p), p)
  }
  t.ok(isCommonPassword('QwErTy123456'), 'case-insensitive')
  t.ok(isCommonPassword('PASSWORDPASSWORD'))
})

t.test('random passwords are not common', async t => {
  for (let i = 0; i < 20; i++) {
    const p = randomBytes(15).toString('base64url')
    t.notOk(isCommonPassword(p), p)
  }
  t.notOk(isCommonPassword('correct horse battery staple 9231'))
})

t.test('a password containing the email\'s local part is common for that user', async t => {
  t.ok(isCommonPassword('alice-is-secure-2026', ['alice@example.com']))
  t.ok(isCommonPassword('xxALICExx-2026-long', ['Alice+bank@Example.com']), 'case and +tag ignored')
  t.notOk(isCommonPassword('alice-is-secure-2026', ['bob@example.com']))
  t.notOk(isCommonPassword('al-is-secure-2026-x', ['al@example.com']), 'a local part under 4 chars is not used')
  t.notOk(isCommonPassword('alice-is-secure-2026'), 'no context, no such check')
})
