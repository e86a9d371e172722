// The network: layers chained within a time step (docs/hardware-contract.md section 4).
//
// The generated configuration header (sdsnn_config.h, sdsnn_hw/hls_config.py) defines a
// struct per layer and the list SDSNN_LAYERS(X), one X(index, config, layer function,
// input spikes) per layer in order; everything below expands from that list, so
// nothing here changes per model.
#ifndef SDSNN_NETWORK_H
#define SDSNN_NETWORK_H

#include "sdsnn_config.h"  // includes sdsnn_conv.h and sdsnn_fc.h after its AP_INT_MAX_W

// Per layer: pointer, weight and bias memories (read-only ports), neuron parameters,
// the step's output spikes and membranes (the update stream, for observation) and the
// counters.
#define SDSNN_TOP_PORTS(i, CFG, FN, IN)                                                        \
    , const CFG::ptr_t l##i##_ptr[CFG::UNITS_IN + 1],                                          \
        const CFG::slot_t l##i##_wrom[CFG::WROM_DEPTH][CFG::LANES],                            \
        const CFG::bias_t l##i##_bias[CFG::BIAS_DEPTH],                                        \
        const sdsnn::neuron_params<CFG> &l##i##_params, bool l##i##_spikes[CFG::N_OUT],        \
        CFG::v_t l##i##_membranes[CFG::N_OUT], sdsnn::counters &l##i##_counters

#define SDSNN_TOP_PRAGMAS(i, CFG, FN, IN)                                                      \
    SDSNN_PRAGMA(HLS INTERFACE mode = bram port = l##i##_wrom storage_type = rom_1p)           \
    SDSNN_PRAGMA(HLS ARRAY_PARTITION variable = l##i##_wrom dim = 2 complete)                  \
    SDSNN_PRAGMA(HLS INTERFACE mode = ap_memory port = l##i##_ptr storage_type = rom_2p)       \
    SDSNN_PRAGMA(HLS INTERFACE mode = s_axilite port = l##i##_params)

#define SDSNN_TOP_CALL(i, CFG, FN, IN)                                                         \
    sdsnn::FN<CFG>(clear, first_step, IN, l##i##_ptr, l##i##_wrom, l##i##_bias, l##i##_params, \
                   l##i##_spikes, l##i##_membranes, l##i##_counters);

#define SDSNN_PRAGMA(x) _Pragma(#x)

// A caller's storage behind every port of sdsnn_top (the C simulation library and the
// testbench), and the argument list that passes it.
#define SDSNN_HOST_STORAGE(i, CFG, FN, IN)                                                     \
    CFG::ptr_t l##i##_ptr[CFG::UNITS_IN + 1];                                                  \
    CFG::slot_t l##i##_wrom[CFG::WROM_DEPTH][CFG::LANES];                                      \
    CFG::bias_t l##i##_bias[CFG::BIAS_DEPTH];                                                  \
    sdsnn::neuron_params<CFG> l##i##_params;                                                   \
    bool l##i##_spikes[CFG::N_OUT];                                                            \
    CFG::v_t l##i##_membranes[CFG::N_OUT];                                                     \
    sdsnn::counters l##i##_counters;

#define SDSNN_HOST_ARGS(i, CFG, FN, IN)                                                        \
    , l##i##_ptr, l##i##_wrom, l##i##_bias, l##i##_params, l##i##_spikes, l##i##_membranes,    \
        l##i##_counters

// One time step of the whole network (clear: the clear pass after reset instead).
void sdsnn_top(bool clear, bool first_step,
               const bool spikes_in[SDSNN_INPUTS] SDSNN_LAYERS(SDSNN_TOP_PORTS));

#endif
