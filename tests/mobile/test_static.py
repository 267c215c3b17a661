"""The phone app's files: served at /m/ with the right types and headers, nothing else served."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from audit_service.mobile.router import STATIC_DIR

EXPECTED_TYPES = {
    "/m/": "text/html",
    "/m/index.html": "text/html",
    "/m/app.js": "text/javascript",
    "/m/sw.js": "text/javascript",
    "/m/styles.css": "text/css",
    "/m/manifest.webmanifest": "application/manifest+json",
    "/m/icon.svg": "image/svg+xml",
}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key) and tag in {"script", "link", "img"}:
                self.refs.append(a[key])


def _html_refs() -> list[str]:
    parser = _Refs()
    parser.feed((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    return parser.refs


def _precache() -> list[str]:
    text = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    block = re.search(r"const PRECACHE = \[(.*?)\];", text, re.S)
    assert block, "sw.js must list the app shell in `const PRECACHE = [...]`"
    return re.findall(r'"([^"]+)"', block.group(1))


def _module_imports() -> dict[str, list[str]]:
    out = {}
    for path in STATIC_DIR.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        out[path.name] = re.findall(r'^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"', text, re.M)
    return out


@pytest.mark.parametrize(("path", "content_type"), sorted(EXPECTED_TYPES.items()))
def test_files_are_served_with_their_content_type(mobile_client, path, content_type):
    resp = mobile_client.get(path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(content_type)
    assert resp.headers["cache-control"] == "no-cache"
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_every_static_file_is_served(mobile_client):
    for path in STATIC_DIR.iterdir():
        resp = mobile_client.get(f"/m/{path.name}")
        assert resp.status_code == 200, path.name
        if path.name != "sw.js":
            assert resp.content == path.read_bytes()


def test_index_forbids_anything_from_elsewhere(mobile_client):
    resp = mobile_client.get("/m/")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert resp.text == (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    # No CDN: every reference in the page and in the modules is relative.
    for ref in _html_refs() + [r for refs in _module_imports().values() for r in refs]:
        assert not re.match(r"^(https?:)?//", ref), ref


def test_service_worker_headers_and_build_id(mobile_client):
    resp = mobile_client.get("/m/sw.js")
    assert resp.headers["service-worker-allowed"] == "/m/"
    assert resp.headers["cache-control"] == "no-cache"
    assert "__BUILD_ID__" not in resp.text
    build = re.search(r'const BUILD = "([0-9a-f]{16})";', resp.text)
    assert build, "the server fills in the build id"
    assert "auditlens-m-${VERSION}-${BUILD}" in resp.text  # the cache name is versioned


def test_conditional_get_answers_304(mobile_client):
    first = mobile_client.get("/m/app.js")
    again = mobile_client.get("/m/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_bare_path_redirects_to_the_app(mobile_client):
    resp = mobile_client.get("/m", follow_redirects=False)
    assert resp.status_code in (307, 308)
    assert mobile_client.get("/m").url.path == "/m/"


@pytest.mark.parametrize(
    "path",
    [
        "/m/router.py",
        "/m/__init__.py",
        "/m/..%2Frouter.py",
        "/m/%2e%2e/router.py",
        "/m/%2e%2e%2f%2e%2e%2fapp.py",
        "/m/..%5c..%5capp.py",
        "/m/static/app.js",
        "/m/./app.js/",
        "/m/%00app.js",
        "/m/nope.js",
        "/m/.hidden",
        "/m/" + "a" * 5000,
    ],
)
def test_unknown_or_traversing_paths_are_404_in_the_error_envelope(mobile_client, path):
    resp = mobile_client.get(path)
    assert resp.status_code == 404
    body = resp.json()
    assert body["error"] == "not_found"
    assert "detail" in body


def test_raw_traversal_is_404():
    """Un-normalised ``..`` segments, sent as-is (clients usually normalise them away)."""
    from audit_service.core.errors import NotFound
    from audit_service.mobile.router import _respond

    class _Req:
        headers: dict[str, str] = {}

    for name in ["../router.py", "../../app.py", "/etc/passwd", "..", ".", ""]:
        with pytest.raises(NotFound):
            _respond(_Req(), name)  # type: ignore[arg-type]


def test_every_file_index_html_references_exists():
    refs = _html_refs()
    assert "app.js" in refs and "styles.css" in refs and "manifest.webmanifest" in refs
    for ref in refs:
        assert (STATIC_DIR / ref).is_file(), ref


def test_every_module_import_exists():
    for module, imports in _module_imports().items():
        for ref in imports:
            assert ref.startswith("./"), f"{module}: {ref}"
            assert (STATIC_DIR / ref[2:]).is_file(), f"{module} imports missing {ref}"


def test_precache_list_is_the_whole_app_shell():
    listed = _precache()
    for ref in listed:
        if ref == "./":
            continue
        assert (STATIC_DIR / ref).is_file(), f"sw.js precaches missing {ref}"
    shell = {p.name for p in STATIC_DIR.iterdir() if p.is_file()} - {"sw.js"}
    assert shell - set(listed) == set(), "add these files to PRECACHE in sw.js"
    assert "./" in listed


def test_manifest_is_valid_and_its_icon_exists():
    manifest = json.loads((STATIC_DIR / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["start_url"] == "./" and manifest["scope"] == "./"
    for icon in manifest["icons"]:
        assert (STATIC_DIR / icon["src"]).is_file()


def test_both_languages_have_every_string():
    text = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    en = text[text.index("  en: {") : text.index('  "zh-CN": {')]
    zh = text[text.index('  "zh-CN": {') : text.index("export const LANGS")]
    key = re.compile(r"^    (\w+):", re.M)
    assert set(key.findall(en)) == set(key.findall(zh))
    assert len(key.findall(en)) > 100


def test_every_module_is_preloaded_and_precached():
    """A module missing from index.html or sw.js would load late, or not at all offline."""
    modules = {p.name for p in STATIC_DIR.glob("*.js")} - {"sw.js"}
    assert {"counters.js", "returned.js"} <= modules
    assert modules - set(_html_refs()) == set(), "add <link rel=modulepreload> to index.html"
    assert modules - set(_precache()) == set(), "add these modules to PRECACHE in sw.js"


def test_returned_and_counter_strings_in_both_languages():
    text = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    for key, zh in (("returned_title", "已退回修改"), ("counter_label", "为您办理的柜台")):
        assert text.count(f"    {key}:") == 2, key
        assert zh in text
