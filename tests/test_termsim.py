"""Term similarity (assistant/termsim.py): the soft coverage of a question whose words differ from
the proposal's, on a small catalogue of our own and an embedder in which chosen words are synonyms."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.answer import ExtractiveAnswerer
from assistant.embed import HashEmbedder
from assistant.evaluate import found_observations
from assistant.index import build_index, load_index
from assistant.ingest import load_corpus
from assistant.retrieve import Retriever
from assistant.termsim import TermSimilarity, chance_level, proposal_terms

CATALOGUE = """序号,标题,提案者,会议,年份,内容
1,推进优质医疗资源下沉,民盟乙市委会,乙市政协八届二次会议,2025,建议在街道设置医疗服务站，让群众就近就医，缓解基层医疗力量不足。
2,丰富群众文化生活,民进乙市委会,乙市政协八届二次会议,2025,建议建设街道文化活动中心，开展群众文艺演出和读书活动。
3,完善城市排水管网,乙市政协城市建设委员会,乙市政协八届二次会议,2025,建议改造老城区雨污管网，提高城市防涝能力。
"""
# everyday words the catalogue never uses, each the synonym of one of its words
SYNONYMS = {"看病": "医疗", "下水道": "管网"}


class SynonymEmbedder(HashEmbedder):
    """Hash vectors, except that a word of SYNONYMS gets exactly its synonym's vector."""

    def embed_passages(self, texts):
        return super().embed_passages([SYNONYMS.get(t, t) for t in texts])

    embed_queries = embed_passages


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    root = tmp_path_factory.mktemp("termsim")
    (root / "corpus" / "proposals").mkdir(parents=True)
    (root / "corpus" / "proposals" / "乙市2025.csv").write_text(CATALOGUE, encoding="utf-8")
    corpus = load_corpus(root / "corpus")
    emb = SynonymEmbedder()
    build_index(corpus, emb, root / "index")
    index = load_index(root / "index", embedder=emb, corpus=corpus)
    return ExtractiveAnswerer(index, Retriever(index, emb, registry=corpus.registry), corpus.registry)


def _ranked(answerer, question):
    q = answerer.resolve(question)
    cands, q = answerer.selector.candidates(q)
    return answerer.selector.rank(q, cands)[0]


def test_a_word_the_proposal_uses_earns_full_credit_and_an_unrelated_one_little(answerer):
    sim = answerer.selector.sim
    text = answerer.selector.text_of("乙市2025-01")
    words = sim.words_of("乙市2025-01", text)
    assert words.size and all(len(w) > 1 and w in text for w in (list(sim.vocab)[i] for i in words))
    credit = sim.credits(sim.term_vectors(["看病", "医疗", "火箭发射"]), words)
    assert credit[0] == pytest.approx(1.0, abs=1e-3) and credit[1] == pytest.approx(1.0, abs=1e-3)
    assert credit[2] < 0.5


def test_soft_coverage_credits_a_synonym_and_exact_coverage_does_not(answerer):
    top = _ranked(answerer, "怎样让群众看病更方便")[0]
    assert top.proposal.proposal_id == "乙市2025-01"
    assert top.soft > top.coverage   # 看病 is absent from the text; its synonym 医疗 is there
    assert _ranked(answerer, "老城区下水道改造有什么建议")[0].proposal.proposal_id == "乙市2025-03"


def test_a_calibration_that_weighs_soft_coverage_answers_the_paraphrase_only(answerer):
    a = answerer
    saved = a.cal
    try:
        top = _ranked(a, "怎样让群众看病更方便")[0]
        a.cal = replace(saved, soft_share=1.0, margin_weight=0.0, z_weight=0.0, agree_weight=0.0,
                        found_coverage=(top.coverage + top.soft) / 2)
        assert a.answer("怎样让群众看病更方便").found
        assert not a.answer("垃圾分类有什么建议？").found
        a.cal = replace(a.cal, soft_share=0.0)   # exact coverage alone: the paraphrase is declined
        assert not a.answer("怎样让群众看病更方便").found
    finally:
        a.cal = saved


def test_chance_level_is_what_unrelated_words_reach(answerer):
    index = answerer.index
    vocab = list(index.bm25.vocab)
    terms = proposal_terms(index.bm25.matrix, [c.proposal_id for c in index.chunks], vocab)
    assert set(terms) == set(index.proposals)
    level = chance_level(index.word_vectors, terms, vocab)
    assert level == pytest.approx(index.manifest["words"]["chance"], abs=1e-5)
    assert -1.0 < level < 0.9


def test_without_word_vectors_soft_coverage_is_the_exact_one(answerer):
    index = replace(answerer.index, word_vectors=None)
    assert not TermSimilarity(index, answerer.retriever.embedder)
    a = ExtractiveAnswerer(index, answerer.retriever, answerer.registry)
    top = _ranked(a, "怎样让群众看病更方便")[0]
    assert top.soft == -1.0
    cal = replace(a.selector.cal, soft_share=1.0)   # all soft: the exact coverage stands in
    args = dict(margin=0.0, z=0.0, agree=0.0, scoped=False)
    assert cal.score(coverage=top.coverage, soft=top.soft, **args) == top.coverage


def test_with_a_proposer_in_scope_only_exact_coverage_counts(answerer):
    cal = replace(answerer.selector.cal, soft_share=1.0, margin_weight=4.0)
    assert cal.score(coverage=0.2, soft=0.9, margin=0.1, z=3.0, agree=1.0, scoped=True) == 0.2
    assert cal.score(coverage=0.2, soft=0.9, margin=0.1, z=3.0, agree=1.0, scoped=False) > 0.9


def test_calibration_rows_leave_out_decisions_no_threshold_makes(answerer):
    asked = [("怎样让群众看病更方便", [], ["乙市2025-01"], True),
             ("医疗服务站的建议有没有提到无人机", [], [], False)]   # the asked-about word is missing
    rows = found_observations(answerer, asked)
    q = answerer.resolve(asked[1][0])
    assert q.focus and answerer.selector.forced(q, _ranked(answerer, asked[1][0])) is False
    assert [r["top"] for r in rows] == ["乙市2025-01"] and rows[0]["soft"] >= rows[0]["coverage"]
