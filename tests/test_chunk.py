import re

from hypothesis import given, settings, strategies as st

from assistant.chunk import chunk_corpus, chunk_proposal, count_tokens, sentences
from assistant.records import Proposal

PIECES = ["郑州", "科技创新", "新型研发机构", "人才", "Zhengzhou", "2025年", "，", ",", "、", "。", "；", "？", "！",
          "“", "”", "（", "）", " ", "\n", "\n\n", "产业园区联盟", "的", "a"]
texts = st.lists(st.sampled_from(PIECES), min_size=0, max_size=400).map("".join)


def _proposal(text: str, start: int, end: int) -> Proposal:
    return Proposal("t-01", "t", "proposal", "标题", ("民盟郑州市委会",), "民主党派", text[start:end], start, end)


@settings(max_examples=150, deadline=None)
@given(prefix=texts, body=texts, suffix=texts, budget=st.integers(8, 200), overlap=st.integers(0, 2))
def test_chunks_are_exact_ordered_slices_within_the_proposal(prefix, body, suffix, budget, overlap):
    doc = prefix + body + suffix
    s, e = len(prefix), len(prefix) + len(body)
    chunks = chunk_proposal(_proposal(doc, s, e), doc, budget, overlap)
    for c in chunks:
        assert doc[c.start:c.end] == c.text and s <= c.start < c.end <= e
        assert c.text.strip() == c.text and c.text
        assert count_tokens(c.text) <= budget or len(c.text) <= max(1, budget // 2)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    # every non-space character of the body is in some chunk
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i in range(s, e) if not doc[i].isspace())
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_sentence_split_keeps_closing_quotes():
    t = "他说：“要创新！”然后走了。再见；好"
    assert [t[a:b] for a, b in sentences(t)] == ["他说：“要创新！”", "然后走了。", "再见；", "好"]


def test_real_corpus_chunks(corpus):
    chunks = chunk_corpus(corpus, 160, 0)
    docs = {d.doc_id: d.text for d in corpus.documents}
    assert all(docs[c.doc_id][c.start:c.end] == c.text for c in chunks)
    assert all(count_tokens(c.text) <= 160 for c in chunks)
    props = {p.proposal_id: p for p in corpus.proposals}
    assert all(props[c.proposal_id].start <= c.start and c.end <= props[c.proposal_id].end for c in chunks)
    assert {c.proposal_id for c in chunks} == set(props)
    c = next(c for c in chunks if c.proposal_id == "kjcx-25")
    assert c.index_text.startswith("建立产业园区联盟 郑州市政协科技、科协界别组\n")
    # tiktoken works offline: the BPE file comes from llama-index-core's bundled cache
    assert count_tokens("郑州市政协") > 0 and re.search("tiktoken_cache", __import__("os").environ["TIKTOKEN_CACHE_DIR"])
