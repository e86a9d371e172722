"""The training configuration: presets, validation naming the key, overrides, round trip."""

from dataclasses import fields

import pytest

from sdsnn_hw import config as cfg
from sdsnn_hw.cli import EXIT_USAGE, main
from sdsnn_hw.config import ConfigError, TrainSetup


def test_fast_digits_is_the_default_of_sdsnn_run() -> None:
    from sdsnn_hw.pipeline import RunConfig

    assert cfg.preset("fast-digits") == TrainSetup()
    run = RunConfig()
    assert all(getattr(run, f.name) == getattr(TrainSetup(), f.name) for f in fields(TrainSetup))
    assert run.training.epochs == 30 and run.network.time_steps == 12 and run.hidden == (128,)


@pytest.mark.parametrize("name", cfg.preset_names())
def test_every_preset_is_valid_and_round_trips(name: str) -> None:
    setup = cfg.preset(name)
    assert cfg.parse(cfg.to_toml(setup, name), "again") == setup
    assert cfg.preset_summary(name).startswith(f"{name}: ")


def test_presets_command_lists_and_shows(capsys) -> None:
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    names = {"fast-digits", "fast-fmnist", "fashion-mlp", "digits-conv", "paper-mnist"}
    assert names | {"paper-nmnist", "paper-dvsgesture"} <= {
        line.split()[0] for line in listed.splitlines()
    }
    assert main(["presets", "--show", "fashion-mlp"]) == 0
    shown = capsys.readouterr().out
    assert cfg.parse(shown, "shown").network.time_steps == 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[schedule]\nepochs = 0\n", "key 'schedule.epochs' must be >= 1, got 0"),
        ("[schedule]\nepochs = 'ten'\n", "key 'schedule.epochs' must be an integer, got 'ten'"),
        (
            "[schedule]\nepoch = 3\n",
            "unknown key 'schedule.epoch'; expected one of: schedule.ep",
        ),
        ("[schedul]\nepochs = 3\n", "unknown section [schedul]"),
        ("[neuron]\nv_bits = 25\n", "key 'neuron.v_bits' must be in 2..24, got 25"),
        ("[neuron]\nv_bits = 8\nleak_shift = 9\n", "key 'neuron.leak_shift'"),
        ("[quantization]\nweight_bits = 9\n", "key 'quantization.weight_bits' must be in 2..8"),
        ("[network]\nnet = 'FC10-XP2'\n", "key 'network.net': network 'FC10-XP2': token 'XP2'"),
        ("[network]\nbiases = 'yes'\n", "key 'network.biases' must be true, false or 'auto'"),
        ("[network]\nhidden = [0]\n", "key 'network.hidden' must be a list of integers >= 1"),
        ("[data]\ndataset = 'imagenet'\n", "key 'data.dataset' must be one of"),
        ("[data]\nencoding = 'poisson'\n", "key 'data.encoding' must be one of 'rate', 'sigma"),
        ("[optimizer]\nname = 'lion'\n", "key 'optimizer.name' must be one of 'adam', 'adamw'"),
        ("[optimizer]\nlearning_rate = nan\n", "key 'optimizer.learning_rate' must be a finite"),
        ("[compute]\ngrad_precision = 'fp16'\n", "key 'compute.grad_precision' must be one of"),
        ("[structure]\nprune_rate_init = 95.0\n", "key 'structure.prune_rate_init' must be <="),
        (
            "[structure]\nconv_prune_rate_init = 95.0\n",
            "key 'structure.conv_prune_rate_init' must be <= structure.prune_rate_max (90.0)",
        ),
        ("[structure]\nstep_iterations = -1\n", "key 'structure.step_iterations' must be >= 0"),
        ("[structure]\nrate_gain_until = 60\n", "unknown key 'structure.rate_gain_until'"),
        ("seed = -1\n", "key 'seed' must be >= 0, got -1"),
        ("[schedule\n", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, text, message) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        cfg.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_a_file_keeps_the_defaults_it_leaves_out_and_overrides_apply(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("seed = 7\n[network]\nnet = '4C3-AP2-FC10'\n[schedule]\nepochs = 2\n")
    setup = cfg.load(path)
    assert (setup.training.seed, setup.net, setup.training.epochs) == (7, "4C3-AP2-FC10", 2)
    assert setup.training.learning_rate == TrainSetup().training.learning_rate
    assert cfg.network_config(setup).biases is True  # "auto": a conv network has biases
    setup = cfg.apply(setup, cfg.parse_override("optimizer.learning_rate=1e-3"), "cli")
    setup = cfg.apply(setup, cfg.parse_override("data.dataset=fashion-mnist"), "cli")
    assert setup.training.learning_rate == 1e-3 and setup.dataset == "fashion-mnist"
    assert cfg.differences(setup, TrainSetup()) == [
        "seed", "data.dataset", "network.net", "optimizer.learning_rate", "schedule.epochs"
    ]  # fmt: skip


def test_bad_configuration_on_the_command_line_exits_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[schedule]\nbatch_size = 0\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == f"sdsnn: error: {bad}: key 'schedule.batch_size' must be >= 1, got 0\n"
    assert main(["train", "--preset", "nope", "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "unknown preset 'nope'; expected one of: digits-conv" in capsys.readouterr().err
    args = ["train", "--preset", "fast-digits", "--set", "neuron.v_th=0", "--out", "o"]
    assert main(args) == EXIT_USAGE
    assert "command line: key 'neuron.v_th' must be > 0, got 0.0" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "needs --preset NAME or --config FILE" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_run_takes_its_training_configuration_from_a_preset(monkeypatch) -> None:
    """``sdsnn run --preset`` and its flags fill RunConfig; nothing trains here."""
    import sdsnn_hw.pipeline as pipeline

    seen = {}

    def fake_run(config, out, progress, force):
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(pipeline, "run", fake_run)
    with pytest.raises(SystemExit):
        main(["run", "--preset", "digits-conv", "--epochs", "3", "--out", "x", "--no-rtl"])
    config = seen["config"]
    assert (config.net, config.training.epochs, config.network.time_steps) == (
        "8C3-AP2-FC64-FC10", 3, 8
    )  # fmt: skip
    with pytest.raises(SystemExit):
        main(["run", "--out", "x", "--no-rtl"])
    assert seen["config"] == pipeline.RunConfig(rtl=False)  # fast-digits, as before
    # Fashion-MNIST starts from its own preset; flags still override it
    net = "15C3-AP2-40C3-AP2-FC300-FC10"
    with pytest.raises(SystemExit):
        main(["run", "--dataset", "fashion-mnist", "--net", net, "--out", "x", "--no-rtl"])
    fmnist = cfg.preset("fast-fmnist")
    config = seen["config"]
    assert (config.dataset, config.net, config.training.epochs) == ("fashion-mnist", net, 10)
    assert (config.training, config.network.time_steps) == (
        fmnist.training, fmnist.network.time_steps
    )  # fmt: skip


def test_a_gpu_run_without_a_gpu_exits_2_before_anything_is_written(tmp_path, capsys) -> None:
    import torch

    if torch.cuda.is_available():
        return
    out = tmp_path / "gpu"
    assert main(["train", "--preset", "fast-digits", "--device", "cuda", "--out", str(out)]) == 2
    assert "key 'compute.device' is 'cuda' but this PyTorch sees no CUDA GPU" in (
        capsys.readouterr().err
    )
    assert not out.exists()


def test_paper_presets_hold_the_official_constants() -> None:
    """sdsnn-method: T_s = 18, E = 0.75, q0 60 fc / 65 conv (55 fc on DVS-Gesture),
    T_g 10 / 18, theta 20 / 10, p0 35 / 45 / 60 fc and 5 conv, gain switch at step 60."""
    from sdsnn_hw.structure import CONV, FC, LayerConstants

    rates = {"paper-mnist": (60.0, 35.0, 20), "paper-nmnist": (60.0, 45.0, 20)}
    rates["paper-dvsgesture"] = (55.0, 60.0, 64)
    for name, (q0, p0, steps) in rates.items():
        setup = cfg.preset(name)
        s = setup.structure
        assert (s.plasticity_steps, s.shrink, s.regen_growth, s.regen_q_max) == (18, 0.75, 1.1, 99)
        assert s.constants(FC) == LayerConstants(q0, 10, 20, p0, 1.0)
        assert s.constants(CONV) == LayerConstants(65.0, 18, 10, 5.0, 5.0)
        assert s.development_start + s.rate_gain_steps == 60 and s.late_rate_gain == 0.00075
        assert setup.net.startswith("15C3-AP2-40C3-AP2-FC300-FC1") and setup.biases is True
        assert setup.network.time_steps == steps and setup.training.epochs == 300
        assert (setup.training.batch_size, setup.training.learning_rate) == (100, 1e-3)
