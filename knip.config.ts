// knip: unused files, exports and dependencies. Entries are everything that is run on its own.
// knip finds the server, the bench and the scripts through package.json's scripts; listed here
// are the peers the bench spawns, the migrations (node-pg-migrate loads them by path), and
// the test files with tap's `before` script, and the checks run outside the suite.
import type { KnipConfig } from 'knip'

const config: KnipConfig = {
  entry: [
    'scripts/*.ts',
    'bench/peers/*.ts',
    'migrations/*.ts',
    'test/**/*.test.ts',
    // run on its own by npm run test:image, outside the suite
    'test/**/*.check.ts',
    'test/setup.ts',
    // the browser code: compiled by build:web and loaded by the pages' script tags
    'src/web/client/app.ts',
    'src/web/client/admin.ts'
  ],
  project: ['{src,scripts,bench,migrations,test}/**/*.ts'],
  // test/k8s-schema.ts imports kubernetes-models/<apiVersion>/<Kind> by a computed path
  ignoreDependencies: ['kubernetes-models'],
  // a type or interface that an exported function's signature uses may stay exported
  ignoreExportsUsedInFile: { interface: true, type: true }
}

export default config
