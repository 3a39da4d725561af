"""The demo's held-out check set (egs/mini_sentiment/conf/check_set, stage 11): hand-written sentences that
the corpus generator does not make, over the corpus's words, spoken with voices, rates and pitches outside the
corpus's talkers'."""

from __future__ import annotations

import random
import re
import shlex
import subprocess
from pathlib import Path

import yaml

from speechsent.bin.synth_utterance import get_parser
from speechsent.kaldi.table import read_table
from speechsent.synth import lexicon as lx
from speechsent.synth.espeak import DEFAULT_VARIANTS, is_reproducible, list_english_voices, list_variants
from speechsent.synth.sentences import SentenceGenerator
from speechsent.synth.topics import TOPIC_LEXICONS
from speechsent.synth.voice import FEMALE_PITCH, MALE_PITCH, RATE

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "egs" / "mini_sentiment"
CHECK_SET = RECIPE / "conf" / "check_set"
PREFIX = {"Negative": "check_neg_", "Neutral": "check_neu_", "Positive": "check_pos_"}
# the common, unambiguous sentiment words that carry the polar sentences (none may be in a neutral one)
POSITIVE = {"love", "great", "wonderful", "happy", "enjoy", "glad", "excellent", "nice", "fantastic"}
NEGATIVE = {"hate", "awful", "terrible", "angry", "horrible", "sad", "worst", "bad", "upset"}


def _lexicon_words(*groups: tuple[str, ...]) -> set[str]:
    return {phrase.split()[-1] for group in groups for phrase in group}


def _corpus_vocabulary() -> set[str]:
    words: set[str] = set()
    for name in dir(lx):
        value = getattr(lx, name)
        if name.isupper() and isinstance(value, (tuple, frozenset)):
            words.update(w for phrase in value for w in phrase.split())
        elif name.isupper() and isinstance(value, dict):
            words.update(w for phrases in value.values() for phrase in phrases for w in phrase.split())
    for lexicon in TOPIC_LEXICONS.values():
        words.update(w for phrases in lexicon.values() for phrase in phrases for w in phrase.split())
    return words


def _sentences() -> tuple[dict[str, str], dict[str, str]]:
    text = read_table(CHECK_SET / "text", require_sorted=True)
    labels = read_table(CHECK_SET / "utt2sentiment", require_sorted=True)
    return text, labels


def test_the_check_set_files():
    text, labels = _sentences()
    assert text.keys() == labels.keys()
    for label, prefix in PREFIX.items():
        utts = [u for u, lab in labels.items() if lab == label]
        assert len(utts) >= 12 and all(re.fullmatch(rf"{prefix}\d\d", u) for u in utts), label
    for utt, sentence in text.items():
        assert re.fullmatch(r"[a-z']+( [a-z']+)*", sentence), utt  # lower case, no punctuation
        assert 5 <= len(sentence.split()) <= 12, utt
    assert len(set(text.values())) == len(text)


def test_sentiment_words_carry_the_polar_sentences_only():
    text, labels = _sentences()
    positive = POSITIVE | _lexicon_words(lx.POS_VERB, lx.POS_ADJ, lx.POS_ATTR, lx.POS_FEEL)
    negative = NEGATIVE | _lexicon_words(lx.NEG_VERB, lx.NEG_ADJ, lx.NEG_ATTR, lx.NEG_FEEL) | {"stand"}
    for utt, sentence in text.items():
        words = set(sentence.split())
        if labels[utt] == "Neutral":
            assert not words & (positive | negative), (utt, words & (positive | negative))
            continue
        own, other = (POSITIVE, negative) if labels[utt] == "Positive" else (NEGATIVE, positive)
        assert words & own and not words & other, (utt, words & other)


def test_new_sentences_of_the_corpus_words():
    # New sentences (none the generator makes) over words the corpus has: a recognizer trained on about an
    # hour of the corpus cannot spell words it never heard, and the check measures whether the models learn
    # sentiment from words, not the size of the ASR's vocabulary (stage 11 reports the words its ASR training
    # text lacks; README: "What the demo's numbers show").
    text, _ = _sentences()
    vocabulary = _corpus_vocabulary()
    unknown = {u: set(s.split()) - vocabulary for u, s in text.items() if set(s.split()) - vocabulary}
    assert not unknown
    generator = SentenceGenerator(random.Random(0), disfluency_rate=0.0)
    made = {generator.sentence(label).text for _ in range(10000) for label in PREFIX}
    assert not set(text.values()) & made
    # nor a sentence the generator makes with other fillers: no check sentence contains one of its sentences
    assert not [u for u, s in text.items() for m in made if len(m.split()) >= 5 and m in s]


def _demo_synth_args() -> list[str]:
    """The options of speechsent-synth-utterance that the demo's run.sh passes to stage 11."""
    run_sh = (RECIPE / "run.sh").read_text(encoding="utf-8")
    assert '--export_check_synth_args "${check_synth_args}"' in run_sh
    assert "--export_check_text conf/check_set/text" in run_sh
    assert "--export_check_labels conf/check_set/utt2sentiment" in run_sh
    definitions = "\n".join(line for line in run_sh.splitlines() if line.startswith("check_"))
    script = f'set -eu\n{definitions}\nprintf "%s" "${{check_synth_args}}"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return shlex.split(done.stdout)


def test_the_demo_speaks_it_unlike_the_corpus():
    args = get_parser().parse_args(["--text_file", "t", "--out_dir", "o", *_demo_synth_args()])
    assert args.telephone and args.utt2sentiment is None  # the corpus's channel, neutral prosody
    # the corpus's talkers: its voices (the demo's corpus config names none: the default pool), rates, pitches
    assert "voices" not in (yaml.safe_load((RECIPE / "conf" / "synth_corpus.yaml").read_text()) or {})
    corpus_voices = set(list_english_voices())
    installed = set(list_variants(breathy=False))
    assert len(args.voice) >= 5
    for voice in args.voice:
        variant = voice.partition("+")[2]
        assert voice not in corpus_voices and variant not in DEFAULT_VARIANTS, voice
        assert variant in installed and is_reproducible(voice), voice
    assert len(args.rate) >= 3 and not [r for r in args.rate if RATE[0] <= r <= RATE[1]]
    lowest, highest = min(MALE_PITCH[0], FEMALE_PITCH[0]), max(MALE_PITCH[1], FEMALE_PITCH[1])
    assert len(args.pitch) >= 3 and not [p for p in args.pitch if lowest <= p <= highest]
