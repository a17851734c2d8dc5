"""The web UI's static files: the vendored front-end libraries (htmx, its SSE extension,
Swagger UI for `/docs`) are the versions package.json pins, unaltered, each with its licence;
and in a real browser, offline, htmx swaps a fragment, its SSE extension swaps a pushed event,
and cartwire.css styles the page."""

import hashlib
import json
from importlib.resources import files
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.browser import screenshot
from tests.api.loopback import Body, serve

STATIC = files("cartwire.api") / "static"
VENDOR = STATIC / "vendor"
PACKAGE_JSON = Path(__file__).resolve().parents[2] / "package.json"


def _versions() -> list[list[str]]:
    """The rows of vendor/VERSIONS: file, package@version, licence, sha256."""
    lines = VENDOR.joinpath("VERSIONS").read_text().splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def test_vendored_files_are_the_pinned_versions_unaltered_with_their_licences() -> None:
    pins = json.loads(PACKAGE_JSON.read_text())["devDependencies"]
    rows = _versions()
    for name, package_version, licence, sha256 in rows:
        package, version = package_version.rsplit("@", 1)
        assert pins[package] == version, f"{name}: VERSIONS says {version}, package.json pins"
        assert hashlib.sha256(VENDOR.joinpath(name).read_bytes()).hexdigest() == sha256, (
            f"{name} differs from the copy scripts/vendor-assets made; re-run it"
        )
        assert licence
        assert VENDOR.joinpath(f"{name}.LICENSE").read_text().strip()
    listed = {row[0] for row in rows}
    shipped = {entry.name for entry in VENDOR.iterdir()}
    assert shipped == {"VERSIONS"} | listed | {f"{name}.LICENSE" for name in listed}
    assert listed == {"htmx.min.js", "sse.js", "swagger-ui-bundle.js", "swagger-ui.css"}


PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>cartwire</title>
<link rel="stylesheet" href="/static/cartwire.css">
<script src="/static/vendor/htmx.min.js"></script>
<script src="/static/vendor/sse.js"></script>
</head><body>
<nav class="topbar"><a class="brand" href="/">cartwire</a>
  <a href="/" aria-current="page">Runs</a><a href="/">Instances</a><a href="/">Flows</a>
  <span class="end">admin <a href="/">Log out</a></span></nav>
<main>
  <div class="flash ok">Run 12 started.</div>
  <div class="flash error">name: must be 1 to 64 letters, digits or '-'; choose another name.</div>
  <h1>Runs</h1>
  <table class="data"><thead><tr><th>Run</th><th>Flow</th><th>Status</th>
    <th class="num">Read</th><th class="num">Failed</th></tr></thead><tbody>
  <tr><td>12</td><td>ct-products-to-cl-skus</td><td><span class="pip running">running</span></td>
    <td class="num">1,200</td><td class="num">0</td></tr>
  <tr><td>11</td><td>ct-products-to-cl-skus</td><td><span class="pip ok">succeeded</span></td>
    <td class="num">5,000</td><td class="num">0</td></tr>
  <tr><td>10</td><td>cl-orders-to-ct</td><td><span class="pip partial">partially succeeded</span>
    </td><td class="num">80</td><td class="num">3</td></tr>
  <tr><td>9</td><td>cl-orders-to-ct</td><td><span class="pip failed">failed</span></td>
    <td class="num">0</td><td class="num">1</td></tr>
  <tr><td>8</td><td>cl-stock</td><td><span class="pip">stopped</span></td>
    <td class="num">40</td><td class="num">0</td></tr>
  </tbody></table>
  <div hx-ext="sse" sse-connect="/events" sse-swap="message" id="pushed">no event yet</div>
  <p><button id="load" hx-get="/fragment" hx-target="#fragment">Load</button></p>
  <div id="fragment">not loaded</div>
  <form><label for="name">Name</label>
    <input id="name" name="name" value="ct prod" aria-invalid="true">
    <p class="field-error">name: letters, digits and '-' only</p>
    <label for="role">Role</label><select id="role"><option>manager</option></select>
    <div class="actions"><button>Save</button><button class="secondary" type="button">Cancel
    </button><button class="danger" type="button">Delete</button></div></form>
</main></body></html>
"""


def test_htmx_and_its_sse_extension_work_offline_and_the_sheet_styles_the_page(
    page: Page,
) -> None:
    routes = {
        "/": Body("text/html; charset=utf-8", PAGE),
        "/fragment": Body("text/html; charset=utf-8", b"<b>swapped by htmx</b>"),
        "/events": Body("text/event-stream", b"event: message\ndata: <b>pushed</b>\n\n"),
    }
    for path in ("cartwire.css", "vendor/htmx.min.js", "vendor/sse.js"):
        kind = "text/css" if path.endswith(".css") else "text/javascript"
        routes[f"/static/{path}"] = Body(kind, STATIC.joinpath(path).read_bytes())
    with serve(routes) as url:
        # Anything not served here (a CDN, a font host) must not be needed: the page is offline.
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(f"{url}/") else route.abort()
            ),
        )
        page.goto(url)
        expect(page.locator("#pushed")).to_have_text("pushed")

        page.click("#load")

        expect(page.locator("#fragment")).to_have_text("swapped by htmx")
        ok_pip = "e => getComputedStyle(e, '::before').backgroundColor"
        assert page.eval_on_selector(".pip.ok", ok_pip) == "rgb(26, 127, 55)"
        screenshot(page, "static-assets")
