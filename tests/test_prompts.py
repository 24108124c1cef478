"""Prompt files: exactly the placeholders the code fills, and formatting with sample values works."""
from __future__ import annotations

import pytest

from assistant.errors import AssistantError
from assistant.llm import PROMPT_FIELDS, PROMPTS_DIR, load_prompt, placeholders

SAMPLES = {"sources": "[1] 提出者：惠济区政协（区县(市)政协）\n标题：《集聚科技创新资源》\n内容：建设中原大数据产业园。",
           "question": "惠济区政协想建设什么样的产业园区？",
           "history": "用户：惠济区政协的建议主要讲什么?\n助手：惠济区政协建议……"}


def test_every_prompt_file_is_known_and_every_known_prompt_exists():
    files = {p.stem for p in PROMPTS_DIR.glob("*.txt")}
    assert files == set(PROMPT_FIELDS)


@pytest.mark.parametrize("name", sorted(PROMPT_FIELDS))
def test_prompt_has_exactly_the_placeholders_the_code_fills(name):
    text = (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    assert placeholders(text) == set(PROMPT_FIELDS[name])
    p = load_prompt(name)
    assert p.fields == PROMPT_FIELDS[name]


@pytest.mark.parametrize("name", sorted(PROMPT_FIELDS))
def test_prompt_formats_with_sample_values(name):
    p = load_prompt(name)
    out = p.format(**{k: SAMPLES[k] for k in p.fields})
    for k in p.fields:
        assert SAMPLES[k] in out
    assert "{" not in out.replace(SAMPLES.get("sources", ""), "")  # nothing left unfilled
    assert len(out) > 40 and any("\u4e00" <= ch <= "\u9fff" for ch in out)  # Chinese instructions


def test_prompts_say_what_the_issue_requires():
    answer = load_prompt("answer").text + load_prompt("system").text
    for must in ("只根据", "提出者", "[编号]", "无法回答"):
        assert must in answer
    assert "改写" in load_prompt("condense").text


def test_wrong_or_missing_placeholders_are_refused(tmp_path):
    for name, body in (("answer", "资料：{sources}\n问题：{questoin}"), ("condense", "{history}"),
                       ("system", "你是助手 {question}"), ("answer", "坏的 { 格式")):
        (tmp_path / f"{name}.txt").write_text(body, encoding="utf-8")
        with pytest.raises(AssistantError):
            load_prompt(name, tmp_path)
    with pytest.raises(AssistantError):
        load_prompt("answer", tmp_path / "nowhere")


def test_format_refuses_missing_values():
    with pytest.raises(AssistantError):
        load_prompt("answer").format(question="只有问题")
