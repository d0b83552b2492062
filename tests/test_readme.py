"""README.md's own links: every in-page link names a heading that is there.

The README is edited by hand and by scripts; a section lost in an edit leaves the links
to it dangling, which this catches (a range replacement once deleted five sections)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _slug(heading):
    # GitHub's anchors: lowercase, punctuation dropped (hyphens and underscores kept),
    # spaces to hyphens
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _headings_and_links(text):
    headings, links, fenced = set(), [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        match = re.match(r"(#{1,6}) (.+)", line)
        if match:
            headings.add(_slug(match.group(2)))
        links += re.findall(r"\]\(#([^)]+)\)", line)
    return headings, links


def test_slug_follows_github():
    assert _slug("Writing, conversion and the cache") == "writing-conversion-and-the-cache"
    assert _slug("fastText models") == "fasttext-models"
    assert _slug("On Dask: the same code on a laptop and a cluster") == \
        "on-dask-the-same-code-on-a-laptop-and-a-cluster"


def test_every_in_page_link_has_its_heading():
    headings, links = _headings_and_links(README.read_text(encoding="utf-8"))
    assert links, "the README links to its own sections"
    missing = sorted({link for link in links if link not in headings})
    assert not missing, f"README links to sections that are not there: {missing}"


def test_a_lost_section_is_caught():
    text = "## Reading\n\nsee [Benchmarks](#benchmarks)\n\n```\n## not a heading\n```\n"
    headings, links = _headings_and_links(text)
    assert links == ["benchmarks"] and "benchmarks" not in headings
    assert "not-a-heading" not in headings
