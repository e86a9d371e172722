// Fully connected layer: the defaults a generated configuration derives from
// (hls4ml style: a configuration is a struct deriving from these, see
// sdsnn_hw/hls_config.py). An fc layer is the one-position case of sdsnn_layer.h:
// its input units are the pooled inputs (c, y, x) in C order, its output map is
// OUT_C x 1 x 1, its kernels one weight.
#ifndef SDSNN_FC_H
#define SDSNN_FC_H

#include "sdsnn_layer.h"

namespace sdsnn {

struct fc_config {
    typedef layouts::dense_rows layout;  // weight memory layout
    // and the types a configuration defines: ptr_t, word_t (a weight memory word),
    // slot_t (one lane's slot), bias_t, acc_t, v_t
    static const unsigned KIND = KIND_FC;
    static const unsigned LANES = 1;         // P: 1, 2, 4 or 8
    static const unsigned IN_C = 1;          // input map before pooling (flat: n_in x 1 x 1)
    static const unsigned IN_H = 1;
    static const unsigned IN_W = 1;
    static const unsigned POOL = 1;          // k of the AP<k> folded into the input
    static const unsigned UNITS_IN = 1;      // pointer entries - 1: IN_C * IN_H/POOL * IN_W/POOL
    static const unsigned N_RAW = 1;         // input spikes, IN_C * IN_H * IN_W
    static const unsigned OUT_C = 1;         // neurons
    static const unsigned OUT_H = 1;
    static const unsigned OUT_W = 1;
    static const unsigned N_OUT = 1;         // OUT_C * OUT_H * OUT_W
    static const unsigned KERNEL = 1;
    static const unsigned ROWS = 1;          // ceil(OUT_C / LANES)
    static const unsigned DEPTH = 1;         // bank depth, ROWS * OUT_H * OUT_W
    static const unsigned W_BITS = 8;        // weight width
    static const unsigned TAP_BITS = 0;      // tap index field of a tap_list slot (else 0)
    // slot bits below the bank row: K * K * W_BITS (tap_list: TAP_BITS + W_BITS)
    static const unsigned KERNEL_BITS = 8;
    static const unsigned ADDR_BITS = 0;     // bank row field of a slot (list layouts)
    static const unsigned SLOT_BITS = 8;     // KERNEL_BITS + ADDR_BITS
    static const unsigned WORD_BITS = 8;     // LANES * SLOT_BITS
    static const unsigned B_BITS = 0;        // bias width, 0: no bias
    static const unsigned BIAS_DEPTH = 1;    // OUT_C with a bias, else 1 (an unused word)
    static const unsigned V_BITS = 16;       // stored membrane width
    static const unsigned ACC_BITS = 16;     // I + b, never overflows
    static const unsigned SUM_BITS = 17;     // max(V_BITS, ACC_BITS) + 1
    static const unsigned PTR_BITS = 1;      // pointer word width
    static const unsigned WROM_DEPTH = 1;    // weight memory words
};

// Runs one time step of an fc layer (or its clear pass); see layer_step.
template <class CFG>
void fc_layer(bool clear, bool first_step, const bool spikes_in[CFG::N_RAW],
              const typename CFG::ptr_t ptr[CFG::UNITS_IN + 1],
              const typename CFG::slot_t wrom[CFG::WROM_DEPTH][CFG::LANES],
              const typename CFG::bias_t bias[CFG::BIAS_DEPTH], const neuron_params<CFG> &params,
              bool spikes_out[CFG::N_OUT], typename CFG::v_t membranes_out[CFG::N_OUT],
              counters &count) {
#pragma HLS INLINE off
    static_assert(CFG::KIND == KIND_FC && CFG::KERNEL == 1 && CFG::OUT_H == 1 && CFG::OUT_W == 1,
                  "fc_layer needs an fc configuration");
    layer_step<CFG>(clear, first_step, spikes_in, ptr, wrom, bias, params, spikes_out,
                    membranes_out, count);
}

}  // namespace sdsnn

#endif
