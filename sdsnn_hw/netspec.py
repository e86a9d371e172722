"""Networks in the paper's notation, e.g. ``15C3-AP2-40C3-AP2-FC300-FC10``.

Tokens, joined by ``-``:

- ``<channels>C<kernel>``: a convolution, stride 1, 'same' padding ``kernel // 2``
  (odd kernels only, so the map keeps its size);
- ``AP<k>``: average pooling over k x k windows, folded into the next layer (contract
  section 3.1: that layer's input is the k x k sum of the spikes);
- ``FC<n>``: a fully connected layer of ``n`` neurons (flattening a map in C order).

:func:`resolve` turns a spec and an input shape into one :class:`LayerShape` per layer;
every error names the token it is about.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

FC, CONV = "fc", "conv"
_TOKEN = re.compile(r"(?:(\d+)C(\d+)|AP(\d+)|FC(\d+))", re.IGNORECASE)
TOKEN_FORMS = "<channels>C<kernel>, AP<k> or FC<n>"


class NetSpecError(ValueError):
    """A network spec that cannot be parsed or does not fit the data."""


@dataclass(frozen=True)
class LayerShape:
    """One layer of a resolved network.

    Attributes:
        kind: ``fc`` or ``conv``.
        in_shape: (channels, height, width) of the map the layer reads, before pooling:
            the previous layer's output or the network input.
        pool: the ``AP<k>`` folded into the layer's input (1: none).
        out_channels: output channels (conv) or neurons (fc).
        kernel: the convolution kernel K (1 for fc, where it has no meaning).
    """

    kind: str
    in_shape: tuple[int, int, int]
    pool: int
    out_channels: int
    kernel: int = 1

    @classmethod
    def of_weights(
        cls, kind: str, weights: np.ndarray, pool: int, in_shape: tuple[int, int, int] | None
    ) -> LayerShape:
        """The shape of integer ``weights`` (fc (n_out, n_in), conv (O, C, K, K)); an fc
        layer without ``in_shape`` reads a flat vector."""
        kernel = weights.shape[-1] if kind == CONV else 1
        return cls(kind, in_shape or (weights.shape[1], 1, 1), pool, weights.shape[0], kernel)

    @property
    def pooled_shape(self) -> tuple[int, int, int]:
        """The map after pooling: what the synapses see."""
        c, h, w = self.in_shape
        return c, h // self.pool, w // self.pool

    @property
    def n_in(self) -> int:
        """Inputs after pooling (fc: columns of the weight matrix)."""
        return math.prod(self.pooled_shape)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        """The output map: (channels, height, width); an fc layer is (n, 1, 1)."""
        if self.kind == CONV:
            _, h, w = self.pooled_shape
            return self.out_channels, h, w
        return self.out_channels, 1, 1

    @property
    def n_out(self) -> int:
        """Neurons, C-order over the output map."""
        return math.prod(self.out_shape)

    @property
    def fan_in(self) -> int:
        """Synapses of one neuron: ``in_channels * K * K`` (conv) or ``n_in`` (fc)."""
        if self.kind == CONV:
            return self.in_shape[0] * self.kernel * self.kernel
        return self.n_in

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of the weight tensor: (out, in, K, K) for conv, (n_out, n_in) for fc."""
        if self.kind == CONV:
            return self.out_channels, self.in_shape[0], self.kernel, self.kernel
        return self.out_channels, self.n_in


def fc_spec(sizes: tuple[int, ...]) -> str:
    """The spec of fully connected layers of ``sizes`` neurons: ``(128, 10)`` -> FC128-FC10."""
    return "-".join(f"FC{n}" for n in sizes)


def resolve(
    spec: str, input_shape: tuple[int, int, int], classes: int | None = None
) -> tuple[LayerShape, ...]:
    """The layers of ``spec`` on inputs of ``input_shape`` (channels, height, width).

    Args:
        spec: the network in the paper's notation.
        input_shape: the data set's input map.
        classes: when given, the last token must be ``FC<classes>``.

    Raises:
        NetSpecError: naming the token that cannot be parsed or does not fit.
    """
    where = f"network '{spec}'"
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise NetSpecError(f"{where}: the input shape must be 3 sizes >= 1, got {input_shape}")
    tokens = spec.split("-") if spec else []
    if not tokens:
        raise NetSpecError(f"{where}: empty; expected tokens {TOKEN_FORMS} joined by '-'")
    shape = tuple(input_shape)
    layers: list[LayerShape] = []
    pool = 1
    for token in tokens:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise NetSpecError(f"{where}: token '{token}' is not {TOKEN_FORMS}")
        channels, kernel, window, size = (int(g) if g else None for g in match.groups())
        if min(v for v in (channels, kernel, window, size) if v is not None) < 1:
            raise NetSpecError(f"{where}: token '{token}': sizes must be >= 1")
        if window is not None:
            if pool > 1:
                raise NetSpecError(
                    f"{where}: token '{token}' follows another pooling; "
                    f"write one AP<k> (AP{pool}-AP{window} is AP{pool * window})"
                )
            if window < 2:
                raise NetSpecError(f"{where}: token '{token}': the pooling window must be >= 2")
            if shape[1] % window or shape[2] % window:
                raise NetSpecError(
                    f"{where}: token '{token}': the {shape[1]}x{shape[2]} map is not "
                    f"divisible by {window}"
                )
            pool = window
            continue
        if kernel is not None:
            if layers and layers[-1].kind == FC:
                raise NetSpecError(
                    f"{where}: token '{token}' follows a fully connected layer; "
                    "a convolution needs a map"
                )
            if kernel % 2 == 0:
                raise NetSpecError(
                    f"{where}: token '{token}': the kernel must be odd ('same' padding "
                    "kernel // 2 keeps the map size only for odd kernels)"
                )
            layer = LayerShape(CONV, shape, pool, channels, kernel)
        else:
            layer = LayerShape(FC, shape, pool, size)
        layers.append(layer)
        shape, pool = layer.out_shape, 1
    if pool > 1:
        raise NetSpecError(
            f"{where}: token '{tokens[-1]}' ends the network; a pooling must be followed by a layer"
        )
    last = layers[-1]
    if last.kind != FC or (classes is not None and last.out_channels != classes):
        wanted = f"FC{classes}" if classes is not None else "FC<classes>"
        raise NetSpecError(
            f"{where}: the last token '{tokens[-1]}' must be {wanted}, a fully connected "
            "layer of one neuron per class"
        )
    return tuple(layers)
