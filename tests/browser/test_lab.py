"""The notebooks in a real JupyterLab and a real browser: each runs to the end without an error,
the wizard is clicked through to a registered key, the key panel and dashboard render their
tables and plots, and no secret reaches a saved notebook (outputs or ``metadata.widgets``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.notebook_secrets import PROBES, assert_no_secret, probed
from toolkit.keystore.store import KeyStore
from toolkit.venues.eip712 import Wallet

from .conftest import ARTIFACTS

pytestmark = pytest.mark.heavy

WAIT_KERNEL = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  for (let i = 0; i < 1200; i++) {
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle') return true;
    await new Promise(r => setTimeout(r, 100));
  }
  return false;
}"""
# done when every code cell has run, or one has failed (JupyterLab then stops the run)
RUN_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  for (const cell of cells) {
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') errors.push(out.ename + ': ' + out.evalue);
    }
  }
  const kernel = panel.sessionContext.session.kernel;
  const done = cells.every(c => c.model.executionCount !== null) && kernel.status === 'idle';
  return {done, errors, ran: cells.filter(c => c.model.executionCount !== null).length, total: cells.length};
}"""
# the description labels inside a widget that the browser shortened with an ellipsis
CUT_LABELS = """selector => [...document.querySelector(selector).querySelectorAll('.widget-label')]
  .filter(l => l.offsetParent !== null && l.scrollWidth > l.clientWidth + 1).map(l => l.textContent)"""
NOTEBOOKS = [
    "00_quickstart",
    "01_register_keys",
    "02_lighter_keys",
    "03_paper_trading",
    "04_funding_analysis",
    "06_hyperliquid_bot",
]


def open_and_run(page: Page, url: str, name: str, timeout_s: float = 600) -> None:
    page.goto(f"{url}/lab/tree/{name}.ipynb")
    page.wait_for_function(
        "name => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.context.path.endsWith(name)",
        arg=f"{name}.ipynb",
        timeout=60_000,
    )
    assert page.evaluate(WAIT_KERNEL), f"{name}: the kernel never became idle"
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    state: dict = {}
    for _ in range(int(timeout_s * 2)):
        page.wait_for_timeout(500)
        state = page.evaluate(RUN_STATE)
        if state["errors"]:
            page.screenshot(path=ARTIFACTS / f"{name}-error.png", full_page=True)
            pytest.fail(f"{name}: a cell failed in JupyterLab: {state['errors']}")
        if state["done"]:
            break
    else:
        pytest.fail(f"{name}: only {state.get('ran')} of {state.get('total')} cells ran in {timeout_s} s")


# runs code in the open notebook's kernel (no cell, nothing saved) and returns what it printed
IN_KERNEL = """async code => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false});
  let text = '';
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') text += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return text;
}"""


def save(page: Page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)


def assert_saved_notebook_clean(path: Path, secrets: list[str]) -> dict:
    """The saved notebook holds none of ``secrets``, and every Password model in its saved widget
    state is empty. Returns the saved widget state."""
    text = path.read_text()
    leaked = [f"{s[:4]}…({len(s)} chars)" for s in secrets if s and s in text]
    assert not leaked, f"{path.name} holds secrets: {leaked}"
    notebook = json.loads(text)
    widgets = notebook["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model in widgets.get("state", {}).values():
        if model.get("model_name") == "PasswordModel":
            assert model["state"].get("value", "") == "", f"{path.name}: a Password widget kept its value"
    return widgets


def store_secrets(env: dict) -> list[str]:
    store = KeyStore.open(env["TOOLKIT_HOME"], env["TOOLKIT_KEYSTORE_PASSPHRASE"], use_keyring=False)
    return [str(s.reveal()) for e in store.entries() for s in e.secrets.values()]


def test_the_wizard_panel_and_dashboard_in_jupyterlab(lab, page):
    url, root, env = lab
    open_and_run(page, url, "05_widgets", timeout_s=300)
    page.screenshot(path=ARTIFACTS / "05-run-all.png", full_page=True)

    # the wizard, clicked through: a refusal in the venue's words, fund, retry, a registered agent
    master = Wallet.generate()
    wizard = page.locator(".toolkit-wizard").first
    wizard.locator(".toolkit-private-key input").fill(master.private_key.reveal())
    wizard.locator("button.toolkit-use-wallet").click()
    expect(wizard.locator(".toolkit-account")).to_contain_text(master.address)
    expect(wizard.locator(".toolkit-private-key input")).to_have_value("")
    wizard.locator("button.toolkit-check").click()
    expect(wizard.locator(".toolkit-status")).to_contain_text("1 step(s) to run")
    wizard.locator("button.toolkit-run").click()
    expect(wizard.locator(".toolkit-status")).to_contain_text(
        f"the venue refused: User or API Wallet {master.address.lower()} does not exist."
    )
    expect(wizard.locator("button.toolkit-run")).to_have_text("Retry")
    wizard.screenshot(path=ARTIFACTS / "wizard-refused.png")
    wizard.locator("button.toolkit-fund").click()
    expect(wizard.locator(".toolkit-status")).to_contain_text("deposited 10,000 on the sandbox")
    wizard.locator("button.toolkit-run").click()
    expect(wizard.locator(".toolkit-status")).to_contain_text("done: the key is registered")
    wizard.screenshot(path=ARTIFACTS / "wizard-registered.png")
    wizard.locator("button.toolkit-check").click()
    expect(wizard.locator(".toolkit-steps")).to_contain_text("already done")

    # switching venues: a Kalshi member's email does not follow into the PaperExchange form, and every
    # label is shown whole
    wizard.locator("select").first.select_option(label="Kalshi")
    expect(wizard.locator(".toolkit-password")).to_contain_text("Session token")
    wizard.locator("button.toolkit-sandbox-account").click()
    expect(wizard.locator(".toolkit-status")).to_contain_text("opened ")
    email = wizard.locator(".widget-text input").first
    expect(email).to_have_value(re.compile(r".+@.+"))
    cut = page.evaluate(CUT_LABELS, ".toolkit-wizard")
    assert cut == [], f"labels cut short: {cut}"
    wizard.screenshot(path=ARTIFACTS / "wizard-kalshi.png")
    wizard.locator("select").first.select_option(label="PaperExchange")
    expect(wizard.locator(".toolkit-password")).to_contain_text("Password")
    expect(email).to_have_value("")
    wizard.locator("select").first.select_option(label="Hyperliquid")

    # the key panel shows the new agent, masked
    panel = page.locator(".toolkit-key-panel").first
    panel.locator("button.toolkit-refresh").click()
    expect(panel.locator(".toolkit-keys-table")).to_contain_text("agent")
    expect(panel.locator(".toolkit-keys-table")).to_contain_text("private_key=****")
    panel.screenshot(path=ARTIFACTS / "key-panel.png")

    # the dashboard rendered its tables and plots, and fast-forwards
    dash = page.locator(".toolkit-dashboard").first
    expect(dash.locator(".toolkit-positions-table")).to_contain_text("ETH")
    expect(dash.locator(".toolkit-orders-table")).to_contain_text("SOL")
    expect(dash.locator(".toolkit-funding-table")).to_contain_text("BTC")
    expect(dash.locator(".toolkit-liquidations-table")).to_contain_text("no liquidations")
    expect(dash.locator(".toolkit-equity-plot .js-plotly-plot")).to_have_count(1)
    expect(dash.locator(".toolkit-funding-plot .js-plotly-plot")).to_have_count(1)
    dash.locator("button.toolkit-forward-1h").click()
    expect(dash.locator(".toolkit-status")).to_contain_text("moved 1 h ahead in 1 steps", timeout=60_000)
    dash.scroll_into_view_if_needed()
    dash.screenshot(path=ARTIFACTS / "dashboard.png")

    save(page)
    secrets = [master.private_key.reveal(), *store_secrets(env)]
    assert len(secrets) >= 3  # the typed key, the agent's key and the paper API key at least
    widgets = assert_saved_notebook_clean(root / "05_widgets.ipynb", secrets)
    assert widgets["state"], "the widget state was not saved, so the scan would prove nothing"


def assert_prose_rendered_as_written(page: Page, name: str) -> None:
    """No markdown cell became math: no MathJax output in the rendered prose, no TeX error text."""
    markdown = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown")
    assert markdown.count() > 0, f"{name}: no rendered markdown to check"
    math = page.locator(".jp-MarkdownCell mjx-container, .jp-MarkdownCell .MathJax")
    assert math.count() == 0, f"{name}: a markdown cell rendered as math: " + " | ".join(
        m.evaluate("e => e.closest('.jp-MarkdownCell').innerText.slice(0, 300)") for m in math.all()
    )
    prose = " ".join(markdown.all_inner_texts())
    for error in ("LaTeX Error", "Math input error", "Undefined control sequence"):
        assert error not in prose, f"{name}: {error}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_runs_in_jupyterlab(lab, page, name):
    url, root, env = lab
    open_and_run(page, url, name)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    assert_prose_rendered_as_written(page, name)
    save(page)
    assert_saved_notebook_clean(root / f"{name}.ipynb", store_secrets(env))
    if name in PROBES:  # and none of what the kernel held: passwords, tokens, keys never stored
        output = page.evaluate(IN_KERNEL, PROBES[name])
        assert not output.startswith("ERROR"), f"{name}: the probe failed: {output}"
        saved = (root / f"{name}.ipynb").read_text()
        assert '"output_type"' in saved and "=****" in saved  # it really ran and showed masks
        log = Path(env["TOOLKIT_HOME"]) / "sandbox.log"
        assert_no_secret({"saved notebook": saved, "sandbox.log": log.read_text()}, probed(output))


def test_the_sandbox_api_docs_render_with_no_network(browser, tmp_path):
    import toolkit

    with toolkit.sandbox.start(home=tmp_path / "home") as sb:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        elsewhere: list[str] = []

        def only_loopback(route) -> None:
            if route.request.url.startswith(sb.url):
                route.continue_()
            else:  # ReDoc's "powered by" logo is an <img> from its CDN: missing offline, and harmless
                if route.request.resource_type != "image":
                    elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", only_loopback)
        page = context.new_page()
        page.goto(f"{sb.url}/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=60_000)
        assert page.locator(".opblock").count() > 50
        expect(page.locator(".opblock-summary-path", has_text="/info").first).to_be_visible()
        page.screenshot(path=ARTIFACTS / "api-docs.png")
        page.goto(f"{sb.url}/redoc")
        expect(page.get_by_text("toolkit sandbox").first).to_be_visible(timeout=60_000)
        expect(page.locator("[data-section-id]").first).to_be_attached(timeout=60_000)
        context.close()
        assert elsewhere == [], f"the docs asked the network for {elsewhere}"
