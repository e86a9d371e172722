// The synthesis top: one network time step (Vitis HLS set_top sdsnn_top).
#include "sdsnn_network.h"

void sdsnn_top(bool clear, bool first_step,
               const bool spikes_in[SDSNN_INPUTS] SDSNN_LAYERS(SDSNN_TOP_PORTS)) {
    SDSNN_LAYERS(SDSNN_TOP_PRAGMAS)
    SDSNN_LAYERS(SDSNN_TOP_CALL)
}
