"""sdsnn-hw: pruned, quantized spiking neural networks from training to FPGA memories."""

__version__ = "0.1.0"
