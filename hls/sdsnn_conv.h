// K x K 'same' convolution layer, stride 1: the defaults a generated configuration
// derives from. Its input units are the input channels, an event's position the pooled
// (y, x); lanes run over output channels (docs/hardware-contract.md section 3.3).
#ifndef SDSNN_CONV_H
#define SDSNN_CONV_H

#include "sdsnn_fc.h"

namespace sdsnn {

struct conv_config : fc_config {
    typedef layouts::dense_kernels layout;
    static const unsigned KIND = KIND_CONV;
    static const unsigned UNITS_IN = 1;      // IN_C
    static const unsigned OUT_H = 1;         // IN_H / POOL
    static const unsigned OUT_W = 1;         // IN_W / POOL
    static const unsigned KERNEL = 3;        // K, odd; padding K / 2
    // K * K * W_BITS, tap (dy, dx) at bits (dy * K + dx) * W_BITS
    static const unsigned KERNEL_BITS = 72;
    static const unsigned SLOT_BITS = 72;
    static const unsigned WORD_BITS = 72;
};

// Runs one time step of a conv layer (or its clear pass); see layer_step.
template <class CFG>
void conv_layer(bool clear, bool first_step, const bool spikes_in[CFG::N_RAW],
                const typename CFG::ptr_t ptr[CFG::UNITS_IN + 1],
                const typename CFG::slot_t wrom[CFG::WROM_DEPTH][CFG::LANES],
                const typename CFG::bias_t bias[CFG::BIAS_DEPTH],
                const neuron_params<CFG> &params, bool spikes_out[CFG::N_OUT],
                typename CFG::v_t membranes_out[CFG::N_OUT], counters &count) {
#pragma HLS INLINE off
    static_assert(CFG::KIND == KIND_CONV && CFG::UNITS_IN == CFG::IN_C &&
                      CFG::OUT_H == CFG::IN_H / CFG::POOL && CFG::OUT_W == CFG::IN_W / CFG::POOL,
                  "conv_layer needs a conv configuration");
    layer_step<CFG>(clear, first_step, spikes_in, ptr, wrom, bias, params, spikes_out,
                    membranes_out, count);
}

}  // namespace sdsnn

#endif
