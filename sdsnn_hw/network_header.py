"""``network.h``: the manifest's fields as C macros, beside the per-memory headers.

A C or HLS testbench includes this one file: it includes every memory header
(:func:`sdsnn_hw.formats.format_header`) and defines ``SDSNN_<FIELD>`` for the network
and ``SDSNN_L<i>_<FIELD>`` for every integer and string field of each layer.
"""

from __future__ import annotations

from sdsnn_hw.manifest import VERSION, LayerSpec, Manifest

HEADER_NAME = "network.h"


def _layer_lines(index: int, layer: LayerSpec) -> list[str]:
    prefix = f"SDSNN_L{index}_"
    lines = [f"/* layer {layer.name} */"]
    for key, value in vars(layer).items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            lines.append(f"#define {prefix}{key.upper()} {value}")
        elif isinstance(value, float):  # informative (weight_scale): shortest round trip
            lines.append(f"#define {prefix}{key.upper()} {value!r}")
        elif isinstance(value, str):
            lines.append(f'#define {prefix}{key.upper()} "{value}"')
    for key, bits in layer.layout_bits.items():
        lines.append(f"#define {prefix}LAYOUT_BITS_{key.upper()} {bits}")
    index_values = ", ".join(f"{i}u" for i in layer.neuron_index)
    lines.append(
        f"static const uint32_t sdsnn_l{index}_neuron_index[{prefix}N_OUT] = {{{index_values}}};"
    )
    return lines


def network_header(manifest: Manifest) -> str:
    """The header text (deterministic for a manifest)."""
    channels, height, width = manifest.input_shape
    lines = [
        "/* sdsnn-hw network: the fields of manifest.json as macros (hardware contract 6). */",
        "#ifndef SDSNN_NETWORK_H",
        "#define SDSNN_NETWORK_H",
        "",
        "#include <stdint.h>",
        *(f'#include "{m.file.removesuffix(".mem")}.h"' for m in manifest.memories),
        "",
        f"#define SDSNN_MANIFEST_VERSION {VERSION}",
        f'#define SDSNN_GENERATOR "{manifest.generator}"',
        f"#define SDSNN_INPUTS {manifest.inputs}",
        f"#define SDSNN_INPUT_CHANNELS {channels}",
        f"#define SDSNN_INPUT_HEIGHT {height}",
        f"#define SDSNN_INPUT_WIDTH {width}",
        f"#define SDSNN_CLASSES {manifest.classes}",
        f"#define SDSNN_TIME_STEPS {manifest.time_steps}",
        f"#define SDSNN_LANES {manifest.lanes}",
        f"#define SDSNN_LAYERS {len(manifest.layers)}",
        f'#define SDSNN_READOUT "{manifest.readout}"',
    ]
    if manifest.source is not None:
        lines.append(f'#define SDSNN_SOURCE_SHA256 "{manifest.source.sha256}"')
    for i, layer in enumerate(manifest.layers):
        lines += ["", *_layer_lines(i, layer)]
    lines += ["", "#endif /* SDSNN_NETWORK_H */", ""]
    return "\n".join(lines)
