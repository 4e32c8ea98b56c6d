"""The HTML report (qgtransport.report): paths, the entropy-production density, the checks, the
self-contained page, and the page in a real headless browser.

The browser test starts Debian's chromium headless, drives it over the Chrome DevTools protocol
through a pipe (--remote-debugging-pipe: no websocket, no extra package), loads the report from a
localhost http.server, and checks: no console error, no uncaught exception, no failed load
(Log.entryAdded at level error), every <img> decoded (img.decode() resolves, naturalWidth > 0), the
server asked for the report and nothing else (self-contained), and a full-page screenshot that is a
real, non-blank PNG. It skips when chromium is not installed, unless QGT_REQUIRE_BROWSER=1 (set by
.ci/run in CI, which installs chromium), where it fails instead.
"""

import base64
import functools
import http.server
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from qgtransport import builtin_model, compute
from qgtransport.report import (
    ERRATA,
    ReportOptions,
    band_structure_figure,
    custom_path,
    entropy_density_figure,
    grid_convergence,
    high_symmetry_path,
    plot_vs_T,
    relation_checks,
    sample_path,
    write_report,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUANTITIES = ["entropy_production", "entropy_production_drude", "entropy_production_interband",
              "equilibrium_entropy_current", "entropy_current_drude", "entropy_hall", "anomalous_hall", "drude",
              "anomalous_nernst"]


@pytest.fixture(scope="module")
def qwz():
    return builtin_model("qwz", m=-1.0)


@pytest.fixture(scope="module")
def small(qwz):
    return compute(qwz, QUANTITIES, mu=np.linspace(-3, 3, 13), T=[750.0, 1500.0, 3000.0], tau=10.0, nk=24)


@pytest.fixture(scope="module")
def report(qwz, small, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    options = ReportOptions(bz_nk=32, band_points=80, exact=True, exact_nk=12, strength=1e5, dpi=60)
    return write_report(small, qwz, folder, options, config_text="[model]\nbuiltin = \"qwz\"  # <&>",
                        command="pytest")


# ---------------------------------------------------------------- paths


def test_hexagonal_path_goes_through_the_zone_corner():
    """Haldane (a1.a2 > 0, so b1.b2 < 0): K is equidistant from Gamma and its two nearest
    reciprocal lattice points, and no reciprocal lattice point is closer: a zone corner."""
    model = builtin_model("haldane")
    path = high_symmetry_path(model)
    assert path.labels == ("Γ", "K", "M", "Γ") and path.lattice == "hexagonal"
    b = model.reciprocal
    K = path.points[1] @ b
    G = np.array([i * b[0] + j * b[1] for i in range(-2, 3) for j in range(-2, 3)])
    distances = np.sort(np.linalg.norm(G - K, axis=1))
    np.testing.assert_allclose(distances[:3], distances[0], rtol=1e-12)
    assert distances[3] > distances[0] * 1.5
    M = path.points[2] @ b
    np.testing.assert_allclose(np.linalg.norm(M), np.linalg.norm(b[0]) / 2)


@pytest.mark.parametrize("name, labels", [
    ("qwz", ("Γ", "X", "M", "Γ")), ("rice_mele", ("-X", "Γ", "X")),
    ("weyl", ("Γ", "X", "M", "Γ", "R", "X", "Γ", "Z")),
])
def test_builtin_lattices_have_their_standard_path(name, labels):
    assert high_symmetry_path(builtin_model(name)).labels == labels


def test_generic_lattice_path_runs_along_reciprocal_axes(rng):
    from conftest import random_model

    model = random_model(rng, dim=2)
    path = high_symmetry_path(model)
    assert path.lattice == "other" and path.labels[1] == "b1/2"


DATA = Path(__file__).parents[1] / "data" / "wannier90"


@pytest.fixture(scope="module")
def fe():
    from qgtransport.models import read_hr

    return read_hr(DATA / "fe" / "Fe_hr.dat")


@pytest.fixture(scope="module")
def lead():
    from qgtransport.models import read_hr

    return read_hr(DATA / "pb" / "lead_hr.dat")


def vertex_lengths(model, path) -> dict:
    return {label: float(np.linalg.norm(point @ model.reciprocal)) for label, point in zip(path.labels, path.points,
                                                                                             strict=True)}


def test_bcc_iron_gets_gamma_h_n_p(fe):
    """seekpath's cI path in Fe's own reciprocal basis; the vertices sit where the bcc zone has them:
    |H| = 2 pi/a, |N| = sqrt(2) pi/a, |P| = sqrt(3) pi/a (a = 2.87 A, the conventional cube)."""
    from qgtransport.report.kspace import route

    path = high_symmetry_path(fe)
    assert route(path) == "Γ – H – N – Γ – P – H | P – N" and path.lattice.startswith("cI")
    a = 2 * float(np.abs(fe.lattice).max())
    lengths = vertex_lengths(fe, path)
    np.testing.assert_allclose([lengths["H"], lengths["N"], lengths["P"], lengths["Γ"]],
                               [2 * np.pi / a, np.sqrt(2) * np.pi / a, np.sqrt(3) * np.pi / a, 0.0], rtol=1e-6)
    k, distance, ticks = sample_path(fe, path, 120)
    assert np.count_nonzero(np.diff(distance) == 0) == 1  # the break H|P: no distance, no line
    fig = band_structure_figure(fe, path, npoints=60)
    assert fig.get_suptitle() == "Bands of Fe along Γ – H – N – Γ – P – H | P – N"  # no file keys, no paths
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Γ", "H", "N", "Γ", "P", "H|P", "N"]


def test_fcc_lead_gets_gamma_x_w_l_k(lead):
    """fcc: |X| = 2 pi/a, |L| = sqrt(3) pi/a, |W| = sqrt(5) pi/a, |K| = |U| = 3 sqrt(2) pi/(2a)."""
    path = high_symmetry_path(lead)
    assert set(path.labels) == {"Γ", "X", "U", "K", "L", "W"} and path.lattice.startswith("cF")
    lengths = vertex_lengths(lead, path)
    a = 2 * np.pi / lengths["X"]
    np.testing.assert_allclose([lengths["L"], lengths["W"], lengths["K"], lengths["U"]],
                               np.array([np.sqrt(3), np.sqrt(5), 1.5 * np.sqrt(2), 1.5 * np.sqrt(2)]) * np.pi / a,
                               rtol=1e-6)
    assert np.linalg.norm(lead.lattice[0]) == pytest.approx(a / np.sqrt(2), rel=1e-6)  # a primitive fcc vector


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # spglib's notice about its error handling
def test_seekpath_vertices_follow_a_rotated_triclinic_cell():
    """For a cell that seekpath rotates, the vertices stay equivalent to its own: each vertex of the
    path (model basis) is a reciprocal-lattice translate of +-(seekpath vertex, rotated back)."""
    import seekpath

    from qgtransport.models import TightBinding

    lattice = np.array([[3.0, 0.1, 0.2], [0.3, 4.0, 0.1], [0.2, 0.5, 5.0]])
    model = TightBinding(lattice=lattice, positions=[[0, 0, 0]], R=[[0, 0, 0]], H_R=[[[0.0]]])
    path = high_symmetry_path(model)
    result = seekpath.get_path((lattice, [[0, 0, 0]], [1]))
    assert not np.allclose(result["rotation_matrix"], np.eye(3))
    # lengths of the vertices are those seekpath computes in its own frame
    B = np.asarray(result["reciprocal_primitive_lattice"])
    for label, point in zip(path.labels, path.points, strict=True):
        name = {"Γ": "GAMMA"}.get(label, label)
        expected = np.linalg.norm(np.asarray(result["point_coords"][name]) @ B)
        assert np.linalg.norm(point @ model.reciprocal) == pytest.approx(expected, rel=1e-9), label


def test_zone_maps_show_the_band_nearest_mu(fe, lead):
    """The maps default to the band at mu: for lead at its Fermi energy (5.27 eV) the half-filled p
    band, not the lowest (s) band 10 eV below."""
    from qgtransport.report.kspace import nearest_band

    fermi = lead.parameters["fermi_energy"]
    band = nearest_band(lead, fermi)
    assert band > 0
    energies = np.linalg.eigvalsh(lead.hamiltonian(lead.to_cartesian(np.random.default_rng(0).uniform(size=(400, 3)))))
    assert energies[:, band].min() < fermi < energies[:, band].max()
    qwz = builtin_model("qwz", m=-1.0)
    assert nearest_band(qwz, -2.0) == 0 and nearest_band(qwz, 2.0) == 1


def test_sample_path_hits_every_vertex_with_even_spacing(qwz):
    path = high_symmetry_path(qwz)
    k, distance, ticks = sample_path(qwz, path, 200)
    for vertex, tick in zip(path.points, ticks, strict=True):
        index = np.argmin(np.abs(distance - tick))
        np.testing.assert_allclose(k[index], vertex, atol=1e-12)
    steps = np.diff(distance)
    assert steps.min() > 0 and steps.max() / steps.min() < 1.5
    np.testing.assert_allclose(ticks[-1], (2 + np.sqrt(2)) * np.pi)  # G-X, X-M: pi each; M-G: pi sqrt 2
    with pytest.raises(ValueError, match="as many labels as points"):
        custom_path(["G"], [[0, 0], [0.5, 0]])


def test_band_structure_figure_1d_and_2d():
    assert len(band_structure_figure(builtin_model("rice_mele"), npoints=40).axes) == 2  # metric + colour bar
    assert len(band_structure_figure(builtin_model("haldane"), npoints=40).axes) == 4


# ---------------------------------------------------------------- entropy-production density


@pytest.mark.parametrize("units, T, tau, direction", [
    ("SI", 1500.0, 10.0, None), ("natural", 0.15, 12.0, (1, 1)), ("SI", 750.0, 10.0, (0, 1)),
])
def test_density_averages_to_the_entropy_production(qwz, units, T, tau, direction):
    """Cross-route: the zone average of the per-k density on the 32^2 map grid equals
    E^.Pi.E^ of compute on the same grid (its Drude and interband parts too), and pi(k) >= 0."""
    nk = 32
    ds = compute(qwz, ["entropy_production", "entropy_production_drude", "entropy_production_interband"],
                 mu=1.5, T=T, tau=tau, nk=nk, units=units, error_estimate=False)
    n = np.array([1.0, 0.0]) if direction is None else np.asarray(direction, float)
    E = n @ qwz.reciprocal
    E = E / np.linalg.norm(E)
    fig, values = entropy_density_figure(qwz, 1.5, T, tau, units=units, direction=direction, nk=nk)
    assert isinstance(fig, Figure)
    for key, name in (("total", "entropy_production"), ("drude", "entropy_production_drude"),
                      ("interband", "entropy_production_interband")):
        expected = E @ ds[name].values[0, 0] @ E
        np.testing.assert_allclose(values[key].mean(), expected, rtol=1e-10)
    assert values["total"].min() >= 0 and values["interband"].min() >= 0


def test_density_in_one_dimension():
    model = builtin_model("rice_mele")
    ds = compute(model, ["entropy_production"], mu=0.8, T=0.1, tau=5.0, nk=4 * 50, units="natural",
                 error_estimate=False)
    fig, values = entropy_density_figure(model, 0.8, 0.1, 5.0, units="natural", nk=50)
    np.testing.assert_allclose(values["mean_total"], ds.entropy_production.values[0, 0, 0, 0], rtol=1e-10)


# ---------------------------------------------------------------- checks and convergence


def test_relation_checks_hold_on_qwz(qwz, small):
    rows = relation_checks(small, qwz, ["onsager", "positivity", "maxwell", "equilibrium_current"], mu_points=2)
    by_name = {row.name.split(":")[0]: row for row in rows}
    assert by_name["Onsager"].verdict == "holds" and by_name["Onsager"].residual < 1e-10
    assert by_name["Maxwell"].verdict == "holds" and by_name["Maxwell"].residual < 1e-4
    assert all(row.verdict == "holds" for row in rows), [(r.name, r.residual) for r in rows]
    assert len([r for r in rows if r.name.startswith("Maxwell")]) == 2  # anomalous_hall and drude


def test_mott_is_checked_in_consistent_units(qwz):
    """The Mott residual shrinks as T falls (a low-T expansion), in SI input as in natural units."""
    residuals = []
    for T in (1500.0, 375.0):
        ds = compute(qwz, ["anomalous_hall", "entropy_hall"], mu=[-1.8, -1.5], T=T, nk=24, error_estimate=False)
        (row,) = relation_checks(ds, qwz, ["mott"], mu_points=1)
        residuals.append(row.residual)
    assert residuals[1] < residuals[0] / 4, residuals


def test_checks_asked_for_but_impossible_are_shown_as_skipped(qwz):
    ds = compute(qwz, ["anomalous_hall"], mu=0.0, T=300.0, nk=8)
    rows = relation_checks(ds, qwz, ["onsager", "maxwell", "positivity"])
    assert [r.verdict for r in rows] == ["skipped"] * 3
    assert relation_checks(ds, qwz, None) == []  # automatic: only what applies


def test_grid_convergence_rows(small):
    rows = {r["quantity"]: r for r in grid_convergence(small)}
    assert set(rows) == set(QUANTITIES)
    assert rows["anomalous_hall"]["relative"] < 1e-2
    assert rows["equilibrium_entropy_current"]["status"].startswith("vanishes identically")
    assert rows["drude"]["max_error"] == pytest.approx(float(np.abs(small.drude_error.values).max()))


def test_plot_vs_T(small):
    fig = plot_vs_T(small, "entropy_hall", ("x", "y"))
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) >= 3


# ---------------------------------------------------------------- the page


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links, self.scripts, self.ids, self.text = [], [], 0, set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("href", "src"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


def test_report_is_one_self_contained_file(report):
    page = _Page()
    html_text = report.html_path.read_text(encoding="utf-8")
    page.feed(html_text)
    assert page.scripts == 0
    assert all(link.startswith(("#", "data:")) for link in page.links), page.links
    assert len(page.images) == len(report.figures) >= 8
    for attrs in page.images:
        prefix = "data:image/png;base64,"
        assert attrs["src"].startswith(prefix) and attrs.get("alt")
        png = base64.b64decode(attrs["src"][len(prefix):])
        name = attrs["id"].removeprefix("fig-")
        assert png.startswith(PNG_SIGNATURE) and png == report.figures[name].read_bytes()
    text = " ".join(page.text)
    for heading in ("Band structure and band geometry", "Where the entropy is produced", "Relation checks",
                    "Closed forms against the exact steady-state solver", "Grid convergence",
                    "Conventions and errata", "Responses against temperature", "Configuration"):
        assert heading in text, heading
    assert '# <&>' in text and "&lt;&amp;&gt;" in html_text  # the configuration, escaped
    for key in ("E1", "E2", "E4", "E6", "E7"):
        assert ERRATA[key][0] in text
    assert "Drift per relaxation time" in text  # strength = 1e5 V/m


def test_report_checks_hold(report):
    verdicts = {c.name: c.verdict for c in report.checks}
    assert "FAILS" not in verdicts.values(), verdicts
    assert any(name.startswith("closed forms vs the exact") for name in verdicts)
    assert report.exact_rows and not any(r["verdict"] == "DISAGREES" for r in report.exact_rows)


def test_report_for_1d_and_3d_models(tmp_path):
    for name, nk in (("rice_mele", 64), ("weyl", 6)):
        model = builtin_model(name)
        ds = compute(model, ["entropy_production", "entropy_hall", "anomalous_nernst", "drude"],
                     mu=[-0.5, 0.5], T=[1000.0], tau=10.0, nk=nk)
        result = write_report(ds, model, tmp_path / name, ReportOptions(bz_nk=16, band_points=40, dpi=40))
        assert result.html_path.is_file()
        assert ("bz_geometry" in result.figures) == (model.dim >= 2)
        assert "responses_vs_T" not in result.figures  # one temperature


# ---------------------------------------------------------------- the page in a real browser


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A minimal Chrome DevTools protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out,
    NUL-separated JSON messages)."""

    def __init__(self, executable: str, profile: str, timeout: float = 30.0):
        self.timeout = timeout
        to_browser_read, self.to_browser = os.pipe()
        self.from_browser, from_browser_write = os.pipe()
        command = [
            "bash", "-c", f'exec "$0" "$@" 3<&{to_browser_read} 4>&{from_browser_write}', executable,
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-pipe",
            "--window-size=1280,900", "about:blank",
        ]
        self.process = subprocess.Popen(command, pass_fds=(to_browser_read, from_browser_write),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.from_browser], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, event: str):
        for index, message in enumerate(self.events):
            if message.get("method") == event:
                return self.events.pop(index)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            self.events.append(message)
            if message.get("method") == event:
                return message

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, EOFError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self.to_browser, self.from_browser):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def served(report):
    """The report folder on a localhost http.server; yields (url, the list of paths requested)."""
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    handler = functools.partial(Handler, directory=str(report.html_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/report.html", requested
    finally:
        server.shutdown()
        server.server_close()


def test_report_in_headless_chromium(report, served, tmp_path):
    executable = chromium_path()
    if executable is None:
        if os.environ.get("QGT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed but QGT_REQUIRE_BROWSER=1 (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    url, requested = served
    profile = tempfile.mkdtemp(prefix="qgt-chromium-")
    browser = DevTools(executable, profile)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            browser.call(domain, session=session)
        browser.call("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        images = json.loads(browser.call("Runtime.evaluate", {
            "expression": "Promise.all([...document.images].map(img => img.decode().then("
                          "() => ({id: img.id, width: img.naturalWidth, height: img.naturalHeight}), "
                          "error => ({id: img.id, width: 0, error: String(error)})))).then(JSON.stringify)",
            "awaitPromise": True, "returnByValue": True}, session=session)["result"]["value"])
        facts = browser.call("Runtime.evaluate", {
            "expression": "JSON.stringify({title: document.title, height: document.body.scrollHeight, "
                          "sections: document.querySelectorAll('section').length, "
                          "resources: performance.getEntriesByType('resource').length})",
            "returnByValue": True}, session=session)["result"]["value"]
        facts = json.loads(facts)
        headline = json.loads(browser.call("Runtime.evaluate", {
            "expression": "(() => { const h = document.getElementById('convergence-status'); "
                          "const cells = [...document.querySelectorAll('td.bad')].filter(c => "
                          "c.textContent.includes('NOT CONVERGED')); return JSON.stringify({"
                          "text: h.textContent, colour: getComputedStyle(h).color, "
                          "top: h.getBoundingClientRect().top, "
                          "red_cells: cells.filter(c => getComputedStyle(c).color === 'rgb(207, 34, 46)').length, "
                          "cells: cells.length}); })()",
            "returnByValue": True}, session=session)["result"]["value"])
        metrics = browser.call("Page.getLayoutMetrics", session=session)
        shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                            session=session)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)

    problems = [m["params"] for m in browser.events if m.get("method") in ("Runtime.exceptionThrown",)
                or (m.get("method") == "Runtime.consoleAPICalled" and m["params"]["type"] in ("error", "assert"))
                or (m.get("method") == "Log.entryAdded" and m["params"]["entry"]["level"] == "error")]
    assert not problems, problems
    assert len(images) == len(report.figures) >= 8
    assert all(image["width"] > 0 and image["height"] > 0 for image in images), images
    assert facts["title"].startswith("qgtransport report") and facts["sections"] >= 10
    assert facts["resources"] == 0  # nothing loaded besides the page itself
    # the headline counts the unconverged results in red, at the top of the page
    unconverged = [r["quantity"] for r in report.convergence if r["status"].startswith("NOT")]
    assert unconverged and headline["text"].startswith(f"{len(unconverged)} of {len(report.convergence)} results NOT "
                                                       "converged on the 24x24 grid")
    assert headline["colour"] == "rgb(207, 34, 46)" and headline["top"] < 400
    assert headline["cells"] > 0 and headline["red_cells"] == headline["cells"]  # flagged values, in red
    assert requested == ["/report.html"]  # self-contained: no other file, not even a favicon
    png = base64.b64decode(shot["data"])
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(png)
    assert png.startswith(PNG_SIGNATURE)
    from matplotlib.image import imread

    pixels = imread(screenshot)
    assert pixels.shape[0] >= min(facts["height"], 16000) * 0.9 and pixels.shape[1] >= 1000
    assert pixels.std() > 0.05  # not a blank page
    assert metrics["cssContentSize"]["height"] > 3000
    artifacts = os.environ.get("QGT_ARTIFACTS")
    if artifacts:  # keep the screenshot for a person to look at
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(artifacts) / "report-screenshot.png")
