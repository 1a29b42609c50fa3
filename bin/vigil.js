#!/usr/bin/env node
// Entry point of the `vigil` command: the compiled CLI lives in dist/ (npm run build).
import('../dist/src/cli/main.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
      console.error('vigil: not built yet. Run `npm run build` (npm start and npm test build automatically).');
      process.exit(2);
    }
    throw err;
  });
