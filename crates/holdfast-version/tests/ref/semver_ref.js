// Reference for npm ordering: the npm `semver` package (installed here by
// setup.sh). Reads "a<TAB>b" lines on stdin, prints -1, 0, 1, or E.
'use strict';
const path = require('path');
const semver = require(path.join(__dirname, 'node_modules', 'semver'));

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const out = [];
  for (const line of input.split('\n')) {
    if (line === '') continue;
    const [a, b] = line.split('\t');
    if (semver.valid(a) === null || semver.valid(b) === null) {
      out.push('E');
    } else {
      out.push(String(semver.compare(a, b)));
    }
  }
  process.stdout.write(out.map((l) => l + '\n').join(''));
});
