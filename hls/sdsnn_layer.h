// One layer of integer LIF neurons, event driven, LANES lanes: the template both layer
// kinds instantiate (sdsnn_fc.h, sdsnn_conv.h), mirroring rtl_sim/hdl/lif_core.sv.
//
// Output unit o (an fc neuron, a conv output channel) lives in bank o % LANES at row
// o / LANES; neuron (o, y, x) of a conv map at bank address (o / LANES) * HW + y * OUT_W
// + x, so a bank is DEPTH = ROWS * HW words deep. One time step runs three pipelined
// loops (docs/microarchitecture.md gives the RTL's cycle by cycle):
//   SCAN    the input map in C order, QUEUE_BITS spikes per iteration, masked to the
//           inputs whose unit owns weight words; words holding a spike are listed
//   ISSUE   the listed words pop their spikes, lowest first (a QUEUE_BITS priority
//           encoder, as in the RTL's spike queue): each is an event of its unit, at its
//           pooled position, so behind AP<k> every spike of a window is its own event;
//           one weight word per iteration, held for one iteration per kernel tap that
//           lands inside the map (fc: one; tap_list: one, each lane on its slot's tap,
//           idle when it lands outside); its LANES slots add into LANES banks
//   UPDATE  one bank address per iteration, LANES neurons: leak, add, saturate, fire,
//           reset; the accumulator restarts at the unit's bias
// The contract's arithmetic (docs/hardware-contract.md section 3) is exact at these
// widths: ACC_BITS holds every I + b, the sum is formed at max(V_BITS, ACC_BITS) + 1.
#ifndef SDSNN_LAYER_H
#define SDSNN_LAYER_H

#include "sdsnn_layouts.h"
#include "sdsnn_types.h"

namespace sdsnn {

// Pipeline depths of the three loops: with II = 1 a loop of N iterations takes
// N + DEPTH - 1 cycles plus one to enter, so a layer step is modelled as
//   cycles = ceil(N_RAW / QUEUE_BITS) + WORD_TAPS + DEPTH
//            + SCAN_DEPTH + ISSUE_DEPTH + UPDATE_DEPTH
// (sdsnn_hw/hls_latency.py reads QUEUE_BITS and the three depths from this file).
enum {
    QUEUE_BITS = 32,   // spike queue word: the widest priority encoder, as in the RTL
    SCAN_DEPTH = 2,    // spike word and mask read, word list write
    ISSUE_DEPTH = 6,   // queue pop, pointer read, weight read, slot decode, accumulator
                       // read, add and write
    UPDATE_DEPTH = 4,  // membrane and accumulator read, leak and add, saturate and fire, write
};

// Position of the lowest set bit of a non-zero queue word (a priority encoder).
inline unsigned lowest_set(const ap_uint<QUEUE_BITS> &bits) {
#pragma HLS INLINE
    unsigned low = 0;
    for (int i = QUEUE_BITS - 1; i >= 0; i--) {
#pragma HLS UNROLL
        if (bits[i]) low = unsigned(i);
    }
    return low;
}

template <class CFG>
typename CFG::bias_t unit_bias(const typename CFG::bias_t bias[CFG::BIAS_DEPTH], unsigned o) {
#pragma HLS INLINE
    return (CFG::B_BITS > 0 && o < CFG::OUT_C) ? bias[o] : typename CFG::bias_t(0);
}

// The input unit of input position r (C order of the map before pooling): the input
// channel (conv), or the pooled input (c, y / POOL, x / POOL) (fc).
template <class CFG>
unsigned input_unit(unsigned r) {
#pragma HLS INLINE
    const unsigned c = r / (CFG::IN_H * CFG::IN_W);
    if (CFG::KIND == KIND_CONV) return c;
    const unsigned y = r / CFG::IN_W % CFG::IN_H / CFG::POOL, x = r % CFG::IN_W / CFG::POOL;
    return (c * (CFG::IN_H / CFG::POOL) + y) * (CFG::IN_W / CFG::POOL) + x;
}

// Compile-time checks that a generated configuration is consistent.
template <class CFG>
struct check_config {
    static_assert(CFG::LANES == 1 || CFG::LANES == 2 || CFG::LANES == 4 || CFG::LANES == 8,
                  "LANES must be 1, 2, 4 or 8");
    static_assert(CFG::layout::KIND == CFG::KIND, "the layout stores the other layer kind");
    static_assert(CFG::IN_H % CFG::POOL == 0 && CFG::IN_W % CFG::POOL == 0,
                  "the input map must be a multiple of the pooling window");
    static_assert(CFG::KERNEL % 2 == 1, "the kernel must be odd");
    static_assert(CFG::ROWS == (CFG::OUT_C + CFG::LANES - 1) / CFG::LANES, "ROWS");
    static_assert(CFG::DEPTH == CFG::ROWS * CFG::OUT_H * CFG::OUT_W, "DEPTH");
    static_assert(CFG::KERNEL_BITS == (CFG::layout::PER_TAP
                                           ? CFG::TAP_BITS + CFG::W_BITS
                                           : CFG::KERNEL * CFG::KERNEL * CFG::W_BITS),
                  "KERNEL_BITS");
    static_assert(CFG::SLOT_BITS == CFG::KERNEL_BITS + CFG::ADDR_BITS, "SLOT_BITS");
    static_assert(CFG::WORD_BITS == CFG::LANES * CFG::SLOT_BITS, "WORD_BITS");
    static_assert(CFG::layout::ADDRESSED || CFG::ADDR_BITS == 0, "a dense layout has no address");
    static const bool ok = true;
};

// One time step of one layer, or (clear) the clear pass after reset: membranes to 0,
// accumulators to the biases, and the pointer memory scanned for units that own words.
template <class CFG>
void layer_step(bool clear, bool first_step, const bool spikes_in[CFG::N_RAW],
                const typename CFG::ptr_t ptr[CFG::UNITS_IN + 1],
                const typename CFG::slot_t wrom[CFG::WROM_DEPTH][CFG::LANES],
                const typename CFG::bias_t bias[CFG::BIAS_DEPTH],
                const neuron_params<CFG> &params, bool spikes_out[CFG::N_OUT],
                typename CFG::v_t membranes_out[CFG::N_OUT], counters &count) {
    static_assert(check_config<CFG>::ok, "configuration");
    typedef typename CFG::acc_t acc_t;
    typedef typename CFG::v_t v_t;
    const int PAD = CFG::KERNEL / 2;
    const unsigned HW = CFG::OUT_H * CFG::OUT_W;

    static acc_t acc[CFG::LANES][CFG::DEPTH];
    static v_t mem[CFG::LANES][CFG::DEPTH];
    static bool owns_words[CFG::N_RAW];  // per input position: its unit owns weight words
    const unsigned WORDS = (CFG::N_RAW + QUEUE_BITS - 1) / QUEUE_BITS;
    static ap_uint<QUEUE_BITS> listed_bits[WORDS];  // queue words holding an event
    static unsigned listed_word[WORDS];              // and their index
#pragma HLS ARRAY_PARTITION variable = acc dim = 1 complete
#pragma HLS ARRAY_PARTITION variable = mem dim = 1 complete
#pragma HLS BIND_STORAGE variable = acc type = ram_s2p impl = bram
#pragma HLS BIND_STORAGE variable = mem type = ram_s2p impl = bram
#pragma HLS BIND_STORAGE variable = listed_bits type = ram_s2p impl = bram
    // QUEUE_BITS consecutive spikes and mask bits per cycle
#pragma HLS ARRAY_PARTITION variable = spikes_in cyclic factor = QUEUE_BITS
#pragma HLS ARRAY_PARTITION variable = owns_words cyclic factor = QUEUE_BITS
    // the weight memory's word is LANES slots side by side: one slot bank per lane
#pragma HLS ARRAY_PARTITION variable = wrom dim = 2 complete

    if (clear) {
    CLEAR_BANKS:
        for (unsigned a = 0, row = 0, pos = 0; a < CFG::DEPTH; a++) {
#pragma HLS PIPELINE II = 1
            for (unsigned p = 0; p < CFG::LANES; p++) {
#pragma HLS UNROLL
                mem[p][a] = 0;
                acc[p][a] = unit_bias<CFG>(bias, row * CFG::LANES + p);
            }
            if (++pos == HW) {
                pos = 0;
                row++;
            }
        }
    CLEAR_MASK:
        for (unsigned r = 0; r < CFG::N_RAW; r++) {
#pragma HLS PIPELINE II = 1
            const unsigned unit = input_unit<CFG>(r);
            owns_words[r] = ptr[unit + 1] != ptr[unit];
        }
        return;
    }

    unsigned words = 0;
SCAN:
    for (unsigned g = 0; g < WORDS; g++) {
#pragma HLS PIPELINE II = 1
        ap_uint<QUEUE_BITS> bits = 0;
        for (unsigned i = 0; i < QUEUE_BITS; i++) {
#pragma HLS UNROLL
            const unsigned r = g * QUEUE_BITS + i;
            if (r < CFG::N_RAW && spikes_in[r] && owns_words[r]) bits[i] = 1;
        }
        if (bits != 0) {
            listed_bits[words] = bits;
            listed_word[words] = g;
            words++;
        }
    }

    // ISSUE: one (word, in-bounds tap) per iteration; a new event is popped and its
    // pointers fetched in the iteration that issues its first word, so no iteration is
    // lost between events
    unsigned next_word = 0, cur_word = 0, addr = 0, end = 0, first = 0, y = 0, x = 0;
    ap_uint<QUEUE_BITS> cur = 0;  // the events of the current queue word not yet popped
    int dy = 0, dx = 0, dy_lo = 0, dy_hi = 0, dx_lo = 0, dx_hi = 0;
    bool active = false;
    typename CFG::slot_t word[CFG::LANES];
#pragma HLS ARRAY_PARTITION variable = word complete
    uint64_t issued = 0;
ISSUE:
    while (active || cur != 0 || next_word < words) {
#pragma HLS PIPELINE II = 1
#pragma HLS DEPENDENCE variable = acc inter false
        if (!active) {
            if (cur == 0) {
                cur = listed_bits[next_word];
                cur_word = listed_word[next_word];
                next_word++;
            }
            const unsigned low = lowest_set(cur);
            cur[low] = 0;
            const unsigned r = cur_word * QUEUE_BITS + low;
            const unsigned unit = input_unit<CFG>(r);
            y = CFG::KIND == KIND_CONV ? r / CFG::IN_W % CFG::IN_H / CFG::POOL : 0;
            x = CFG::KIND == KIND_CONV ? r % CFG::IN_W / CFG::POOL : 0;
            addr = ptr[unit].to_uint();
            end = ptr[unit + 1].to_uint();
            first = addr;
            count.ptr_reads += 2;
            // taps whose target (y + PAD - dy, x + PAD - dx) lies inside the map
            dy_lo = int(y) + PAD - int(CFG::OUT_H - 1) > 0 ? int(y) + PAD - int(CFG::OUT_H - 1) : 0;
            dy_hi = int(y) + PAD < int(CFG::KERNEL) - 1 ? int(y) + PAD : int(CFG::KERNEL) - 1;
            dx_lo = int(x) + PAD - int(CFG::OUT_W - 1) > 0 ? int(x) + PAD - int(CFG::OUT_W - 1) : 0;
            dx_hi = int(x) + PAD < int(CFG::KERNEL) - 1 ? int(x) + PAD : int(CFG::KERNEL) - 1;
            if (CFG::layout::PER_TAP) {  // one iteration per word, lanes check their taps
                dy_lo = dy_hi = dx_lo = dx_hi = 0;
            }
            dy = dy_lo;
            dx = dx_lo;
            active = true;
        }
        if (dy == dy_lo && dx == dx_lo) {  // a word is read once and held for its taps
            for (unsigned p = 0; p < CFG::LANES; p++) {
#pragma HLS UNROLL
                word[p] = wrom[addr][p];
            }
            count.wrom_reads++;
        }
        const unsigned tap = unsigned(dy) * CFG::KERNEL + unsigned(dx);
    LANES:
        for (unsigned p = 0; p < CFG::LANES; p++) {
#pragma HLS UNROLL
            const lane_op<CFG> op =
                CFG::layout::template decode<CFG>(word[p], addr - first, tap);
            // the target (y + PAD - ty, x + PAD - tx) of the lane's tap
            const int ty = int(op.tap / CFG::KERNEL), tx = int(op.tap % CFG::KERNEL);
            const int oy = int(y) + PAD - ty, ox = int(x) + PAD - tx;
            const bool inside = oy >= 0 && oy < int(CFG::OUT_H) && ox >= 0 && ox < int(CFG::OUT_W);
            if (op.w != 0 && inside) {
                const unsigned a = op.row * HW + unsigned(oy) * CFG::OUT_W + unsigned(ox);
                acc[p][a] = acc[p][a] + op.w;
                count.synops++;
                count.acc_reads++;
                count.acc_writes++;
            }
        }
        issued++;
        if (dx < dx_hi) {
            dx++;
        } else {
            dx = dx_lo;
            if (dy < dy_hi) {
                dy++;
            } else {
                dy = dy_lo;
                if (++addr == end) active = false;
            }
        }
    }

    // UPDATE: LANES neurons per bank address
    const v_t leak_zero = 0;
UPDATE:
    for (unsigned a = 0, row = 0, pos = 0; a < CFG::DEPTH; a++) {
#pragma HLS PIPELINE II = 1
        for (unsigned p = 0; p < CFG::LANES; p++) {
#pragma HLS UNROLL
            const unsigned o = row * CFG::LANES + p;
            const v_t leaked = first_step ? leak_zero : v_t(mem[p][a] >> params.leak_shift);
            ap_int<CFG::SUM_BITS> v = leaked;
            v += acc[p][a];
            if (v > params.v_max) v = params.v_max;
            if (v < params.v_min) v = params.v_min;
            const bool fire = v >= params.v_th;
            const v_t u = fire ? leak_zero : v_t(v);
            mem[p][a] = u;
            acc[p][a] = unit_bias<CFG>(bias, o);
            if (o < CFG::OUT_C) {
                spikes_out[o * HW + pos] = fire;
                membranes_out[o * HW + pos] = u;
            }
        }
        if (++pos == HW) {
            pos = 0;
            row++;
        }
    }
    count.mem_reads += uint64_t(CFG::LANES) * CFG::DEPTH;
    count.mem_writes += uint64_t(CFG::LANES) * CFG::DEPTH;
    count.acc_reads += uint64_t(CFG::LANES) * CFG::DEPTH;
    count.acc_writes += uint64_t(CFG::LANES) * CFG::DEPTH;
    count.cycles += uint64_t(WORDS) + issued + CFG::DEPTH + SCAN_DEPTH + ISSUE_DEPTH + UPDATE_DEPTH;
}

}  // namespace sdsnn

#endif
