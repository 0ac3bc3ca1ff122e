// The layer rule of src/, checked by `npm run lint:deps` (dependency-cruiser): imports point
// down only, config/core ← infra ← audit ← auth ← features, no feature imports another, and
// nothing imports in a circle. Type-only imports count: a type cycle is still a cycle.
const FEATURES = '(portfolio|health|docs|prices|ops|web)'
const LAYERS = `(config|core|infra|audit|auth|${FEATURES.slice(1, -1)})`

/** a layer may import itself and the layers named below it, nothing else in src */
const onlyDown = (layer, below) => ({
  name: `${layer}-imports-down-only`,
  severity: 'error',
  comment: `src/${layer} may import only from ${below.length ? below.join(', ') : 'itself'} (the layer rule)`,
  from: { path: `^src/${layer}/` },
  to: { path: '^src/', pathNot: `^src/(${[layer, ...below].join('|')})/` }
})

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle of imports: move the shared part (often a type) into a module both can import',
      from: { path: '^src/' },
      to: { circular: true }
    },
    onlyDown('config', []),
    onlyDown('core', ['config']),
    onlyDown('infra', ['config', 'core']),
    onlyDown('audit', ['config', 'core', 'infra']),
    onlyDown('auth', ['config', 'core', 'infra', 'audit']),
    {
      name: 'no-feature-to-feature',
      severity: 'error',
      comment: 'A feature does not import another feature; share through a lower layer (core, auth) instead',
      from: { path: `^src/${FEATURES}/` },
      to: { path: `^src/${FEATURES}/`, pathNot: '^src/$1/' }
    },
    {
      name: 'features-import-down-only',
      severity: 'error',
      comment: 'A feature may import config, core, infra, audit, auth and itself; never the composition (app.ts, server.ts)',
      from: { path: `^src/${FEATURES}/` },
      to: { path: '^src/[^/]+\\.ts$' }
    },
    {
      name: 'every-folder-has-a-layer',
      severity: 'error',
      comment: 'A folder of src/ that no rule places: add it to .dependency-cruiser.cjs as a layer or a feature',
      from: { path: '^src/[^/]+/', pathNot: `^src/${LAYERS}/` },
      to: { path: '^src/' }
    },
    {
      name: 'src-does-not-import-tests-or-tools',
      severity: 'error',
      comment: 'The product does not depend on test, bench or scripts code',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] }
  }
}
