// The Node versions Vigil runs on (package.json engines), checked by bin/vigil.js
// before anything modern is loaded. Plain old JavaScript on purpose: an old Node
// must be able to parse this file to print the message.
export var MIN_NODE = [22, 15];

/** Null when `version` (e.g. "22.15.0") is supported, else what to tell the person. */
export function nodeVersionProblem(version) {
  var have = String(version).replace(/^v/, '').split('.').map(Number);
  if (have[0] > MIN_NODE[0] || (have[0] === MIN_NODE[0] && have[1] >= MIN_NODE[1])) return null;
  return (
    'vigil: Node ' + version + ' is too old; Vigil needs Node ' + MIN_NODE.join('.') + ' or newer (Node 22 LTS or 24).\n' +
    '  Install it from https://nodejs.org/, or with a version manager: `nvm install 24 && nvm use 24` (or `fnm use 24`),\n' +
    '  or run the container image, which ships a supported Node.'
  );
}
