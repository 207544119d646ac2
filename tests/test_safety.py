"""The crisis notice: which queries get it, by rules and by meaning, for both bundled models.

Recall is measured on tests/data/crisis_heldout.txt and false alarms on
tests/data/crisis_near_miss.txt: sets written blind by another author, that nothing in the
product was fitted to (docs/safety.md). The bank the check was tuned on is search/crisis_bank.txt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import load_embedder
from index.errors import ModelNotFound
from index.models import MINILM, MODELS, MPNET, crisis_margin, find_spec
from search import Searcher
from search.crisis_patterns import crisis_by_pattern, matching_rule, normalize
from search.safety import BANK, CrisisCheck, clauses, read_bank
from tests.fakes import HashEmbedder

DATA = Path(__file__).parent / "data"


def _queries(name: str) -> list[str]:
    return read_bank(DATA / name)[""]


@pytest.mark.parametrize(
    "query",
    [
        "I want to KILL MYSELF",
        "thinking about   suicide",
        "I don’t want to live anymore",
        "is 40 of my sertraline enough",  # a dose: a medicine, an amount, "enough"
        "took 30 tylenol an hour ago",
        "bought a rope today and know where",
        "standing on the bridge right now",
        "i keep scratching my arms until they bleed",
        "relapsed after 3 months clean",
        "my friend texted me that she wants to die",
        "he put his hands around my neck last night",
        "my ex said he would kill me if I leave",
        "im going away for good tonight",
        "my parents will kill me, he said, holding a knife",  # the weapon still counts
    ],
)
def test_rules_catch_each_kind_of_danger(query: str) -> None:
    assert crisis_by_pattern(query), query


@pytest.mark.parametrize(
    "query",
    [
        "this job is killing me",
        "I'm dying to know if therapy works",
        "how do I end things with my boyfriend kindly",
        "I want to cut back on coffee",
        "should I cut ties with my sister",
        "I'm dead tired after work",
        "how can I hang out with new people",
        "ready to jump back in to dating",
        "my parents will kill me when they see my grades",
        "my boss is going to murder me if I'm late again",
        "how do I stop cutting corners at work",
        "shoot me a text when you land",
        "this lasagna is to die for",
        "where do I put a carbon monoxide detector",
        "I'm bleeding money on rent",
    ],
)
def test_rules_leave_everyday_idioms_alone(query: str) -> None:
    assert not crisis_by_pattern(query), (query, matching_rule(query))


def test_normalization_makes_punctuation_and_spelling_variants_one() -> None:
    assert normalize("I DON’T want to be alive... can't go on") == (
        "i dont want to be alive cant go on"
    )
    assert normalize("self-harm, cannot stop") == "self harm cant stop"
    assert matching_rule("nothing to see here") is None
    assert matching_rule("I want to kill myself").startswith("suicidal thoughts: ")


def test_clauses_of_a_long_query_are_judged_alone() -> None:
    q = "gave my dog to my sister and sold my guitar, I won't need anything after this weekend"
    # "sold my guitar" is too short to judge alone (three words).
    assert clauses(q) == ["gave my dog to my sister", "I won't need anything after this weekend"]
    assert clauses("how do I trust my therapist") == []  # one clause: the query itself


def test_the_bank_has_both_sides_and_no_line_on_both() -> None:
    bank = read_bank(BANK)
    assert len(bank["crisis"]) >= 400 and len(bank["ordinary"]) >= 1000
    assert not set(bank["crisis"]) & set(bank["ordinary"])
    # The held-out sets are not in the bank (nothing is fitted to them).
    held_out = set(_queries("crisis_heldout.txt")) | set(_queries("crisis_near_miss.txt"))
    assert not held_out & (set(bank["crisis"]) | set(bank["ordinary"]))


def test_registry_gives_each_bundled_model_a_calibrated_margin() -> None:
    assert crisis_margin("all-MiniLM-L6-v2") == MINILM.crisis_margin is not None
    assert crisis_margin("mpnet") == MPNET.crisis_margin is not None  # aliases resolve
    assert find_spec("SENTENCE-TRANSFORMERS/ALL-MINILM-L6-V2") is MINILM
    assert {"all-MiniLM-L6-v2", "all-mpnet-base-v2", "hash-test"} <= set(MODELS)


def test_a_model_outside_the_registry_gets_rules_only_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Unknown(HashEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.name = "some/other-model"

    with caplog.at_level("WARNING"):
        check = CrisisCheck(Unknown())
    assert "not in the registry" in caplog.text and "uncalibrated" in caplog.text
    assert check("I have been cutting myself")  # rules still work
    # A wording no rule lists is not caught without a calibrated margin.
    assert not check("everything would be quieter if I just stopped being around")
    assert not check("   ")


class _Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts, **kw) -> np.ndarray:  # type: ignore[override]
        self.texts += list(texts)
        return super().encode(texts, **kw)


def test_repeated_queries_reuse_their_embedding(hash_index: Path) -> None:
    embedder = _Counting()
    searcher = Searcher(Searcher.open(hash_index).version, embedder)
    q = "how do I trust my therapist"
    first = searcher.search(q, k=3, explain=False)  # explanations embed sentences: not here
    again = searcher.search(q, k=3, filters={"topic": ["x"]}, explain=False)
    same = searcher.search(q, k=3, explain=False)
    assert embedder.texts == ["how do I trust my therapist"]  # embedded once for all three
    assert [h.passage.id for h in first] == [h.passage.id for h in same] and again == []
    searcher.search_many(["a new question", q], k=1, explain=False)
    assert embedder.texts[1:] == ["a new question"]


def test_evaluation_does_not_reuse_query_vectors_across_modes(hash_index: Path) -> None:
    from search.evaluate import Query, evaluate

    embedder = _Counting()
    searcher = Searcher(Searcher.open(hash_index).version, embedder)
    queries = [Query("q1", "trust my therapist", frozenset({"x"}))]
    evaluate(searcher, queries, "dense")
    evaluate(searcher, queries, "hybrid")
    # The first warm-up encodes; then every measured query encodes again in both modes (the
    # second warm-up may reuse the vector: it is not measured).
    assert embedder.texts.count("trust my therapist") == 3


def _model(name: str):
    try:
        return load_embedder(name)
    except ModelNotFound as exc:  # mpnet's weights are optional (CI installs them)
        pytest.skip(f"{name} is not installed: {exc}")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("model", "max_false_alarms"),
    [
        (MINILM.name, 0.04),
        # all-mpnet-base-v2 flags 6 of the 100 near-misses at its cross-validated margin
        # (docs/safety.md): above the 1-in-25 target, which it does not meet yet.
        (MPNET.name, 0.06),
    ],
)
def test_held_out_recall_and_near_miss_false_alarms(model: str, max_false_alarms: float) -> None:
    check = CrisisCheck(_model(model))
    crisis, near_miss = _queries("crisis_heldout.txt"), _queries("crisis_near_miss.txt")
    assert len(crisis) >= 95 and len(near_miss) >= 100
    missed = [q for q in crisis if not check(q)]
    flagged = [q for q in near_miss if check(q)]
    assert len(missed) / len(crisis) <= 0.05, missed
    assert len(flagged) / len(near_miss) <= max_false_alarms, flagged
    # The semantic half does real work: some held-out queries are caught by meaning alone.
    assert sum(not crisis_by_pattern(q) for q in crisis) >= 10


@pytest.mark.integration
def test_meaning_catches_what_no_rule_lists_on_every_face(
    real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main

    query = "everyone would be fine if I wasn't in the picture anymore, I've made my peace"
    assert not crisis_by_pattern(query)
    searcher = Searcher.open(real_index)
    assert searcher.needs_crisis_notice(query)
    assert not searcher.needs_crisis_notice("how do I find a therapist who takes my insurance")
    assert main(["search", query, "--index", str(real_index), "-k", "2"]) == 0
    out, err = capsys.readouterr()
    assert "988" in err and "988" not in out and out.strip()
