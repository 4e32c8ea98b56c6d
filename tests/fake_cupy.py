"""A stand-in for CuPy on machines without a GPU: numpy memory under CuPy's rules.

The arrays of this module refuse what CuPy arrays refuse: implicit conversion to numpy
(np.asarray(device_array) raises TypeError; `.get()` is the way back) and mixing with numpy arrays in
one operation or function call (scalars are fine). Functions of the module accept numpy arrays only
where CuPy's do (asarray, array). So the backend="cupy" code paths of qgtransport run here, and any
place that would fail on a real GPU for these reasons fails here too. What it cannot check: CUDA
itself (cuSOLVER's eigh, kernels), memory limits and speed.
"""

from __future__ import annotations

import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class DeviceArray(NDArrayOperatorsMixin):
    """An array "on the device" (numpy inside)."""

    def __init__(self, data):
        self._data = data

    # --- CuPy's rules --------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (fake CuPy); use .get()")

    def get(self):
        return np.array(self._data)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        result = getattr(ufunc, method)(*unwrap(inputs, ufunc.__name__), **unwrap(kwargs, ufunc.__name__))
        return wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        return wrap(func(*unwrap(args, func.__name__), **unwrap(kwargs, func.__name__)))

    # --- the ndarray surface that the engine uses ------------------------------------------------
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = property(lambda self: self._data.size)
    real = property(lambda self: wrap(self._data.real))
    imag = property(lambda self: wrap(self._data.imag))
    T = property(lambda self: wrap(self._data.T))

    def __len__(self):
        return len(self._data)

    def __getitem__(self, index):
        return wrap(self._data[unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        self._data[unwrap(index, "indexing")] = unwrap(value, "assignment")

    def __repr__(self):
        return f"DeviceArray({self._data!r})"

    def __bool__(self):
        return bool(self._data)

    def __float__(self):
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ & co.: numpy must not see the memory
            raise AttributeError(name)
        attribute = getattr(self._data, name)  # reshape, view, astype, conj, sum, max, any, copy, ...
        if not callable(attribute):
            return wrap(attribute)
        return lambda *args, **kwargs: wrap(attribute(*unwrap(args, name), **unwrap(kwargs, name)))


def unwrap(value, where: str):
    """numpy views of DeviceArrays (recursively); a numpy array that is not a scalar is an error."""
    if isinstance(value, DeviceArray):
        return value._data
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise TypeError(f"fake CuPy: a numpy array given to {where} together with device arrays")
    if isinstance(value, tuple):
        return tuple(unwrap(v, where) for v in value)
    if isinstance(value, list):
        return [unwrap(v, where) for v in value]
    if isinstance(value, dict):
        return {k: unwrap(v, where) for k, v in value.items()}
    return value


def wrap(value):
    if isinstance(value, np.ndarray):
        return DeviceArray(value)
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def device_function(name: str, accepts_host: bool = False):
    function = getattr(np, name)

    def call(*args, **kwargs):
        if accepts_host:
            args = tuple(a._data if isinstance(a, DeviceArray) else a for a in args)
            return wrap(np.array(function(*args, **kwargs)))
        return wrap(function(*unwrap(args, name), **unwrap(kwargs, name)))

    return call


def make_module() -> types.ModuleType:
    """The fake `cupy` module: numpy's functions under CuPy's rules, one device."""
    module = types.ModuleType("cupy")
    for name in ("abs", "arange", "ascontiguousarray", "bincount", "clip", "concatenate", "conj", "cos",
                 "einsum", "empty", "exp", "floor", "maximum", "ones_like", "sin", "stack", "swapaxes", "where",
                 "zeros", "sqrt", "log10", "sum", "zeros_like", "empty_like", "matmul", "nonzero", "any",
                 "argsort", "take_along_axis", "diff", "cumsum", "multiply"):
        setattr(module, name, device_function(name))
    module.asarray = device_function("asarray", accepts_host=True)
    module.array = device_function("array", accepts_host=True)
    for name in ("float64", "complex128", "int64", "bool_"):
        setattr(module, name, getattr(np, name))
    module.ndarray = DeviceArray
    module.linalg = types.SimpleNamespace(eigh=lambda a: wrap(np.linalg.eigh(unwrap(a, "eigh"))))
    module.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    return module
