"""What the HTTP API takes and returns (pydantic models, so /openapi.json documents them).

The hit fields are those of `Hit.to_dict()` (search/hits.py), the same as `counsel-search
search --json` prints: the routes return those dicts, and these models only describe and check
them (tests/test_api.py holds the two field lists equal).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from search import DEFAULT_MODE, MODES
from search.engine import clean_query

# Limits on what a client may send. A question is a few sentences; 2,000 characters is far past
# what the model reads (its word-piece window) and keeps one request's work bounded.
MAX_QUERY_CHARS = 2000
MAX_K = 100
MAX_FILTER_VALUES = 50
MAX_FILTER_CHARS = 500
# Whole request body: a maximal query (4 bytes a character at worst) plus full filters fits.
MAX_BODY_BYTES = 64 * 1024

Mode = Literal[MODES]  # type: ignore[valid-type]  # ("hybrid", "dense", "lexical")
FilterValues = list[str]


class SearchFilters(BaseModel):
    """Keep only passages with one of these topics and from one of these sources (an empty
    list, or a missing field, does not filter). Applied before the cut to k."""

    model_config = ConfigDict(extra="forbid")

    topic: FilterValues = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    source: FilterValues = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="source file paths or file names",
    )

    @field_validator("topic", "source")
    @classmethod
    def _short_values(cls, values: list[str]) -> list[str]:
        if any(len(v) > MAX_FILTER_CHARS for v in values):
            raise ValueError(f"each value must have at most {MAX_FILTER_CHARS} characters")
        return values

    def as_filters(self) -> dict[str, list[str]]:
        """The filters as the searcher takes them."""
        return {"topic": self.topic, "source": self.source}


class SearchRequest(BaseModel):
    """A search: the question in the body (never in the URL, so no log holds it)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "query": "can I trust a therapist who acts like he knows everything?",
                    "k": 5,
                    "mode": "hybrid",
                    "filters": {"topic": [], "source": []},
                    "explain": True,
                }
            ]
        },
    )

    query: str = Field(
        max_length=MAX_QUERY_CHARS, description="the question, in the asker's own words"
    )
    k: int = Field(10, ge=1, le=MAX_K, description="number of hits")
    mode: Mode = Field(
        DEFAULT_MODE,
        description="ranking: hybrid (dense + BM25 fused), dense (meaning) or lexical (words)",
    )
    filters: SearchFilters = Field(default_factory=SearchFilters)
    explain: bool = Field(
        True, description="give each hit its best-matching sentences and matched terms"
    )

    @field_validator("query")
    @classmethod
    def _not_blank(cls, query: str) -> str:
        # The searcher's own notion of blank: spaces, control and invisible characters only.
        if not clean_query(query):
            raise ValueError("the query is empty: send a question to search for")
        return query


class BestSentence(BaseModel):
    """A sentence of the answer that matches the query well: its text, character span, cosine."""

    text: str
    start: int
    end: int
    score: float


class HitOut(BaseModel):
    """One ranked passage and the parts of its score (see `Hit` in search/hits.py)."""

    # A field Hit.to_dict() gains is passed on, as --json prints it, before it is described here.
    model_config = ConfigDict(extra="allow")

    rank: int
    id: str
    score: float | None
    mode: str
    dense_score: float | None
    lexical_score: float | None
    window_cosine: float | None
    weak_match: bool
    question: str
    answer: str
    source: str
    sources: list[str]
    doc_id: str
    pages: list[int] = Field(
        default_factory=list, description="pages of a PDF the passage is on; [] for others"
    )
    metadata: dict[str, Any]
    matched_span: list[int] | None
    best_sentences: list[BestSentence]
    matched_terms: list[str]


class SearchResponse(BaseModel):
    """The hits of a search, with the notes the page would show above them."""

    hits: list[HitOut]
    weak_match: bool = Field(
        description="true when even the best hit does not really answer the question"
    )
    crisis_notice: str | None = Field(
        description="when the question suggests suicide, self-harm or danger: a note to show "
        "above the hits (with crisis lines); null otherwise"
    )
    index_version: str
    model: str


class PassageOut(BaseModel):
    """A passage, with the fields of `counsel-search passages --json`."""

    id: str
    doc_id: str
    source: str
    sources: list[str]
    pages: list[int] = Field(
        default_factory=list, description="pages of a PDF the passage is on; [] for others"
    )
    position: int
    question: str
    answer: str
    metadata: dict[str, Any]


class PassageResponse(BaseModel):
    """One passage of the version that answered."""

    passage: PassageOut
    index_version: str
    model: str


class RelatedResponse(BaseModel):
    """The passages nearest to one passage (dense similarity), itself excluded."""

    id: str
    hits: list[HitOut]
    index_version: str
    model: str


class InfoResponse(BaseModel):
    """Facts about the served index: the fields of `counsel-search info --json`, and
    `damaged`, the reason when an older version is served because the current one is damaged."""

    model_config = ConfigDict(extra="allow")  # fields IndexInfo gains pass through

    index_dir: str
    version: str
    model: str
    dim: int
    passages: int
    vectors: int
    documents: int
    built_at: str
    build_seconds: float
    similarity: str
    backend: str
    index_type: str
    query_encoder: str = "sentence-transformers"
    topics: dict[str, int]
    sources: list[str]
    damaged: str


class Health(BaseModel):
    """Whether the server can answer searches, and from which index version."""

    status: Literal["ok", "unavailable"]
    index_version: str | None = None
    detail: str | None = None


class ErrorOut(BaseModel):
    """Every error: a short code and one line that says what to do. Never a traceback."""

    error: str
    detail: str
