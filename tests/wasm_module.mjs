// tconv.wasm (the library and the command compiled for WebAssembly) against the native
// build, run with node's WASI:
//
//   node tests/wasm_module.mjs <tconv.wasm> <tconv>
//
// 1. tw_run: the same `tconv` command lines (the seed's examples, `tconv demo`, geometries
//    of every kind, geometries the library refuses) give the same exit status, the same
//    stderr and the same stdout: the sizes, C and Cᵀ entry by entry, both views, the GEMM
//    route with its numbers (the layer's output on the stated data) and the numeric check's
//    verdicts. Only the digits of the float32 rows of the numeric check may differ (the
//    module multiplies with the reference GEMM, the native build with OpenBLAS).
// 2. tw_page: the section the module draws for the page's first geometry is the one the
//    native `tconv explain --html` wrote into the page (the same masking); a refused
//    geometry gives {"ok": false} with the library's message, as the command prints it.
import { WASI } from 'node:wasi';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [wasmPath, tconv] = process.argv.slice(2);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tconv-wasm-'));
const module = await WebAssembly.compile(fs.readFileSync(wasmPath));
let failures = 0, passed = 0;

function fail(what) {
  console.log('FAIL: ' + what);
  ++failures;
}

// A fresh instance whose stdout and stderr go to files.
async function instance() {
  const out = path.join(work, 'out'), err = path.join(work, 'err');
  const fds = [fs.openSync(out, 'w+'), fs.openSync(err, 'w+')];
  const wasi = new WASI({ version: 'preview1', args: [], env: {}, stdout: fds[0],
                          stderr: fds[1], returnOnExit: true });
  const made = await WebAssembly.instantiate(module, wasi.getImportObject());
  wasi.initialize(made);
  const e = made.exports;
  return {
    e,
    string(text) {
      const bytes = new TextEncoder().encode(text);
      const ptr = e.tw_alloc(bytes.length + 1);
      const mem = new Uint8Array(e.memory.buffer, ptr, bytes.length + 1);
      mem.set(bytes);
      mem[bytes.length] = 0;
      return ptr;
    },
    read(ptr) {
      const mem = new Uint8Array(e.memory.buffer);
      let end = ptr;
      while (mem[end]) { ++end; }
      return new TextDecoder().decode(mem.subarray(ptr, end));
    },
    outputs() {
      fds.forEach((fd) => fs.closeSync(fd));
      return [fs.readFileSync(out, 'utf8'), fs.readFileSync(err, 'utf8')];
    },
  };
}

// The float32 rows of the numeric check, and its largest difference, without their digits.
const CHECK_ROW = new RegExp('^ {2}(gemm|phase|dense|sparse|scatter|gather|auto) +float32 |' +
                             '^ {2}All agree within rounding: largest difference ');
function masked(text) {
  let rows = 0;
  const lines = text.split('\n').map((line) => {
    if (!CHECK_ROW.test(line)) { return line; }
    ++rows;
    return line.replace(/[0-9][0-9.e+-]* */g, '# '); /* the columns' widths follow */
  });
  return { text: lines.join('\n'), rows };
}

function firstDifference(a, b) {
  const la = a.split('\n'), lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); ++i) {
    if (la[i] !== lb[i]) { return `line ${i + 1}:\n  wasm:   ${la[i]}\n  native: ${lb[i]}`; }
  }
  return '';
}

const commands = [
  'explain --example 1',
  'explain --example 2',
  'demo',
  'explain --input-size 9 --kernel-size 3 --stride 2 --padding 1 --dilation 2',
  'explain --transposed --in-channels 4 --out-channels 2 --groups 2 --input-size 3x2 ' +
    '--kernel-size 2x3 --stride 2x1 --padding 1x0 --output-padding 1x0',
  'explain --in-channels 4 --out-channels 6 --groups 2 --input-size 3x4 --kernel-size 2 ' +
    '--padding 1',
  'explain --in_channels=2 --input_size=3x3x3 --kernel_size=2',
  'explain --transposed --input-size 3 --kernel-size 3 --stride 2 --output-size 6',
  'explain --transposed --input-size 4 --kernel-size 3 --stride 3 --padding 2 --dilation 2 ' +
    '--output-padding 1',
  'explain --transposed --in-channels 16 --out-channels 8 --input-size 6x6 --kernel-size 4 ' +
    '--stride 2 --padding 1',
  // refused by the library: its messages
  'explain --input-size 5 --kernel-size 9',
  'explain --transposed --input-size 3 --kernel-size 3 --output-padding 1',
  'explain --input-size 4 --kernel-size 2 --in-channels 3 --groups 2',
  'explain --transposed --input-size 3 --kernel-size 3 --stride 2 --output-size 9',
  'explain --input-size 5 --kernel-size 3 --padding -1',
  // and by the command line
  'explain --stride',
];

for (const line of commands) {
  const w = await instance();
  const status = w.e.tw_run(w.string(line));
  const [out, err] = w.outputs();
  const native = spawnSync(tconv, line.split(' '), { encoding: 'utf8' });
  const a = masked(out), b = masked(native.stdout);
  if (status !== native.status) {
    fail(`tconv ${line}: exit ${status} in wasm, ${native.status} native`);
  } else if (err !== native.stderr) {
    fail(`tconv ${line}: stderr differs:\n  wasm:   ${err}\n  native: ${native.stderr}`);
  } else if (a.text !== b.text) {
    fail(`tconv ${line}: stdout differs at ${firstDifference(a.text, b.text)}`);
  } else if (a.rows > 16 * 2) {
    fail(`tconv ${line}: ${a.rows} lines masked, more than the numeric checks have`);
  } else {
    ++passed;
    const n = out.split('\n').length - 1;
    console.log(`ok: tconv ${line}: the same ${n} line${n === 1 ? '' : 's'} of output` +
                (a.rows ? ` (${a.rows} float32 rows compared without their digits)` : '') +
                (status ? `, exit ${status}: ${err.trim().split('\n')[0]}` : ''));
  }
}

// The page's first section, as the native command wrote it and as the module draws it.
const page = path.join(work, 'page.html');
const wrote = spawnSync(tconv, ['explain', '--example', '2', '--html', page], { encoding: 'utf8' });
if (wrote.status !== 0) {
  fail(`tconv explain --html: exit ${wrote.status}: ${wrote.stderr}`);
} else {
  const html = fs.readFileSync(page, 'utf8');
  const written = html.slice(html.indexOf('<div id="view">\n') + 16,
                             html.indexOf('</div>\n<script>'));
  const w = await instance();
  const json = JSON.parse(w.read(w.e.tw_page(
    w.string('--transposed --in-channels 2 --out-channels 1 --groups 1 --input-size 3x3 ' +
             '--kernel-size 3x3 --stride 2x2 --padding 1x1 --dilation 1x1 --output-padding 0x0'),
    w.string("The seed's Figures 4-10: two 3x3 maps back through 3x3 kernels, stride 2, " +
             'padding 1 -> 5x5'))));
  const a = masked(json.html), b = masked(written);
  if (!json.ok || a.text !== b.text || written.length < 10000) {
    fail(`tw_page: the module's section differs from the page's at ` +
         firstDifference(a.text, b.text));
  } else {
    ++passed;
    console.log(`ok: tw_page draws the ${json.html.length} characters of the section the ` +
                `native command wrote (${a.rows} float32 rows without their digits)`);
  }
  const refused = JSON.parse(w.read(w.e.tw_page(
    w.string('--transposed --input-size 3 --kernel-size 3 --stride 2 --output-padding 2'),
    w.string(''))));
  const native = spawnSync(tconv, ['explain', '--transposed', '--input-size', '3',
                                   '--kernel-size', '3', '--stride', '2', '--output-padding',
                                   '2'], { encoding: 'utf8' });
  const said = native.stderr.trim().replace(/^tconv explain: /, '');
  if (refused.ok !== false || refused.message !== said) {
    fail(`tw_page of a refused geometry: ${JSON.stringify(refused)}, native: ${said}`);
  } else {
    ++passed;
    console.log(`ok: tw_page refuses with the library's message: ${refused.message}`);
  }
}

fs.rmSync(work, { recursive: true, force: true });
console.log(`${failures ? 'FAIL' : 'PASS'}: tconv.wasm against the native tconv`);
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
