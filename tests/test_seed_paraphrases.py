"""Each of the seed's seven passages is found by a question asked in other words.

The paraphrases were written from each question's meaning, not from the ranking, and keep few
of its words (checked below). The first is the issue's own example: with every window led by
the seed's title (its long first question) it ranked its passage 4th in dense mode.
"""

from __future__ import annotations

import re

import pytest

from index import build_index, load_embedder
from search import Searcher
from search.lexical import STOPWORDS
from tests.conftest import SEED

pytestmark = pytest.mark.integration

PARAPHRASES = {
    "Why is it important for counselors to establish a trusting and safe therapeutic "
    "relationship with their client?": "why does the bond between client and counselor matter",
    "What is psychotherapeutic relationship?": (
        "what does the connection between someone in therapy and their clinician refer to?"
    ),
    "What is psychotherapy resistance?": (
        "what is it called when someone unconsciously pushes back against their own counseling?"
    ),
    "How do you build trust in a therapeutic relationship?": (
        "in what ways does a patient learn to rely on the person treating them?"
    ),
    "Can you trust your therapist if they know it all?": (
        "should I believe a counselor who acts like he has every answer?"
    ),
    "Do you have to pay your therapist if you don’t want to see?": (
        "am I still charged for a counseling session I decide to skip?"
    ),
    "Do therapists feel pressure to keep clients in treatment?": (
        "are counselors pushed to hold on to patients longer than needed?"
    ),
}


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS}


@pytest.fixture(scope="module")
def seed_searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    build_index([SEED], index_dir, load_embedder())
    return Searcher.open(index_dir)


def test_paraphrases_keep_few_of_the_question_words() -> None:
    for question, paraphrase in PARAPHRASES.items():
        words = _content_words(question)
        assert len(words & _content_words(paraphrase)) <= len(words) // 3, paraphrase


@pytest.mark.parametrize("question", list(PARAPHRASES))
def test_each_seed_passage_comes_first_for_its_paraphrase(
    seed_searcher: Searcher, question: str
) -> None:
    hits = seed_searcher.search(PARAPHRASES[question], k=7, mode="dense", explain=False)
    assert hits[0].passage.question == question, [h.passage.question for h in hits[:3]]


def test_in_the_default_mode_each_is_in_the_top_two(seed_searcher: Searcher) -> None:
    # Hybrid adds BM25, which in a seven-passage index leans on single shared words: the
    # "bond between client and counselor" paraphrase shares three with the answer of "What is
    # psychotherapeutic relationship?" ("the social bond ... between a client and therapist"),
    # which comes first for it; the "rely on the person treating them" one comes second too.
    firsts = 0
    for question, paraphrase in PARAPHRASES.items():
        top = [h.passage.question for h in seed_searcher.search(paraphrase, k=2, explain=False)]
        assert question in top, (paraphrase, top)
        firsts += top[0] == question
    assert firsts >= 5
