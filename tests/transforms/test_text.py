from transforms.text import content_hash, normalise_for_hash, tidy_text, word_count


def test_tidy_text_collapses_spaces_and_blank_lines() -> None:
    assert tidy_text("  a \u00a0 b \n\n\n c  \r\n") == "a b\nc"


def test_hash_ignores_case_and_punctuation_but_not_words() -> None:
    assert content_hash("Hello, World!") == content_hash("hello world")
    assert content_hash("hello world") != content_hash("hello there world")
    assert normalise_for_hash("«Ça va?»") == "ça va"


def test_word_count() -> None:
    assert word_count("one two\nthree") == 3
