"""The C library seen through ctypes: where it is found, its structs, its calls.

Everything that knows the C ABI lives here; the rest of the package talks to the
functions below. The structs mirror include/tconv/tconv.h; the ABI is the same for the
whole of one major version, which `load` checks.
"""

import ctypes
import ctypes.util
import os
import pathlib

#: The major version (= ABI) these declarations describe.
ABI_MAJOR = 1

MAX_DIMS = 3
F32, F64 = 0, 1
LAYER_CONV, LAYER_CONVT = 0, 1

_int64_axes = ctypes.c_int64 * MAX_DIMS


class Geometry(ctypes.Structure):
    """struct tconv_geometry."""

    _fields_ = [
        ("dims", ctypes.c_int),
        ("layer", ctypes.c_int),
        ("batch", ctypes.c_int64),
        ("groups", ctypes.c_int64),
        ("x_channels", ctypes.c_int64),
        ("y_channels", ctypes.c_int64),
        ("x_size", _int64_axes),
        ("y_size", _int64_axes),
        ("kernel", _int64_axes),
        ("stride", _int64_axes),
        ("padding", _int64_axes),
        ("output_padding", _int64_axes),
        ("dilation", _int64_axes),
    ]

    def __str__(self):
        buf = ctypes.create_string_buffer(512)
        _lib.tconv_geometry_format(ctypes.byref(self), buf, len(buf))
        return buf.value.decode()


LAYOUT_CHANNELS_FIRST, LAYOUT_CHANNELS_LAST = 0, 1


class Options(ctypes.Structure):
    """struct tconv_options (zeroed: the library's defaults). The binding sets the
    provider, the layout and the input views; the function pointers stay NULL."""

    _fields_ = [
        ("num_threads", ctypes.c_int),
        ("workspace", ctypes.c_void_p),
        ("workspace_bytes", ctypes.c_size_t),
        ("workspace_limit", ctypes.c_size_t),
        ("dense_limit", ctypes.c_size_t),
        ("alloc", ctypes.c_void_p),
        ("free", ctypes.c_void_p),
        ("alloc_ctx", ctypes.c_void_p),
        ("provider", ctypes.c_int),
        ("layout", ctypes.c_int),
        ("x_strides", ctypes.POINTER(ctypes.c_int64)),
        ("y_strides", ctypes.POINTER(ctypes.c_int64)),
    ]


class ErrorRecord(ctypes.Structure):
    """struct tconv_error."""

    _fields_ = [("status", ctypes.c_int), ("message", ctypes.c_char * 256)]


class Error(ValueError):
    """A call refused by the library: `status` is its name ("EINVAL", ...), the message
    names the parameter and axis at fault."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


#: The library's file name inside an installed package (pip install puts it there).
PACKAGED_LIBRARY = "libtconv.so.1"


def _library_path():
    """TCONV_LIBRARY if set; else the library installed inside this package; else the
    build tree of the repository this package sits in; else the system's libtconv.so.1."""
    explicit = os.environ.get("TCONV_LIBRARY")
    if explicit:
        return explicit
    here = pathlib.Path(__file__).resolve().parent
    packaged = here / PACKAGED_LIBRARY
    if packaged.exists():
        return str(packaged)
    build_tree = here.parents[1] / "build" / "libtconv.so"
    if build_tree.exists():
        return str(build_tree)
    return ctypes.util.find_library("tconv") or "libtconv.so.1"


_p = ctypes.c_void_p
_i64p = ctypes.POINTER(ctypes.c_int64)
_geo = ctypes.POINTER(Geometry)
_err = ctypes.POINTER(ErrorRecord)
_int = ctypes.c_int

# name: (restype, argtypes)
_PROTOTYPES = {
    "tconv_version_string": (ctypes.c_char_p, []),
    "tconv_version": (ctypes.c_uint, []),
    "tconv_blas_info": (ctypes.c_size_t, [ctypes.c_char_p, ctypes.c_size_t]),
    "tconv_status_name": (ctypes.c_char_p, [_int]),
    "tconv_algo_name": (ctypes.c_char_p, [_int]),
    "tconv_algo_from_name": (_int, [ctypes.c_char_p, ctypes.POINTER(_int)]),
    "tconv_provider_name": (ctypes.c_char_p, [_int]),
    "tconv_provider_from_name": (_int, [ctypes.c_char_p, ctypes.POINTER(_int)]),
    "tconv_provider_available": (_int, [_int, _int]),
    "tconv_provider_info": (ctypes.c_size_t, [_int, ctypes.c_char_p, ctypes.c_size_t]),
    "tconv_geometry_format": (ctypes.c_size_t, [_geo, ctypes.c_char_p, ctypes.c_size_t]),
    "tconv_geometry_init_conv": (
        _int,
        [_geo, _int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
         _i64p, _i64p, _i64p, _i64p, _i64p, _err]),
    "tconv_geometry_init_transposed": (
        _int,
        [_geo, _int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
         _i64p, _i64p, _i64p, _i64p, _i64p, _i64p, _err]),
    "tconv_geometry_init_transposed_output_size": (
        _int,
        [_geo, _int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
         _i64p, _i64p, _i64p, _i64p, _i64p, _i64p, _err]),
    # (g, algo, dtype, in, weight, bias, out, options, err)
    "tconv_conv_forward_ex": (_int, [_geo, _int, _int, _p, _p, _p, _p, _p, _err]),
    "tconv_convt_forward_ex": (_int, [_geo, _int, _int, _p, _p, _p, _p, _p, _err]),
    # (g, algo, dtype, in, weight, grad_out, grad_in, grad_weight, grad_bias, options, err)
    "tconv_conv_backward_ex": (_int, [_geo, _int, _int, _p, _p, _p, _p, _p, _p, _p, _err]),
    "tconv_convt_backward_ex": (_int, [_geo, _int, _int, _p, _p, _p, _p, _p, _p, _p, _err]),
}


def _load():
    path = _library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            f"tconv: cannot load the C library {path!r} ({e}); build it (make demo), "
            "install it, or set TCONV_LIBRARY to its path") from e
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    major = lib.tconv_version() >> 16
    if major != ABI_MAJOR:
        raise ImportError(f"tconv: {path} has ABI {major}, this binding speaks ABI {ABI_MAJOR}")
    return lib, path


_lib, library_path = _load()


def version():
    """The C library's version string, e.g. "1.0.0"."""
    return _lib.tconv_version_string().decode()


def algorithms():
    """Names of the algorithms the library knows, "auto" first."""
    names = []
    for algo in range(64):
        name = _lib.tconv_algo_name(algo).decode()
        if name != "?":
            names.append(name)
    return names


def algo_id(name):
    """The library's number for an algorithm name; ValueError for an unknown one."""
    out = _int()
    if not isinstance(name, str) or _lib.tconv_algo_from_name(name.encode(), ctypes.byref(out)):
        raise ValueError(f"algo={name!r}: not an algorithm (one of {', '.join(algorithms())})")
    return out.value


def providers():
    """Names of the GEMM providers this build of the library has, "default" first (each
    serves float32; "onednn" does not serve float64)."""
    names = []
    for p in range(16):
        name = _lib.tconv_provider_name(p).decode()
        if name != "?" and (_lib.tconv_provider_available(p, F32) or
                            _lib.tconv_provider_available(p, F64)):
            names.append(name)
    return names


def provider_id(name):
    """The library's number for a provider name (None: the default); ValueError for an
    unknown one. One the build lacks is refused by the call, with the library's message."""
    if name is None:
        return 0
    out = _int()
    if not isinstance(name, str) or _lib.tconv_provider_from_name(name.encode(),
                                                                 ctypes.byref(out)):
        raise ValueError(f"provider={name!r}: not a GEMM provider (one of "
                         f"{', '.join(providers())})")
    return out.value


def provider_info(name=None):
    """What a provider is, as the library describes it (version, kernels or ISA,
    threading); for None or "default", the default rule."""
    p = provider_id(name)
    size = _lib.tconv_provider_info(p, None, 0) + 1
    buf = ctypes.create_string_buffer(size)
    _lib.tconv_provider_info(p, buf, size)
    return buf.value.decode()


def error(status, record):
    """The Error of a failed call: its status name and the library's message."""
    return Error(_lib.tconv_status_name(status).decode(),
                 record.message.decode(errors="replace"))


def _check(status, record):
    if status != 0:
        raise error(status, record)


def _axes(values):
    return _int64_axes(*values) if values is not None else None


def geometry(layer, dims, batch, in_channels, out_channels, groups, in_size, kernel,
             stride, padding, dilation, output_padding=None, output_size=None):
    """A checked geometry of Conv (layer LAYER_CONV) or ConvTranspose (LAYER_CONVT), by
    output_padding or by output_size; raises Error with the library's message."""
    g, record = Geometry(), ErrorRecord()
    common = (ctypes.byref(g), dims, batch, in_channels, out_channels, groups,
              _axes(in_size))
    if layer == LAYER_CONV:
        status = _lib.tconv_geometry_init_conv(
            *common, _axes(kernel), _axes(stride), _axes(padding), _axes(dilation),
            ctypes.byref(record))
    elif output_size is not None:
        status = _lib.tconv_geometry_init_transposed_output_size(
            *common, _axes(output_size), _axes(kernel), _axes(stride), _axes(padding),
            _axes(dilation), ctypes.byref(record))
    else:
        status = _lib.tconv_geometry_init_transposed(
            *common, _axes(kernel), _axes(stride), _axes(padding), _axes(output_padding),
            _axes(dilation), ctypes.byref(record))
    _check(status, record)
    return g


def layer_functions(layer):
    """The forward and backward entry points of a layer kind (LAYER_CONV, LAYER_CONVT), as
    ctypes functions with their argument types bound:
      forward(g, algo, dtype, in, weight, bias, out, options, err)
      backward(g, algo, dtype, in, weight, grad_out, grad_in, grad_weight, grad_bias,
               options, err)
    Tensors are addresses (ints; 0 or None: no tensor), g and err byref()s."""
    if layer == LAYER_CONV:
        return _lib.tconv_conv_forward_ex, _lib.tconv_conv_backward_ex
    return _lib.tconv_convt_forward_ex, _lib.tconv_convt_backward_ex


def blas_info():
    """Every GEMM provider the library has, one per line as the library describes it
    ("openblas: OpenBLAS 0.3.21 ...; kernels ...", "onednn: oneDNN 2.6.3; dnnl_sgemm JIT
    for ..."). libtconv.so carries a private, hidden copy of OpenBLAS's OpenMP build, so
    its line is the same whatever numpy or torch loaded: see python/README.md."""
    size = _lib.tconv_blas_info(None, 0) + 1
    buf = ctypes.create_string_buffer(size)
    _lib.tconv_blas_info(buf, size)
    return buf.value.decode()
