// Weight memory layouts (docs/hardware-contract.md section 5), one decoder each.
//
// A weight word holds LANES slots, slot p in bits [p*SLOT_BITS +: SLOT_BITS] (the core
// keeps the memory as LANES slot banks, CFG::slot_t wrom[WROM_DEPTH][LANES]). Below a
// list layout's bank row field (the top ADDR_BITS) a slot holds KERNEL_BITS: a kernel
// of K*K weights (tap t in bits [t*W_BITS +: W_BITS]), or in tap_list one weight (low
// W_BITS) and its tap index above it. A decoder turns slot p of word r (counted from
// the input unit's first word), at kernel tap `tap` of the word's iteration, into the
// bank row, the tap and the weight a lane adds; PER_TAP says whether a word is held
// for each in-bounds tap (kernel layouts, fc) or issued once with every lane on its
// own tap (tap_list). Adding a layout is adding one struct here, named as in
// sdsnn_hw/layouts.py (the generated configuration names it).
#ifndef SDSNN_LAYOUTS_H
#define SDSNN_LAYOUTS_H

#include "sdsnn_types.h"

namespace sdsnn {

// What one lane does with its slot in one issue iteration (w == 0: nothing).
template <class CFG>
struct lane_op {
    unsigned row;
    unsigned tap;
    ap_int<CFG::W_BITS> w;
};

// Weight field `index` of a slot, sign-extended from W_BITS.
template <class CFG>
ap_int<CFG::W_BITS> slot_weight(const typename CFG::slot_t &slot, unsigned index) {
#pragma HLS INLINE
    const ap_int<CFG::W_BITS> w = slot >> (index * CFG::W_BITS);  // low W_BITS, two's complement
    return w;
}

// The bank row field above KERNEL_BITS.
template <class CFG>
unsigned slot_row(const typename CFG::slot_t &slot) {
#pragma HLS INLINE
    return (slot >> CFG::KERNEL_BITS).to_uint();
}

namespace layouts {

// dense_rows / dense_kernels: an input unit with a non-zero weight owns one word per
// bank row; slot p of word r is the kernel of unit r*LANES + p.
struct dense_kernels {
    static const unsigned KIND = KIND_CONV;
    static const bool ADDRESSED = false;
    static const bool PER_TAP = false;
    template <class CFG>
    static lane_op<CFG> decode(const typename CFG::slot_t &slot, unsigned r, unsigned tap) {
        lane_op<CFG> op = {r, tap, slot_weight<CFG>(slot, tap)};
        return op;
    }
};
struct dense_rows : dense_kernels {
    static const unsigned KIND = KIND_FC;
};

// csr_fanout / kernel_list: slot p of word r holds {row, kernel} of the r-th non-zero
// kernel of the input unit in bank p.
struct kernel_list {
    static const unsigned KIND = KIND_CONV;
    static const bool ADDRESSED = true;
    static const bool PER_TAP = false;
    template <class CFG>
    static lane_op<CFG> decode(const typename CFG::slot_t &slot, unsigned r, unsigned tap) {
        (void)r;
        lane_op<CFG> op = {slot_row<CFG>(slot), tap, slot_weight<CFG>(slot, tap)};
        return op;
    }
};
struct csr_fanout : kernel_list {
    static const unsigned KIND = KIND_FC;
};

// tap_list: slot p of word r holds {row, tap, weight} of the r-th non-zero weight of
// the input channel in bank p; the word is issued once, each lane on its own tap.
struct tap_list {
    static const unsigned KIND = KIND_CONV;
    static const bool ADDRESSED = true;
    static const bool PER_TAP = true;
    template <class CFG>
    static lane_op<CFG> decode(const typename CFG::slot_t &slot, unsigned r, unsigned tap) {
        (void)r;
        (void)tap;
        const unsigned t = ap_uint<CFG::TAP_BITS>(slot >> CFG::W_BITS).to_uint();
        lane_op<CFG> op = {slot_row<CFG>(slot), t, slot_weight<CFG>(slot, 0)};
        return op;
    }
};

}  // namespace layouts
}  // namespace sdsnn

#endif
