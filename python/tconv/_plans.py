"""A layer call's arguments, checked once: the plan of a call.

Everything a call needs that depends on its arguments alone (the kind of layer, dtype,
input and weight shapes, stride, padding, output_padding, groups, dilation, output_size,
algorithm) and not on the values of its tensors: PyTorch's argument checks, the library's
geometry, the output shape, the C entry points to call. Computing it costs several times
what the C library spends on a small layer, so `plan()` keeps the plans of recent
arguments (a bounded memo: a plan is never changed once made, so a cached one is the one
that would be computed). Both tconv.functional (NumPy) and tconv.torch call through
plans; each only turns its arrays or tensors into pointers.
"""

import ctypes
import functools
import operator

from . import _native

DTYPES = {"float32": _native.F32, "float64": _native.F64}


def ints(name, value, dims):
    """PyTorch's int-or-sequence parameter as a tuple of `dims` ints (a one-element
    sequence stands for every axis, as in PyTorch)."""
    try:
        return (operator.index(value),) * dims
    except TypeError:
        pass
    try:
        values = tuple(operator.index(v) for v in value)
    except TypeError:
        raise ValueError(f"{name}={value!r}: expected an int or a sequence of {dims} "
                         "ints") from None
    if len(values) == 1:
        values *= dims
    if len(values) != dims:
        raise ValueError(f"{name}={value!r}: expected a single int or a list of {dims} "
                         "values to match the convolution dimensions")
    return values


def _string_padding(padding, dims, stride, dilation, kernel):
    """PyTorch's padding='valid' | 'same' for the convolution, as (padding, extra): the
    symmetric padding, and one more zero at the end of the axes where the total
    dilation*(kernel-1) is odd (PyTorch pads those on the right)."""
    if padding == "valid":
        return (0,) * dims, (0,) * dims
    if padding != "same":
        raise ValueError(f"padding={padding!r}: expected 'valid', 'same', an int or a "
                         f"sequence of {dims} ints")
    if any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    return tuple(t // 2 for t in total), tuple(t % 2 for t in total)


def _strides_in(shape, order):
    """Element strides of the dense tensor of `shape` whose axes, outermost first, are
    `order`."""
    strides, run = [0] * len(shape), 1
    for axis in reversed(order):
        strides[axis] = run
        run *= shape[axis]
    return strides


def memory(shape, strides, batched):
    """How a tensor of logical shape (N, C, *spatial) (or (C, *spatial) unbatched) with
    these element strides lies in memory: "first" (dense channels-first), "last" (dense
    channels-last: the channels of a position contiguous, as torch's channels_last), or
    None (a view: gaps, steps, reversed axes, another order). Axes of extent 1 may have
    any stride."""
    n = len(shape)
    channel = 1 if batched else 0
    first = list(range(n))
    last = [a for a in first if a != channel] + [channel]
    for name, order in (("first", first), ("last", last)):
        if all(e == 1 or s == t for e, s, t in zip(shape, strides, _strides_in(shape, order))):
            return name
    return None


def distinct(shape, strides):
    """Whether distinct indices reach distinct elements, by the library's rule (the axes of
    extent > 1 sorted by |stride|, each stride past the reach of the smaller ones): a view
    the library takes. A broadcast (stride 0) is not."""
    reach = 0
    for extent, stride in sorted(((e, abs(s)) for e, s in zip(shape, strides) if e > 1),
                                 key=lambda es: es[1]):
        if stride <= reach:
            return False
        reach += stride * (extent - 1)
    return True


class Plan:
    """One layer call's arguments checked and turned into the library's geometry.

    Shapes are the caller's: `in_shape` is the input the C call reads (the given one,
    with the extra end zeros of 'same' padding where `pad_end` says so), `out_shape` the
    output it writes, both unbatched when the input is; the C library sees the same
    memory either way. `forward_ptrs` and `backward_ptrs` run the C call on addresses of
    C-contiguous buffers of `dtype` in those shapes (0: no tensor).
    """

    __slots__ = ("key", "name", "dims", "dtype", "batched", "pad_end", "x_shape", "in_shape",
                 "weight_shape", "out_channels", "out_shape", "geometry", "_g", "_algo",
                 "_dtype", "_forward", "_backward", "_provider", "_in_is_x")

    def __init__(self, transposed, dims, dtype, x_shape, weight_shape, stride, padding,
                 output_padding, groups, dilation, output_size, algo, provider=None):
        self.key = (transposed, dims, dtype, x_shape, weight_shape, stride, padding,
                    output_padding, groups, dilation, output_size, algo, provider)
        self._provider = _native.provider_id(provider)
        self._in_is_x = not transposed  # the layer's input is X for the conv, Y else
        self.name = name = f"conv_transpose{dims}d" if transposed else f"conv{dims}d"
        self.dims, self.dtype = dims, dtype
        x_shape, weight_shape = tuple(x_shape), tuple(weight_shape)
        self.x_shape, self.weight_shape = x_shape, weight_shape
        algo = _native.algo_id(algo)
        if len(weight_shape) != dims + 2:
            raise ValueError(f"{name}: weight of shape {weight_shape} has "
                             f"{len(weight_shape)} dimensions, expected {dims + 2} (two "
                             f"channel axes, {dims} kernel axes)")
        if len(x_shape) not in (dims + 1, dims + 2):
            raise ValueError(f"{name}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D "
                             f"(batched) input, got input of shape {x_shape}")
        self.batched = len(x_shape) == dims + 2
        groups = operator.index(groups)
        stride = ints("stride", stride, dims)
        dilation = ints("dilation", dilation, dims)
        kernel = weight_shape[2:]

        # 'same' padding may need one more zero at the end of an axis than at its start:
        # the library pads symmetrically, so that zero goes into a padded copy of x.
        extra = (0,) * dims
        if isinstance(padding, str) and not transposed:
            padding, extra = _string_padding(padding, dims, stride, dilation, kernel)
        else:
            padding = ints("padding", padding, dims)
        self.pad_end = extra if any(extra) else None
        self.in_shape = (*x_shape[:-dims], *(n + e for n, e in zip(x_shape[-dims:], extra)))
        batch, in_channels, *size = self.in_shape if self.batched else (1, *self.in_shape)

        # weight: (out, in/groups, k...) for the conv, (in, out/groups, k...) transposed
        if transposed:
            self.out_channels, weight_in = weight_shape[1] * groups, weight_shape[0]
            output_padding = ints("output_padding", output_padding, dims)
            if output_size is not None:
                output_size = self._spatial_output_size(output_size)
        else:
            self.out_channels, weight_in = weight_shape[0], weight_shape[1] * groups
            output_padding = None
        self.geometry = g = _native.geometry(
            _native.LAYER_CONVT if transposed else _native.LAYER_CONV, dims, batch,
            in_channels, self.out_channels, groups, size, kernel, stride, padding, dilation,
            output_padding, output_size)
        if in_channels != weight_in:
            raise ValueError(f"{name}: given groups={groups}, weight of shape "
                             f"{weight_shape}, expected the input (shape {x_shape}) to "
                             f"have {weight_in} channels, but got {in_channels} channels "
                             "instead")
        out_size = tuple((g.x_size if transposed else g.y_size)[:dims])
        self.out_shape = ((batch,) if self.batched else ()) + (self.out_channels, *out_size)
        # what every C call of this plan passes first: geometry, algorithm, dtype
        self._g, self._algo, self._dtype = ctypes.byref(g), algo, DTYPES[dtype]
        self._forward, self._backward = _native.layer_functions(g.layer)

    def _spatial_output_size(self, output_size):
        """output_size as ConvTranspose's forward takes it: the spatial sizes, possibly
        after the batch and channel sizes."""
        sizes = [operator.index(s) for s in output_size]
        lead = 2 if self.batched else 1
        if len(sizes) == lead + self.dims:
            sizes = sizes[lead:]
        if len(sizes) != self.dims:
            raise ValueError(f"{self.name}: output_size must have {self.dims} or "
                             f"{lead + self.dims} elements (got {len(output_size)})")
        return sizes

    def check_bias_shape(self, shape):
        if tuple(shape) != (self.out_channels,):
            raise ValueError(f"bias of shape {tuple(shape)}: expected ({self.out_channels},), "
                             "one value per output channel")

    def check_grad_output_shape(self, shape):
        if tuple(shape) != self.out_shape:
            raise ValueError(f"grad_output of shape {tuple(shape)}: the layer's output "
                             f"has shape {self.out_shape}")

    def memory_shape(self, shape, layout):
        """(allocation shape, axes) of a dense tensor of logical `shape` in `layout`: the
        tensor is np.empty(allocation).transpose(axes) (torch: .permute)."""
        if layout != "last":
            return shape, tuple(range(len(shape)))
        channel = 1 if self.batched else 0
        order = [a for a in range(len(shape)) if a != channel] + [channel]
        axes = [0] * len(shape)
        for position, axis in enumerate(order):
            axes[axis] = position
        return tuple(shape[a] for a in order), tuple(axes)

    def _options(self, layout, in_view, other_view):
        """The call's options (None: every default), with the views' strides (logical
        order; None: dense in `layout`) in the library's order (N, C, *spatial)."""
        if layout != "last" and in_view is None and other_view is None and not self._provider:
            return None
        o = _native.Options()
        o.provider = self._provider
        o.layout = _native.LAYOUT_CHANNELS_LAST if layout == "last" else 0
        keep = []  # the stride arrays live as long as the options
        for view, x_side in ((in_view, self._in_is_x), (other_view, not self._in_is_x)):
            if view is None:
                continue
            full = tuple(view) if self.batched else (0, *view)
            arr = (ctypes.c_int64 * len(full))(*full)
            keep.append(arr)
            setattr(o, "x_strides" if x_side else "y_strides",
                    ctypes.cast(arr, ctypes.POINTER(ctypes.c_int64)))
        return (o, keep)

    def forward_ptrs(self, x, weight, bias, out, layout="first", in_view=None):
        """The layer's forward: in_shape x, weight, bias (0: none) into out_shape out, the
        activations in `layout` ("first", "last"), x a view of these strides if given."""
        record = _native.ErrorRecord()
        opt = self._options(layout, in_view, None)
        status = self._forward(self._g, self._algo, self._dtype, x, weight, bias, out,
                               ctypes.byref(opt[0]) if opt else None, ctypes.byref(record))
        if status:
            raise _native.error(status, record)

    def backward_ptrs(self, x, weight, grad_out, grad_in, grad_weight, grad_bias,
                      layout="first", in_view=None, grad_out_view=None):
        """The layer's backward; a gradient address 0 is not computed. Layout and views as
        for forward_ptrs (grad_out's too)."""
        record = _native.ErrorRecord()
        opt = self._options(layout, in_view, grad_out_view)
        status = self._backward(self._g, self._algo, self._dtype, x, weight, grad_out,
                                grad_in, grad_weight, grad_bias,
                                ctypes.byref(opt[0]) if opt else None, ctypes.byref(record))
        if status:
            raise _native.error(status, record)


@functools.lru_cache(maxsize=256)
def _memo(*key):
    return Plan(*key)


def _exact(values):
    """Whether every argument is an int, a str, None or a tuple (torch.Size included) of
    ints, exactly: equality is all the memo sees, and 2.0 == 2 (a float stride, refused
    when made anew, must not find the plan of stride 2)."""
    for v in values:
        t = type(v)
        if isinstance(v, tuple):
            for e in v:
                if type(e) is not int:
                    return False
        elif t is not int and t is not str and v is not None:
            return False
    return True


def plan(transposed, dims, dtype, x_shape, weight_shape, stride, padding, output_padding,
         groups, dilation, output_size, algo, provider=None):
    """The Plan of these arguments (`dtype` a name of DTYPES): from the memo when every
    argument is plain (ints, tuples of ints, strings: what the modules pass), else made
    anew."""
    if type(output_size) is list:  # as ConvTranspose.forward is often given it
        output_size = tuple(output_size)
    if _exact((stride, padding, output_padding, groups, dilation, output_size, algo,
               provider)):
        return _memo(transposed, dims, dtype, x_shape, weight_shape, stride, padding,
                     output_padding, groups, dilation, output_size, algo, provider)
    return Plan(transposed, dims, dtype, x_shape, weight_shape, stride, padding,
                output_padding, groups, dilation, output_size, algo, provider)
