// Typesets TeX formulas with MathJax 3 (TeX input, base + ams, as GitHub renders Markdown math)
// and reports every one that fails. Input on stdin: a JSON list of {"tex": ..., "display": bool}.
// Output on stdout: a JSON list of {"index": i, "error": message}, empty when all typeset.
// mathjax-full is found through NODE_PATH (tests/reference_mathjax.py sets it).
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {STATE} = require('mathjax-full/js/core/MathItem.js');
require('mathjax-full/js/input/tex/base/BaseConfiguration.js');
require('mathjax-full/js/input/tex/ams/AmsConfiguration.js');

RegisterHTMLHandler(liteAdaptor());
const tex = new TeX({packages: ['base', 'ams'], formatError: (jax, err) => { throw err; }});
const doc = mathjax.document('', {InputJax: tex});

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const errors = [];
  JSON.parse(input).forEach((item, index) => {
    try {
      doc.convert(item.tex, {display: item.display, end: STATE.CONVERT});
    } catch (err) {
      errors.push({index, error: String(err.message || err)});
    }
  });
  process.stdout.write(JSON.stringify(errors));
});
