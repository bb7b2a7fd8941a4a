"""``kmeanskit serve``'s /docs in headless Chromium with every other host unreachable: Swagger UI renders the
service's operations from assets the service serves itself."""

import os

import numpy as np
import pytest

from kmeanskit import KMeans, save

from ...serving import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def test_docs_render_offline_in_a_browser(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    X = np.random.default_rng(0).normal(size=(60, 3))
    model = tmp_path / "m.kmk"
    save(KMeans(2, random_state=0).fit(X), model, X=X)
    with running_server(model, tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        elsewhere, errors = [], []

        def only_the_service(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:  # as without the internet
                elsewhere.append(route.request.url)
                route.abort()

        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.route("**/*", only_the_service)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(base + "/docs", wait_until="load")
                page.wait_for_selector(".opblock-summary-path", timeout=30_000)
                text = page.inner_text("body")
            finally:
                browser.close()
    assert elsewhere == [] and errors == []
    assert "/predict" in text and "Assign rows to clusters" in text
