// P-lane event-driven fully connected layer of integer LIF neurons.
//
// See docs/microarchitecture.md for the pipeline, banking, hazards and the exact
// cycle count; numerics follow docs/hardware-contract.md, section 3.
//
// Neuron n lives in bank n % LANES at address n / LANES. One time step:
//   accept  start_i while ready_o: latch spikes_i (masked to inputs with stored words)
//   stream  the spike queue pops one spiking input per cycle, the pointer ROM gives its
//           word range, and one weight-ROM word per cycle is read; its LANES slots add
//           into the LANES accumulator banks (read-modify-write, last write forwarded)
//   update  DEPTH cycles, LANES neurons each: read accumulator and membrane, update,
//           write the membrane back, clear the accumulator, stream out, set spikes_o
//   done_o  one-cycle pulse: spikes_o holds the step's output spikes
// After reset a clear pass zeroes the RAMs and scans the pointer ROM (ready_o low).
`default_nettype none

module lif_fc_core #(
    parameter int N_IN = 8,             // inputs
    parameter int N_OUT = 8,            // neurons
    parameter int LANES = 2,            // synapse and neuron lanes P: 1, 2, 4 or 8
    parameter int LAYOUT = 0,           // weight memory layout: 0 dense_rows, 1 csr_fanout
    parameter int W_BITS = 8,           // weight field width (two's complement)
    parameter int V_BITS = 16,          // stored membrane width (v_min_i/v_max_i may be narrower)
    parameter int ACC_BITS = 16,        // step current width, never overflows
    parameter int WROM_DEPTH = 1,       // weight ROM words
    parameter int PTR_BITS = 1,         // pointer ROM word width (holds WROM word counts)
    parameter PTR_FILE = "",            // pointer ROM image (N_IN + 1 words)
    parameter WROM_FILE = "",           // weight ROM image (WROM_DEPTH words)
    parameter PTR_PLUSARG = "",         // simulation: +<PTR_PLUSARG>=<path> overrides PTR_FILE
    parameter WROM_PLUSARG = "",        // simulation: +<WROM_PLUSARG>=<path> overrides WROM_FILE
    // derived, do not override
    parameter int DEPTH = (N_OUT + LANES - 1) / LANES,  // bank depth
    parameter int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1  // bank address width
) (
    input  wire                             clk_i,
    input  wire                             rst_ni,           // asynchronous, active low
    // layer configuration, held constant while the core runs
    input  wire signed [        V_BITS-1:0] v_th_i,
    input  wire        [$clog2(V_BITS)-1:0] leak_shift_i,
    input  wire signed [        V_BITS-1:0] v_min_i,          // membrane saturation bounds
    input  wire signed [        V_BITS-1:0] v_max_i,
    // step handshake: start_i, spikes_i and first_step_i are taken when ready_o is high
    input  wire                             start_i,
    input  wire                             first_step_i,     // new sample: membranes from 0
    input  wire        [          N_IN-1:0] spikes_i,
    output logic                            ready_o,
    output logic                            done_o,           // pulse: spikes_o complete
    output logic       [         N_OUT-1:0] spikes_o,
    // update stream: one beat per bank address in every step
    output logic                            upd_valid_o,
    output logic       [            AW-1:0] upd_addr_o,       // bank address a: neurons a*P+p
    output logic       [         LANES-1:0] upd_spikes_o,
    output logic       [  LANES*V_BITS-1:0] upd_membranes_o,  // lane p at [p*V_BITS +: V_BITS]
    // activity counters since reset (docs/microarchitecture.md)
    output logic       [              63:0] cycles_o,
    output logic       [              63:0] synops_o,
    output logic       [              63:0] ptr_reads_o,
    output logic       [              63:0] wrom_reads_o,
    output logic       [              63:0] acc_reads_o,
    output logic       [              63:0] acc_writes_o,
    output logic       [              63:0] mem_reads_o,
    output logic       [              63:0] mem_writes_o
);
  localparam int IW = (N_IN > 1) ? $clog2(N_IN) : 1;      // input index width
  localparam int JW = $clog2(N_IN + 1);                   // pointer ROM address width
  localparam int SLOT_BITS = (LAYOUT == 1) ? AW + W_BITS : W_BITS;
  localparam int WORD_BITS = LANES * SLOT_BITS;
  localparam int WAW = (WROM_DEPTH > 1) ? $clog2(WROM_DEPTH) : 1;
  localparam int CLR_CYCLES = (DEPTH > N_IN + 2) ? DEPTH : N_IN + 2;
  localparam int CW = $clog2(CLR_CYCLES + 1);
  localparam int LW = $clog2(LANES + 1);                  // lane count width

  initial begin : check_parameters
    if (LANES != 1 && LANES != 2 && LANES != 4 && LANES != 8) begin
      $fatal(1, "%m: LANES must be 1, 2, 4 or 8");
    end
    if (LAYOUT != 0 && LAYOUT != 1) begin
      $fatal(1, "%m: LAYOUT must be 0 (dense_rows) or 1 (csr_fanout)");
    end
    if (N_IN < 1 || N_OUT < 1) begin
      $fatal(1, "%m: N_IN and N_OUT must be at least 1");
    end
    if (ACC_BITS < W_BITS) begin
      $fatal(1, "%m: ACC_BITS must be at least W_BITS");
    end
    if (WAW > PTR_BITS) begin
      $fatal(1, "%m: PTR_BITS must hold every weight ROM address");
    end
  end

  typedef enum logic [2:0] {
    S_CLEAR,  // after reset: zero the RAMs, scan the pointer ROM
    S_IDLE,   // ready for a step
    S_ACC,    // stream the weight words of the spiking inputs
    S_UPD,    // read accumulators and membranes, DEPTH cycles
    S_FIN     // last update write
  } state_e;

  // ---------------------------------------------------------------------------------
  // Control registers
  state_e state_q, state_d, state_next;  // state_next: without this cycle's accept
  logic [CW-1:0] clr_q, clr_d;            // clear pass cycle
  logic scan_q, scan_d;                   // the next input's pointer words arrive
  logic [N_IN-1:0] nonempty_q, nonempty_d;  // inputs with at least one weight word
  logic [N_IN-1:0] single_q, single_d;      // inputs with exactly one weight word
  logic [N_IN-1:0] pair_q, pair_d;          // inputs with exactly two weight words
  logic scan2_q;                            // ... and are in scan_lo_q, scan_hi_q
  logic [PTR_BITS-1:0] scan_lo_q, scan_hi_q;
  logic ptr_single_q, ptr_single_d;       // the pointer ROM output range has one word
  logic ptr_pair_q, ptr_pair_d;           // ... two words
  logic last_act_q, last_act_d;           // the next word of the range is its last
  logic fresh_q, fresh_d;                 // the range's next word is addr_q, not addr_q + 1
  logic first_q, first_d;
  logic ptrv_q, ptrv_d;                   // pointer ROM output holds an unused range
  logic act_q, act_d;                     // streaming a range
  logic [PTR_BITS-1:0] addr_q, addr_d, end_q, end_d;
  logic [AW-1:0] row_q, row_d;            // word index within the input (dense_rows)
  logic rom_valid_q, rom_valid_d;         // the weight word is at the ROM output
  logic [AW-1:0] rom_row_q, rom_row_d;
  logic s1_valid_q, s1_valid_d;           // ... and in word_q
  logic [AW-1:0] s1_row_q, s1_row_d;
  logic [AW-1:0] uaddr_q, uaddr_d;        // update read address
  logic u2_valid_q, u2_valid_d;           // update operands arrive
  logic [AW-1:0] u2_addr_q, u2_addr_d;
  logic [N_OUT-1:0] spikes_q, spikes_d;
  logic done_q, done_d;
  logic upd_valid_q, upd_valid_d;
  logic [AW-1:0] upd_addr_q, upd_addr_d;
  logic [LANES-1:0] upd_spikes_q, upd_spikes_d;
  logic [LANES*V_BITS-1:0] upd_mem_q, upd_mem_d;
  logic [63:0] cycles_q, cycles_d, synops_q, synops_d, ptr_reads_q, ptr_reads_d;
  logic [63:0] wrom_reads_q, wrom_reads_d, acc_reads_q, acc_reads_d;
  logic [63:0] acc_writes_q, acc_writes_d, mem_reads_q, mem_reads_d;
  logic [63:0] mem_writes_q, mem_writes_d;

  // Per-lane pipeline registers
  logic [LANES-1:0] s2_en_q, s2_en_d;                 // accumulate stage 2 active
  logic [AW-1:0] s2_addr_q[LANES], s2_addr_d[LANES];
  logic signed [W_BITS-1:0] s2_w_q[LANES], s2_w_d[LANES];
  logic [DEPTH-1:0] u2_row_q, u2_row_d;    // one-hot u2_addr_q while u2_valid_q
  logic [DEPTH-1:0] upd_row_q;             // one-hot upd_addr_q while upd_valid_q

  // ---------------------------------------------------------------------------------
  // Spike queue and pointer ROM (two read ports: ptr[j] and ptr[j + 1])
  logic accept;
  logic q_valid, q_pop, q_pending;
  logic [IW-1:0] q_index;
  logic [1:0] q_marks;  // {pair, single} of the head
  logic ptr_en;
  logic [JW-1:0] ptr_addr_lo, ptr_addr_hi;
  logic [PTR_BITS-1:0] ptr_lo, ptr_hi;

  // HOLD: a step with words idles two cycles after its last issue (cycle W + 6, once
  // the last word has left the weight word register); a step without any idles in
  // cycle 6 too, so every step costs W + D + 8
  spike_queue #(
      .N   (N_IN),
      .M   (2),
      .HOLD(5)
  ) u_queue (
      .clk_i   (clk_i),
      .rst_ni  (rst_ni),
      // loads in every idle cycle, so the accept cycle's spikes are the ones kept
      // and the wide load enable comes from a register, not from start_i
      .load_i   (state_q == S_IDLE),
      .spikes_i (spikes_i & nonempty_q),
      .marks_i  ({pair_q, single_q}),
      .pop_i    (q_pop),
      .valid_o  (q_valid),
      .index_o  (q_index),
      .marks_o  (q_marks),
      .pending_o(q_pending)
  );

  weight_rom #(
      .WIDTH  (PTR_BITS),
      .DEPTH  (N_IN + 1),
      .FILE   (PTR_FILE),
      .PLUSARG(PTR_PLUSARG),
      .BLOCK  (1'b0)
  ) u_ptr_lo (
      .clk_i  (clk_i),
      .en_i   (ptr_en),
      .addr_i (ptr_addr_lo),
      .rdata_o(ptr_lo)
  );

  weight_rom #(
      .WIDTH  (PTR_BITS),
      .DEPTH  (N_IN + 1),
      .FILE   (PTR_FILE),
      .PLUSARG(PTR_PLUSARG),
      .BLOCK  (1'b0)
  ) u_ptr_hi (
      .clk_i  (clk_i),
      .en_i   (ptr_en),
      .addr_i (ptr_addr_hi),
      .rdata_o(ptr_hi)
  );

  // ---------------------------------------------------------------------------------
  // Word issue: the current range, or straight from the pointer ROM output
  logic issue, last, ptr_take, idle, next_last;
  logic [PTR_BITS-1:0] cur_addr, cur_end;
  logic [AW-1:0] cur_row;
  logic [WORD_BITS-1:0] word, word_q;

  always_comb begin
    // addr_q is the word issued last (or, fresh, the next one), so that neither the
    // range start nor its end passes through an adder after the pointer block RAM
    cur_addr = !act_q ? ptr_lo : fresh_q ? addr_q : addr_q + 1'b1;
    cur_end = act_q ? end_q : ptr_hi;
    cur_row = act_q ? row_q : '0;
    issue = (state_q == S_ACC) && (act_q || ptrv_q);
    last = act_q ? last_act_q : ptr_single_q;
    // after issuing cur_addr (not the last word): is cur_addr + 1 the last one?
    // from the pointer ROM output it is a mark, so no adder follows the block RAM
    next_last = !act_q ? ptr_pair_q
              : (PTR_BITS + 1)'(addr_q) + (fresh_q ? (PTR_BITS + 1)'(2) : (PTR_BITS + 1)'(3))
                == (PTR_BITS + 1)'(end_q);
    ptr_take = issue && (!act_q || (last && ptrv_q));
    q_pop = (state_q == S_ACC) && q_valid && (!ptrv_q || ptr_take);
    idle = (state_q == S_ACC) && !act_q && !ptrv_q && !q_pending && !rom_valid_q;
  end

  weight_rom #(
      .WIDTH  (WORD_BITS),
      .DEPTH  (WROM_DEPTH),
      .FILE   (WROM_FILE),
      .PLUSARG(WROM_PLUSARG)
  ) u_wrom (
      .clk_i  (clk_i),
      .en_i   (issue),
      .addr_i (cur_addr[WAW-1:0]),
      .rdata_o(word)
  );

  // ---------------------------------------------------------------------------------
  // Banks: accumulators and membranes, one bank per lane
  logic [LANES-1:0] acc_we, acc_re, mem_we, s1_en, fire;
  logic [AW-1:0] acc_waddr[LANES], acc_raddr[LANES], s1_addr[LANES], mem_addr_w;
  logic signed [ACC_BITS-1:0] acc_wdata[LANES], acc_rdata[LANES], acc_operand[LANES];
  logic signed [W_BITS-1:0] s1_w[LANES];
  logic signed [V_BITS-1:0] mem_wdata[LANES], mem_rdata[LANES], u_new[LANES];
  logic clearing;
  logic [AW-1:0] clr_addr;
  // Membrane reads run one cycle ahead of the accumulator reads (address 0 in the
  // idle-detect cycle, a + 1 in the update read of a), so lif_update can shift the
  // membrane and prepare its bounds in U1 while the accumulator read is in flight.
  logic mem_re;
  logic [AW-1:0] mem_raddr, mraddr_q, mraddr_d;  // 0 until the idle-detect cycle, then a + 1
  assign mem_re = idle || ((state_q == S_UPD) && (uaddr_q != AW'(DEPTH - 1)));
  assign mem_raddr = mraddr_q;
  assign mraddr_d = (idle || state_q == S_UPD) ? mraddr_q + 1'b1
                  : (state_q == S_ACC) ? mraddr_q : '0;

  assign clearing = (state_q == S_CLEAR) && (clr_q < CW'(DEPTH));
  assign clr_addr = clr_q[AW-1:0];

  // The clear pass cycle as a pointer ROM address
  logic [JW-1:0] clr_ptr;
  assign clr_ptr = clr_q[JW-1:0];
  assign mem_addr_w = clearing ? clr_addr : u2_addr_q;

  for (genvar p = 0; p < LANES; p++) begin : g_lane
    // Stage 1: slot p of the weight word
    assign s1_w[p] = word_q[p*SLOT_BITS+:W_BITS];
    if (LAYOUT == 1) begin : g_fanout
      logic unused_row;  // the address comes from the slot
      assign unused_row = ^s1_row_q;
      assign s1_addr[p] = word_q[p*SLOT_BITS+W_BITS+:AW];
    end else begin : g_dense
      assign s1_addr[p] = s1_row_q;
    end
    assign s1_en[p] = s1_valid_q && (s1_w[p] != '0);

    // Stage 2 / update stage 2: the read data, or the write of the previous cycle to
    // the same address (the RAM may not have it yet)
    // the accumulator banks are write-first: a read issued in the cycle of a write to
    // the same address returns the new word, so acc_rdata already holds the forwarded
    // value
    assign acc_operand[p] = acc_rdata[p];
    // every word in S1 reads (also slots with weight 0, whose data goes unused), so the
    // read enable does not wait for the weight ROM's slow clock-to-output
    assign acc_re[p] = s1_valid_q || (state_q == S_UPD);
    assign acc_raddr[p] = (state_q == S_UPD) ? uaddr_q : s1_addr[p];
    assign acc_we[p] = s2_en_q[p] || u2_valid_q || clearing;
    assign acc_waddr[p] = s2_en_q[p] ? s2_addr_q[p] : mem_addr_w;
    assign acc_wdata[p] = s2_en_q[p] ? acc_operand[p] + ACC_BITS'(s2_w_q[p]) : '0;
    assign mem_we[p] = u2_valid_q || clearing;
    assign mem_wdata[p] = clearing ? '0 : u_new[p];

    bank_ram #(
        .WIDTH(ACC_BITS),
        .DEPTH(DEPTH),
        .TRANSPARENT(1'b1)
    ) u_acc (
        .clk_i  (clk_i),
        .we_i   (acc_we[p]),
        .waddr_i(acc_waddr[p]),
        .wdata_i(acc_wdata[p]),
        .re_i   (acc_re[p]),
        .raddr_i(acc_raddr[p]),
        .rdata_o(acc_rdata[p])
    );

    bank_ram #(
        .WIDTH(V_BITS),
        .DEPTH(DEPTH)
    ) u_mem (
        .clk_i  (clk_i),
        .we_i   (mem_we[p]),
        .waddr_i(mem_addr_w),
        .wdata_i(mem_wdata[p]),
        .re_i   (mem_re),
        .raddr_i(mem_raddr),
        .rdata_o(mem_rdata[p])
    );

    lif_update #(
        .V_BITS  (V_BITS),
        .ACC_BITS(ACC_BITS)
    ) u_update (
        .clk_i       (clk_i),
        .u_i         (mem_rdata[p]),
        .first_i     (first_q),
        .acc_i       (acc_operand[p]),
        .leak_shift_i(leak_shift_i),
        .v_th_i      (v_th_i),
        .v_min_i     (v_min_i),
        .v_max_i     (v_max_i),
        .fire_o      (fire[p]),
        .u_o         (u_new[p])
    );
  end

  // Population counts of the lanes active this cycle (synapses, accumulator writes)
  function automatic logic [LW-1:0] count_ones(input logic [LANES-1:0] bits);
    count_ones = '0;
    for (int p = 0; p < LANES; p++) begin
      count_ones = count_ones + LW'(bits[p]);
    end
  endfunction

  logic [LW-1:0] s2_count;
  assign s2_count = count_ones(s2_en_q);

  // ---------------------------------------------------------------------------------
  // Next state
  // Kept apart from the blocks below: only this logic depends on the step inputs, so a
  // simulator re-evaluates little when they change.
  assign accept = (state_q == S_IDLE) && start_i;
  assign state_d = accept ? S_ACC : state_next;
  assign first_d = accept ? first_step_i : first_q;
  assign cycles_d = cycles_q + 64'(accept || state_q == S_ACC || state_q == S_UPD
                                   || state_q == S_FIN);

  always_comb begin
    state_next = state_q;
    clr_d = clr_q;
    scan_d = 1'b0;
    nonempty_d = nonempty_q;
    single_d = single_q;
    pair_d = pair_q;
    last_act_d = last_act_q;
    ptrv_d = ptrv_q;
    act_d = act_q;
    addr_d = addr_q;
    fresh_d = fresh_q;
    end_d = end_q;
    row_d = row_q;
    uaddr_d = uaddr_q;
    ptr_en = 1'b0;
    ptr_addr_lo = JW'(q_index);
    ptr_addr_hi = JW'(q_index) + 1'b1;

    case (state_q)
      S_CLEAR: begin
        // cycle k: zero bank address k, read ptr[k] and ptr[k + 1]; they arrive at k + 1
        // and are compared at k + 2 (see the masks below)
        ptr_addr_lo = clr_ptr;
        ptr_addr_hi = clr_ptr + 1'b1;
        if (clr_q < CW'(N_IN)) begin
          ptr_en = 1'b1;
          scan_d = 1'b1;
        end
        if (clr_q == CW'(CLR_CYCLES - 1)) begin
          state_next = S_IDLE;
        end else begin
          clr_d = clr_q + 1'b1;
        end
      end
      S_IDLE: ;  // a start is taken below
      S_ACC: begin
        ptr_en = q_pop;
        if (q_pop) begin
          ptrv_d = 1'b1;
        end else if (ptr_take) begin
          ptrv_d = 1'b0;
        end
        if (issue) begin
          if (!last) begin
            act_d = 1'b1;
            addr_d = cur_addr;
            fresh_d = 1'b0;
            end_d = cur_end;
            last_act_d = next_last;
            row_d = cur_row + 1'b1;
          end else if (act_q && ptrv_q) begin
            act_d = 1'b1;
            addr_d = ptr_lo;
            fresh_d = 1'b1;
            end_d = ptr_hi;
            last_act_d = ptr_single_q;
            row_d = '0;
          end else begin
            act_d = 1'b0;
          end
        end
        if (idle) begin
          uaddr_d = '0;
          state_next = S_UPD;
        end
      end
      S_UPD: begin
        if (uaddr_q == AW'(DEPTH - 1)) begin
          state_next = S_FIN;
        end else begin
          uaddr_d = uaddr_q + 1'b1;
        end
      end
      S_FIN: begin
        state_next = S_IDLE;
      end
      default: state_next = S_IDLE;
    endcase
    // The clear pass visits inputs 0 .. N_IN-1 in order and shifts each one's flags in
    // at the top, so after N_IN shifts input j's flags are bit j: no per-bit write
    // decoder. The compares start from registered copies of the pointer words.
    if (scan2_q) begin
      nonempty_d = (nonempty_q >> 1) | (N_IN'(scan_lo_q != scan_hi_q) << (N_IN - 1));
      single_d = (single_q >> 1) | (N_IN'(scan_lo_q + 1'b1 == scan_hi_q) << (N_IN - 1));
      pair_d = (pair_q >> 1) | (N_IN'((PTR_BITS + 1)'(scan_lo_q) + (PTR_BITS + 1)'(2)
                                      == (PTR_BITS + 1)'(scan_hi_q)) << (N_IN - 1));
    end
    ptr_single_d = q_pop ? q_marks[0] : ptr_single_q;
    ptr_pair_d = q_pop ? q_marks[1] : ptr_pair_q;
  end

  always_comb begin
    rom_valid_d = issue;
    rom_row_d = cur_row;
    s1_valid_d = rom_valid_q;
    s1_row_d = rom_row_q;
    u2_valid_d = state_q == S_UPD;
    u2_addr_d = uaddr_q;
    for (int a = 0; a < DEPTH; a++) begin
      u2_row_d[a] = (state_q == S_UPD) && (uaddr_q == AW'(a));
    end
    done_d = state_q == S_FIN;
    upd_valid_d = u2_valid_q;
    upd_addr_d = u2_addr_q;
    // spikes_q takes a row one cycle after its U2, from the stream-out register; the
    // last row is read from that register directly (see spikes_o below)
    spikes_d = spikes_q;
    for (int n = 0; n < N_OUT; n++) begin
      if (upd_row_q[n/LANES]) begin
        spikes_d[n] = upd_spikes_q[n%LANES];
      end
    end
    for (int p = 0; p < LANES; p++) begin
      s2_en_d[p] = s1_en[p];
      s2_addr_d[p] = s1_addr[p];
      s2_w_d[p] = s1_w[p];
      // padding neurons (n >= N_OUT) never fire: their current is always 0
      upd_spikes_d[p] = u2_valid_q ? fire[p] : upd_spikes_q[p];  // holds between steps
      upd_mem_d[p*V_BITS+:V_BITS] = u_new[p];
    end
    synops_d = synops_q + 64'(s2_count);  // counted in S2, off the weight ROM output
    ptr_reads_d = ptr_reads_q + (q_pop ? 64'd2 : 64'd0);
    wrom_reads_d = wrom_reads_q + 64'(issue);
    acc_reads_d = acc_reads_q + 64'(s2_count) + ((state_q == S_UPD) ? 64'(LANES) : 64'd0);
    acc_writes_d = acc_writes_q + 64'(s2_count) + (u2_valid_q ? 64'(LANES) : 64'd0);
    mem_reads_d = mem_reads_q + ((state_q == S_UPD) ? 64'(LANES) : 64'd0);
    mem_writes_d = mem_writes_q + (u2_valid_q ? 64'(LANES) : 64'd0);
  end

  // ---------------------------------------------------------------------------------
  // Registers
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_CLEAR;
      clr_q <= '0;
      scan_q <= 1'b0;
      nonempty_q <= '0;
      single_q <= '0;
      pair_q <= '0;
      scan2_q <= 1'b0;
      scan_lo_q <= '0;
      scan_hi_q <= '0;
      fresh_q <= 1'b0;
      ptr_single_q <= 1'b0;
      ptr_pair_q <= 1'b0;
      last_act_q <= 1'b0;
      first_q <= 1'b0;
      ptrv_q <= 1'b0;
      act_q <= 1'b0;
      addr_q <= '0;
      end_q <= '0;
      row_q <= '0;
      rom_valid_q <= 1'b0;
      rom_row_q <= '0;
      s1_valid_q <= 1'b0;
      s1_row_q <= '0;
      uaddr_q <= '0;
      u2_valid_q <= 1'b0;
      u2_addr_q <= '0;
      spikes_q <= '0;
      done_q <= 1'b0;
      upd_valid_q <= 1'b0;
      upd_addr_q <= '0;
      upd_spikes_q <= '0;
      upd_mem_q <= '0;
      cycles_q <= '0;
      synops_q <= '0;
      ptr_reads_q <= '0;
      wrom_reads_q <= '0;
      acc_reads_q <= '0;
      acc_writes_q <= '0;
      mem_reads_q <= '0;
      mem_writes_q <= '0;
      s2_en_q <= '0;
      u2_row_q <= '0;
      upd_row_q <= '0;
      mraddr_q <= '0;
    end else begin
      state_q <= state_d;
      clr_q <= clr_d;
      scan_q <= scan_d;
      nonempty_q <= nonempty_d;
      single_q <= single_d;
      pair_q <= pair_d;
      scan2_q <= scan_q;
      scan_lo_q <= ptr_lo;
      scan_hi_q <= ptr_hi;
      fresh_q <= fresh_d;
      ptr_single_q <= ptr_single_d;
      ptr_pair_q <= ptr_pair_d;
      last_act_q <= last_act_d;
      first_q <= first_d;
      ptrv_q <= ptrv_d;
      act_q <= act_d;
      addr_q <= addr_d;
      end_q <= end_d;
      row_q <= row_d;
      rom_valid_q <= rom_valid_d;
      rom_row_q <= rom_row_d;
      s1_valid_q <= s1_valid_d;
      s1_row_q <= s1_row_d;
      uaddr_q <= uaddr_d;
      u2_valid_q <= u2_valid_d;
      u2_addr_q <= u2_addr_d;
      spikes_q <= spikes_d;
      done_q <= done_d;
      upd_valid_q <= upd_valid_d;
      upd_addr_q <= upd_addr_d;
      upd_spikes_q <= upd_spikes_d;
      upd_mem_q <= upd_mem_d;
      cycles_q <= cycles_d;
      synops_q <= synops_d;
      ptr_reads_q <= ptr_reads_d;
      wrom_reads_q <= wrom_reads_d;
      acc_reads_q <= acc_reads_d;
      acc_writes_q <= acc_writes_d;
      mem_reads_q <= mem_reads_d;
      mem_writes_q <= mem_writes_d;
      s2_en_q <= s2_en_d;
      u2_row_q <= u2_row_d;
      upd_row_q <= u2_row_q;
      mraddr_q <= mraddr_d;
    end
  end

  // The weight word, one cycle after the ROM output: the block RAM's slow
  // clock-to-output (and, for a ROM of several blocks, its output multiplexer) is
  // followed by nothing but this register. Data only: rom_valid_q and s1_valid_q say
  // when it counts.
  always_ff @(posedge clk_i) begin
    word_q <= word;
  end

  // Per-lane data registers (their valid bits above are reset)
  for (genvar p = 0; p < LANES; p++) begin : g_lane_q
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        s2_addr_q[p] <= '0;
        s2_w_q[p] <= '0;
      end else begin
        s2_addr_q[p] <= s2_addr_d[p];
        s2_w_q[p] <= s2_w_d[p];
      end
    end
  end

  assign ready_o = state_q == S_IDLE;
  assign done_o = done_q;
  // spikes_o is flip-flops: rows 0 .. DEPTH-2 from spikes_q, the last row (complete in
  // the done_o cycle, one cycle after its U2) from the stream-out register
  for (genvar n = 0; n < N_OUT; n++) begin : g_spikes_o
    if (n / LANES == DEPTH - 1) begin : g_last
      assign spikes_o[n] = upd_spikes_q[n%LANES];
    end else begin : g_row
      assign spikes_o[n] = spikes_q[n];
    end
  end
  logic unused_last_row;
  assign unused_last_row = ^spikes_q[N_OUT-1:(DEPTH-1)*LANES];
  assign upd_valid_o = upd_valid_q;
  assign upd_addr_o = upd_addr_q;
  assign upd_spikes_o = upd_spikes_q;
  assign upd_membranes_o = upd_mem_q;
  assign cycles_o = cycles_q;
  assign synops_o = synops_q;
  assign ptr_reads_o = ptr_reads_q;
  assign wrom_reads_o = wrom_reads_q;
  assign acc_reads_o = acc_reads_q;
  assign acc_writes_o = acc_writes_q;
  assign mem_reads_o = mem_reads_q;
  assign mem_writes_o = mem_writes_q;
endmodule

`default_nettype wire
