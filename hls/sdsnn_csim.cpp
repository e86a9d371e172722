// C simulation as a shared library: the entry points sdsnn_hw/hls_csim.py calls through
// ctypes. It holds the memories and neuron parameters of every layer, runs whole
// batches of samples through sdsnn_top and hands back every layer's spikes and
// membranes at every step and the counters per sample.
#include <stdio.h>
#include <string.h>

#include "sdsnn_top.cpp"

namespace {

char error_text[512];

int fail(const char *format, int layer, long long a, long long b) {
    snprintf(error_text, sizeof error_text, format, layer, a, b);
    return 1;
}

SDSNN_LAYERS(SDSNN_HOST_STORAGE)

bool spikes_in[SDSNN_INPUTS];

void step(bool clear, bool first_step) {
    sdsnn_top(clear, first_step, spikes_in SDSNN_LAYERS(SDSNN_HOST_ARGS));
}

// One layer's memories and parameters from the exported words, refusing anything the
// configuration cannot hold (the export was made for another configuration).
template <class CFG>
int load_layer(int layer, const uint64_t *ptr, long long ptr_depth, const uint64_t *wrom,
               long long wrom_depth, long long limbs, const uint64_t *bias, long long bias_depth,
               const long long *params, typename CFG::ptr_t *ptr_mem,
               typename CFG::slot_t (*wrom_mem)[CFG::LANES], typename CFG::bias_t *bias_mem,
               sdsnn::neuron_params<CFG> &neuron) {
    if (ptr_depth != CFG::UNITS_IN + 1)
        return fail("layer %d: pointer memory holds %lld words, the configuration %lld", layer,
                    ptr_depth, CFG::UNITS_IN + 1);
    if (wrom_depth < 1 || wrom_depth > CFG::WROM_DEPTH)
        return fail("layer %d: weight memory holds %lld words, the configuration at most %lld",
                    layer, wrom_depth, CFG::WROM_DEPTH);
    if (limbs != (CFG::WORD_BITS + 63) / 64)
        return fail("layer %d: weight words of %lld limbs, the configuration's have %lld", layer,
                    limbs, (CFG::WORD_BITS + 63) / 64);
    if (bias_depth != (CFG::B_BITS ? CFG::OUT_C : 0))
        return fail("layer %d: bias memory holds %lld words, the configuration %lld", layer,
                    bias_depth, CFG::B_BITS ? CFG::OUT_C : 0);
    for (long long j = 0; j <= (long long)CFG::UNITS_IN; j++) {
        if (ptr[j] > (uint64_t)wrom_depth || (CFG::PTR_BITS < 64 && ptr[j] >> CFG::PTR_BITS))
            return fail("layer %d: pointer word %lld (%lld) does not fit the configuration",
                        layer, j, (long long)ptr[j]);
        ptr_mem[j] = ptr[j];
    }
    for (long long r = 0; r < (long long)CFG::WROM_DEPTH; r++) {
        typename CFG::word_t word = 0;
        for (long long k = 0; r < wrom_depth && k < limbs; k++) {
            const uint64_t limb = wrom[r * limbs + k];
            const int lo = 64 * k, bits = CFG::WORD_BITS - lo < 64 ? CFG::WORD_BITS - lo : 64;
            if (bits < 64 && limb >> bits)
                return fail("layer %d: weight word %lld is wider than the configuration's %lld "
                            "bits",
                            layer, r, CFG::WORD_BITS);
            word.range(lo + bits - 1, lo) = limb;
        }
        for (unsigned p = 0; p < CFG::LANES; p++) {  // slot p of the word goes to lane p
            const typename CFG::slot_t slot = word >> (p * CFG::SLOT_BITS);
            wrom_mem[r][p] = slot;
        }
    }
    bias_mem[0] = 0;
    for (long long o = 0; o < bias_depth; o++) {
        if (bias[o] >> CFG::B_BITS)
            return fail("layer %d: bias word %lld is wider than the configuration's %lld bits",
                        layer, o, CFG::B_BITS);
        ap_uint<CFG::B_BITS ? CFG::B_BITS : 2> code = bias[o];
        bias_mem[o] = code;  // two's complement reinterpretation
    }
    const long long v_min = params[2], v_max = params[3];
    const long long lowest = -(1LL << (CFG::V_BITS - 1)), highest = (1LL << (CFG::V_BITS - 1)) - 1;
    if (v_min < lowest || v_max > highest || v_min >= 0 || v_max <= 0)
        return fail("layer %d: membrane range %lld..%lld does not fit V_BITS", layer, v_min, v_max);
    if (params[0] < 1 || params[0] > v_max || params[1] < 0 || params[1] >= CFG::V_BITS)
        return fail("layer %d: threshold %lld or leak shift %lld out of range", layer, params[0],
                    params[1]);
    neuron.v_th = params[0];
    neuron.leak_shift = params[1];
    neuron.v_min = v_min;
    neuron.v_max = v_max;
    return 0;
}

#define SDSNN_CSIM_LOAD(i, CFG, FN, IN)                                                        \
    case i:                                                                                    \
        return load_layer<CFG>(i, ptr, ptr_depth, wrom, wrom_depth, limbs, bias, bias_depth,   \
                               params, l##i##_ptr, l##i##_wrom, l##i##_bias, l##i##_params);

#define SDSNN_CSIM_OUTPUTS(i, CFG, FN, IN)                                                     \
    for (unsigned n = 0; n < CFG::N_OUT; n++) {                                                \
        spikes_out[i][at * CFG::N_OUT + n] = l##i##_spikes[n];                                 \
        membranes_out[i][at * CFG::N_OUT + n] = l##i##_membranes[n].to_int64();                \
    }

#define SDSNN_CSIM_COUNTERS(i, CFG, FN, IN)                                                    \
    {                                                                                          \
        const uint64_t *c = &l##i##_counters.cycles;                                           \
        for (int k = 0; k < sdsnn::COUNTERS; k++) readings[i * sdsnn::COUNTERS + k] = c[k];    \
    }

void read_counters(uint64_t *readings) { SDSNN_LAYERS(SDSNN_CSIM_COUNTERS) }

}  // namespace

#define SDSNN_API __attribute__((visibility("default")))

extern "C" {

// The configuration the library was built for (JSON, sdsnn_hw/hls_config.py).
SDSNN_API const char *sdsnn_config(void) { return SDSNN_CONFIG_JSON; }

// Why the last call failed.
SDSNN_API const char *sdsnn_error(void) { return error_text; }

// Loads layer `layer`: pointer words, weight words (limbs of 64 bits, least significant
// first), bias codes, and params = {v_th, leak_shift, v_min, v_max}; 0 on success.
SDSNN_API int sdsnn_load(int layer, const uint64_t *ptr, long long ptr_depth, const uint64_t *wrom,
               long long wrom_depth, long long limbs, const uint64_t *bias, long long bias_depth,
               const long long *params) {
    switch (layer) {
        SDSNN_LAYERS(SDSNN_CSIM_LOAD)
        default:
            return fail("layer %d: the configuration has %lld layers%.0lld", layer,
                        SDSNN_LAYER_COUNT, 0);
    }
}

// The clear pass after reset (run after loading, before the first sample); zeroes the
// counters.
SDSNN_API void sdsnn_clear(void) {
    memset(spikes_in, 0, sizeof spikes_in);
    step(true, false);
#define SDSNN_CSIM_ZERO(i, CFG, FN, IN) memset(&l##i##_counters, 0, sizeof l##i##_counters);
    SDSNN_LAYERS(SDSNN_CSIM_ZERO)
}

// Runs `samples` samples of `steps` steps: spikes (samples, steps, SDSNN_INPUTS) of 0/1;
// per layer l, spikes_out[l] and membranes_out[l] (samples, steps, N_OUT); counters
// (samples, layers, 8), each the difference over the sample.
SDSNN_API void sdsnn_run(const uint8_t *spikes, long long samples, long long steps,
                         uint8_t *const *spikes_out, int64_t *const *membranes_out,
                         uint64_t *counters) {
    const int readings = SDSNN_LAYER_COUNT * sdsnn::COUNTERS;
    uint64_t before[readings], after[readings];
    for (long long s = 0; s < samples; s++) {
        read_counters(before);
        for (long long t = 0; t < steps; t++) {
            const long long at = s * steps + t;
            for (int j = 0; j < SDSNN_INPUTS; j++)
                spikes_in[j] = spikes[at * SDSNN_INPUTS + j] != 0;
            step(false, t == 0);
            SDSNN_LAYERS(SDSNN_CSIM_OUTPUTS)
        }
        read_counters(after);
        for (int k = 0; k < readings; k++) counters[s * readings + k] = after[k] - before[k];
    }
}

}  // extern "C"
