"""The inference API on exported tiny systems: the recipe's features and transcripts, every kind of input."""

from __future__ import annotations

import itertools
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("espnet2")
torch = pytest.importorskip("torch")

from speechsent import SentimentModel  # noqa: E402
from speechsent.inference.audio_inputs import iter_wav_scp, load_file  # noqa: E402
from speechsent.inference.export import export_system  # noqa: E402
from speechsent.inference.model import InferenceError, Prediction  # noqa: E402
from speechsent.inference.model_kinds import E2ESentimentModel, TwoStepSentimentModel  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


tiny_exp = runpy.run_path(str(Path(__file__).with_name("tiny_exp.py")))  # test dirs are not packages


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> dict[str, Path]:
    return tiny_exp["build_tiny_recipe"](tmp_path_factory.mktemp("recipe"))


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> dict[str, Path]:
    return tiny_exp["write_audio_inputs"](tmp_path_factory.mktemp("audio"))


@pytest.fixture(scope="module")
def models(recipe, tmp_path_factory) -> dict[str, Path]:
    """Exported models, each moved elsewhere after the export (relocation) and the recipe's copy removed."""
    exp = recipe["exp"]
    out = tmp_path_factory.mktemp("exported")
    moved = tmp_path_factory.mktemp("moved")
    dirs = {
        "e2e": export_system(exp / "e2e_blstm_all_s0", out / "e2e", exp / "asr_model"),
        "two_step": export_system(
            exp / "text_baseline_asr_s0", out / "ts", exp / "asr_model", {"mode": "ctc_greedy"}
        ),
        "lm": export_system(
            exp / "text_lm_asr_s0", out / "lm", exp / "asr_model", {"mode": "beam", "beam_size": 2}
        ),
        "fbank": export_system(exp / "e2e_cnn_fbank_s0", out / "fbank"),
    }
    return {name: Path(shutil.move(d, moved / f"{name}_moved")) for name, d in dirs.items()}


@pytest.fixture(scope="module")
def e2e(models) -> E2ESentimentModel:
    model = SentimentModel.from_pretrained(models["e2e"], device="cpu", batch_size=2)
    assert isinstance(model, E2ESentimentModel)
    return model


@pytest.fixture(scope="module")
def two_step(models) -> TwoStepSentimentModel:
    model = SentimentModel.from_pretrained(models["two_step"], device="auto", batch_size=3)
    assert isinstance(model, TwoStepSentimentModel)
    return model


def _close(a: Prediction, b: Prediction, atol: float = 1e-5) -> None:
    assert a.label == b.label and a.transcript == b.transcript
    np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=atol)


# -- E2E: the features and probabilities of the recipe -------------------------------------------------------


def test_e2e_features_and_probabilities_are_those_of_the_dump(e2e, recipe, tmp_path):
    """Stage 5's dump of a data dir (float storage) → the classifier, as stage 9 scores it; the exported
    model on the same utterances of wav.scp + segments gives the same features and probabilities."""
    import kaldiio

    from speechsent.asr.dump_jobs import merge_jobs
    from speechsent.asr.encoder_dump import DumpConfig, dump_job
    from speechsent.asr.tiny_model import write_synthetic_data_dir

    data = write_synthetic_data_dir(tmp_path, [[0.7, 1.3], [0.9]], fs=8000, seed=3)
    dump = tmp_path / "dump"
    dump_job(
        DumpConfig(data_dir=data, out_dir=dump, asr_model_dir=recipe["exp"] / "asr_model", progress=False), 1
    )
    merge_jobs(data, dump, 1)
    dumped = dict(kaldiio.load_scp_sequential(str(dump / "feats.scp")))
    items = list(iter_wav_scp(data / "wav.scp", data / "segments", e2e.fs))
    assert [it.name for it in items] == sorted(dumped) and all(it.error is None for it in items)
    preds = e2e.predict_waveforms([it.samples for it in items])
    with torch.inference_mode():
        for item, pred in zip(items, preds, strict=True):
            ref = dumped[item.name]
            np.testing.assert_allclose(e2e.features(item.samples), ref, atol=1e-5)
            logits = e2e.classifier(torch.from_numpy(ref.copy())[None], torch.tensor([len(ref)]))
            probs = torch.softmax(logits, -1)[0].numpy()
            np.testing.assert_allclose(list(pred.probabilities.values()), probs, atol=1e-5)
            assert pred.label == e2e.labels[int(probs.argmax())] and pred.transcript is None


def test_e2e_inputs(e2e, audio):
    """Paths (str, Path), arrays (float, int16, tensor), flac, SPHERE (shorten µ-law), resampling."""
    import soundfile as sf

    from speechsent.audio.sphere import read_sphere

    assert e2e.fs == 8000 and e2e.labels == ["Negative", "Neutral", "Positive"] and e2e.type == "e2e"
    by_path = e2e(str(audio["wav"]))
    assert isinstance(by_path, Prediction) and abs(sum(by_path.probabilities.values()) - 1) < 1e-5
    pcm, fs = sf.read(audio["wav"], dtype="int16")
    _close(e2e(audio["wav"]), by_path)
    _close(e2e(pcm, fs=fs), by_path)
    _close(e2e(pcm.astype(np.float32) / 32768), by_path)
    _close(e2e(torch.from_numpy(pcm.astype(np.float32) / 32768)[:, None], fs=8000), by_path)
    flac, _ = sf.read(audio["flac"], dtype="int16")
    _close(e2e(audio["flac"]), e2e(flac, fs=8000))
    sph, rate = read_sphere(audio["sph"])
    _close(e2e(audio["sph"]), e2e(sph, fs=rate))
    wav16k, rate16k = sf.read(audio["wav16k"], dtype="int16")
    assert rate16k == 16000
    _close(e2e(audio["wav16k"]), e2e(wav16k, fs=16000))
    # the 16 kHz copy of the 8 kHz SPHERE audio, resampled back, is classified alike
    _close(e2e(audio["wav16k"]), e2e(audio["sph"]), atol=0.05)


def test_channels(e2e, audio):
    import soundfile as sf

    with pytest.raises(InferenceError, match="2 channels; choose one"):
        e2e(audio["stereo"])
    stereo, _ = sf.read(audio["stereo"], dtype="int16")
    _close(e2e(audio["stereo"], channel=1), e2e(stereo[:, 1], fs=8000))
    _close(e2e(stereo, fs=8000, channel=0), e2e(audio["wav"]))
    with pytest.raises(InferenceError, match="channel 2 out of range"):
        e2e(stereo, fs=8000, channel=2)
    with pytest.raises(InferenceError, match="not \\(channels, samples\\)"):
        e2e(stereo.T, fs=8000, channel=0)


def test_batches_equal_single_inputs(e2e, audio):
    inputs = [audio["wav"], audio["flac"], audio["sph"]]
    batched = e2e.predict(inputs)
    for x, pred in zip(inputs, batched, strict=True):
        _close(pred, e2e(x))


def test_gpu_batching_path_equals_single_inputs(models, audio):
    """The batched encoder (what a GPU uses; exercised here on the CPU) gives the one-at-a-time results."""
    model = SentimentModel.from_pretrained(models["e2e"], device="cpu", batch_size=3)
    inputs = [audio["wav"], audio["flac"], audio["sph"]]
    single = [model(x) for x in inputs]
    model.batched_encoder = True
    for pred, ref in zip(model.predict(inputs), single, strict=True):
        _close(pred, ref, atol=1e-4)
    assert model._invariance_checked and model.batched_encoder


def test_bad_inputs(e2e, audio, tmp_path):
    with pytest.raises(InferenceError, match="not readable audio"):
        e2e(audio["corrupt"])
    with pytest.raises(InferenceError, match="no such file"):
        e2e(tmp_path / "none.wav")
    with pytest.raises(InferenceError, match="too short"):
        e2e(audio["short"])
    waves = [e2e.load(audio["wav"]), e2e.load(audio["short"]), e2e.load(audio["flac"])]
    results = e2e.predict_waveforms(waves, errors="return", names=["a", "short", "c"])
    assert isinstance(results[1], InferenceError) and str(results[1]).startswith("short: too short")
    _close(results[0], e2e(audio["wav"]))
    _close(results[2], e2e(audio["flac"]))


def test_wav_scp_with_segments_and_pipes(audio):
    items = {it.name: it for it in iter_wav_scp(audio["wav_scp"], audio["segments"], 8000)}
    assert sorted(items) == ["reco1_a", "reco1_b", "reco2_a", "reco3_a"]
    assert "missing.wav" in items["reco3_a"].error and items["reco3_a"].samples is None
    whole = load_file(audio["wav"], 8000)
    np.testing.assert_array_equal(items["reco1_b"].samples, whole[4000:9600])
    sph = load_file(audio["sph"], 8000)  # the sph2pipe pipe decodes to the same samples
    np.testing.assert_array_equal(items["reco2_a"].samples, sph[800:6400])
    # without segments: one utterance per recording (a segments file beside wav.scp is not read)
    whole_items = {it.name: it for it in iter_wav_scp(audio["wav_scp"], None, 16000)}
    assert sorted(whole_items) == ["reco1", "reco2", "reco3"] and whole_items["reco3"].error
    np.testing.assert_array_equal(whole_items["reco1"].samples, load_file(audio["wav"], 16000))


def test_fbank_model(models, audio):
    from speechsent.features.fbank import compute_fbank

    model = SentimentModel.from_pretrained(models["fbank"], device="cpu")
    wave = model.load(audio["flac"])
    np.testing.assert_array_equal(model.features(wave), compute_fbank(wave, 8000))
    assert model(audio["flac"]).label in model.labels
    with pytest.raises(InferenceError, match="too short"):
        model(np.zeros(100, dtype=np.float32))


# -- 2-step --------------------------------------------------------------------------------------------------


def test_two_step_transcribes_as_stage_4_and_classifies_as_stage_8(two_step, recipe, audio):
    from speechsent.asr.decoder import Decoder
    from speechsent.asr.model_dir import resolve_model_dir, write_resolved_config
    from speechsent.models.text_classifier import TextSentimentPredictor

    files = resolve_model_dir(recipe["exp"] / "asr_model")
    config = write_resolved_config(files, recipe["root"] / "asr_config.yaml")
    spec = {"config": str(config), "model_file": str(files.model_file), "bpemodel": str(files.bpemodel)}
    decoder = Decoder({**spec, "fs": 8000, "options": {"mode": "ctc_greedy"}})
    inputs = [audio["wav"], audio["sph"], audio["flac"]]
    preds = two_step.predict(inputs)
    texts = [
        text for _, text, _ in decoder.decode([(str(i), load_file(p, 8000)) for i, p in enumerate(inputs)])
    ]
    assert [p.transcript for p in preds] == texts and any(texts)
    probs = TextSentimentPredictor(recipe["exp"] / "text_baseline_asr_s0").predict(texts)
    np.testing.assert_allclose([list(p.probabilities.values()) for p in preds], probs, atol=1e-6)
    assert preds[0].to_dict() == {
        "label": preds[0].label,
        "probabilities": preds[0].probabilities,
        "transcript": preds[0].transcript,
    }
    with pytest.raises(InferenceError, match="too short"):
        two_step(audio["short"])


def test_two_step_lm_beam_search(models, audio):
    model = SentimentModel.from_pretrained(models["lm"], device="cpu")
    assert model.decode_options["mode"] == "beam" and model.decode_options["beam_size"] == 2
    pred = model(audio["wav"])
    assert isinstance(pred.transcript, str) and pred.label in model.labels
    with pytest.raises(InferenceError, match="too short"):
        model(audio["short"])


# -- loading -------------------------------------------------------------------------------------------------


def test_loading_errors(tmp_path, models):
    with pytest.raises(InferenceError, match="not an exported speechsent model"):
        SentimentModel.from_pretrained(tmp_path)
    with pytest.raises(InferenceError, match="device must be"):
        SentimentModel.from_pretrained(models["fbank"], device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InferenceError, match="CUDA is not available"):
            SentimentModel.from_pretrained(models["fbank"], device="cuda")


def test_package_import_stays_light():
    code = "import sys, speechsent; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == ["False", "False"]
    with pytest.raises(AttributeError):
        import speechsent

        _ = speechsent.NoSuchThing


# -- broken model dirs: one line naming the file, before ESPnet is imported ---------------------------------


def _edit_json(path: Path, edit) -> None:
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(edit(data)), encoding="utf-8")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


#: (model, what is broken, how, the file the message must name, what it must say)
BROKEN = {
    "asr_model_truncated": ("e2e", lambda d: _truncate(d / "asr/model.pth"), "asr/model.pth", "truncated?"),
    "classifier_garbage": (
        "e2e",
        lambda d: (d / "classifier/best.pth").write_bytes(b"garbage\n" * 100),
        "classifier/best.pth",
        "not a PyTorch checkpoint",
    ),
    "classifier_truncated": (
        "e2e",
        lambda d: _truncate(d / "classifier/best.pth"),
        "classifier/best.pth",
        "truncated?",
    ),
    "classifier_empty": (
        "e2e",
        lambda d: (d / "classifier/best.pth").write_bytes(b""),
        "classifier/best.pth",
        "empty",
    ),
    "classifier_missing": (
        "e2e",
        lambda d: (d / "classifier/best.pth").unlink(),
        "classifier/best.pth",
        "no such file",
    ),
    "classifier_json_missing": (
        "e2e",
        lambda d: (d / "classifier/model.json").unlink(),
        "classifier/model.json",
        "no such file",
    ),
    "classifier_dir_missing": (
        "e2e",
        lambda d: shutil.rmtree(d / "classifier"),
        "classifier",
        "no such directory",
    ),
    "type": (
        "e2e",
        lambda d: _edit_json(d / "speechsent_model.json", lambda j: {**j, "type": "e3e"}),
        "speechsent_model.json",
        "type must be one of e2e, two_step, not 'e3e'",
    ),
    "a_list": (
        "e2e",
        lambda d: (d / "speechsent_model.json").write_text("[1, 2, 3]\n"),
        "speechsent_model.json",
        "expected a JSON object, got a list",
    ),
    "fs_not_a_number": (
        "e2e",
        lambda d: _edit_json(d / "speechsent_model.json", lambda j: {**j, "fs": "eight thousand"}),
        "speechsent_model.json",
        "fs must be a positive integer",
    ),
    "labels_vs_head": (
        "e2e",
        lambda d: _edit_json(
            d / "speechsent_model.json", lambda j: {**j, "labels": ["Negative", "Positive"]}
        ),
        "speechsent_model.json",
        "labels ['Negative', 'Positive'] do not match the classifier head (3 outputs",
    ),
    "invalid_json": (
        "e2e",
        lambda d: _truncate(d / "speechsent_model.json"),
        "speechsent_model.json",
        "not valid JSON",
    ),
    "no_labels": (
        "e2e",
        lambda d: _edit_json(
            d / "speechsent_model.json", lambda j: {k: v for k, v in j.items() if k != "labels"}
        ),
        "speechsent_model.json",
        "no labels (a required field)",
    ),
    "asr_config_missing": (
        "e2e",
        lambda d: (d / "asr/config.yaml").unlink(),
        "asr/config.yaml",
        "no such file",
    ),
    "asr_model_missing": ("e2e", lambda d: (d / "asr/model.pth").unlink(), "asr/model.pth", "no such file"),
    "asr_config_not_yaml": (
        "e2e",
        lambda d: (d / "asr/config.yaml").write_text("encoder: [unclosed\n"),
        "asr/config.yaml",
        "the ASR model is incomplete",
    ),
    "asr_bpe_missing": ("two_step", lambda d: (d / "asr/bpe.model").unlink(), "asr/config.yaml", "bpemodel"),
    "asr_fs_mismatch": (
        "e2e",
        lambda d: _edit_json(d / "speechsent_model.json", lambda j: {**j, "fs": 16000}),
        "asr/config.yaml",
        "the ASR frontend takes 8000 Hz audio but speechsent_model.json says fs 16000",
    ),
    "text_classifier_garbage": (
        "two_step",
        lambda d: (d / "classifier/best.pth").write_bytes(b"\x00" * 64),
        "classifier/best.pth",
        "not a PyTorch checkpoint",
    ),
    "text_tokenizer_missing": (
        "two_step",
        lambda d: (d / "classifier/bpe.model").unlink(),
        "classifier/bpe.model",
        "no such file",
    ),
    "lm_missing": ("lm", lambda d: shutil.rmtree(d / "lm"), "lm", "no such directory"),
    "fbank_options": (
        "fbank",
        lambda d: _edit_json(
            d / "speechsent_model.json", lambda j: {**j, "features": {**j["features"], "fbank": {"bins": 80}}}
        ),
        "speechsent_model.json",
        "features.fbank: unknown option(s) bins",
    ),
}


@pytest.fixture(scope="module")
def broken(models, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("broken")
    out = {}
    for name, (kind, breaks, _, _) in BROKEN.items():
        d = Path(shutil.copytree(models[kind], root / name))
        breaks(d)
        out[name] = d
    return out


def test_broken_model_dirs_fail_fast_with_one_line_before_espnet(broken):
    """Every broken dir: InferenceError, one line, naming the file, in a process that has imported neither
    ESPnet nor torch by then (the checks come first)."""
    import json

    code = (
        "import json, sys, time\n"
        "from speechsent.inference.model import InferenceError, SentimentModel\n"
        "out = {}\n"
        "for name, path in json.loads(sys.argv[1]).items():\n"
        "    t = time.monotonic()\n"
        "    try:\n"
        "        SentimentModel.from_pretrained(path, device='cpu')\n"
        "        message = None\n"
        "    except InferenceError as error:\n"
        "        message = str(error)\n"
        "    out[name] = [message, time.monotonic() - t, 'espnet2' in sys.modules, 'torch' in sys.modules]\n"
        "print(json.dumps(out))\n"
    )
    dirs = json.dumps({name: str(d) for name, d in broken.items()})
    proc = subprocess.run(
        [sys.executable, "-c", code, dirs], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout)
    for name, (message, seconds, espnet, torch_imported) in results.items():
        _, _, file, says = BROKEN[name]
        assert message is not None, f"{name}: loaded"
        assert str(broken[name] / file) in message and says in message, (name, message)
        assert "\n" not in message and not espnet and not torch_imported and seconds < 2, (
            name,
            results[name],
        )


def test_broken_model_dir_with_speechsent_infer(broken, tmp_path):
    """The command: the one line on stderr, no traceback, exit 1, nothing on stdout."""
    for name in ("asr_model_truncated", "labels_vs_head"):
        proc = subprocess.run(
            [sys.executable, "-m", "speechsent.bin.infer", "--model_dir", str(broken[name]), "a.wav"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert proc.returncode == 1 and proc.stdout == ""
        assert "Traceback" not in proc.stderr and str(broken[name] / BROKEN[name][2]) in proc.stderr
        (line,) = [x for x in proc.stderr.splitlines() if str(broken[name]) in x]
        assert BROKEN[name][3] in line


def test_checkpoints_that_load_but_do_not_fit(models, tmp_path):
    """Past the torch-free checks: a checkpoint of another model, a head with other outputs than the labels,
    weights holding NaN, a file torch cannot read: one line naming the file."""

    def copy(kind: str, name: str) -> Path:
        return Path(shutil.copytree(models[kind], tmp_path / name))

    d = copy("e2e", "head")  # labels and the config say 2 classes, the weights have 3 outputs
    _edit_json(d / "speechsent_model.json", lambda j: {**j, "labels": ["Negative", "Positive"]})
    _edit_json(
        d / "classifier/model.json",
        lambda j: {**j, "labels": ["Negative", "Positive"], "config": {**j["config"], "num_classes": 2}},
    )
    with pytest.raises(InferenceError) as info:
        SentimentModel.from_pretrained(d, device="cpu")
    assert str(info.value) == (
        f"{d / 'classifier/best.pth'}: the labels ['Negative', 'Positive'] do not match the classifier head "
        "(3 outputs)"
    )
    d = copy("e2e", "other_model")  # the text classifier's weights in the E2E classifier's place
    shutil.copyfile(models["two_step"] / "classifier/best.pth", d / "classifier/best.pth")
    with pytest.raises(InferenceError, match="does not fit the classifier of") as info:
        SentimentModel.from_pretrained(d, device="cpu")
    assert str(info.value).startswith(f"{d / 'classifier/best.pth'}: ") and "\n" not in str(info.value)
    d = copy("e2e", "asr_other")  # a valid checkpoint that is not the ASR model of the config
    shutil.copyfile(d / "classifier/best.pth", d / "asr/model.pth")
    # (ESPnet loads it with strict=False: without the check, an encoder with random weights)
    with pytest.raises(
        InferenceError, match="not a checkpoint of the ASR model of .* 73 of its 73 parameters missing"
    ) as info:
        SentimentModel.from_pretrained(d, device="cpu")
    assert str(info.value).startswith(f"{d / 'asr/model.pth'}: ") and "\n" not in str(info.value)
    d = copy("two_step", "asr_other_two_step")
    shutil.copyfile(d / "classifier/best.pth", d / "asr/model.pth")
    with pytest.raises(InferenceError, match="not a checkpoint of the ASR model of"):
        SentimentModel.from_pretrained(d, device="cpu")
    d = copy("e2e", "nan")
    state = torch.load(d / "classifier/best.pth")
    state["head.bias"][0] = float("nan")
    torch.save(state, d / "classifier/best.pth")
    with pytest.raises(InferenceError, match=r"head.bias holds non-finite values"):
        SentimentModel.from_pretrained(d, device="cpu")
    d = copy("e2e", "not_a_state_dict")
    torch.save({"weights": [1, 2, 3]}, d / "classifier/best.pth")
    with pytest.raises(InferenceError, match="not a state dict"):
        SentimentModel.from_pretrained(d, device="cpu")
    d = copy("two_step", "text_other")  # the E2E classifier's weights in the text classifier's place
    shutil.copyfile(models["e2e"] / "classifier/best.pth", d / "classifier/best.pth")
    with pytest.raises(InferenceError, match="cannot load the text classifier") as info:
        SentimentModel.from_pretrained(d, device="cpu")
    assert str(info.value).startswith(f"{d / 'classifier'}: ") and "\n" not in str(info.value)


# -- NaN / infinity: a per-input error, never a label or a NaN probability -----------------------------------


def test_non_finite_samples_are_an_error(e2e, two_step, models, audio):
    wave = e2e.load(audio["wav"])
    for bad in (np.nan, np.inf, -np.inf):
        x = wave.copy()
        x[100] = bad
        for model in (e2e, two_step):
            with pytest.raises(ValueError, match="NaN or infinite"):  # (InferenceError is a ValueError)
                model(x)
            with pytest.raises(InferenceError, match="NaN or infinite"):
                model.predict_chunks(x, 0.5)
        # given as waveforms (no reader in between): that input an error, the others classified
        results = e2e.predict_waveforms([wave, x, wave], errors="return", names=["a", "bad", "c"])
        assert isinstance(results[1], InferenceError) and str(results[1]).startswith("bad: 1 of ")
        assert "NaN or infinite (the first at sample 100, 0.013 s)" in str(results[1])
        _close(results[0], e2e(wave))
        _close(results[2], e2e(wave))
        with pytest.raises(InferenceError, match="NaN or infinite"):
            two_step.predict_waveforms([x])
        (error,) = e2e.predict_waveform_chunks(x, 0.5, errors="return", name="bad")
        assert isinstance(error, InferenceError) and "NaN or infinite" in str(error)


def test_non_finite_features_or_probabilities_are_an_error(e2e, models, audio):
    """The last line of defence: finite samples far out of [-1, 1] overflow the features; a classifier that
    outputs NaN. An error for that input, not a label."""
    wave = e2e.load(audio["wav"])
    fbank = SentimentModel.from_pretrained(models["fbank"], device="cpu")
    for model in (e2e, fbank):
        (result,) = model.predict_waveforms([wave * 1e30], errors="return")
        assert isinstance(result, InferenceError) and "the features are NaN or infinite" in str(result)
    model = SentimentModel.from_pretrained(models["e2e"], device="cpu")
    model.classifier = lambda feats, lengths: torch.full((len(lengths), 3), float("nan"))
    with pytest.raises(InferenceError, match="the probabilities are NaN or infinite"):
        model(wave)


# -- long inputs: the duration guard and windows -------------------------------------------------------------


def test_window_bounds():
    from speechsent.inference.model import window_bounds

    assert window_bounds(8000 * 3 + 3000, 8000, 1.0) == [(0, 8000), (8000, 16000), (16000, 27000)]  # merged
    assert window_bounds(8000 * 3 + 4000, 8000, 1.0)[-1] == (24000, 28000)  # half a window: kept
    assert len(window_bounds(8000 * 3 + 4000, 8000, 1.0)) == 4
    assert window_bounds(16000, 8000, 1.0) == [(0, 8000), (8000, 16000)]
    assert window_bounds(5000, 8000, 1.0) == [(0, 5000)]  # shorter than a window: one window
    assert window_bounds(12000, 8000, 1.0) == [(0, 8000), (8000, 12000)]
    assert window_bounds(11999, 8000, 1.0) == [(0, 11999)]
    bounds = window_bounds(8000 * 600 + 123, 8000, 10.0)
    assert len(bounds) == 60 and bounds[0] == (0, 80000) and bounds[-1] == (8000 * 590, 8000 * 600 + 123)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    with pytest.raises(InferenceError, match="less than one sample"):
        window_bounds(100, 8000, 1e-6)


def test_max_duration_guard(models, audio):
    from speechsent.asr.tiny_model import synthetic_speech
    from speechsent.inference.model import DEFAULT_MAX_DURATION

    model = SentimentModel.from_pretrained(models["e2e"], device="cpu")
    assert model.max_duration == DEFAULT_MAX_DURATION == 60.0
    long = np.zeros(8000 * 61, dtype=np.float32)  # refused before any computation
    with pytest.raises(InferenceError) as info:
        model(long)
    message = str(info.value)
    assert "61.0 s is longer than max_duration 60 s" in message
    assert "--chunk_seconds" in message and "predict_chunks" in message and "--segments" in message
    short = SentimentModel.from_pretrained(models["e2e"], device="cpu", max_duration=1.0)
    wave = synthetic_speech(int(8000 * 1.5), 8000, 5)
    with pytest.raises(InferenceError, match="1.5 s is longer than max_duration 1 s"):
        short(wave)
    results = short.predict_waveforms([wave, wave[:7000]], errors="return", names=["long", "ok"])
    assert isinstance(results[0], InferenceError) and str(results[0]).startswith("long: 1.5 s is longer")
    _close(results[1], model(wave[:7000]))
    unlimited = SentimentModel.from_pretrained(models["e2e"], device="cpu", max_duration=0)
    assert unlimited.max_duration is None and unlimited(wave).label in unlimited.labels
    with pytest.raises(InferenceError, match="chunk_seconds 2 is longer than max_duration 1 s"):
        short.predict_chunks(wave, 2.0)
    with pytest.raises(InferenceError, match="max_duration must be positive"):
        SentimentModel.from_pretrained(models["fbank"], device="cpu", max_duration=-1)


@pytest.mark.parametrize("kind", ["e2e", "fbank", "two_step"])
def test_chunks_are_windows_classified_alone(kind, models, audio):
    """Each window's prediction is that of the window's samples as one input; start/end in seconds; the
    windows run batch_size at a time."""
    from speechsent.asr.tiny_model import synthetic_speech

    model = SentimentModel.from_pretrained(models[kind], device="cpu", batch_size=2, max_duration=1.0)
    wave = synthetic_speech(8000 * 5 + 3000, 8000, 7)  # 5.375 s: 5 windows of 1 s, the last 1.375 s
    windows = model.predict_chunks(wave, 1.0)
    assert [(w.start, w.end) for w in windows] == [
        (0.0, 1.0),
        (1.0, 2.0),
        (2.0, 3.0),
        (3.0, 4.0),
        (4.0, 5.375),
    ]
    whole = SentimentModel.from_pretrained(models[kind], device="cpu", batch_size=1, max_duration=0)
    for w in windows:
        assert isinstance(w, Prediction)
        _close(w, whole(wave[round(w.start * 8000) : round(w.end * 8000)]))
        assert w.to_dict()["start"] == w.start and list(w.to_dict())[:2] == ["start", "end"]
    # a file, the same windows as its samples; a window too short is an error with its start/end
    from_file = model.predict_chunks(audio["wav"], 0.5)
    samples = model.load(audio["wav"])
    for w, ref in zip(from_file, model.predict_waveform_chunks(samples, 0.5), strict=True):
        _close(w, ref)
    results = model.predict_waveform_chunks(wave[:8040], 1.0, errors="return", name="x")  # 1.005 s
    assert len(results) == 1 and results[0].end == 8040 / 8000
    tiny = model.predict_waveform_chunks(wave[:20], 1.0, errors="return", name="x")
    assert isinstance(tiny[0], InferenceError) and "too short" in str(tiny[0]) and tiny[0].end == 20 / 8000
