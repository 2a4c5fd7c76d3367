"""Noise removal: line rules in many languages, DOM rules by structure, nothing over-removed."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from transforms.clean import clean_lines, preclean

CREDIT_LINES = [
    "Foto: Felix Zahn/imago",
    "STR/AFP via Getty Images",
    "Photo: AFP",
    "Image: GCIS",
    "© dpa-infocom, dpa:240503-99-123456/2",
    "Fotos: NIKOLAI VON BISMARCK",
    "Bild: SN/APA/KEYSTONE/CYRIL ZINGARO",
    "Crédit : Thomas Samson / AFP",
    "<Copyright ⓒ 한국일보. All rights reserved.>",
    "(Image credit: Getty Images)",
]
READ_MORE_LINES = [
    "Read more",
    "READ MORE: Council approves the harbor plan",
    "Lesen Sie auch: Die Bahn streicht Verbindungen",
    "À lire aussi : Le gouvernement présente son budget",
    "Czytaj więcej: Sejm przyjął ustawę",
    "Les også: Regjeringen går av",
    "Auch interessant",
    "MORE : The week in pictures",
    "Leggi anche: Il governo cade",
    "Lee también: El Congreso aprueba la ley",
    "Leia também: O governo anuncia medidas",
    "Lees ook: Kabinet valt",
    "Читайте также: Новости дня",
    "Ayrıca okuyun: Meclis yasayı kabul etti",
    "Läs även: Regeringen avgår",
    "Læs også: Folketinget vedtager loven",
]
AGENCY_LINES = ["mit dpa", "(AFP)", "Quelle: ntv.de", "dpa/AFP"]
PROSE = [
    "The council approved the plan on Monday, according to a statement from the mayor.",
    "A Reuters/Ipsos poll showed that 40% of voters support the measure.",
    "By 2030 the city will have doubled its number of electric buses.",
    "Photographers gathered outside the court as the verdict was read.",
    "Mehr als 200 Menschen demonstrierten am Samstag in der Innenstadt.",
]


@pytest.mark.parametrize("line", CREDIT_LINES)
def test_credit_lines_are_removed(line: str) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], line, PROSE[1]]))
    assert line not in text
    assert [r.text for r in removed] == [line]
    assert removed[0].rule in ("line.credit", "line.caption")


@pytest.mark.parametrize("line", READ_MORE_LINES)
def test_read_more_lines_are_removed_in_many_languages(line: str) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], line, PROSE[1]]))
    assert text == "\n".join([PROSE[0], PROSE[1]])
    assert removed[0].rule == "line.read_more"


@pytest.mark.parametrize("line", AGENCY_LINES)
def test_agency_tag_lines_are_removed(line: str) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], line]))
    assert text == PROSE[0]
    assert removed[0].rule in ("line.agency", "line.credit")


def test_prose_is_never_touched() -> None:
    text, removed = clean_lines("\n".join(PROSE))
    assert text == "\n".join(PROSE)
    assert removed == ()


def test_caption_with_trailing_credit_is_removed_as_a_caption() -> None:
    caption = (
        "Russian Foreign Minister Sergey Lavrov and North Korean Foreign Minister "
        "Choe Son-hui. © Russian Foreign Ministry / Telegram"
    )
    text, removed = clean_lines("\n".join([PROSE[0], caption, PROSE[1]]))
    assert caption not in text
    assert removed[0].rule == "line.caption"


def test_known_captions_bylines_titles_dates_and_menus() -> None:
    lines = [
        "Harbor plan approved",  # the title again
        "By Jane Roe and John Smith",
        "Updated: 12 November 2026, 14:05",
        "News",
        "Politics",
        "Sport",
        "Culture",
        PROSE[0],
        "A ferry approaches the landing on Monday morning.",  # a known caption
        "Share on Facebook",
        PROSE[1],
    ]
    text, removed = clean_lines(
        "\n".join(lines),
        known=["A ferry approaches the landing on Monday morning."],
        title="Harbor plan approved",
    )
    assert text == "\n".join([PROSE[0], PROSE[1]])
    rules = [r.rule for r in removed]
    assert rules == [
        "line.title",
        "line.byline",
        "line.dateline",
        "line.menu",
        "line.menu",
        "line.menu",
        "line.menu",
        "line.caption",
        "line.ui",
    ]


def _tree(body: str) -> object:
    return lxml_html.document_fromstring(f"<html><body>{body}</body></html>")


def test_figure_becomes_an_image_record_with_caption_and_credit() -> None:
    tree = _tree(
        "<article><p>First paragraph of the story.</p>"
        "<figure><img src='/media/a.jpg' alt='Dock'>"
        "<figcaption>Dockworkers unload containers. <span class='credit'>© Nordic Images / "
        "Erik Sand</span></figcaption></figure><p>Second paragraph.</p></article>"
    )
    result = preclean(tree, "https://news.example/story.html")
    (image,) = result.images
    assert image.url == "https://news.example/media/a.jpg"
    assert image.caption == "Dockworkers unload containers."
    assert image.credit == "© Nordic Images / Erik Sand"
    assert image.alt == "Dock"
    assert "Dockworkers" not in lxml_html.tostring(tree, encoding="unicode")
    assert result.removed[0].rule == "dom.figure"


def test_related_box_and_link_list_become_related_links() -> None:
    tree = _tree(
        "<article><p>Story text that stays in place for the reader to enjoy.</p>"
        "<aside class='related-articles'><h3>More on this story</h3><ul>"
        "<li><a href='/a'>Council approves the new harbor plan</a></li>"
        "<li><a href='/b'>Dockworkers strike over pay and hours</a></li></ul></aside>"
        "<p class='read-more'>READ MORE: <a href='/c'>Storm floods Water Street</a></p>"
        "<ul><li><a href='/d'>Mayor proposes a property tax cut</a></li>"
        "<li><a href='/e'>Marine lab tags young sand tiger sharks</a></li></ul>"
        "<p>More story text, with an <a href='/inline'>inline link</a> kept.</p></article>"
    )
    result = preclean(tree, "https://news.example/story.html")
    related = {link.url for link in result.links if link.kind == "related"}
    assert related == {f"https://news.example/{x}" for x in "abcde"}
    inline = [link for link in result.links if link.kind == "inline"]
    assert [link.url for link in inline] == ["https://news.example/inline"]
    remaining = lxml_html.tostring(tree, encoding="unicode")
    assert "Council approves" not in remaining and "Storm floods" not in remaining
    assert "Story text that stays" in remaining and "inline link" in remaining


def test_menu_and_section_links_of_removed_boxes_are_not_related_links() -> None:
    # A menu is removed as a link list just as a related-articles list is, but only links
    # that read like headlines are related stories: not sections, not the home page.
    tree = _tree(
        "<article><p>Story text that stays in place for the reader to enjoy.</p>"
        "<ul><li><a href='/politik/'>Politik</a></li><li><a href='/world'>World News</a></li>"
        "<li><a href='/'>Home of the Harbor Courier</a></li>"
        "<li><a href='https://news.example'>The Harbor Courier front page</a></li>"
        "<li><a href='/news/category'>トップ</a></li></ul>"
        "<ul><li><a href='/2026/ferry'>Ferry service resumes</a></li>"
        "<li><a href='/jp/1'>港の再開発計画が承認された</a></li>"
        "<li><a href='/kr/2'>항구 재개발 계획 승인</a></li></ul>"
        "<p>More story text, with an <a href='/politik/'>inline link</a> kept.</p></article>"
    )
    result = preclean(tree, "https://news.example/story.html")
    assert [(link.url, link.kind) for link in result.links] == [
        ("https://news.example/2026/ferry", "related"),
        ("https://news.example/jp/1", "related"),
        ("https://news.example/kr/2", "related"),
        # A section link left out of the related links is still the paragraph's inline link.
        ("https://news.example/politik/", "inline"),
    ]
    assert [span.rule for span in result.removed] == ["dom.link_list", "dom.link_list"]


def test_a_wrapper_with_a_promo_class_around_the_story_is_kept() -> None:
    story = "<p>" + "The tram line will connect the suburbs with the campus. " * 12 + "</p>"
    tree = _tree(f"<div class='article-share-wrapper'>{story}{story}</div>")
    result = preclean(tree)
    assert result.removed == ()
    assert "tram line" in lxml_html.tostring(tree, encoding="unicode")


def test_newsletter_share_cookie_and_ad_blocks_are_removed() -> None:
    tree = _tree(
        "<div class='newsletter-signup'>Sign up for our morning briefing</div>"
        "<div class='share-tools'><a href='#'>Share on X</a></div>"
        "<div id='cookie-consent'>We use cookies to improve your experience.</div>"
        "<div class='ad-slot'>Advertisement</div>"
        "<p>The story itself.</p>"
    )
    result = preclean(tree)
    assert {r.rule for r in result.removed} == {"dom.promo"}
    assert lxml_html.tostring(tree, encoding="unicode").count("<div") == 0


# --- teaser lists, the headline at the top, end notes, tag / time / reading-time lines ------


def test_teaser_cards_and_label_link_items_are_link_lists() -> None:
    tree = _tree(
        "<article><p>Story text that stays in place for the reader to enjoy.</p>"
        "<ul><li><h3><a href='/a'>Ferry service resumes</a></h3>"
        "<p>The harbor line runs again after two weeks of repairs to the landing.</p></li>"
        "<li><a href='/b'><h3>Budget vote delayed</h3></a>"
        "<p>Councillors want more time to read the figures before they decide.</p></li></ul>"
        "<ol><li><strong>Warning: </strong><a href='/c'>Nursing homes face closures</a></li>"
        "<li><strong>Schools: </strong><a href='/d'>New rules for phones in class</a></li></ol>"
        "</article>"
    )
    result = preclean(tree, "https://news.example/story.html")
    assert {link.url for link in result.links if link.kind == "related"} == {
        f"https://news.example/{x}" for x in "abcd"
    }
    assert [span.rule for span in result.removed] == ["dom.link_list", "dom.link_list"]
    remaining = lxml_html.tostring(tree, encoding="unicode")
    assert "Story text that stays" in remaining and "harbor line" not in remaining


def test_a_list_of_sentences_with_a_link_in_them_is_kept() -> None:
    tree = _tree(
        "<ul><li>The council approved the plan, as the <a href='/m'>minutes</a> show in "
        "detail, after a long debate on Monday.</li>"
        "<li>The port authority will publish its own figures in the spring.</li>"
        "<li>Critics say the <a href='/c'>cost estimate</a> leaves out the dredging work "
        "that the harbor needs.</li></ul>"
    )
    assert preclean(tree).removed == ()


def test_the_headline_again_at_the_top_in_other_wordings() -> None:
    lead = "The harbor will get a new ferry landing, the council decided on Monday night."
    lines = [
        "Harbor plans Council approves ferry landing",  # a kicker and the headline
        "Ferry landing approved after long debate",  # the headline as the page shows it
        lead,
        PROSE[0],
    ]
    text, removed = clean_lines(
        "\n".join(lines),
        title="Council approves ferry landing",
        headlines=["Ferry landing approved after long debate | The Harbor Times"],
    )
    assert text == "\n".join([lead, PROSE[0]])
    assert [r.rule for r in removed] == ["line.title", "line.title"]


def test_a_lead_sharing_words_with_the_headline_is_kept() -> None:
    lead = "The council approves a ferry landing for the harbor, and the port pays half."
    text, removed = clean_lines("\n".join([lead, PROSE[0]]), title="Council approves ferry landing")
    assert text == "\n".join([lead, PROSE[0]])
    assert removed == ()


def test_only_line_is_never_taken_for_the_headline() -> None:
    text, _ = clean_lines("Council approves ferry landing plan", title="Council approves ferry")
    assert text == "Council approves ferry landing plan"


@pytest.mark.parametrize(
    "note",
    [
        "Associated Press writer Jane Roe in Paris contributed to this report.",
        "With files from The Canadian Press",
        "Mit Agenturmaterial.",
        "• Email: jroe@news.example",
        "Write to Jane Roe at jane.roe@news.example",
        "Follow him on Twitter @janeroe.",
        "For the latest news, sign up for our free newsletter.",
        "Abonniere den Whatsapp-Kanal und bleib auf dem Laufenden.",
        "End of Article",
        "Fehler gefunden? Jetzt melden.",
        "This is a breaking news story - more to follow",
    ],
)
def test_end_notes_are_removed_at_the_end(note: str) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], PROSE[1], note]))
    assert text == "\n".join([PROSE[0], PROSE[1]])
    assert [r.rule for r in removed] == ["line.end_note"]


def test_end_note_words_in_the_body_or_in_long_prose_are_kept() -> None:
    middle = "Readers can subscribe to the council's newsletter to follow the debate."
    last = (
        "The new ferries launch tomorrow in 14 ports, including Dover, Calais, Rotterdam and "
        "Hamburg, and their operator said that monthly subscription tickets, student fares and "
        "group discounts would follow early next year, once the timetable is confirmed by the "
        "harbor authority and the regional transport board has approved the new prices for all."
    )
    text, removed = clean_lines("\n".join([PROSE[0], middle, PROSE[1], last]))
    assert text == "\n".join([PROSE[0], middle, PROSE[1], last])
    assert removed == ()


def test_a_closing_note_about_the_author_is_an_end_note() -> None:
    bio = "Jane Roe is our correspondent for regional politics. Her articles are here."
    text, removed = clean_lines("\n".join([PROSE[0], PROSE[1], bio]), authors=["Jane Roe"])
    assert text == "\n".join([PROSE[0], PROSE[1]])
    assert [r.rule for r in removed] == ["line.end_note"]


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Filed under: Politics | Harbor", "line.tags"),
        ("Tags: ferry, council, budget", "line.tags"),
        ("Schlagwörter: Hafen, Stadtrat", "line.tags"),
        ("Tempo de leitura: 2 minutos", "line.ui"),
        ("Reading time: 4 minutes", "line.ui"),
        ("5:45 AM PST 11/19/2019 by", "line.dateline"),
        ("November 19, 2019 / 12:21 AM / Updated 14 hours ago", "line.dateline"),
        ("Updated at 1:23 p.m.", "line.dateline"),
        ("READ NEXT: Storm floods Water Street", "line.read_more"),
        ("SEE MORE: The week in pictures", "line.read_more"),
    ],
)
def test_tag_reading_time_and_time_date_lines(line: str, rule: str) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], line, PROSE[1]]))
    assert text == "\n".join([PROSE[0], PROSE[1]])
    assert [r.rule for r in removed] == [rule]


# --- closing profiles, CJK labels and list steps, hover cards, promo boxes without paragraphs --


@pytest.mark.parametrize(
    "lines",
    [
        [
            "Harborline is a global provider of ferry booking software for ports and operators.",
            "Harborline is headquartered in Oslo and employs around 400 people worldwide.",
        ],
        ["Jane Roe covers city politics and the port. Follow her on Mastodon."],
        ["Associated Press writers Ann Lee, Bo Berg and Cy Dahl contributed to this report."],
        [
            "山田 太郎氏（やまだ・たろう）95年（平7年）港湾局入局、20年同局長。",
            "（4月1日就任。鈴木次郎社長は会長に）",
        ],
    ],
)
def test_closing_profiles_are_end_notes(lines: list[str]) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], PROSE[1], *lines]))
    assert text == "\n".join([PROSE[0], PROSE[1]])
    assert [r.rule for r in removed] == ["line.end_note"] * len(lines)


def test_a_profile_sentence_in_the_body_or_a_pronoun_at_the_end_is_kept() -> None:
    middle = "Harborline is a global provider of ferry booking software, its chief said."
    last = "The Harbor Board is an old body, and it says the ferry will come back next spring."
    note = "（4月1日就任）"  # a bracketed note alone, with no profile next to it
    for lines in ([PROSE[0], middle, PROSE[1]], [PROSE[0], PROSE[1], last], [PROSE[0], note]):
        text, removed = clean_lines("\n".join(lines))
        assert text == "\n".join(lines)
        assert removed == ()


@pytest.mark.parametrize("label", ["【関連記事】", "■関連キーワード", "관련기사", "相关阅读："])
def test_read_more_labels_in_japanese_korean_and_chinese(label: str) -> None:
    text, removed = clean_lines("\n".join([PROSE[0], label, PROSE[1]]))
    assert text == "\n".join([PROSE[0], PROSE[1]])
    assert [r.rule for r in removed] == ["line.read_more"]


def test_short_cjk_steps_are_not_a_menu() -> None:
    steps = [
        "メニューから「設定」を開く。",
        "保存先の欄を空にする",
        "「適用」を押す。",
        "再起動して完了",
    ]
    text, removed = clean_lines("\n".join([PROSE[0], *steps, PROSE[1]]))
    assert text == "\n".join([PROSE[0], *steps, PROSE[1]])
    assert removed == ()
    menu = ["ホーム", "政治", "経済", "国際"]  # a few characters each: still a menu
    _, removed = clean_lines("\n".join([PROSE[0], *menu, PROSE[1]]))
    assert [r.rule for r in removed] == ["line.menu"] * 4


def test_hover_cards_inside_a_paragraph_are_removed() -> None:
    tree = _tree(
        "<p>The plan was backed by Rep. <a href='/p/jane-roe'>Jane Roe</a>"
        "<span class='rollover-people'><span class='rollover-block'>Jane Roe"
        "<a href='/a'>Roe backs the harbor plan</a></span></span> on Monday.</p>"
        "<p>Critics <span class='c-tooltip'>Definition: people who object</span>disagreed.</p>"
    )
    result = preclean(tree)
    assert {r.rule for r in result.removed} == {"dom.promo"}
    remaining = lxml_html.tostring(tree, encoding="unicode")
    assert "Roe backs" not in remaining and "Definition" not in remaining
    assert "on Monday." in remaining and "disagreed." in remaining


def test_a_promo_box_without_paragraphs_is_removed_however_long() -> None:
    appeal = "We depend on readers like you to keep our reporting independent and free. " * 10
    story = "<p>" + "The tram line will connect the suburbs with the campus. " * 12 + "</p>"
    tree = _tree(
        f"<article>{story}<div class='InlineDonationPromo'><span>{appeal}</span></div>"
        f"<div class='promo-teaser'><span>{appeal}</span></div></article>"
    )
    result = preclean(tree)
    assert [r.rule for r in result.removed] == ["dom.promo"]
    remaining = lxml_html.tostring(tree, encoding="unicode")
    assert "tram line" in remaining
    # A "teaser" block without paragraphs can be the story's lead: long ones are kept.
    assert remaining.count("We depend on readers") == 10
