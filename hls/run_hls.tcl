# Vitis HLS flow of the sdsnn-hw core: C simulation, synthesis, C/RTL co-simulation and
# IP export, run as is:
#
#   sdsnn hls-csim EXPORT_DIR --out HLS_OUT        (writes sdsnn_config.h and the
#                                                   testbench files into HLS_OUT)
#   vitis_hls -f hls/run_hls.tcl -tclargs EXPORT_DIR HLS_OUT [PART] [CLOCK_NS]
#
# PART defaults to xc7z020clg400-1, CLOCK_NS to 10. The project (sdsnn_hls_prj) is made
# in the current folder. Vitis compiles with its own ap_int headers; hls/ap_types is
# only for g++.
if {[llength $argv] < 2} {
    puts "usage: vitis_hls -f run_hls.tcl -tclargs EXPORT_DIR HLS_OUT \[PART\] \[CLOCK_NS\]"
    exit 2
}
set hls_dir [file dirname [file normalize [info script]]]
set export_dir [file normalize [lindex $argv 0]]
set out_dir [file normalize [lindex $argv 1]]
set part [expr {[llength $argv] > 2 ? [lindex $argv 2] : "xc7z020clg400-1"}]
set clock [expr {[llength $argv] > 3 ? [lindex $argv 3] : 10}]
set cflags "-std=c++14 -I$out_dir -I$hls_dir"
set tb_args "$export_dir $out_dir [pwd]/tb_output.txt"

open_project -reset sdsnn_hls_prj
set_top sdsnn_top
add_files $hls_dir/sdsnn_top.cpp -cflags $cflags
add_files -tb $hls_dir/tb_sdsnn.cpp -cflags $cflags
open_solution -reset solution1 -flow_target vivado
set_part $part
create_clock -period $clock -name default

csim_design -argv $tb_args
csynth_design
cosim_design -argv $tb_args
export_design -format ip_catalog
exit
