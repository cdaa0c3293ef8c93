"""The learning pass's memory bound: the rarest lines are dropped, the frequent ones stay exact."""

from __future__ import annotations

from collections import Counter

import orjson
from hypothesis import given
from hypothesis import strategies as st
from normkit_plugins._boilerplate_learn import SourceCounts, _bound, merge, select, state_from_json, state_to_json

hashes = st.integers(min_value=0, max_value=2**64 - 1)
source_counts = st.builds(
    SourceCounts,
    st.integers(min_value=0, max_value=10**6),
    st.dictionaries(hashes, st.integers(min_value=1, max_value=10**6)).map(Counter),
    st.dictionaries(hashes, st.text()),
    st.integers(min_value=0, max_value=100),
)


@given(st.dictionaries(st.text(), source_counts, max_size=4))
def test_a_state_comes_back_from_json_as_it_was_in_the_same_order(state: dict[str, SourceCounts]) -> None:
    back = state_from_json(orjson.loads(orjson.dumps(state_to_json(state))))
    assert back == state
    assert [list(seen.counts) for seen in back.values()] == [list(seen.counts) for seen in state.values()]


def test_bound_drops_the_rarest_lines_and_says_so() -> None:
    seen = SourceCounts(documents=100, counts=Counter({**{n: 1 for n in range(1000)}, 5000: 60, 5001: 40}))
    seen.samples = {5000: "Share this article", 5001: "Most read", 3: "a one-off line"}
    _bound(seen, limit=100)
    assert seen.counts == Counter({5000: 60, 5001: 40}) and seen.pruned == 1
    assert seen.samples == {5000: "Share this article", 5001: "Most read"}
    learned = select({"site": seen}, min_documents=5, min_share=0.2)
    assert {line.text for line in learned["site"].values()} == {"Share this article", "Most read"}


def test_merge_in_any_grouping_gives_the_same_counts() -> None:
    parts = [{"site": SourceCounts(10, Counter({1: 3, 2: 1}), {1: "x"})} for _ in range(4)]
    one = merge(parts)
    two = merge([merge(parts[:2]), merge(parts[2:])])
    assert one["site"].counts == two["site"].counts == Counter({1: 12, 2: 4})
    assert one["site"].documents == two["site"].documents == 40 and one["site"].pruned == 0


def test_an_old_learned_file_with_hash_only_placeholders_still_matches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from normkit_plugins._boilerplate_learn import LearnedLine, line_hash, load_learned

    key = line_hash("Subscribe to the weekly digest")
    entry = {"text": f"<line {key:016x}>", "hash": f"{key:016x}", "documents": 5, "share": 0.5}
    data = {"normkit": "learned-boilerplate", "version": 1, "settings": {}, "sources": {"s": [entry]}}
    (tmp_path / "learned.json").write_bytes(orjson.dumps(data))
    assert load_learned(tmp_path / "learned.json") == {"s": {key: LearnedLine(None, 5, 0.5)}}
