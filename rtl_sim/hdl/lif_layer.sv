// Event-driven layer of integer LIF neurons (docs/hardware-contract.md).
//
// One time step: start_i latches the input spike vector; the core scans the inputs,
// and for each one that spiked walks its fan-out list in the synapse memory,
// adding each weight to the target neuron's current accumulator (pruned synapses are
// not stored, so they cost no cycle). Then every neuron is updated once:
//   v = sat((u >>> LEAK_SHIFT) + acc);  spike = v >= V_TH;  u = spike ? 0 : v
// and done_o pulses with spikes_o / membranes_o valid.
//
// Memories (csr_fanout layout) load at time 0 from the folder given by the
// +SDSNN_MEM_DIR=<dir> plusarg: <dir>/<MEM_NAME>_ptr.mem and <dir>/<MEM_NAME>_syn.mem.
`default_nettype none

module lif_layer #(
    parameter int N_IN = 4,        // inputs (pre-synaptic neurons)
    parameter int N_OUT = 4,       // neurons in this layer
    parameter int W_BITS = 6,      // signed weight width
    parameter int V_BITS = 16,     // signed membrane width (saturating)
    parameter int ACC_BITS = 12,   // signed per-step current width, never overflows
    parameter int LEAK_SHIFT = 2,  // membrane decay 2**-LEAK_SHIFT per step
    parameter int V_TH = 64,       // firing threshold, 1 <= V_TH < 2**(V_BITS-1)
    parameter int SYN_DEPTH = 1,   // words in the synapse memory (max(nnz, 1))
    parameter int PTR_BITS = 1,    // width of a fan-out pointer
    parameter int INDEX_BITS = 2,  // width of a post-synaptic neuron index
    parameter MEM_NAME = "l0"      // memory file prefix
) (
    input  wire                       clk_i,
    input  wire                       rst_ni,
    input  wire                       start_i,       // begin one time step
    input  wire                       first_step_i,  // with start_i: membranes start at 0
    input  wire  [N_IN-1:0]           spikes_i,
    output logic                      done_o,        // one-cycle pulse: outputs valid
    output logic                      busy_o,        // a step is in progress
    output logic [N_OUT-1:0]          spikes_o,
    output logic [N_OUT*V_BITS-1:0]   membranes_o,   // neuron i at [i*V_BITS +: V_BITS]
    output logic [31:0]               synops_o,      // synapses accumulated since reset
    output logic [31:0]               mem_reads_o    // pointer + synapse words read
);
  localparam int JW = $clog2(N_IN + 1);
  localparam int IW = (N_OUT > 1) ? $clog2(N_OUT) : 1;
  localparam int SYN_AW = (SYN_DEPTH > 1) ? $clog2(SYN_DEPTH) : 1;  // <= PTR_BITS
  localparam int SYN_BITS = INDEX_BITS + W_BITS;
  localparam int SUM_BITS = ((V_BITS > ACC_BITS) ? V_BITS : ACC_BITS) + 1;
  localparam logic signed [V_BITS-1:0] V_MAX = {1'b0, {(V_BITS - 1) {1'b1}}};
  localparam logic signed [V_BITS-1:0] V_MIN = {1'b1, {(V_BITS - 1) {1'b0}}};
  localparam logic signed [V_BITS-1:0] THRESHOLD = V_TH[V_BITS-1:0];
  // Saturation bounds at the adder width, declared signed so comparisons are signed.
  localparam logic signed [SUM_BITS-1:0] V_MAX_WIDE = {{(SUM_BITS - V_BITS) {1'b0}}, V_MAX};
  localparam logic signed [SUM_BITS-1:0] V_MIN_WIDE = {{(SUM_BITS - V_BITS) {1'b1}}, V_MIN};

  // Illegal parameter combinations stop the simulation at time 0 (Icarus has no
  // elaboration-time $error, so this is the form both simulators accept).
  initial begin : check_parameters
    if (V_TH < 1 || V_TH > (2 ** (V_BITS - 1)) - 1) begin
      $fatal(1, "%m: V_TH must be in 1 .. 2**(V_BITS-1)-1");
    end
    if (LEAK_SHIFT < 0 || LEAK_SHIFT >= V_BITS) begin
      $fatal(1, "%m: LEAK_SHIFT must be in 0 .. V_BITS-1");
    end
    if (2 ** INDEX_BITS < N_OUT || 2 ** PTR_BITS <= SYN_DEPTH) begin
      $fatal(1, "%m: INDEX_BITS or PTR_BITS too narrow for N_OUT / SYN_DEPTH");
    end
  end

  typedef enum logic [2:0] {
    S_IDLE,
    S_SCAN,
    S_FETCH,
    S_SYN,
    S_UPDATE
  } state_e;

  logic [PTR_BITS-1:0] ptr_mem[N_IN+1];
  logic [SYN_BITS-1:0] syn_mem[SYN_DEPTH];

  initial begin : load_memories
    string dir;
    if (!$value$plusargs("SDSNN_MEM_DIR=%s", dir)) begin
      $fatal(1, "%m: missing plusarg +SDSNN_MEM_DIR=<export folder>");
    end
    $readmemh($sformatf("%s/%s_ptr.mem", dir, MEM_NAME), ptr_mem);
    $readmemh($sformatf("%s/%s_syn.mem", dir, MEM_NAME), syn_mem);
  end

  state_e state_q, state_d;
  logic [N_IN-1:0] in_q, in_d;
  logic first_q, first_d;
  logic [JW-1:0] j_q, j_d;
  logic [IW-1:0] i_q, i_d;
  logic [PTR_BITS-1:0] lo_q, lo_d, hi_q, hi_d, k_q, k_d, end_q, end_d;
  logic [SYN_BITS-1:0] syn_q, syn_d;
  logic syn_valid_q, syn_valid_d;
  logic signed [ACC_BITS-1:0] acc_q[N_OUT];
  logic signed [V_BITS-1:0] u_q[N_OUT];
  logic [N_OUT-1:0] spikes_q, spikes_d;
  logic done_q, done_d;
  logic [31:0] synops_q, synops_d, reads_q, reads_d;

  // Neuron update datapath for neuron i_q.
  logic signed [V_BITS-1:0] u_old, leaked, v_sat;
  logic signed [SUM_BITS-1:0] v_wide;
  logic fire;
  always_comb begin
    u_old = first_q ? '0 : u_q[i_q];
    leaked = u_old >>> LEAK_SHIFT;
    v_wide = {{(SUM_BITS - V_BITS) {leaked[V_BITS-1]}}, leaked}
           + {{(SUM_BITS - ACC_BITS) {acc_q[i_q][ACC_BITS-1]}}, acc_q[i_q]};
    if (v_wide > V_MAX_WIDE) begin
      v_sat = V_MAX;
    end else if (v_wide < V_MIN_WIDE) begin
      v_sat = V_MIN;
    end else begin
      v_sat = v_wide[V_BITS-1:0];
    end
    fire = v_sat >= THRESHOLD;
  end

  // Inputs padded to 2**JW bits so any scan index j_q selects a defined bit.
  logic [(2**JW)-1:0] in_padded;
  assign in_padded = {{((2 ** JW) - N_IN) {1'b0}}, in_q};

  // Synapse word of the previous cycle: weight in the low bits, target above.
  logic [INDEX_BITS-1:0] syn_post;
  logic signed [W_BITS-1:0] syn_weight;
  assign syn_post = syn_q[SYN_BITS-1:W_BITS];
  assign syn_weight = syn_q[W_BITS-1:0];

  always_comb begin
    state_d = state_q;
    in_d = in_q;
    first_d = first_q;
    j_d = j_q;
    i_d = i_q;
    lo_d = lo_q;
    hi_d = hi_q;
    k_d = k_q;
    end_d = end_q;
    syn_d = syn_q;
    syn_valid_d = 1'b0;
    spikes_d = spikes_q;
    done_d = 1'b0;
    synops_d = synops_q + {31'b0, syn_valid_q};
    reads_d = reads_q;
    unique case (state_q)
      S_IDLE: begin
        if (start_i) begin
          in_d = spikes_i;
          first_d = first_step_i;
          j_d = '0;
          state_d = S_SCAN;
        end
      end
      S_SCAN: begin
        if (j_q == JW'(N_IN)) begin
          i_d = '0;
          state_d = S_UPDATE;
        end else if (in_padded[j_q]) begin
          lo_d = ptr_mem[j_q];
          hi_d = ptr_mem[j_q+1'b1];
          reads_d = reads_q + 32'd2;
          state_d = S_FETCH;
        end else begin
          j_d = j_q + 1'b1;
        end
      end
      S_FETCH: begin
        k_d = lo_q;
        end_d = hi_q;
        j_d = j_q + 1'b1;
        state_d = S_SYN;
      end
      S_SYN: begin
        if (k_q != end_q) begin
          syn_d = syn_mem[k_q[SYN_AW-1:0]];
          syn_valid_d = 1'b1;
          k_d = k_q + 1'b1;
          reads_d = reads_q + 32'd1;
        end else begin
          state_d = S_SCAN;
        end
      end
      S_UPDATE: begin
        spikes_d[i_q] = fire;
        if (i_q == IW'(N_OUT - 1)) begin
          done_d = 1'b1;
          state_d = S_IDLE;
        end else begin
          i_d = i_q + 1'b1;
        end
      end
      default: state_d = S_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_IDLE;
      in_q <= '0;
      first_q <= 1'b0;
      j_q <= '0;
      i_q <= '0;
      lo_q <= '0;
      hi_q <= '0;
      k_q <= '0;
      end_q <= '0;
      syn_q <= '0;
      syn_valid_q <= 1'b0;
      spikes_q <= '0;
      done_q <= 1'b0;
      synops_q <= '0;
      reads_q <= '0;
    end else begin
      state_q <= state_d;
      in_q <= in_d;
      first_q <= first_d;
      j_q <= j_d;
      i_q <= i_d;
      lo_q <= lo_d;
      hi_q <= hi_d;
      k_q <= k_d;
      end_q <= end_d;
      syn_q <= syn_d;
      syn_valid_q <= syn_valid_d;
      spikes_q <= spikes_d;
      done_q <= done_d;
      synops_q <= synops_d;
      reads_q <= reads_d;
    end
  end

  // Neuron state arrays, written one entry per cycle. Reset clears them too: a reset in
  // the middle of a step must not leave partial sums for the next sample.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int n = 0; n < N_OUT; n++) begin
        acc_q[n] <= '0;
        u_q[n] <= '0;
      end
    end else begin
      if (syn_valid_q) begin
        acc_q[syn_post] <= acc_q[syn_post] + ACC_BITS'(syn_weight);
      end
      if (state_q == S_UPDATE) begin
        acc_q[i_q] <= '0;
        u_q[i_q] <= fire ? '0 : v_sat;
      end
    end
  end

  for (genvar n = 0; n < N_OUT; n++) begin : g_membranes
    assign membranes_o[n*V_BITS+:V_BITS] = u_q[n];
  end

  assign done_o = done_q;
  assign busy_o = state_q != S_IDLE;
  assign spikes_o = spikes_q;
  assign synops_o = synops_q;
  assign mem_reads_o = reads_q;
endmodule

`default_nettype wire
