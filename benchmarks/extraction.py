"""Extraction quality and speed on the real pages of ../shared/corpus/articles.

For newsdesk and for plain trafilatura (default, and include_comments=False), in one run:
bag-of-words precision / recall / F1 against the reference text, per source and overall;
caption / credit leakage; read-more leakage; pages per second.

    .venv/bin/python benchmarks/extraction.py [--limit N] [--only ID_SUBSTRING]

The leak detectors here are deliberately independent of newsdesk's own cleaning rules.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import article_manifest, corpus_root, write_result
from transforms.extract import extract_article
from transforms.records import ExtractedArticle

TOKEN = re.compile(r"\w+", re.UNICODE)
# A line that is a photo credit: "Foto: …", "Photo: AFP", "© dpa", "… / Getty Images",
# "(Image credit: …)".
CREDIT_LINE = re.compile(
    r"^\(?\s*(foto|fotos|photo|photos|image|images|bild|bilder|picture|credit|crédit|crédits"
    r"|quelle|source|zdjęcie|fot\.|foto's|illustration|grafik|video)\s*(credit)?\s*:"
    r"|©|\(c\)\s|copyright\b|getty images|/\s*(afp|ap|reuters|dpa|epa|imago|picture alliance)\b"
    r"|^(afp|ap|reuters|dpa|epa|imago|keystone|apa|ntb|tt|ritzau|anp)(\s*(photo|/.*))?$"
    r"|^(quelle|source)\s*:",
    re.I,
)
READ_MORE_LINE = re.compile(
    r"^\s*(read more|read also|also read|more on this|related|more:|more :|see also|watch:"
    r"|lesen sie (auch|mehr)|mehr zum thema|auch interessant|weiterlesen|lies auch|zum thema"
    r"|à lire aussi|a lire aussi|lire aussi|voir aussi|lee también|leer más|lea también"
    r"|leggi anche|per approfondire|leia também|leia mais|lees ook|lees meer"
    r"|czytaj (też|także|więcej)"
    r"|читайте также|подробнее|ayrıca (okuyun|bakınız)|les også|læs også|läs även|läs också)\b",
    re.I,
)


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def tokens(text: str) -> Counter[str]:
    return Counter(TOKEN.findall(text.casefold()))


def prf(predicted: str, expected: str) -> tuple[float, float, float]:
    p, e = tokens(predicted), tokens(expected)
    overlap = sum((p & e).values())
    precision = overlap / max(sum(p.values()), 1)
    recall = overlap / max(sum(e.values()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def leaks(output: str, page: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(caption leaked, credit leaked, read-more leaked) for one output."""
    out = norm(output)
    expected = norm(page["expected_text"])
    caption = any(
        len(c := norm(raw)) >= 20 and c in out and c not in expected
        for raw in page.get("image_captions") or []
    )
    credit_listed = any(
        len(c := norm(raw)) >= 8 and c in out and c not in expected
        for raw in page.get("image_credits") or []
    )
    expected_lines = {norm(line) for line in page["expected_text"].split("\n")}
    lines = [line.strip() for line in output.split("\n") if line.strip()]
    credit_line = any(
        len(line) <= 200
        and CREDIT_LINE.search(line)
        and norm(line) not in expected_lines
        and norm(line) not in expected
        for line in lines
    )
    read_more = any(
        len(line) <= 200
        and READ_MORE_LINE.search(line)
        and norm(line) not in expected_lines
        and norm(line) not in expected
        for line in lines
    )
    return caption, credit_listed or credit_line, read_more


@dataclass
class Score:
    pages: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    caption_leaks: int = 0
    caption_pages: int = 0
    credit_leaks: int = 0
    read_more_leaks: int = 0
    empty: int = 0
    seconds: float = 0.0
    by_source: dict[str, list[float]] = field(default_factory=dict)

    def add(self, page: dict[str, Any], output: str, seconds: float) -> None:
        p, r, f = prf(output, page["expected_text"])
        self.pages += 1
        self.precision += p
        self.recall += r
        self.f1 += f
        self.seconds += seconds
        self.empty += not output.strip()
        caption, credit, read_more = leaks(output, page)
        if page.get("image_captions"):
            self.caption_pages += 1
            self.caption_leaks += caption
        self.credit_leaks += credit
        self.read_more_leaks += read_more
        stats = self.by_source.setdefault(page["source"], [0, 0.0, 0.0, 0.0])
        stats[0] += 1
        stats[1] += p
        stats[2] += r
        stats[3] += f

    def summary(self) -> dict[str, Any]:
        n = max(self.pages, 1)
        return {
            "pages": self.pages,
            "precision": round(self.precision / n, 4),
            "recall": round(self.recall / n, 4),
            "f1": round(self.f1 / n, 4),
            "caption_leak_rate": round(self.caption_leaks / max(self.caption_pages, 1), 4),
            "credit_leak_rate": round(self.credit_leaks / n, 4),
            "caption_or_credit_leak_rate": None,
            "read_more_leak_rate": round(self.read_more_leaks / n, 4),
            "empty_outputs": self.empty,
            "pages_per_second": round(self.pages / self.seconds, 2) if self.seconds else None,
            "by_source": {
                source: {
                    "pages": s[0],
                    "precision": round(s[1] / s[0], 4),
                    "recall": round(s[2] / s[0], 4),
                    "f1": round(s[3] / s[0], 4),
                }
                for source, s in sorted(self.by_source.items())
            },
        }


def newsdesk(html: bytes, url: str) -> str:
    result = extract_article(html, url)
    return result.text if isinstance(result, ExtractedArticle) else ""


def trafilatura_default(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def trafilatura_no_comments(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


SYSTEMS: dict[str, Callable[[bytes, str], str]] = {
    "newsdesk": newsdesk,
    "trafilatura": trafilatura_default,
    "trafilatura_no_comments": trafilatura_no_comments,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", default="")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--worst", type=int, default=0, help="print the N worst newsdesk pages")
    args = parser.parse_args()
    folder = corpus_root() / "articles"
    pages = [p for p in article_manifest(corpus_root()) if args.only in p["id"]]
    if args.limit:
        pages = pages[: args.limit]
    chosen = {name: SYSTEMS[name] for name in args.systems.split(",")}
    scores = {name: Score() for name in chosen}
    per_page: list[tuple[float, str, str]] = []
    for page in pages:
        html = (folder / page["html_file"]).read_bytes()
        # Interleave systems page by page so machine noise hits all of them alike.
        for name, system in chosen.items():
            started = time.perf_counter()
            output = system(html, page["url"])
            scores[name].add(page, output, time.perf_counter() - started)
            if name == "newsdesk":
                per_page.append((prf(output, page["expected_text"])[2], page["id"], output))
    results = {name: score.summary() for name, score in scores.items()}
    for name, score in scores.items():
        results[name]["caption_or_credit_leak_rate"] = round(
            (score.caption_leaks + score.credit_leaks) / max(score.pages, 1), 4
        )
    header = f"{'system':<26}{'P':>7}{'R':>7}{'F1':>7}{'capt':>7}{'cred':>7}{'more':>7}{'pg/s':>8}"
    print(header)
    for name, r in results.items():
        print(
            f"{name:<26}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}"
            f"{r['caption_leak_rate']:>7.3f}{r['credit_leak_rate']:>7.3f}"
            f"{r['read_more_leak_rate']:>7.3f}{r['pages_per_second'] or 0:>8.1f}"
        )
        for source, s in r["by_source"].items():
            print(f"  {source:<24}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}")
    if "newsdesk" in results and "trafilatura_no_comments" in results:
        ours, ref = results["newsdesk"], results["trafilatura_no_comments"]
        ratios = {
            "f1_gain": round(ours["f1"] - ref["f1"], 4),
            "recall_delta": round(ours["recall"] - ref["recall"], 4),
            "speed_ratio": round(
                (ours["pages_per_second"] or 0) / (ref["pages_per_second"] or 1), 3
            ),
        }
        print("against trafilatura include_comments=False:", ratios)
        results["against_reference"] = ratios
    if args.worst:
        for f1, page_id, _ in sorted(per_page)[: args.worst]:
            print(f"  worst {f1:.3f} {page_id}")
    path = write_result("extraction", {"pages": len(pages), "results": results})
    print(f"written {path}")


if __name__ == "__main__":
    main()
