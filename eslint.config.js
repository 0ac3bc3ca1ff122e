// ESLint flat config: neostandard (the style Fastify itself uses) with its TypeScript rules
// (typescript-eslint). It lints every .ts and .js file that .gitignore does not exclude: src,
// test, bench, scripts, migrations and these configs (not dist/ or coverage/). Disable a rule
// on one line, with the reason, never here.
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default neostandard({
  ts: true,
  // server code only: no JSX rules
  noJsx: true,
  // neostandard reads no .gitignore unless asked
  ignores: resolveIgnoresFromGitignore()
})
