"""The boilerplate stage's promise on content: running text stays, whatever keyword or shape it carries.

Every sentence here is invented. The generator writes article paragraphs that mention what the rules look
for (dates and times, comments, newsletters, terms, photos, credits, sharing, a name at the end, a
bracketed reference, "Label: value" lists), and page furniture around them; no paragraph may go.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normkit_plugins._boilerplate_learn import LineCounter, select
from normkit_plugins._boilerplate_lines import line_facts

import normkit
from normkit import Config, Document, Pipeline

SUBJECTS = [
    "The harbour council",
    "A spokesperson for the ferry operator",
    "Residents of the northern islands",
    "The regional health board",
    "Our reporter in the valley",
    "The head of the village school",
    "Two local fishermen",
]
CLAUSES = [
    "said on Tuesday, March 3, 2021 at 7:05 pm that the timetable would change",
    "wrote in the comments under last week's notice that the road was still closed",
    "told readers of the parish newsletter that the hall would reopen in spring",
    "argued that the terms of service of the booking site were unfair to families",
    "shared a photo of the flooded square with the town's volunteers",
    "gave credit to the rescue crews who worked through the night",
    "explained that the race was won in 2:14:09, a record for the course",
    "said the update to the plan was published on 12 May after a long delay",
    "asked people to share their thoughts at the meeting on the first of June",
    "noted that your comments on the draft will be read by the planning team",
]
ENDINGS = [
    ".",
    ", according to the minutes of the meeting.",
    ", as the report shows [Hale04].",
    ". It was the third time this year.",
    ", and the committee agreed with them.",
]
JUNK = ["Advertisement", "Share", "Facebook", "3 min read", "Most read", "Image 2 of 9", "Photo: AP", "Related stories"]

PARAGRAPH = st.builds(
    lambda subject, clause, ending: f"{subject} {clause}{ending}",
    st.sampled_from(SUBJECTS),
    st.sampled_from(CLAUSES),
    st.sampled_from(ENDINGS),
)
SIGNED = PARAGRAPH.map(lambda text: f"{text} Thanks to everyone who helped out on the day, Margit")
LABELLED = st.lists(
    st.sampled_from(["Venue: the old mill", "Date: 14 June", "Tickets: free for children", "Contact: the town office"]),
    min_size=2,
    max_size=4,
    unique=True,
).map("\n".join)


def pipeline(**options: Any) -> Pipeline:
    return Pipeline(Config.from_mapping({"pipeline": ["boilerplate"], "stages": {"boilerplate": options}}))


SHARED = pipeline()


def cleaned(text: str, pipe: Pipeline = SHARED) -> Document:
    result = pipe.process(Document(id="t", text=text, source="example.org"))
    assert isinstance(result, Document), result
    return result


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(PARAGRAPH, SIGNED), min_size=2, max_size=8),
    st.lists(st.sampled_from(JUNK), max_size=6),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_no_sentence_of_the_article_is_ever_removed(
    paragraphs: list[str], junk: list[str], rnd: Any, glued: bool
) -> None:
    lines = [*paragraphs, *junk]
    rnd.shuffle(lines)
    text = ("\n" if glued else "\n\n").join(lines)
    kept = cleaned(text).text.split("\n")
    for paragraph in paragraphs:
        assert paragraph in kept


@settings(max_examples=100, deadline=None)
@given(st.lists(PARAGRAPH, min_size=2, max_size=5, unique=True), LABELLED)
def test_a_list_of_label_value_lines_inside_an_article_stays(paragraphs: list[str], labelled: str) -> None:
    text = "\n\n".join([paragraphs[0], labelled, *paragraphs[1:]])
    assert cleaned(text).text == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(PARAGRAPH, st.sampled_from(JUNK), st.just("")), min_size=1, max_size=25),
    st.sampled_from(["Share this article", "Advertisement", "Facebook"]),
)
def test_cleaning_twice_changes_nothing(lines: list[str], between: str) -> None:
    lines = [*lines, lines[0], between, lines[0]]  # a share line between two copies of one paragraph
    once = cleaned("\n".join(lines))
    assert cleaned(once.text).text == once.text


def test_a_paragraph_doubled_by_the_scraper_is_removed_once_even_with_a_share_line_between() -> None:
    body = "The harbour council voted on Tuesday to keep the winter ferry running until March."
    end = "The end of the story, told in a sentence of its own."
    for between in ("", "Share this article\n\n"):
        doc = cleaned(f"{body}\n\n{between}{body}\n\n{end}")
        assert doc.text == f"{body}\n\n{end}"
        assert "repeated-paragraph" in [edit.rule for edit in doc.edits]


def test_short_repeated_lines_are_not_paragraphs() -> None:
    text = "Yes\nYes\n\nA table of answers, where the same short value repeats, stays as it was written here."
    assert cleaned(text, pipeline(model=False)).text == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(PARAGRAPH, st.sampled_from(JUNK)), min_size=1, max_size=12), st.sampled_from(JUNK))
def test_the_whole_pipeline_is_idempotent(lines: list[str], between: str) -> None:
    """``clean(clean(x).text, title=...)`` is the first result: what one pass leaves, a second leaves alone."""
    text = "\n\n".join(["Ferry Keeps Running Through Winter", *lines, lines[0], between, lines[0]])
    once = normkit.clean(text)
    twice = normkit.clean(once.text, title=once.title)
    assert (twice.text, twice.title) == (once.text, once.title)


ARTICLE = [
    "The harbour council voted on Tuesday to keep the winter ferry running until the end of March.",
    "Residents of the islands had warned that older people would be cut off from the doctors on the mainland.",
    "The operator said the cost of the extra crossings would be shared between the council and the state.",
    "A final decision on next winter is expected once the new budget has been agreed in the autumn.",
]


def test_a_related_box_in_the_middle_of_an_article_takes_only_its_links() -> None:
    box = ["Related stories", "Ferry Fares Rise Again", "Island School Gets New Roof", "Storm Closes Coast Road"]
    text = "\n\n".join([*ARTICLE[:2], "\n".join(box), *ARTICLE[2:]])
    doc = cleaned(text)
    assert doc.text == "\n\n".join(ARTICLE)
    assert {edit.rule for edit in doc.edits if edit.before.strip()} == {"related-section"}


THREAD = [
    "14 comments on this story",
    "harbourfan says:",
    "I have taken this ferry every week for twenty years and the winter crossings are the only way to my doctor.",
    "Reply",
    "islander_42 says:",
    "The council should have decided this months ago, and the families on the islands were left waiting for an answer.",
    "Reply",
]


def test_a_comment_thread_under_an_article_goes_by_default_and_stays_when_kept() -> None:
    text = "\n\n".join([*ARTICLE, *THREAD])
    assert cleaned(text).text == "\n\n".join(ARTICLE)
    kept = cleaned(text, pipeline(comments="keep")).text
    assert THREAD[2] in kept and THREAD[5] in kept


def test_a_page_that_is_a_thread_keeps_its_posts_even_when_comments_are_dropped() -> None:
    text = "\n\n".join(THREAD)
    kept = cleaned(text).text
    assert THREAD[2] in kept and THREAD[5] in kept


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "Совет гавани во вторник проголосовал за то, чтобы паром ходил всю зиму.",
            "Жители островов говорили, что без парома не смогут добраться до врача.",
        ),
        (
            "صوّت مجلس الميناء يوم الثلاثاء على إبقاء العبّارة تعمل طوال فصل الشتاء.",
            "قال سكان الجزر إنهم لن يصلوا إلى الطبيب من دون العبّارة.",
        ),
        ("港口委员会周二投票决定整个冬季继续运营渡轮。", "岛上居民说，没有渡轮他们就无法去看医生。"),
        (
            "港湾評議会は火曜日、冬の間もフェリーの運航を続けることを決めた。",
            "島の住民は、フェリーがなければ医者に行けないと話した。",
        ),
    ],
)
def test_short_paragraphs_in_other_scripts_are_running_text(first: str, second: str) -> None:
    text = "\n\n".join([first, "Advertisement", second, "Share"])
    assert cleaned(text).text == "\n\n".join([first, second])
    assert line_facts([first]).running == [True]


@pytest.mark.parametrize("space", ["\t", "\u00a0", "\u2003"])
def test_lines_of_odd_spaces_are_blank_and_words_split_on_any_space(space: str) -> None:
    sentence = "The council met again on Tuesday to talk about the ferry and the road".replace(" ", space)
    text = f"{space * 40}\n{ARTICLE[0]}\n{sentence}.\n{space * 3}"
    assert sentence + "." in cleaned(text).text
    assert line_facts([sentence]).words[0] == 14


def test_an_empty_document_and_one_of_only_boilerplate() -> None:
    assert cleaned("").text == ""
    only = cleaned("Advertisement\n\nShare\n\nFacebook")
    assert only.text == "" and [flag.code for flag in only.flags] == ["boilerplate-only"]


def test_a_short_record_without_running_text_is_left_alone() -> None:
    for text in ("fine", "Q: What time does the ferry leave?\nA: At noon."):
        assert cleaned(text).text == text


def test_the_red_team_credit_line_leaves_the_article_alone() -> None:
    """The line that took 10 s in a builtin pattern; benchmarks/pathological.py times it (0.4 ms)."""
    line = "courtesy of" + "\t/\t" * 128
    assert cleaned(f"{ARTICLE[0]}\n\n{line}\n\n{ARTICLE[1]}").text.startswith(ARTICLE[0])


def test_learned_lines_are_counted_once_per_document_with_digits_masked() -> None:
    counter = LineCounter()
    table = [f"Round {n}: {3 * n} points" for n in range(1, 8)]
    counter.observe("sports.example", table)
    for n in range(4):
        counter.observe("sports.example", [f"Match report {n}", "Share on Facebook"])
    state = counter.drain()
    learned = select(state, min_documents=2, min_share=0.2)["sports.example"]
    texts = {line.text: line.documents for line in learned.values()}
    assert texts == {"Share on Facebook": 4, "Match report 0": 4}  # the table's rows count for one document


def test_a_source_with_one_document_learns_nothing() -> None:
    counter = LineCounter()
    counter.observe("lonely.example", ["Share", "Share", "Advertisement"] * 5)
    assert select(counter.drain(), min_documents=1, min_share=0.0) == {}


@pytest.mark.parametrize(
    "line",
    [
        "Sign up for our weekly newsletter and get the best stories from the islands.",
        "Follow us on Twitter and Instagram for the latest news from the harbour.",
        "© 2021 The Harbour Gazette. All rights reserved. This material may not be copied without permission.",
        "The Harbour Gazette 2021, all rights reserved.",
    ],
)
def test_whole_line_furniture_goes_even_when_it_reads_like_a_sentence(line: str) -> None:
    text = "\n\n".join([ARTICLE[0], line, ARTICLE[1]])
    assert cleaned(text).text == "\n\n".join([ARTICLE[0], ARTICLE[1]])


@pytest.mark.parametrize(
    "line",
    [
        "Download the new timetable app, the operator said, and check the crossings before you travel.",
        "Sign up for the winter pass using the same email address as your summer season ticket.",
        "The band said all rights reserved by the label would revert to its members after ten years.",
    ],
)
def test_sentences_that_only_mention_furniture_words_stay(line: str) -> None:
    text = "\n\n".join([ARTICLE[0], line, ARTICLE[1]])
    assert cleaned(text).text == text


def test_a_blank_document_is_left_alone() -> None:
    for text in (" \n\t\n\u00a0\n", "\n\n\n"):
        doc = cleaned(text)
        assert doc.text == text and not doc.edits and not doc.flags


def test_doubled_paragraphs_can_be_kept() -> None:
    text = "\n\n".join([ARTICLE[0], ARTICLE[0], ARTICLE[1]])
    assert cleaned(text, pipeline(doubled_paragraphs=False)).text == text


@pytest.mark.parametrize(
    "paragraph",
    [
        "गाँव के लोगों ने कहा कि नाव के बिना वे सर्दियों में डॉक्टर तक नहीं पहुँच सकते।",
        "هل سيبقى المرفأ مفتوحا طوال الشتاء كما وعد المجلس في اجتماعه الأخير يوم الثلاثاء؟",
        "ชาวบ้านบอกว่าถ้าไม่มีเรือข้ามฟากก็ไปหาหมอไม่ได้เลยในฤดูหนาวนี้",
    ],
)
def test_a_related_box_never_takes_paragraphs_in_other_scripts(paragraph: str) -> None:
    text = "\n\n".join([ARTICLE[0], "Related stories", "Ferry Fares Rise Again", paragraph, ARTICLE[1]])
    assert cleaned(text).text == "\n\n".join([ARTICLE[0], paragraph, ARTICLE[1]])


def test_a_page_in_one_language_under_a_banner_in_another_keeps_its_paragraphs() -> None:
    banner = "We use cookies to give you the best experience on our website and to show you relevant offers."
    russian = [
        "Совет гавани во вторник проголосовал за то, чтобы паром ходил всю зиму и весной тоже.",
        "Жители островов говорили, что без парома они не смогут добраться до врача на материке.",
    ]
    text = "\n\n".join([banner, russian[0], "Читайте также", "Паром отменили", russian[1]])
    kept = cleaned(text).text
    assert all(paragraph in kept for paragraph in russian) and "Паром отменили" not in kept


@pytest.mark.parametrize("cue", ["[Applause]", "[Laughter]", "[Citation needed]"])
def test_a_transcript_cue_is_no_photo_credit(cue: str) -> None:
    text = "\n\n".join([ARTICLE[0], f"We will fight for every child who needs that ferry this winter. {cue}"])
    assert cleaned(text).text == text


@pytest.mark.parametrize("sign_off", ["With Associated Press", "Source: Office for National Statistics"])
def test_a_sign_off_under_the_last_paragraph_does_not_make_it_a_caption(sign_off: str) -> None:
    text = "\n\n".join([*ARTICLE[:3], f"{ARTICLE[3]}\n{sign_off}"])
    assert ARTICLE[3] in cleaned(text).text


def test_sections_and_threads_of_your_own_rules_cut_like_the_builtin_ones() -> None:
    rules = [
        {"id": "picks", "lines": ["Our picks"], "section": True},
        {"id": "talk", "lines": ["Talk back"], "final": True},
    ]
    picks = "\n".join(["Our picks", "Ferry Fares Rise Again", "Island School Gets New Roof"])
    text = "\n\n".join([*ARTICLE[:2], picks, *ARTICLE[2:], *["Talk back", *THREAD[1:]]])
    assert cleaned(text, pipeline(rules=rules)).text == "\n\n".join(ARTICLE)


@pytest.mark.parametrize(
    "furniture",
    [
        "Home | Ferry news | Timetables | Island life | Contact us",
        "Posted by harbourfan at 09:12 AM | Permalink | Comments (3)",
        "March 2021\nFebruary 2021\nJanuary 2021 (4)",
    ],
)
def test_blog_and_portal_furniture_goes(furniture: str) -> None:
    text = "\n\n".join([*ARTICLE, furniture])
    assert cleaned(text).text == "\n\n".join(ARTICLE)


def test_a_month_heading_inside_the_article_stays() -> None:
    text = "\n\n".join([ARTICLE[0], ARTICLE[1], "March 2021", ARTICLE[2], ARTICLE[3]])
    assert cleaned(text).text == text


@pytest.mark.parametrize("link", ["Back to top ^", "Return to the index of stories", "[ Printer-friendly page ]"])
def test_links_back_up_or_out_go(link: str) -> None:
    text = "\n\n".join([ARTICLE[0], ARTICLE[1], link])
    assert cleaned(text).text == "\n\n".join(ARTICLE[:2])


def test_your_own_rule_may_remove_running_text() -> None:
    """Keyword rules of normkit's never claim a sentence; a rule you wrote for your sources does."""
    pitch = "Subscribers to the Harbour Gazette can read every story about the ferry on their phone."
    text = "\n\n".join([ARTICLE[0], pitch, ARTICLE[1]])
    assert cleaned(text).text == text
    rules = [{"id": "pitch", "pattern": "Subscribers to the Harbour Gazette .*"}]
    assert cleaned(text, pipeline(rules=rules)).text == "\n\n".join(ARTICLE[:2])


@pytest.mark.parametrize(
    "line",
    ["I, too, subscribe to the view of the harbour board.", "Ferry timetable for the winter [ Comment ]"],
)
def test_short_sentences_and_link_labels_are_no_prompts_or_credits(line: str) -> None:
    text = "\n\n".join([ARTICLE[0], line, ARTICLE[1]])
    assert cleaned(text).text == text
