// Number types, neuron parameters and counters of the sdsnn-hw HLS core.
//
// Numbers follow docs/hardware-contract.md section 2: weights, biases, currents and
// membranes are two's complement ap_int<W> of the exported widths, so this C++ is
// bit-accurate to what Vitis HLS synthesizes from it.
#ifndef SDSNN_TYPES_H
#define SDSNN_TYPES_H

#include <stdint.h>

// The vendored Xilinx headers trip g++ warnings after inlining (their constructors
// clear unused bits before the value is set; a bit loop gcc cannot bound); neither is
// a bug in this core, and -Werror stays on for everything else.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#include <ap_int.h>
#pragma GCC diagnostic pop

namespace sdsnn {

static const unsigned KIND_FC = 0;
static const unsigned KIND_CONV = 1;

// Runtime neuron configuration of one layer (s_axilite registers in hardware): one
// build serves every threshold, leak and membrane width up to the configured V_BITS.
template <class CFG>
struct neuron_params {
    ap_int<CFG::V_BITS> v_th;        // fire on v >= v_th
    ap_uint<6> leak_shift;           // u >>> leak_shift
    ap_int<CFG::V_BITS> v_min;       // saturation bounds of the layer's real V_BITS
    ap_int<CFG::V_BITS> v_max;
};

// Activity counters, free running since the clear pass (docs/microarchitecture.md
// section 5); cycles is this core's loop model (trip counts x II plus pipeline depths).
struct counters {
    uint64_t cycles;
    uint64_t synops;
    uint64_t ptr_reads;
    uint64_t wrom_reads;
    uint64_t acc_reads;
    uint64_t acc_writes;
    uint64_t mem_reads;
    uint64_t mem_writes;
};

static const int COUNTERS = 8;

}  // namespace sdsnn

#endif
