/*
 * The page of `tconv explain --html` (embedded into it by the build, after the data
 * TCONV_PAGE and the module TCONV_WASM). It draws and handles the controls; every size,
 * index, name, message and number on the page comes from tconv: the first section from
 * the command that wrote the page, every later one from tconv.wasm (the library and the
 * command compiled to WebAssembly), whose tw_page returns a section's markup and its
 * steps. This script never derives a size or an index itself.
 *
 * It reports its own failures into <body data-status> ("ok" once the module is ready and
 * the first section stepped), so a headless browser can tell a broken page from a good
 * one. Opened as page.html#selftest, every stepper shows each of its steps once after
 * every redraw (every id a step names must exist).
 */
(function () {
  'use strict';
  var body = document.body, errors = [];
  function fail(message) {
    errors.push(String(message));
    body.setAttribute('data-status', 'error: ' + errors.join('; '));
  }
  window.addEventListener('error', function (e) { fail(e.message); });
  window.addEventListener('unhandledrejection', function (e) { fail(e.reason); });

  function element(id) {
    var e = document.getElementById(id);
    if (!e) { throw new Error('no element ' + id); }
    return e;
  }

  /* ---- steppers: a step marks cells ([id, class, label]) and shows a caption --------- */

  var steppers = {};

  function stepper(root, steps) {
    var at = 0, timer = null, marked = [];
    var label = root.querySelector('.step'), caption = root.querySelector('.cap');
    var play = root.querySelector('.play');
    function show(t) {
      marked.forEach(function (m) {
        element(m[0]).classList.remove(m[1]);
        var overlay = document.getElementById(m[0] + 't');
        if (overlay) { overlay.textContent = ''; }
      });
      at = (t + steps.length) % steps.length;
      marked = steps[at].m;
      marked.forEach(function (m) {
        element(m[0]).classList.add(m[1]);
        var overlay = document.getElementById(m[0] + 't');
        if (overlay) { overlay.textContent = m[2]; }
      });
      label.textContent = 'step ' + (at + 1) + ' of ' + steps.length;
      caption.textContent = steps[at].c;
    }
    function stop() {
      clearInterval(timer);
      timer = null;
      play.textContent = '\u25b6 play';
    }
    root.querySelector('.prev').addEventListener('click', function () { stop(); show(at - 1); });
    root.querySelector('.next').addEventListener('click', function () { stop(); show(at + 1); });
    play.addEventListener('click', function () {
      if (timer) { stop(); return; }
      timer = setInterval(function () { show(at + 1); }, 800);
      play.textContent = '\u275a\u275a pause';
    });
    if (location.hash === '#selftest') {
      steps.forEach(function (s, t) { show(t); });
    }
    show(0);
    return { select: function (t) { stop(); show(t); }, stop: stop };
  }

  function startSteppers(steps) {
    Object.keys(steppers).forEach(function (id) { steppers[id].stop(); });
    steppers = {};
    Object.keys(steps).forEach(function (id) { steppers[id] = stepper(element(id), steps[id]); });
  }

  /* A click on a cell or label that names a step ("view:step") shows it. */
  element('view').addEventListener('click', function (e) {
    var target = e.target.closest ? e.target.closest('[data-step]') : null;
    if (!target) { return; }
    var to = target.getAttribute('data-step').split(':');
    if (steppers[to[0]]) { steppers[to[0]].select(Number(to[1])); }
  });

  /* ---- tconv.wasm: a WASI reactor; of WASI only the writes to stdout and stderr -------- */

  var wasm = null;

  function wasiImports(memory) {
    var ENOSYS = 52, EBADF = 8, decoder = new TextDecoder();
    var out = { 1: '', 2: '' };
    function view() { return new DataView(memory().buffer); }
    var calls = {
      fd_write: function (fd, iovs, count, written) {
        var v = view(), total = 0;
        for (var i = 0; i < count; ++i) {
          var ptr = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
          if (out[fd] === undefined) { return EBADF; }
          out[fd] += decoder.decode(new Uint8Array(memory().buffer, ptr, len));
          total += len;
        }
        v.setUint32(written, total, true);
        return 0;
      },
      fd_fdstat_get: function (fd, stat) {
        if (out[fd] === undefined) { return EBADF; }
        var v = view();
        for (var i = 0; i < 24; ++i) { v.setUint8(stat + i, 0); }
        v.setUint8(stat, 2); /* a character device */
        return 0;
      },
      environ_sizes_get: function (count, size) {
        view().setUint32(count, 0, true);
        view().setUint32(size, 0, true);
        return 0;
      },
      environ_get: function () { return 0; },
      args_sizes_get: function (count, size) {
        view().setUint32(count, 0, true);
        view().setUint32(size, 0, true);
        return 0;
      },
      args_get: function () { return 0; },
      clock_time_get: function (id, precision, time) {
        view().setBigUint64(time, BigInt(Math.round(performance.now() * 1e6)), true);
        return 0;
      },
      /* no preopened directories: the module has no file system */
      fd_prestat_get: function () { return EBADF; },
      fd_close: function () { return EBADF; },
      fd_seek: function () { return EBADF; },
      proc_exit: function (code) { throw new Error('tconv.wasm exited with ' + code); }
    };
    return { calls: calls, out: out, ENOSYS: ENOSYS };
  }

  function instantiate() {
    var bytes = Uint8Array.from(atob(TCONV_WASM), function (c) { return c.charCodeAt(0); });
    var instance = null;
    var wasi = wasiImports(function () { return instance.exports.memory; });
    return WebAssembly.compile(bytes).then(function (module) {
      var imports = {};
      WebAssembly.Module.imports(module).forEach(function (imp) {
        imports[imp.module] = imports[imp.module] || {};
        imports[imp.module][imp.name] = wasi.calls[imp.name] ||
          function () { return wasi.ENOSYS; };
      });
      return WebAssembly.instantiate(module, imports);
    }).then(function (made) {
      instance = made;
      instance.exports._initialize();
      wasm = { exports: instance.exports, wasi: wasi };
    });
  }

  /* A string into the module's memory (free it with tw_free), and one back out. */
  function toModule(text) {
    var bytes = new TextEncoder().encode(text);
    var ptr = wasm.exports.tw_alloc(bytes.length + 1);
    var mem = new Uint8Array(wasm.exports.memory.buffer, ptr, bytes.length + 1);
    mem.set(bytes);
    mem[bytes.length] = 0;
    return ptr;
  }

  function fromModule(ptr) {
    var mem = new Uint8Array(wasm.exports.memory.buffer), end = ptr;
    while (mem[end]) { ++end; }
    return new TextDecoder().decode(mem.subarray(ptr, end));
  }

  /* tw_page: the section of `tconv explain <args>`, titled `title` */
  function page(args, title) {
    var a = toModule(args), t = toModule(title);
    var result = wasm.exports.tw_page(a, t);
    wasm.exports.tw_free(a);
    wasm.exports.tw_free(t);
    if (!result) { throw new Error('tconv.wasm ran out of memory'); }
    var json = fromModule(result);
    wasm.exports.tw_free(result);
    return JSON.parse(json);
  }

  /* ---- the controls ------------------------------------------------------------------ */

  var AXES = ['input_size', 'kernel_size', 'stride', 'padding', 'dilation', 'output_padding',
              'output_size'];
  var FLAGS = { input_size: '--input-size', kernel_size: '--kernel-size', stride: '--stride',
                padding: '--padding', dilation: '--dilation',
                output_padding: '--output-padding', output_size: '--output-size' };
  var form = element('controls'), view = element('view'), message = element('message');
  var staleNote = element('stale-note'), drawn = element('drawn');
  var presets = TCONV_PAGE.presets, outSize = TCONV_PAGE.out_size, renders = 0;

  function value(id) { return element(id).value.trim(); }

  /* The command line of a set of control values (the controls' own, or a preset's). */
  function argsOf(v) {
    var args = [];
    if (v.layer === 'transposed') { args.push('--transposed'); }
    ['in_channels', 'out_channels', 'groups'].forEach(function (name) {
      args.push('--' + name.replace('_', '-'), v[name] === '' ? '?' : v[name]);
    });
    AXES.forEach(function (name) {
      if (name === 'output_padding' || name === 'output_size') {
        if (v.layer !== 'transposed' || v.size_by !== name) { return; }
      }
      var axes = v[name].slice(0, v.dims).map(function (x) { return x === '' ? '?' : x; });
      args.push(FLAGS[name], axes.join('x'));
    });
    return args.join(' ');
  }

  function current() {
    var v = { layer: value('layer'), dims: Number(value('dims')), size_by: value('size_by') };
    ['in_channels', 'out_channels', 'groups'].forEach(function (n) { v[n] = value(n); });
    AXES.forEach(function (name) {
      v[name] = [0, 1, 2].map(function (a) { return value(name + '-' + a); });
    });
    return v;
  }

  function presetValues(p) {
    var v = { layer: p.layer, dims: p.dims, size_by: 'output_padding' };
    ['in_channels', 'out_channels', 'groups'].forEach(function (n) { v[n] = String(p[n]); });
    AXES.forEach(function (name) {
      v[name] = [0, 1, 2].map(function (a) {
        return p[name] && a < p[name].length ? String(p[name][a]) : '';
      });
    });
    v.output_size = v.output_size.map(function () { return ''; });
    return v;
  }

  function fill(v) {
    element('layer').value = v.layer;
    element('dims').value = String(v.dims);
    element('size_by').value = v.size_by;
    ['in_channels', 'out_channels', 'groups'].forEach(function (n) { element(n).value = v[n]; });
    AXES.forEach(function (name) {
      [0, 1, 2].forEach(function (a) {
        var fallback = name === 'padding' || name === 'output_padding' ? '0' : '1';
        element(name + '-' + a).value = v[name][a] !== '' ? v[name][a] : fallback;
      });
    });
  }

  /* Axes past the dimension count, and the transposed-only rows of a Conv, are off. */
  function arrange() {
    var v = current(), transposed = v.layer === 'transposed';
    AXES.forEach(function (name) {
      var off = (name === 'output_padding' || name === 'output_size') &&
                (!transposed || v.size_by !== name);
      element('row-' + name).classList.toggle('off', off);
      [0, 1, 2].forEach(function (a) { element(name + '-' + a).disabled = off || a >= v.dims; });
    });
    element('size_by').disabled = !transposed;
    [0, 1, 2].forEach(function (a) { element('axis-' + a).classList.toggle('off', a >= v.dims); });
  }

  function draw(result, args) {
    view.innerHTML = result.html;
    view.setAttribute('data-args', args);
    view.setAttribute('data-renders', String(++renders));
    view.classList.remove('stale');
    drawn.textContent = result.geometry;
    outSize = result.out_size;
    message.hidden = true;
    message.textContent = '';
    staleNote.hidden = true;
    startSteppers(result.steps);
  }

  function refuse(text) {
    message.textContent = text;
    message.hidden = false;
    staleNote.hidden = false;
    view.classList.add('stale');
  }

  function titleOf(v) {
    var args = argsOf(v);
    for (var i = 0; i < presets.length; ++i) {
      if (argsOf(presetValues(presets[i])) === args) { return presets[i].title; }
    }
    return 'The geometry set above';
  }

  function recompute() {
    try {
      arrange();
      var v = current(), args = argsOf(v);
      view.setAttribute('data-tried', args);
      var result = page(args, titleOf(v));
      if (result.ok) { draw(result, args); } else { refuse(result.message); }
    } catch (e) {
      fail(e.message || e);
    }
  }

  form.addEventListener('input', function (e) {
    if (e.target.id === 'preset') { return; }
    if (e.target.id === 'size_by' && e.target.value === 'output_size') {
      /* start from the size the library gave the drawn geometry */
      outSize.forEach(function (n, a) { element('output_size-' + a).value = String(n); });
    }
    recompute();
  });
  element('preset').addEventListener('change', function () {
    fill(presetValues(presets[Number(value('preset'))]));
    recompute();
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); });

  /* ---- start: the section the command wrote, then the module ------------------------- */

  try {
    fill(presetValues(presets[0]));
    arrange();
    view.setAttribute('data-args', argsOf(presetValues(presets[0])));
    view.setAttribute('data-renders', '0');
    startSteppers(TCONV_PAGE.steps);
    Array.prototype.forEach.call(form.elements, function (c) {
      c.setAttribute('data-enabled', c.disabled ? 'no' : 'yes');
      c.disabled = true;
    });
    element('module-state').textContent = 'starting tconv.wasm\u2026';
  } catch (e) {
    fail(e.message);
  }
  instantiate().then(function () {
    Array.prototype.forEach.call(form.elements, function (c) {
      c.disabled = c.getAttribute('data-enabled') === 'no';
    });
    element('module-state').textContent = 'computed in your browser by tconv.wasm (' +
      Math.round(TCONV_WASM.length * 3 / 4 / 1024) + ' KiB)';
    if (!errors.length) { body.setAttribute('data-status', 'ok'); }
  }, function (e) {
    element('module-state').textContent = 'tconv.wasm did not start: the controls are off';
    fail('tconv.wasm: ' + (e.message || e));
  });
})();
