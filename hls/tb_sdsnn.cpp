// Testbench of the network top for Vitis HLS (csim_design, cosim_design) and plain g++.
//
//   tb_sdsnn EXPORT_DIR TB_DIR [OUTPUT]
//
// reads the exported memories (EXPORT_DIR/l<i>_ptr.mem, l<i>_weights.mem, l<i>_bias.mem,
// checked against the configuration), and from TB_DIR, written by `sdsnn hls-csim`:
//   tb_params.txt    per layer: v_th leak_shift v_min v_max
//   tb_input.txt     "samples steps inputs", then one line of 0/1 per sample and step
//   tb_expected.txt  (optional) the golden model's lines of tb_output.txt
// and writes OUTPUT (default TB_DIR/tb_output.txt), one line per sample:
//   <sample> <prediction> <spike count per class> <8 counters summed over layers>
// Exit status: 0 when every line equals tb_expected.txt (or there is none), 1 when one
// differs, 2 when a file is missing or does not fit the configuration.
#include <stdio.h>
#include <string.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sdsnn_network.h"

namespace {

int refuse(const std::string &what) {
    fprintf(stderr, "tb_sdsnn: %s\n", what.c_str());
    return 2;
}

// The hex words of a .mem file (one per line), each below 2^width.
template <int W>
bool read_mem(const std::string &path, std::vector<ap_uint<W> > &words, std::string &why) {
    std::ifstream in(path.c_str());
    if (!in) {
        why = path + ": cannot be read";
        return false;
    }
    std::string line;
    while (std::getline(in, line)) {
        ap_uint<W> word = 0;
        if (line.empty() || line.size() > (W + 3) / 4) {
            why = path + ": a word wider than the configuration's " + std::to_string(W) + " bits";
            return false;
        }
        for (size_t k = 0; k < line.size(); k++) {
            const char c = line[k];
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                     : -1;
            if (digit < 0) {
                why = path + ": not a hex word: " + line;
                return false;
            }
            word = (word << 4) | ap_uint<W>(digit);
        }
        words.push_back(word);
    }
    return true;
}

std::string tb_dir, export_dir;

SDSNN_LAYERS(SDSNN_HOST_STORAGE)

template <class CFG>
int load(int layer, typename CFG::ptr_t *ptr, typename CFG::slot_t (*wrom)[CFG::LANES],
         typename CFG::bias_t *bias, sdsnn::neuron_params<CFG> &params, std::istream &settings) {
    const std::string name = export_dir + "/l" + std::to_string(layer);
    std::string why;
    std::vector<ap_uint<CFG::PTR_BITS> > ptr_words;
    std::vector<ap_uint<CFG::WORD_BITS> > words;
    if (!read_mem<CFG::PTR_BITS>(name + "_ptr.mem", ptr_words, why) ||
        !read_mem<CFG::WORD_BITS>(name + "_weights.mem", words, why))
        return refuse(why);
    if (ptr_words.size() != CFG::UNITS_IN + 1)
        return refuse(name + "_ptr.mem: " + std::to_string(ptr_words.size()) +
                      " words, the configuration has " + std::to_string(CFG::UNITS_IN + 1));
    if (words.empty() || words.size() > CFG::WROM_DEPTH)
        return refuse(name + "_weights.mem: " + std::to_string(words.size()) +
                      " words, the configuration holds " + std::to_string(CFG::WROM_DEPTH));
    for (unsigned j = 0; j <= CFG::UNITS_IN; j++) ptr[j] = ptr_words[j];
    words.resize(CFG::WROM_DEPTH, 0);  // zero words beyond the export's
    for (unsigned r = 0; r < CFG::WROM_DEPTH; r++)
        for (unsigned p = 0; p < CFG::LANES; p++) wrom[r][p] = words[r] >> (p * CFG::SLOT_BITS);
    bias[0] = 0;
    if (CFG::B_BITS > 0) {
        std::vector<ap_uint<CFG::B_BITS ? CFG::B_BITS : 1> > codes;
        if (!read_mem<CFG::B_BITS ? CFG::B_BITS : 1>(name + "_bias.mem", codes, why))
            return refuse(why);
        if (codes.size() != CFG::OUT_C)
            return refuse(name + "_bias.mem: " + std::to_string(codes.size()) +
                          " words, the configuration has " + std::to_string(CFG::OUT_C));
        for (unsigned o = 0; o < CFG::OUT_C; o++) bias[o] = codes[o];
    }
    long long v_th, leak, v_min, v_max;
    if (!(settings >> v_th >> leak >> v_min >> v_max))
        return refuse(tb_dir + "/tb_params.txt: no line for layer " + std::to_string(layer));
    params.v_th = v_th;
    params.leak_shift = leak;
    params.v_min = v_min;
    params.v_max = v_max;
    return 0;
}

#define SDSNN_TB_LOAD(i, CFG, FN, IN)                                                          \
    if (load<CFG>(i, l##i##_ptr, l##i##_wrom, l##i##_bias, l##i##_params, settings)) return 2;
#define SDSNN_TB_SUM(i, CFG, FN, IN)                                                           \
    for (int k = 0; k < sdsnn::COUNTERS; k++) total[k] += (&l##i##_counters.cycles)[k];
#define SDSNN_TB_LAST(i, CFG, FN, IN) last = l##i##_spikes;

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) return refuse("usage: tb_sdsnn EXPORT_DIR TB_DIR [OUTPUT]");
    export_dir = argv[1];
    tb_dir = argv[2];
    const std::string output = argc == 4 ? argv[3] : tb_dir + "/tb_output.txt";
    std::ifstream settings((tb_dir + "/tb_params.txt").c_str());
    std::ifstream input((tb_dir + "/tb_input.txt").c_str());
    if (!settings || !input) return refuse(tb_dir + ": tb_params.txt or tb_input.txt missing");
    SDSNN_LAYERS(SDSNN_TB_LOAD)
    long long samples = 0, steps = 0, inputs = 0;
    if (!(input >> samples >> steps >> inputs) || inputs != SDSNN_INPUTS)
        return refuse(tb_dir + "/tb_input.txt: the header must be 'samples steps " +
                      std::to_string(SDSNN_INPUTS) + "'");
    static bool spikes_in[SDSNN_INPUTS];
    sdsnn_top(true, false, spikes_in SDSNN_LAYERS(SDSNN_HOST_ARGS));  // the clear pass
    std::ostringstream out;
    for (long long s = 0; s < samples; s++) {
        uint64_t before[sdsnn::COUNTERS] = {0}, total[sdsnn::COUNTERS] = {0};
        SDSNN_LAYERS(SDSNN_TB_SUM)
        memcpy(before, total, sizeof before);
        long long counts[SDSNN_CLASSES] = {0};
        for (long long t = 0; t < steps; t++) {
            std::string line;
            if (!(input >> line) || line.size() != SDSNN_INPUTS)
                return refuse(tb_dir + "/tb_input.txt: sample " + std::to_string(s) + " step " +
                              std::to_string(t) + " needs " + std::to_string(SDSNN_INPUTS) +
                              " 0/1");
            for (int j = 0; j < SDSNN_INPUTS; j++) spikes_in[j] = line[j] == '1';
            sdsnn_top(false, t == 0, spikes_in SDSNN_LAYERS(SDSNN_HOST_ARGS));
            const bool *last = 0;
            SDSNN_LAYERS(SDSNN_TB_LAST)
            for (int k = 0; k < SDSNN_CLASSES; k++) counts[k] += last[k];
        }
        memset(total, 0, sizeof total);
        SDSNN_LAYERS(SDSNN_TB_SUM)
        int prediction = 0;
        for (int k = 1; k < SDSNN_CLASSES; k++)
            if (counts[k] > counts[prediction]) prediction = k;  // ties to the lowest class
        out << s << ' ' << prediction;
        for (int k = 0; k < SDSNN_CLASSES; k++) out << ' ' << counts[k];
        for (int k = 0; k < sdsnn::COUNTERS; k++)
            out << ' ' << (unsigned long long)(total[k] - before[k]);
        out << '\n';
    }
    std::ofstream(output.c_str()) << out.str();
    std::ifstream expected((tb_dir + "/tb_expected.txt").c_str());
    if (!expected) {
        printf("tb_sdsnn: %lld samples, no tb_expected.txt to compare with\n", samples);
        return 0;
    }
    std::istringstream got(out.str());
    std::string want_line, got_line;
    long long differing = 0, line_number = 0;
    while (std::getline(expected, want_line)) {
        if (!std::getline(got, got_line) || got_line != want_line) differing++;
        line_number++;
    }
    if (line_number != samples) differing++;
    printf("tb_sdsnn: %lld samples, %lld differ from tb_expected.txt\n", samples, differing);
    return differing ? 1 : 0;
}
