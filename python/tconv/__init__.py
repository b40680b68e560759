"""tconv: convolution and transposed convolution on the CPU through the matrix view.

A ctypes binding of the C library libtconv, found through the environment variable
TCONV_LIBRARY if set, else inside this package (tconv/libtconv.so.1, where pip install
puts it), else in the build tree of the repository this package sits in
(build/libtconv.so), else as the system's libtconv.so.1.

NumPy functions with PyTorch's functional signatures (see tconv.functional):

    >>> import numpy as np, tconv
    >>> x = np.ones((1, 2, 3, 3), np.float32)            # (N, C_in, H, W)
    >>> w = np.ones((2, 1, 3, 3), np.float32)            # (C_in, C_out/groups, kH, kW)
    >>> tconv.conv_transpose2d(x, w, stride=2, padding=1).shape
    (1, 1, 5, 5)

tconv.torch (imported on its own, needs PyTorch) has the autograd functions and the
nn.Module drop-ins.
"""

from ._native import (Error, algorithms, blas_info, library_path, provider_info, providers,
                      version)
from .functional import *  # noqa: F401,F403 (the twelve functions)
from .functional import __all__ as _functional_names

__version__ = version()
__all__ = ["Error", "algorithms", "blas_info", "library_path", "provider_info", "providers",
           "version", *_functional_names]
