"""The service's /docs works offline, a body that is not JSON gets 415 saying what to send, and the
example of ``kmeanskit serve --help`` works with the model it makes."""

import re
import shlex

import numpy as np
import pytest
from fastapi.testclient import TestClient

from kmeanskit import KMeans
from kmeanskit._interfaces.cli._serve import EPILOG
from kmeanskit.service import create_app

from ..cli.running import run


@pytest.fixture(scope="module")
def client():
    model = KMeans(2, random_state=0).fit(np.random.default_rng(0).normal(size=(60, 3)))
    with TestClient(create_app(model), raise_server_exceptions=False) as c:
        yield c


def _asset_urls(page: str) -> list[str]:
    """Every URL a page loads: src, href, Swagger UI's spec url and ReDoc's spec-url."""
    urls = re.findall(r'\b(?:src|href|spec-url)="([^"]+)"', page)
    urls += re.findall(r"\burl: '([^']+)'", page)
    return urls


def test_docs_page_loads_everything_from_the_service_itself(client):
    page, assets = "/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = _asset_urls(response.text)
    assert "/openapi.json" in urls
    assert {url.rsplit("/", 1)[-1] for url in urls} >= assets
    for url in urls:
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        fetched = client.get(url)
        assert fetched.status_code == 200 and len(fetched.content) > 0, url
    assert "fonts.googleapis" not in response.text and "cdn" not in response.text.lower()
    # ReDoc is not served: it loads its logo from its own CDN whatever it is told.
    assert client.get("/redoc").status_code == 404


def test_swagger_ui_is_a_version_that_reads_openapi_3_1(client):
    # FastAPI writes OpenAPI 3.1, which Swagger UI renders from version 5 on.
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs-assets/swagger-ui-bundle.js").text
    assert re.search(r'"5\.\d+\.\d+"', bundle)


@pytest.mark.parametrize("headers, said", [
    ({}, "the request had none"),
    ({"content-type": "text/plain"}, "it was 'text/plain'"),
    ({"content-type": "application/x-www-form-urlencoded"}, "it was 'application/x-www-form-urlencoded'"),
])
def test_a_body_without_a_json_content_type_gets_415_saying_what_to_send(client, headers, said):
    response = client.post("/predict", content=b'{"instances": [[1, 2, 3]]}', headers=headers)
    assert response.status_code == 415
    assert response.json() == {"detail": f"send Content-Type: application/json with a JSON body ({said})"}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.api+json"])
def test_json_content_types_are_accepted(client, content_type):
    response = client.post("/predict", content=b'{"instances": [[1, 2, 3]]}', headers={"content-type": content_type})
    assert response.status_code == 200 and response.json()["n_rows"] == 1


def test_the_415_is_in_the_openapi_document(client):
    responses = client.get("/openapi.json").json()["paths"]["/predict"]["post"]["responses"]
    assert "415" in responses


def _commands(epilog: str) -> list[str]:
    """The shell commands of an epilog's examples (continuation lines joined, comments dropped)."""
    block = epilog.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    commands, current = [], ""
    for line in block.splitlines():
        current += line.strip() + " "
        if line.rstrip().endswith("\\"):
            current = current.rstrip()[:-1]
            continue
        if current.count("'") % 2:  # a quoted argument goes on to the next line
            continue
        commands.append(current.split("  #")[0].strip())
        current = ""
    return commands


def test_serve_help_example_works_with_the_model_it_makes(capsys, tmp_path, monkeypatch):
    commands = _commands(EPILOG)
    fit = next(c for c in commands if c.startswith("kmeanskit fit"))
    served = next(c for c in commands if c.startswith("kmeanskit serve"))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *shlex.split(fit)[1:])
    assert code == 0, err
    model_file = shlex.split(served)[2]
    assert (tmp_path / model_file).is_file()
    requests = [shlex.split(c) for c in commands if c.startswith("curl") and " -d " in c]
    assert len(requests) == 2  # rows in order, and records by name
    with TestClient(create_app(tmp_path / model_file)) as c:
        for argv in requests:
            url = argv[argv.index("-s") + 1]
            header = argv[argv.index("-H") + 1]
            name, value = (part.strip() for part in header.split(":", 1))
            body = argv[argv.index("-d") + 1]
            response = c.post(url.split("8000", 1)[1], content=body.encode(), headers={name: value})
            assert response.status_code == 200, response.text
            assert response.json()["labels"][0] in (0, 1, 2)
