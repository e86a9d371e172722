"""Differentiable kernels of the training forward pass, over all time steps at once.

A feed-forward spiking network runs layer by layer: one matrix product per layer for
all ``T`` steps (:func:`integer_matmul`), then the membrane recurrence of the contract
(section 3) as one sequential scan (:func:`lif_scan`). Both are custom autograd
functions that keep a few tensors per layer (int8 inputs and weights; membranes and
spikes) instead of an autograd graph per step, which is where the speed against a
step-by-step loop comes from.

Exactness: the forward product is an int8 x int8 -> int32 product on the CPU (integer
counts 0..127 times weights of at most 8 bits), exact in any order; on other devices
it is a float32 product with TF32 off, exact below 2**24 (the network configuration
refuses anything larger). Only gradients are rounded (``grad_dtype``).
"""

from __future__ import annotations

import torch

from sdsnn_hw.neuron import LifParams

INT8_MAX = 127
GRAD_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def int8_exact(max_input: int, weight_bits: int) -> bool:
    """Whether inputs up to ``max_input`` and ``weight_bits``-bit weights fit int8."""
    return max_input <= INT8_MAX and weight_bits <= 8


class _IntegerMatmul(torch.autograd.Function):
    """``x @ w.T`` of integer-valued float tensors, exact; float gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, use_int8: bool, grad_dtype: torch.dtype):
        if use_int8:
            x_saved = x.view(torch.int8) if x.dtype == torch.uint8 else x.to(torch.int8)
            w_saved = w.to(torch.int8)
            out = torch._int_mm(x_saved, w_saved.t()).to(torch.float32)
        else:
            x_saved, w_saved = x.float(), w
            out = x_saved @ w.t()
        ctx.save_for_backward(x_saved, w_saved)
        ctx.grad_dtype = grad_dtype
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, w = ctx.saved_tensors
        dtype = ctx.grad_dtype
        grad = grad.to(dtype)
        grad_w = (grad.t() @ x.to(dtype)).to(torch.float32)
        grad_x = (grad @ w.to(dtype)).to(torch.float32) if ctx.needs_input_grad[0] else None
        return grad_x, grad_w, None, None


def integer_matmul(
    x: torch.Tensor, w: torch.Tensor, use_int8: bool, grad_dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``x @ w.T`` (rows, n_out) for integer-valued ``x`` (rows, n_in; float, or uint8
    spikes that need no gradient) and ``w`` (n_out, n_in).

    Args:
        use_int8: run the forward product in int8 (CPU; the caller checks
            :func:`int8_exact`), else in float32.
        grad_dtype: dtype of the two backward products (bfloat16 halves their cost on
            CPUs with bf16 units; the binary or count-valued ``x`` stays exact in it).
    """
    return _IntegerMatmul.apply(x, w, use_int8, grad_dtype)


class _LifScan(torch.autograd.Function):
    """The integer LIF update over ``T`` steps; the backward pass of the step-by-step
    graph (straight-through floor shift, clamp, rectangular surrogate, detached reset).

    Every mask is float arithmetic on integer-valued floats (``clamp(v - v_th + 1, 0, 1)``
    is ``v >= v_th``): comparisons that make bool tensors, and their conversions, cost
    several times more on the CPU.
    """

    @staticmethod
    def forward(ctx, current: torch.Tensor, lif: LifParams):
        v_th = float(lif.v_th)
        divisor = float(1 << lif.leak_shift)
        pre = torch.empty_like(current)
        v = torch.empty_like(current)
        spikes = torch.empty_like(current)
        membranes = torch.empty_like(current)
        membrane = torch.zeros_like(current[0])
        for t in range(current.shape[0]):
            leaked = torch.floor(membrane / divisor) if lif.leak_shift else membrane
            torch.add(leaked, current[t], out=pre[t])
            torch.clamp(pre[t], lif.v_min, lif.v_max, out=v[t])
            torch.clamp(v[t] - (v_th - 1.0), 0.0, 1.0, out=spikes[t])
            membrane = torch.addcmul(v[t], v[t], spikes[t], value=-1.0, out=membranes[t])
        if ctx.needs_input_grad[0]:
            # the clamp stops the gradient where it saturated; keep pre only if it did
            saturated = bool(pre.min() < lif.v_min) or bool(pre.max() > lif.v_max)
            ctx.save_for_backward(v, spikes, pre if saturated else None)
            ctx.v_th, ctx.divisor = v_th, divisor
        ctx.mark_non_differentiable(membranes)
        return spikes, membranes

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor, _grad_membranes: torch.Tensor | None):
        v, spikes, pre = ctx.saved_tensors
        v_th = ctx.v_th
        # |v - v_th| <= v_th for integer v, times the surrogate's height 1 / v_th; closed
        # at v = 0 so that a pruned neuron (no input, no bias) still passes a gradient to
        # its masked synapses, the drift that regeneration looks at
        surrogate = (v - v_th).abs_().neg_().add_(v_th + 1.0).clamp_(0.0, 1.0).div_(v_th)
        carry = torch.sub(1.0, spikes)  # the membrane goes on where it did not fire
        if pre is not None:
            inside = (v - pre).abs_().clamp_(0.0, 1.0).neg_().add_(1.0)
            surrogate.mul_(inside)
            carry.mul_(inside)
        grad = surrogate.mul_(grad_spikes)
        grad_membrane = torch.zeros_like(grad[0])
        for t in range(grad.shape[0] - 1, -1, -1):
            torch.addcmul(grad[t], grad_membrane, carry[t], out=grad[t])
            grad_membrane = grad[t] / ctx.divisor
        return grad, None


def lif_scan(current: torch.Tensor, lif: LifParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer LIF neurons over all steps, from zero membranes.

    Args:
        current: ``I + b`` of every step, (time, batch, neurons), integer-valued float32.
        lif: the layer's integer neuron parameters.

    Returns:
        Spikes (differentiable, surrogate gradient) and membranes after reset (not
        differentiable), both (time, batch, neurons).
    """
    return _LifScan.apply(current, lif)
