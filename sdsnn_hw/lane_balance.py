"""Lane balancing: which bank each output unit of a layer goes to (contract section 4).

Unit ``o`` of a layer lives in bank ``o % P``, and an input's words in a list layout
number the largest count of its slots in one bank (``csr_fanout``: non-zero weights,
``tap_list``: non-zero taps). An input whose slots crowd into one bank streams more
words than ``ceil(slots / P)``. The exporter may number a hidden layer's units in any
order (the next layer's inputs follow), so it picks the order that spreads every
input's slots evenly over the banks: it minimizes ``sum_j max_p slots[p, j]`` by
swapping units between banks until no swap helps, starting from the trained order.
"""

from __future__ import annotations

import numpy as np

MAX_PASSES = 8
"""Sweeps over the units; each swaps a unit with its best partner where that helps.
Bounds the exporter's time on wide layers; most layers settle in two or three."""


def bank_loads(slots: np.ndarray, banks: np.ndarray, lanes: int) -> np.ndarray:
    """Slots per bank and input (lanes, n_in) of units (n_units, n_in) in ``banks``."""
    loads = np.zeros((lanes, slots.shape[1]), np.int64)
    np.add.at(loads, banks, slots)
    return loads


def balanced_banks(slots: np.ndarray, lanes: int) -> np.ndarray:
    """A bank for every unit, each bank keeping its count of units ``o % lanes`` gives.

    Args:
        slots: int (units, inputs), the slots unit ``o`` needs for input ``j``.
        lanes: P.

    Returns:
        int64 (units,), the bank of each unit.
    """
    slots = np.asarray(slots, dtype=np.int64)
    units = len(slots)
    banks = np.arange(units, dtype=np.int64) % lanes
    if lanes == 1 or units <= 1:
        return banks
    loads = bank_loads(slots, banks, lanes)
    for _ in range(MAX_PASSES):
        swapped = False
        for unit in range(units):
            partner = _best_partner(slots, banks, loads, unit)
            if partner is None:
                continue
            a, b = banks[unit], banks[partner]
            delta = slots[partner] - slots[unit]
            loads[a] += delta
            loads[b] -= delta
            banks[unit], banks[partner] = b, a
            swapped = True
        if not swapped:
            break
    return banks


def _best_partner(slots: np.ndarray, banks: np.ndarray, loads: np.ndarray, unit: int) -> int | None:
    """The unit of another bank whose swap with ``unit`` lowers the cost most, if any."""
    lanes = len(loads)
    a = banks[unit]
    # for each bank b: the largest load per input of the banks other than a and b
    others = np.empty_like(loads)
    for b in range(lanes):
        rest = [p for p in range(lanes) if p not in (a, b)]
        others[b] = loads[rest].max(axis=0) if rest else 0
    with_partner = loads[a][None] - slots[unit][None] + slots  # bank a after each swap
    with_unit = loads[banks] - slots + slots[unit][None]  # each partner's bank after it
    cost = np.maximum(np.maximum(with_partner, with_unit), others[banks]).sum(axis=1)
    cost[banks == a] = np.iinfo(np.int64).max
    best = int(np.argmin(cost))
    return best if cost[best] < loads.max(axis=0).sum() else None


def unit_order(banks: np.ndarray, lanes: int) -> np.ndarray:
    """The new unit order: new unit ``r * lanes + p`` is bank ``p``'s ``r``-th unit, in
    trained order within a bank.

    Returns:
        int64 (units,): ``order[new] = trained index``.
    """
    units = len(banks)
    order = np.empty(units, np.int64)
    for p in range(lanes):
        members = np.flatnonzero(banks == p)
        order[p + lanes * np.arange(len(members))] = members
    return order
