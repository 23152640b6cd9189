"""The static site's build (tools/build_site.py), without a browser: pages, links, mounts, assets, size, and
nothing on any page that the browser would fetch from outside the site's folder."""

from __future__ import annotations

import json
import re

import pytest

from tools import build_site  # python -m pytest puts the repository on sys.path

MAX_SITE_BYTES = 40_000_000
# What a browser fetches by itself: src= on any element, href= on <link>, url(...) in CSS.
FETCHED = re.compile(r"""(?:\bsrc\s*=\s*["']?|<link\b[^>]*\bhref\s*=\s*["']?|url\(\s*["']?)([^"'\s)>]+)""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    chapters = build_site.build(out)
    return out, chapters


def test_one_page_per_chapter_with_toc_and_pager(site):
    out, chapters = site
    names = sorted(p.name for p in build_site.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    assert [c.path.name for c in chapters] == names
    for n, ch in enumerate(chapters):
        page = (out / ch.file).read_text()
        assert all(f'href="{c.file}"' in page for c in chapters), f"{ch.file}: the table of contents misses a chapter"
        assert ('rel="prev"' in page) == (n > 0) and ('rel="next"' in page) == (n + 1 < len(chapters)), ch.file
        if n + 1 < len(chapters):
            links = re.findall(r"<a\b[^>]*>", page)
            assert any(f'href="{chapters[n + 1].file}"' in a and 'rel="next"' in a for a in links), ch.file
        assert 'id="site-search"' in page and 'aria-current="page"' in page
    assert chapters[0].file in (out / "index.html").read_text()


def test_live_explorers_mounted_beside_the_stored_pictures(site):
    out, chapters = site
    kinds = {}
    for ch in chapters:
        page = (out / ch.file).read_text()
        for kind in re.findall(r'class="gptviz-live" data-kind="(\w+)"', page):
            kinds[kind] = ch.file
            assert "gptviz-static" in page, f"{ch.file}: the stored picture must stay for readers without JavaScript"
    assert sorted(kinds) == sorted(build_site.LIVE.values())
    assert "Once upon a time, there was a girl named Mia" in (out / kinds["sampling"]).read_text()


def test_nothing_fetched_from_outside_the_site(site):
    out, _ = site
    files = [p for p in out.rglob("*") if p.suffix in (".html", ".css", ".js")]
    assert len(files) > 10
    for path in files:
        for target in FETCHED.findall(path.read_text()):
            assert not re.match(r"(?i)(https?:)?//", target), f"{path.name} fetches {target} from outside the site"
    assert "application/javascript" not in "".join(p.read_text() for p in out.glob("*.html"))


def test_assets_search_index_and_size(site):
    out, chapters = site
    assets = out / "assets"
    assert (assets / "model.safetensors").read_bytes() == (build_site.MODEL / "model.safetensors").read_bytes()
    assert (assets / "gpt2.tiktoken").read_bytes() == build_site.VOCAB.read_bytes()
    entries = json.loads((assets / "search.json").read_text())
    assert {e["page"] for e in entries} == {c.file for c in chapters}
    hit = next(e for e in entries if "logit lens" in e["text"].lower())
    assert f'id="{hit["anchor"]}"' in (out / hit["page"]).read_text(), "a search hit must link to an anchor on its page"
    assert build_site.site_bytes(out) < MAX_SITE_BYTES


def test_build_refuses_a_folder_it_did_not_build(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not a site this script built"):
        build_site.build(mine)
    assert (mine / "notes.txt").read_text() == "keep me"
