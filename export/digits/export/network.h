/* sdsnn-hw network: the fields of manifest.json as macros (hardware contract 6). */
#ifndef SDSNN_NETWORK_H
#define SDSNN_NETWORK_H

#include <stdint.h>
#include "l0_ptr.h"
#include "l0_weights.h"
#include "l1_ptr.h"
#include "l1_weights.h"

#define SDSNN_MANIFEST_VERSION 5
#define SDSNN_GENERATOR "sdsnn-hw 0.1.0"
#define SDSNN_INPUTS 64
#define SDSNN_INPUT_CHANNELS 1
#define SDSNN_INPUT_HEIGHT 8
#define SDSNN_INPUT_WIDTH 8
#define SDSNN_CLASSES 10
#define SDSNN_TIME_STEPS 12
#define SDSNN_LANES 8
#define SDSNN_LAYERS 2
#define SDSNN_READOUT "spike_count_argmax"
#define SDSNN_SOURCE_SHA256 "6052cb97340abf101330a10f93205ad1817715b749d41a45cabc1e9ffb2d6521"

/* layer l0 */
#define SDSNN_L0_NAME "l0"
#define SDSNN_L0_KIND "fc"
#define SDSNN_L0_N_IN 64
#define SDSNN_L0_N_OUT 74
#define SDSNN_L0_IN_CHANNELS 1
#define SDSNN_L0_IN_HEIGHT 8
#define SDSNN_L0_IN_WIDTH 8
#define SDSNN_L0_POOL 1
#define SDSNN_L0_OUT_CHANNELS 74
#define SDSNN_L0_OUT_HEIGHT 1
#define SDSNN_L0_OUT_WIDTH 1
#define SDSNN_L0_WEIGHT_BITS 6
#define SDSNN_L0_BIAS_BITS 0
#define SDSNN_L0_V_BITS 16
#define SDSNN_L0_ACC_BITS 11
#define SDSNN_L0_LEAK_SHIFT 2
#define SDSNN_L0_V_TH 88
#define SDSNN_L0_LAYOUT "csr_fanout"
#define SDSNN_L0_NNZ 3717
#define SDSNN_L0_BANK_DEPTH 10
#define SDSNN_L0_ADDR_BITS 4
#define SDSNN_L0_SLOT_BITS 10
#define SDSNN_L0_PTR_BITS 9
#define SDSNN_L0_WEIGHT_SCALE 0.005693776533007622
#define SDSNN_L0_LAYOUT_BITS_DENSE_ROWS 31370
#define SDSNN_L0_LAYOUT_BITS_CSR_FANOUT 40825
static const uint32_t sdsnn_l0_neuron_index[SDSNN_L0_N_OUT] = {15u, 31u, 0u, 2u, 3u, 20u, 4u, 9u, 34u, 41u, 17u, 21u, 19u, 28u, 38u, 13u, 40u, 43u, 26u, 45u, 24u, 29u, 50u, 14u, 53u, 46u, 32u, 55u, 36u, 37u, 61u, 35u, 65u, 54u, 58u, 56u, 52u, 47u, 63u, 39u, 82u, 66u, 67u, 64u, 70u, 71u, 73u, 74u, 91u, 87u, 79u, 68u, 86u, 95u, 89u, 90u, 109u, 97u, 83u, 85u, 99u, 101u, 105u, 108u, 114u, 111u, 96u, 115u, 118u, 120u, 121u, 123u, 125u, 126u};

/* layer l1 */
#define SDSNN_L1_NAME "l1"
#define SDSNN_L1_KIND "fc"
#define SDSNN_L1_N_IN 74
#define SDSNN_L1_N_OUT 10
#define SDSNN_L1_IN_CHANNELS 74
#define SDSNN_L1_IN_HEIGHT 1
#define SDSNN_L1_IN_WIDTH 1
#define SDSNN_L1_POOL 1
#define SDSNN_L1_OUT_CHANNELS 10
#define SDSNN_L1_OUT_HEIGHT 1
#define SDSNN_L1_OUT_WIDTH 1
#define SDSNN_L1_WEIGHT_BITS 6
#define SDSNN_L1_BIAS_BITS 0
#define SDSNN_L1_V_BITS 16
#define SDSNN_L1_ACC_BITS 11
#define SDSNN_L1_LEAK_SHIFT 2
#define SDSNN_L1_V_TH 128
#define SDSNN_L1_LAYOUT "dense_rows"
#define SDSNN_L1_NNZ 732
#define SDSNN_L1_BANK_DEPTH 2
#define SDSNN_L1_ADDR_BITS 0
#define SDSNN_L1_SLOT_BITS 6
#define SDSNN_L1_PTR_BITS 8
#define SDSNN_L1_WEIGHT_SCALE 0.0038958494551479816
#define SDSNN_L1_LAYOUT_BITS_DENSE_ROWS 7704
#define SDSNN_L1_LAYOUT_BITS_CSR_FANOUT 8888
static const uint32_t sdsnn_l1_neuron_index[SDSNN_L1_N_OUT] = {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u};

#endif /* SDSNN_NETWORK_H */
