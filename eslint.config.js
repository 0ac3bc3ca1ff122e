// ESLint flat config: neostandard (the style Fastify itself uses) with its TypeScript rules
// (typescript-eslint). It lints every .ts and .js file not ignored by .gitignore: src, test,
// bench, scripts and migrations. Disable a rule on one line, with the reason, never here.
import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  // server code only: no JSX rules
  noJsx: true
})
