// Copies the built files of our npm packages into the folder the Go binary
// embeds. Only these files are served; nothing from node_modules is committed.
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const out = path.join(here, '..', 'internal', 'web', 'static', 'vendor');
const files = {
  'htmx.org/dist/htmx.min.js': 'htmx.min.js',
  'bpmn-js/dist/bpmn-modeler.production.min.js': 'bpmn-modeler.min.js',
  'bpmn-js/dist/bpmn-navigated-viewer.production.min.js': 'bpmn-viewer.min.js',
  'bpmn-js/dist/assets/diagram-js.css': 'diagram-js.css',
  'bpmn-js/dist/assets/bpmn-js.css': 'bpmn-js.css',
  'bpmn-js/dist/assets/bpmn-font/css/bpmn.css': 'bpmn-font/css/bpmn.css',
  'bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2': 'bpmn-font/font/bpmn.woff2',
  'bpmn-js/dist/assets/bpmn-font/font/bpmn.woff': 'bpmn-font/font/bpmn.woff',
  'echarts/dist/echarts.min.js': 'echarts.min.js',
};
for (const [from, to] of Object.entries(files)) {
  const src = path.join(here, 'node_modules', from);
  const dst = path.join(out, to);
  fs.mkdirSync(path.dirname(dst), {recursive: true});
  fs.copyFileSync(src, dst);
}
console.log(`copied ${Object.keys(files).length} files to ${path.relative(process.cwd(), out)}`);
