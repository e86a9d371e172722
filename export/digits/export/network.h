/* sdsnn-hw network: the fields of manifest.json as macros (hardware contract 6). */
#ifndef SDSNN_NETWORK_H
#define SDSNN_NETWORK_H

#include <stdint.h>
#include "l0_ptr.h"
#include "l0_weights.h"
#include "l1_ptr.h"
#include "l1_weights.h"

#define SDSNN_MANIFEST_VERSION 4
#define SDSNN_GENERATOR "sdsnn-hw 0.1.0"
#define SDSNN_INPUTS 64
#define SDSNN_INPUT_CHANNELS 64
#define SDSNN_INPUT_HEIGHT 1
#define SDSNN_INPUT_WIDTH 1
#define SDSNN_CLASSES 10
#define SDSNN_TIME_STEPS 12
#define SDSNN_LANES 8
#define SDSNN_LAYERS 2
#define SDSNN_READOUT "spike_count_argmax"
#define SDSNN_SOURCE_SHA256 "04d06ec536888925028edac29c4aac5d4955ef5911a90cd762b34e9e1ece3b33"

/* layer l0 */
#define SDSNN_L0_NAME "l0"
#define SDSNN_L0_KIND "fc"
#define SDSNN_L0_N_IN 64
#define SDSNN_L0_N_OUT 59
#define SDSNN_L0_IN_CHANNELS 64
#define SDSNN_L0_IN_HEIGHT 1
#define SDSNN_L0_IN_WIDTH 1
#define SDSNN_L0_POOL 1
#define SDSNN_L0_OUT_CHANNELS 59
#define SDSNN_L0_OUT_HEIGHT 1
#define SDSNN_L0_OUT_WIDTH 1
#define SDSNN_L0_WEIGHT_BITS 6
#define SDSNN_L0_BIAS_BITS 0
#define SDSNN_L0_V_BITS 16
#define SDSNN_L0_ACC_BITS 11
#define SDSNN_L0_LEAK_SHIFT 2
#define SDSNN_L0_V_TH 107
#define SDSNN_L0_LAYOUT "dense_rows"
#define SDSNN_L0_NNZ 3662
#define SDSNN_L0_BANK_DEPTH 8
#define SDSNN_L0_ADDR_BITS 0
#define SDSNN_L0_SLOT_BITS 6
#define SDSNN_L0_PTR_BITS 10
#define SDSNN_L0_WEIGHT_SCALE 0.004665963817387819
#define SDSNN_L0_LAYOUT_BITS_DENSE_ROWS 25226
#define SDSNN_L0_LAYOUT_BITS_CSR_FANOUT 37305
static const uint32_t sdsnn_l0_neuron_index[SDSNN_L0_N_OUT] = {0u, 2u, 3u, 4u, 7u, 9u, 14u, 17u, 19u, 20u, 22u, 24u, 25u, 28u, 31u, 37u, 38u, 40u, 41u, 44u, 46u, 50u, 51u, 54u, 56u, 57u, 58u, 60u, 64u, 65u, 67u, 70u, 71u, 73u, 74u, 75u, 76u, 79u, 84u, 85u, 86u, 90u, 91u, 95u, 96u, 97u, 99u, 108u, 111u, 113u, 114u, 116u, 117u, 118u, 119u, 120u, 121u, 124u, 126u};

/* layer l1 */
#define SDSNN_L1_NAME "l1"
#define SDSNN_L1_KIND "fc"
#define SDSNN_L1_N_IN 59
#define SDSNN_L1_N_OUT 10
#define SDSNN_L1_IN_CHANNELS 59
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
#define SDSNN_L1_V_TH 150
#define SDSNN_L1_LAYOUT "dense_rows"
#define SDSNN_L1_NNZ 585
#define SDSNN_L1_BANK_DEPTH 2
#define SDSNN_L1_ADDR_BITS 0
#define SDSNN_L1_SLOT_BITS 6
#define SDSNN_L1_PTR_BITS 7
#define SDSNN_L1_WEIGHT_SCALE 0.003330834209918976
#define SDSNN_L1_LAYOUT_BITS_DENSE_ROWS 6084
#define SDSNN_L1_LAYOUT_BITS_CSR_FANOUT 7028
static const uint32_t sdsnn_l1_neuron_index[SDSNN_L1_N_OUT] = {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u};

#endif /* SDSNN_NETWORK_H */
