#!/usr/bin/env node
// Entry point of the `vigil` command: the compiled CLI lives in dist/ (npm run build).
// The Node version is checked first, so an old Node prints what to install
// instead of failing later on syntax or APIs it lacks.
import { nodeVersionProblem } from './node-version.js';
import { youngGenerationArgs } from './young-generation.js';

var problem = nodeVersionProblem(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
// `vigil run` with its default young-generation size and gc exposed to the memory_limiter (see young-generation.js).
var nodeArgs = typeof process.execve === 'function' ? youngGenerationArgs(process.argv, process.execArgv, process.env.NODE_OPTIONS) : null;
if (nodeArgs) {
  try {
    process.execve(process.execPath, [process.execPath].concat(nodeArgs), process.env);
  } catch (err) {
    // Not fatal: Vigil runs as well with V8's default, only with more memory under load.
    console.error('vigil: cannot restart with its default node flags, --max-semi-space-size and --expose-gc (' + (err && err.message) + '); going on without them')
  }
}
// `vigil verify` of a large archive: its worker threads start before the CLI loads (dist/src/cli/verify-prestart.js).
if (process.argv.indexOf('verify') >= 0) {
  try {
    (await import('../dist/src/cli/verify-prestart.js')).prestartVerify(process.argv);
  } catch (err) {
    // Only ever a head start: verify starts its workers itself.
  }
}
import('../dist/src/cli/main.js')
  .then(function (m) {
    return m.main(process.argv);
  })
  .catch(function (err) {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).indexOf('dist/src/cli/main.js') >= 0) {
      console.error('vigil: not built yet. Run `npm run build` (npm start and npm test build automatically).');
      process.exit(2);
    }
    throw err;
  });
