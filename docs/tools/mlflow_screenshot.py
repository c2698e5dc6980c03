"""Screenshots of the MLflow UI for the docs (headless chromium, DevTools protocol over aiohttp).

Not part of evosweep: the script that made ``docs/img/mlflow_runs_table.png`` and
``docs/img/mlflow_fitness_charts.png``. See docs/sweeping.md ("How the screenshots
were made") for the sweep and the server it expects:

    .venv/bin/python docs/tools/mlflow_screenshot.py http://127.0.0.1:5055 1 docs/img

It opens the experiment's runs table (``?workflowType=machine_learning``), closes the
assistant panel, picks a few columns, expands the sweep's parent run and saves
``mlflow_runs_table.png``; then switches to the chart view, filters the charts to
``fitness/best`` and ``fitness/mean`` and saves ``mlflow_fitness_charts.png``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

DEBUG_PORT = 9333
COLUMNS = ["Dataset", "Source", "Models",  # hidden (shown by default)
           "heldout/final", "algorithm.elite", "algorithm.population_size",
           "algorithm.mutation_scale", "optuna.state"]

RUNS_SHOWN = "!!document.querySelector('[role=gridcell][col-id=\"attributes.`Run Name`\"] a')"
CLOSE_ASSISTANT = """(() => {
  const b = [...document.querySelectorAll('button')].find(b => b.getAttribute('aria-label') === 'Close');
  if (b) b.click(); return !!b; })()"""
TOGGLE_COLUMNS_MENU = """(() => {
  const b = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Columns');
  if (b) b.click(); return !!b; })()"""
PICK_COLUMNS = """(() => {
  const out = [];
  for (const w of COLUMNS) {
    const t = [...document.querySelectorAll('.du-bois-light-tree-title')].find(t => t.innerText === w);
    if (!t) { out.push(w + ':missing'); continue; }
    t.closest('.du-bois-light-tree-treenode').querySelector('.du-bois-light-tree-checkbox').click();
    out.push(w);
  }
  return out.join(','); })()""".replace("COLUMNS", json.dumps(COLUMNS))
EXPAND_PARENT = """(() => {
  const b = document.querySelector('[role=gridcell][col-id="attributes.`Run Name`"] button');
  if (b) b.click(); return !!b; })()"""
CHART_VIEW = """(() => {
  const r = document.querySelectorAll('input[type=radio]')[1];
  (r.closest('label') || r.parentElement).click(); return true; })()"""
FILTER_CHARTS = """(() => {
  const i = [...document.querySelectorAll('input')].find(i => i.placeholder === 'Search metric charts');
  if (!i) return false;
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(i, 'fitness/(best|mean)');
  i.dispatchEvent(new Event('input', {bubbles: true})); return true; })()"""

VIEWS = {
    "mlflow_runs_table.png": ((1500, 620), [CLOSE_ASSISTANT, TOGGLE_COLUMNS_MENU, PICK_COLUMNS,
                                            TOGGLE_COLUMNS_MENU, EXPAND_PARENT]),
    "mlflow_fitness_charts.png": ((1400, 700), [CLOSE_ASSISTANT, EXPAND_PARENT, CHART_VIEW, 3.0,
                                                FILTER_CHARTS]),
}


async def screenshot(url: str, out: Path, size: tuple[int, int], steps: list) -> None:
    """Open ``url`` in a fresh headless chromium profile, run ``steps`` (JS or seconds), save a PNG."""
    width, height = size
    profile = tempfile.mkdtemp(prefix="evosweep-shot-")
    browser = subprocess.Popen(
        [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
         f"--window-size={width},{height}", f"--remote-debugging-port={DEBUG_PORT}",
         "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{DEBUG_PORT}/json") as response:
                        targets = await response.json()
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            page = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                ids = itertools.count(1)

                async def call(method: str, **params):
                    call_id = next(ids)
                    await ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
                    while True:
                        message = json.loads((await ws.receive()).data)
                        if message.get("id") == call_id:
                            return message.get("result", message)

                await call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                           deviceScaleFactor=1, mobile=False)
                await call("Page.enable")
                await call("Page.navigate", url=url)
                for _ in range(120):  # the UI loads its bundle, then runs and metrics, asynchronously
                    ready = await call("Runtime.evaluate", expression=RUNS_SHOWN, returnByValue=True)
                    if ready.get("result", {}).get("value"):
                        break
                    await asyncio.sleep(0.5)
                else:
                    raise SystemExit(f"no runs table at {url} after 60 s: is the server up?")
                await asyncio.sleep(3)
                for step in steps:
                    if isinstance(step, float):
                        await asyncio.sleep(step)
                        continue
                    result = await call("Runtime.evaluate", expression=step, returnByValue=True)
                    print(f"  {' '.join(step.split())[:60]}... -> {result.get('result', {}).get('value')}")
                    await asyncio.sleep(2)
                await call("Input.dispatchMouseEvent", type="mouseMoved", x=width - 5, y=height - 5)
                await asyncio.sleep(1)
                shot = await call("Page.captureScreenshot", format="png")
                out.write_bytes(base64.b64decode(shot["data"]))
                print(f"wrote {out}")
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    server, experiment_id, folder = sys.argv[1].rstrip("/"), sys.argv[2], Path(sys.argv[3])
    url = f"{server}/#/experiments/{experiment_id}?workflowType=machine_learning"
    for name, (size, steps) in VIEWS.items():
        asyncio.run(screenshot(url, folder / name, size, steps))


if __name__ == "__main__":
    main()
