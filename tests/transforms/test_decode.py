import codecs

from transforms.decode import decode_document


def test_http_charset_wins_when_it_decodes() -> None:
    data = "Grüße".encode("iso-8859-1")
    decoded = decode_document(data, "text/html; charset=ISO-8859-1")
    assert decoded.text == "Grüße"
    assert decoded.source == "http"


def test_bom_beats_a_wrong_header() -> None:
    data = codecs.BOM_UTF8 + "naïve".encode()
    decoded = decode_document(data, "text/html; charset=windows-1251")
    assert (decoded.text, decoded.source) == ("naïve", "bom")


def test_meta_declaration_used_when_header_is_silent() -> None:
    page = '<html><head><meta charset="windows-1251"></head><body>Привет</body></html>'
    decoded = decode_document(page.encode("cp1251"))
    assert "Привет" in decoded.text
    assert decoded.source == "declaration"


def test_wrong_declared_charset_is_not_trusted() -> None:
    # Declared UTF-8 but bytes are Latin-1: "é" alone is invalid UTF-8.
    prose = (
        "Le café crème coûte désormais trois euros à la terrasse de la gare, "
        "où les habitués déplorent une hausse très élevée depuis l'été dernier. "
    ) * 3
    data = f"<meta charset='utf-8'><p>{prose}</p>".encode("latin-1")
    decoded = decode_document(data, "text/html; charset=utf-8")
    assert "café crème" in decoded.text
    assert decoded.source == "detected"
